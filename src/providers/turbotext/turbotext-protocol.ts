/**
 * Turbotext's queue protocol (SPEC §5), as pure functions: which method and form fields an operation
 * sends, and the mapping of answers to a queue id, a pending poll, a result URL or a typed
 * ProviderError. The driver only adds HTTP, publishing and polling around them.
 */
import type { TemplateKind } from '../provider-catalog';
import { ProviderError } from '../provider-driver';
import { clean, nonEmpty, parseJson, record } from '../wire';

export type TurbotextMethod = 'mix_images' | 'deepfake_photo' | 'generate_image2image';

export interface TurbotextCall {
  method: TurbotextMethod;
  /** The template the method needs besides the guest photo, if any. */
  template?: TemplateKind;
}

export const DEFAULT_STRENGTH = 40;

/** Turbotext's own word for a refused picture; kept as the job's finish reason. */
export const FORBIDDEN_CONTENT = 'forbidden_content';

const CALLS: Record<string, TurbotextCall> = {
  style_transfer: { method: 'mix_images', template: 'style' },
  identity_transfer: { method: 'deepfake_photo', template: 'base' },
  image_edit: { method: 'generate_image2image' },
};

/** The method for a slot's operation, or undefined for an operation Turbotext does not offer. */
export function callFor(operation: string): TurbotextCall | undefined {
  return Object.hasOwn(CALLS, operation) ? CALLS[operation] : undefined;
}

export interface PublishedImages {
  /** The guest photo's temporary public URL. */
  photo: string;
  /** The required template's temporary public URL (style or base). */
  template?: string;
}

/**
 * The `create_queue` form for an operation. Field roles follow SPEC §5 exactly: Turbotext's names
 * are not symmetrical (`url` is the style in `mix_images` but the body photo in `deepfake_photo`).
 */
export function createQueueFields(
  operation: string,
  settings: Record<string, unknown>,
  urls: PublishedImages,
): Record<string, string> {
  const call = callFor(operation);
  if (!call) throw unsupportedOperation(operation);
  const template = () => {
    if (urls.template === undefined) throw missingTemplate(call.template ?? 'template');
    return urls.template;
  };
  const fields: Record<string, string> = { do: 'create_queue' };

  switch (call.method) {
    case 'mix_images': {
      fields.url_image_target = urls.photo;
      fields.url = template();
      const prompt = nonEmpty(settings.prompt);
      if (prompt !== undefined) fields.content = prompt;
      break;
    }
    case 'deepfake_photo':
      fields.url = template();
      fields.url_image_target = urls.photo;
      fields.face_restore = settings.face_restore === false ? 'False' : 'True';
      break;
    case 'generate_image2image': {
      const prompt = nonEmpty(settings.prompt);
      if (prompt === undefined) {
        throw new ProviderError(
          'provider_error',
          'The slot has no prompt for Turbotext image_edit',
          {
            retryable: false,
          },
        );
      }
      fields.url = urls.photo;
      fields.content = prompt;
      fields.strength = String(finite(settings.strength) ?? DEFAULT_STRENGTH);
      const negative = nonEmpty(settings.negative_prompt);
      if (negative !== undefined) fields.negative_prompt = negative;
      const seed = finite(settings.seed);
      if (seed !== undefined) fields.seed = String(seed);
      const scale = finite(settings.scale);
      if (scale !== undefined) fields.scale = String(scale);
      break;
    }
  }
  return fields;
}

/** `{"success":true,"queueid":N}` → N, as text (it becomes the job's provider reference). */
export function readCreateQueueAnswer(answer: string, secret: string): string {
  const body = record(parseJson(answer));
  if (!body) throw badResponse('Turbotext answered create_queue with something that is not JSON');
  refusal(body, secret, 'Turbotext refused to queue the job');
  const queueId = body.queueid;
  if (typeof queueId === 'number' && Number.isSafeInteger(queueId) && queueId >= 0) {
    return String(queueId);
  }
  if (typeof queueId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(queueId)) return queueId;
  throw badResponse('Turbotext accepted the job without a usable queue id');
}

export type PollState = { done: false } | { done: true; imageUrl: string };

/**
 * Maps a `get_result` answer: `{"action":"reconnect"}` is pending; a done answer yields the absolute
 * URL of the image to download. A refusal of the picture wins over everything else in the answer.
 */
export function readResultAnswer(answer: string, baseUrl: string, secret: string): PollState {
  const body = record(parseJson(answer));
  if (!body) throw badResponse('Turbotext answered get_result with something that is not JSON');
  if (body.action === 'reconnect') return { done: false };

  const data = record(body.data);
  if (data?.forbidden_content === true) {
    throw new ProviderError('blocked', 'Turbotext refused the picture (forbidden content)', {
      retryable: false,
      finishReason: FORBIDDEN_CONTENT,
      providerMessage: clean(body.error, secret),
    });
  }
  refusal(body, secret, 'Turbotext could not process the job');
  if (body.success !== true) throw badResponse('Turbotext answered get_result without a status');

  const location = resultLocation(body);
  if (location === undefined) throw badResponse('Turbotext finished without an image URL');
  return { done: true, imageUrl: resolveResultUrl(location, baseUrl) };
}

/** The top-level `uploaded_image`, else `data.uploaded_image`, else the first of `data.image`. */
export function resultLocation(body: Record<string, unknown>): string | undefined {
  const data = record(body.data);
  const images: unknown = data?.image;
  return (
    nonEmpty(body.uploaded_image) ??
    nonEmpty(data?.uploaded_image) ??
    nonEmpty(Array.isArray(images) ? images[0] : images)
  );
}

/**
 * Relative locations are relative to the site root, not to the API path: with the base
 * `https://www.turbotext.ru/api_ai`, `/image/x.png` and `image/x.png` both mean
 * `https://www.turbotext.ru/image/x.png`. Only http(s) is followed.
 */
export function resolveResultUrl(location: string, baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(location.trim(), new URL('/', baseUrl));
  } catch {
    throw badResponse('Turbotext named a result that is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badResponse(`Turbotext named a result with the unsupported scheme ${url.protocol}`);
  }
  return url.href;
}

/**
 * Maps a non-2xx answer of the API. 429 and 5xx are worth another attempt inside the deadline; a
 * refused key (401/403) or any other 4xx is not.
 */
export function readHttpError(httpStatus: number, answer: string, secret: string): ProviderError {
  const body = record(parseJson(answer));
  const providerMessage = clean(body?.error ?? body?.message, secret);
  const details = { httpStatus, providerMessage };
  const summary = `Turbotext answered HTTP ${httpStatus}`;
  if (httpStatus === 429) {
    return new ProviderError('quota', summary, { ...details, retryable: true });
  }
  if (httpStatus >= 500) {
    return new ProviderError('provider_unavailable', summary, { ...details, retryable: true });
  }
  return new ProviderError('provider_error', summary, { ...details, retryable: false });
}

/**
 * The downloaded image's type: the declared one when it is an image type, else what the bytes say
 * (file hosts often answer `application/octet-stream`). Neither → undefined.
 */
export function resultMimeType(declared: string | null, bytes: Buffer): string | undefined {
  const type = declared?.split(';')[0].trim().toLowerCase();
  if (type?.startsWith('image/')) return type;
  if (bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'image/jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))) return 'image/png';
  if (
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
    bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  ) {
    return 'image/webp';
  }
  return undefined;
}

export function badResponse(message: string, httpStatus?: number): ProviderError {
  return new ProviderError('bad_response', message, { retryable: false, httpStatus });
}

export function missingTemplate(kind: string): ProviderError {
  return new ProviderError('provider_error', `The slot has no ${kind} template for Turbotext`, {
    retryable: false,
  });
}

export function unsupportedOperation(operation: string): ProviderError {
  return new ProviderError('provider_error', `Turbotext has no operation "${operation}"`, {
    retryable: false,
  });
}

/** `{"success":false,"error":"…"}`: the service said no, in its own words. */
function refusal(body: Record<string, unknown>, secret: string, summary: string): void {
  if (body.success !== false) return;
  const providerMessage = clean(body.error, secret);
  throw new ProviderError(
    'provider_error',
    providerMessage ? `${summary}: ${providerMessage}` : summary,
    { retryable: false, providerMessage },
  );
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

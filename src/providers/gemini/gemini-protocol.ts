/**
 * Gemini's REST protocol (`models/{model}:generateContent`), as pure functions: the request body, and the
 * mapping of answers to a ProviderResult or a typed ProviderError. The driver only adds HTTP around them.
 */
import { ASPECT_RATIOS } from '../provider-catalog';
import type { ProviderImage, ProviderResult } from '../provider-driver';
import { ProviderError } from '../provider-driver';
import { clean, nonEmpty, parseJson, record } from '../wire';

export type AspectRatio = (typeof ASPECT_RATIOS)[number];

/**
 * Sent before every slot prompt: guests must recognise themselves, whatever the admin's prompt asks for
 * (SPEC §1).
 */
export const FACE_PRESERVING_INSTRUCTION =
  'Edit the first image, a photo of real people. Keep every person exactly as they are: the same face, ' +
  'identity, facial features, expression, skin tone, hair, body and pose. Do not add, remove or swap people. ' +
  'Change only the background, style or surroundings, as asked below. Any further images are references ' +
  'for that change.';

/** Gemini reports a finished answer with this reason; anything else without an image is a refusal. */
const FINISHED = 'STOP';
/** Our reason for an answer that finished normally but holds only text (in practice, a refusal). */
export const NO_IMAGE = 'NO_IMAGE';

export interface GeminiRequestInput {
  photo: ProviderImage;
  templates: readonly ProviderImage[];
  prompt: string;
  aspectRatio: string;
}

// A multiple of 3 bytes, so each slice encodes to base64 without padding in the middle.
const BASE64_SLICE_BYTES = 3 * 16_384;

/**
 * The JSON body of a generateContent call — photo, templates in order, then instruction and
 * prompt — as chunks made on demand. The images' base64 is encoded slice by slice while the body
 * is sent, so a call waiting on the provider holds no megabyte-sized string or copy of it.
 */
export function* requestBodyChunks(input: GeminiRequestInput): Generator<Buffer> {
  const text = (value: string): Buffer => Buffer.from(value, 'utf8');
  yield text('{"contents":[{"role":"user","parts":[');
  for (const image of [input.photo, ...input.templates]) {
    yield text(`{"inlineData":{"mimeType":${JSON.stringify(image.mimeType)},"data":"`);
    for (let offset = 0; offset < image.bytes.length; offset += BASE64_SLICE_BYTES) {
      const slice = image.bytes.subarray(offset, offset + BASE64_SLICE_BYTES);
      yield Buffer.from(slice.toString('base64'), 'latin1');
    }
    yield text('"}},');
  }
  const prompt = JSON.stringify({ text: `${FACE_PRESERVING_INSTRUCTION}\n\n${input.prompt}` });
  const config = JSON.stringify({
    responseModalities: ['IMAGE'],
    imageConfig: { aspectRatio: input.aspectRatio },
  });
  yield text(`${prompt}]}],"generationConfig":${config}}`);
}

/** The whole body as one string (for tests and logs of the request's shape). */
export function buildRequestBody(input: GeminiRequestInput): string {
  return Buffer.concat([...requestBodyChunks(input)]).toString('utf8');
}

/**
 * The supported ratio closest to a photo's, compared in log space so that 2:1 and 1:2 are as far from
 * 1:1 as each other. Asking for it keeps the answer fitting the booth's print layout (SPEC §4).
 */
export function nearestAspectRatio(width: number, height: number): AspectRatio {
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new RangeError(`Image dimensions must be positive, got ${width}x${height}`);
  }
  const target = Math.log(width / height);
  let best: AspectRatio = ASPECT_RATIOS[0];
  let bestDistance = Infinity;
  for (const ratio of ASPECT_RATIOS) {
    const [w, h] = ratio.split(':').map(Number) as [number, number];
    const distance = Math.abs(Math.log(w / h) - target);
    if (distance < bestDistance) {
      best = ratio;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Maps a 2xx answer. The image is the first inline data part of the first candidate; without one, a
 * stated reason other than STOP (or a prompt block) is `blocked`, a text-only answer is `blocked` with
 * `NO_IMAGE` (models refuse in words), and an answer holding nothing at all is `bad_response`.
 */
export function readGenerateContentResponse(
  text: string,
  model: string,
  secret: string,
): ProviderResult {
  const body = record(parseJson(text));
  if (!body) throw badResponse('Gemini answered something that is not a JSON object');

  const candidate = record(list(body.candidates)[0]);
  const finishReason = nonEmpty(candidate?.finishReason);
  const parts = list(record(candidate?.content)?.parts).map(record);
  const inlineData = parts.map((part) => record(part?.inlineData)).find(Boolean);

  if (inlineData) {
    const mimeType = nonEmpty(inlineData.mimeType);
    if (!mimeType?.startsWith('image/')) {
      throw badResponse(`Gemini's inline data is not an image (${mimeType ?? 'no MIME type'})`);
    }
    return {
      bytes: decodeBase64(inlineData.data),
      mimeType,
      usage: usage(body, model),
      finishReason,
    };
  }

  const feedback = record(body.promptFeedback);
  const blockReason = nonEmpty(feedback?.blockReason);
  if (blockReason) {
    throw blocked(blockReason, feedback?.blockReasonMessage, secret, 'Gemini blocked the prompt');
  }
  if (finishReason && finishReason !== FINISHED) {
    throw blocked(finishReason, candidate?.finishMessage, secret, 'Gemini returned no image');
  }
  const answer = parts
    .map((part) => nonEmpty(part?.text))
    .filter(Boolean)
    .join('\n');
  if (answer) throw blocked(NO_IMAGE, answer, secret, 'Gemini answered with text only');
  throw badResponse('Gemini answered without an image or a reason');
}

/**
 * Maps a non-2xx answer (`{"error":{"code","message","status","details"}}`). Only 429s short of a daily
 * quota and 5xx are worth another attempt inside the booth's deadline.
 */
export function readErrorResponse(httpStatus: number, text: string, secret: string): ProviderError {
  const error = record(record(parseJson(text))?.error);
  const status = nonEmpty(error?.status);
  const providerMessage = clean(error?.message, secret);
  const details = { httpStatus, providerMessage };
  const summary = `Gemini answered HTTP ${httpStatus}${status ? ` ${status}` : ''}`;

  if (httpStatus === 429) {
    const daily = isDailyQuota(error?.details, providerMessage);
    return new ProviderError('quota', daily ? `${summary} (daily quota)` : summary, {
      ...details,
      retryable: !daily,
    });
  }
  if (httpStatus >= 500) {
    return new ProviderError('provider_unavailable', summary, { ...details, retryable: true });
  }
  return new ProviderError('provider_error', summary, { ...details, retryable: false });
}

function isDailyQuota(details: unknown, message: string | undefined): boolean {
  const quotaIds = list(details).flatMap((detail) =>
    list(record(detail)?.violations).map((violation) => nonEmpty(record(violation)?.quotaId)),
  );
  return quotaIds.some((id) => id?.includes('PerDay')) || /per[\s_-]?day/i.test(message ?? '');
}

/** Buffer.from skips characters that are not base64, so the text is checked strictly first. */
/**
 * Strict standard base64 without a regular expression over megabytes of text (that alone held the
 * event loop 15–30 ms per answer): Node's decoder skips characters outside the alphabet, so any
 * such character shows up as a shorter result; it accepts the URL-safe `-` and `_`, refused here.
 */
function decodeBase64(value: unknown): Buffer {
  const invalid = (): ProviderError => badResponse("Gemini's image data is not valid base64");
  if (typeof value !== 'string' || value.length === 0 || value.length % 4 !== 0) throw invalid();
  if (value.includes('-') || value.includes('_')) throw invalid();
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== (value.length / 4) * 3 - padding) throw invalid();
  return bytes;
}

function usage(body: Record<string, unknown>, model: string): Record<string, unknown> {
  const metadata = record(body.usageMetadata);
  const out: Record<string, unknown> = {};
  for (const key of ['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount']) {
    if (typeof metadata?.[key] === 'number') out[key] = metadata[key];
  }
  out.model = model;
  return out;
}

function blocked(reason: string, message: unknown, secret: string, summary: string): ProviderError {
  return new ProviderError('blocked', `${summary} (${reason})`, {
    retryable: false,
    finishReason: reason,
    providerMessage: clean(message, secret),
  });
}

function badResponse(message: string): ProviderError {
  return new ProviderError('bad_response', message, { retryable: false });
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

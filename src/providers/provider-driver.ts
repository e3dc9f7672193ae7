import type { ProviderId, TemplateKind } from './provider-catalog';

export type ImageMime = 'image/jpeg' | 'image/png' | 'image/webp';

/** An image in memory, as a driver sends it. */
export interface ProviderImage {
  bytes: Buffer;
  mimeType: ImageMime;
  width: number;
  height: number;
}

/** A slot's template image, in the slot's stable order (media kind, then upload time). */
export interface TemplateImage extends ProviderImage {
  id: string;
  kind: TemplateKind;
}

/** One call of a provider: what to send and how. */
export interface ProviderContext {
  jobId: string;
  slotId: string;
  operation: string;
  /** The slot's settings, already validated against the operation's schema. */
  settings: Record<string, unknown>;
  /** The guest's photo, EXIF orientation applied and downscaled to `provider_max_edge_px`. */
  photo: ProviderImage;
  templates: TemplateImage[];
  apiKey: string;
  /** This attempt's model, from the driver's `attempts()` plan (Gemini). */
  model?: string;
  /** When the booth stops waiting; polling must not go past it. */
  deadlineAt: Date;
  /**
   * Publishes an image at an unguessable public URL that lives until the deadline (Turbotext
   * fetches its inputs by URL).
   */
  publicMediaUrl(image: ProviderImage): Promise<string>;
  /** Records the provider's own job id (Turbotext's queue id) on the job as soon as it is known. */
  onProviderReference(reference: string): void;
}

export interface ProviderResult {
  bytes: Buffer;
  /** As the provider declared it; the pipeline checks the bytes themselves. */
  mimeType: string;
  /** Token counts, estimated cost and the like, stored on the job. */
  usage?: Record<string, unknown>;
  finishReason?: string;
}

export type ProviderFailureReason =
  | 'provider_error'
  | 'provider_unavailable'
  | 'quota'
  | 'blocked'
  | 'bad_response'
  | 'network'
  | 'timeout';

export interface ProviderErrorDetails {
  /** 429 (unless a daily quota), 5xx and network errors are worth another attempt. */
  retryable?: boolean;
  httpStatus?: number;
  /** The provider's own reason, kept on the job (Gemini `finishReason`/`blockReason`). */
  finishReason?: string;
  /** The provider's message for the admin, kept on the job; never contains the key. */
  providerMessage?: string;
  cause?: unknown;
}

/** A typed provider failure; `reason` becomes the job's `failure_reason`. */
export class ProviderError extends Error {
  constructor(
    readonly reason: ProviderFailureReason,
    message: string,
    readonly details: ProviderErrorDetails = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.details.retryable ?? false;
  }
}

/** One attempt of the retry plan: the primary call, one retry, then a fallback model. */
export interface ProviderAttempt {
  model?: string;
}

export interface ProviderDriver {
  readonly provider: ProviderId;
  /**
   * The attempts to make, in order, for a slot's settings. The pipeline moves to the next one
   * only after a retryable failure and only while enough time remains before the deadline.
   */
  attempts(settings: Record<string, unknown>): ProviderAttempt[];
  /** Resolves with the edited image, or rejects with a ProviderError; honours `signal`. */
  process(context: ProviderContext, signal: AbortSignal): Promise<ProviderResult>;
}

/** Injection token: every ProviderDriver implementation, as an array. */
export const PROVIDER_DRIVERS = Symbol('PROVIDER_DRIVERS');

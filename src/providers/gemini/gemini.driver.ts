import { Injectable } from '@nestjs/common';
import { AppLogger } from '../../common/app-logger';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.tokens';
import type {
  ProviderAttempt,
  ProviderContext,
  ProviderDriver,
  ProviderResult,
} from '../provider-driver';
import { ProviderError } from '../provider-driver';
import {
  nearestAspectRatio,
  requestBodyChunks,
  readErrorResponse,
  readGenerateContentResponse,
} from './gemini-protocol';
import { HEADER_SAFE, MAX_RESULT_IMAGE_BYTES, networkCode, readCapped } from '../wire';

export { nearestAspectRatio } from './gemini-protocol';

/**
 * The largest answer read: the base64 of the largest result image, plus room for the JSON around
 * it. Anything bigger is refused as it arrives, never held whole in memory.
 */
export const MAX_ANSWER_BYTES = Math.ceil(MAX_RESULT_IMAGE_BYTES / 3) * 4 + 1024 * 1024;

/** Google Gemini image editing over plain `fetch` (SPEC §5). */
@Injectable()
export class GeminiDriver implements ProviderDriver {
  readonly provider = 'gemini' as const;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  /** The primary model twice (one retry), then the slot's fallback model when it differs. */
  attempts(settings: Record<string, unknown>): ProviderAttempt[] {
    const primary = this.primaryModel(settings);
    const fallback = text(settings.fallback_model);
    const plan: ProviderAttempt[] = [{ model: primary }, { model: primary }];
    if (fallback !== undefined && fallback !== primary) plan.push({ model: fallback });
    return plan;
  }

  async process(context: ProviderContext, signal: AbortSignal): Promise<ProviderResult> {
    const { apiKey, settings, photo } = context;
    if (!HEADER_SAFE.test(apiKey)) {
      throw new ProviderError('provider_error', 'The Gemini API key is empty or malformed', {
        retryable: false,
      });
    }
    this.logger.redactValue(apiKey);

    const model = context.model ?? this.primaryModel(settings);
    const url = `${this.config.geminiBaseUrl}/v1beta/models/${encodeURIComponent(model)}:generateContent`;
    const body = requestBodyChunks({
      photo,
      templates: context.templates,
      prompt: text(settings.prompt) ?? '',
      aspectRatio: text(settings.aspect_ratio) ?? nearestAspectRatio(photo.width, photo.height),
    });
    const started = performance.now();
    const log = (outcome: string, fields: Record<string, unknown> = {}) =>
      this.logger.event('debug', 'provider.gemini.call', {
        job_id: context.jobId,
        slot_id: context.slotId,
        model,
        outcome,
        duration_ms: Math.round(performance.now() - started),
        ...fields,
      });

    try {
      const { status, answer } = await this.post(url, apiKey, body, signal);
      if (status < 200 || status >= 300) throw readErrorResponse(status, answer, apiKey);
      const result = readGenerateContentResponse(answer, model, apiKey);
      log('completed', { http_status: status, mime_type: result.mimeType });
      return result;
    } catch (error) {
      const failure = this.classify(error, signal);
      log(failure.reason, {
        http_status: failure.details.httpStatus,
        finish_reason: failure.details.finishReason,
      });
      throw failure;
    }
  }

  private primaryModel(settings: Record<string, unknown>): string {
    return text(settings.model) ?? this.config.geminiModel;
  }

  /** The deadline signal covers the whole exchange, body read included. */
  private async post(
    url: string,
    apiKey: string,
    body: Iterable<Buffer>,
    signal: AbortSignal,
  ): Promise<{ status: number; answer: string }> {
    const chunks = body[Symbol.iterator]();
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
      body: stream,
      // Required by fetch for a streamed request body.
      duplex: 'half',
      signal,
    });
    const answer = await readCapped(response, MAX_ANSWER_BYTES);
    if (!answer) {
      throw new ProviderError(
        'bad_response',
        `Gemini answered more than ${MAX_ANSWER_BYTES} bytes; the answer was refused`,
        { retryable: false, httpStatus: response.status },
      );
    }
    return { status: response.status, answer: answer.toString('utf8') };
  }

  /**
   * An aborted signal wins over whatever the transport threw: undici rejects with the signal's reason,
   * a DOMException, or a "terminated" TypeError depending on when the abort lands. A cancellation
   * also reads as `timeout` here; the caller owns the signal and knows which one it was.
   */
  private classify(error: unknown, signal: AbortSignal): ProviderError {
    if (error instanceof ProviderError) return error;
    if (signal.aborted) {
      return new ProviderError('timeout', 'The Gemini call was aborted before it answered', {
        retryable: false,
        cause: signal.reason,
      });
    }
    return new ProviderError('network', `Gemini could not be reached (${networkCode(error)})`, {
      retryable: true,
      cause: error,
    });
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

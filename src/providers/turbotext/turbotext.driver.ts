import { Inject, Injectable, Optional } from '@nestjs/common';
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
import type { PublishedImages, TurbotextCall } from './turbotext-protocol';
import {
  badResponse,
  callFor,
  createQueueFields,
  missingTemplate,
  readCreateQueueAnswer,
  readHttpError,
  readResultAnswer,
  resultMimeType,
  unsupportedOperation,
} from './turbotext-protocol';
import { HEADER_SAFE, MAX_RESULT_IMAGE_BYTES, networkCode, readCapped } from '../wire';

export interface TurbotextDriverOptions {
  /** Pause between two `get_result` polls; tests shorten it. */
  pollIntervalMs?: number;
  /** Largest result image downloaded; a bigger one is `bad_response`. */
  maxResultBytes?: number;
}

/** Optional provider of TurbotextDriverOptions; without it the production defaults apply. */
export const TURBOTEXT_DRIVER_OPTIONS = Symbol('TURBOTEXT_DRIVER_OPTIONS');

export const DEFAULT_POLL_INTERVAL_MS = 1_000;
export const DEFAULT_MAX_RESULT_BYTES = MAX_RESULT_IMAGE_BYTES;
/** API answers are a few hundred bytes of JSON; anything near this is not Turbotext talking. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/**
 * Consecutive transient failures tolerated of `get_result`, and of the result's download. The job
 * keeps running (and is paid for) at Turbotext, so one lost poll or one reset download should not
 * throw it away and queue a second one on retry.
 */
const MAX_TRANSIENT_FAILURES = 3;
/**
 * A poll needs a round trip; one sent with less time left than this cannot be answered before the
 * deadline, so the loop waits out the deadline instead of spending a request on it.
 */
const LAST_POLL_MARGIN_MS = 25;
/** setTimeout fires at once for longer delays; no deadline is anywhere near this. */
const MAX_TIMER_MS = 2_147_483_647;

interface Progress {
  queueId?: string;
  polls: number;
  httpStatus?: number;
}

/** Turbotext's queue API over plain `fetch`: create a queue, poll it, download the image (SPEC §5). */
@Injectable()
export class TurbotextDriver implements ProviderDriver {
  readonly provider = 'turbotext' as const;
  private readonly pollIntervalMs: number;
  private readonly maxResultBytes: number;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly logger: AppLogger,
    @Optional() @Inject(TURBOTEXT_DRIVER_OPTIONS) options: TurbotextDriverOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  }

  /** The primary call and one retry; Turbotext has no model to fall back to. */
  attempts(): ProviderAttempt[] {
    return [{}, {}];
  }

  async process(context: ProviderContext, signal: AbortSignal): Promise<ProviderResult> {
    const { apiKey } = context;
    if (!HEADER_SAFE.test(apiKey)) {
      throw new ProviderError('provider_error', 'The Turbotext API key is empty or malformed', {
        retryable: false,
      });
    }
    this.logger.redactValue(apiKey);
    const call = callFor(context.operation);
    if (!call) throw unsupportedOperation(context.operation);

    const endpoint = `${this.config.turbotextBaseUrl}/${call.method}`;
    const deadline = new Deadline(signal, context.deadlineAt.getTime());
    const progress: Progress = { polls: 0 };
    const started = performance.now();
    const log = (outcome: string, fields: Record<string, unknown> = {}) =>
      this.logger.event('debug', 'provider.turbotext.call', {
        job_id: context.jobId,
        slot_id: context.slotId,
        method: call.method,
        queue_id: progress.queueId,
        polls: progress.polls,
        outcome,
        duration_ms: Math.round(performance.now() - started),
        ...fields,
      });

    try {
      if (deadline.signal.aborted || deadline.remainingMs() <= 0) {
        throw deadline.failure('before the call', progress);
      }
      const urls = await this.publish(context, call);
      const fields = createQueueFields(context.operation, context.settings, urls);
      const created = await this.post(endpoint, apiKey, fields, deadline, progress);
      progress.queueId = readCreateQueueAnswer(created, apiKey);
      context.onProviderReference(progress.queueId);

      const imageUrl = await this.poll(endpoint, apiKey, deadline, progress);
      const image = await this.downloadResult(imageUrl, deadline, progress);
      log('completed', { http_status: progress.httpStatus, mime_type: image.mimeType });
      return {
        ...image,
        usage: { method: call.method, queue_id: progress.queueId, polls: progress.polls },
      };
    } catch (error) {
      // Only publishing can throw something untyped; an abort meanwhile still reads as timeout.
      const failure =
        !(error instanceof ProviderError) && deadline.signal.aborted
          ? deadline.failure('while publishing the images', progress)
          : error;
      log(failure instanceof ProviderError ? failure.reason : 'internal', {
        http_status: failure instanceof ProviderError ? failure.details.httpStatus : undefined,
        finish_reason: failure instanceof ProviderError ? failure.details.finishReason : undefined,
      });
      throw failure;
    } finally {
      deadline.dispose();
    }
  }

  /** Turbotext fetches its inputs by URL: the photo, and the method's template when it has one. */
  private async publish(context: ProviderContext, call: TurbotextCall): Promise<PublishedImages> {
    const template = call.template
      ? context.templates.find((candidate) => candidate.kind === call.template)
      : undefined;
    if (call.template && !template) throw missingTemplate(call.template);
    const [photo, templateUrl] = await Promise.all([
      context.publicMediaUrl(context.photo),
      template ? context.publicMediaUrl(template) : undefined,
    ]);
    return { photo, template: templateUrl };
  }

  /**
   * Polls about every interval until the queue is done, the caller aborts, or the deadline comes: a
   * poll is never sent within LAST_POLL_MARGIN_MS of `deadlineAt`, and an abort stops the loop at
   * once.
   */
  private async poll(
    endpoint: string,
    apiKey: string,
    deadline: Deadline,
    progress: Progress,
  ): Promise<string> {
    const queueid = progress.queueId ?? '';
    let failures = 0;
    for (;;) {
      await pause(Math.min(this.pollIntervalMs, deadline.remainingMs()), deadline.signal);
      if (deadline.signal.aborted || deadline.remainingMs() < LAST_POLL_MARGIN_MS) {
        await pause(deadline.remainingMs(), deadline.signal);
        throw deadline.failure(`while queue ${queueid} was pending`, progress);
      }
      progress.polls += 1;
      let answer: string;
      try {
        answer = await this.post(
          endpoint,
          apiKey,
          { do: 'get_result', queueid },
          deadline,
          progress,
        );
      } catch (error) {
        if (
          error instanceof ProviderError &&
          error.retryable &&
          ++failures < MAX_TRANSIENT_FAILURES
        ) {
          continue;
        }
        throw error;
      }
      failures = 0;
      const state = readResultAnswer(answer, this.config.turbotextBaseUrl, apiKey);
      if (state.done) return state.imageUrl;
    }
  }

  private async post(
    url: string,
    apiKey: string,
    fields: Record<string, string>,
    deadline: Deadline,
    progress: Progress,
  ): Promise<string> {
    const { status, body } = await this.fetchBytes(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer ${apiKey}`,
          accept: 'application/json',
        },
        body: new URLSearchParams(fields).toString(),
      },
      deadline,
      progress,
      MAX_ANSWER_BYTES,
    );
    const answer = body.toString('utf8');
    if (status < 200 || status >= 300) throw readHttpError(status, answer, apiKey);
    return answer;
  }

  /**
   * The finished image, downloaded again after a transient failure (a reset, a 5xx) while the
   * deadline allows, rather than paying for a second queue.
   */
  private async downloadResult(
    url: string,
    deadline: Deadline,
    progress: Progress,
  ): Promise<{ bytes: Buffer; mimeType: string }> {
    for (let failures = 1; ; failures++) {
      try {
        return await this.download(url, deadline, progress);
      } catch (error) {
        if (
          !(error instanceof ProviderError && error.retryable) ||
          failures >= MAX_TRANSIENT_FAILURES
        ) {
          throw error;
        }
      }
      await pause(Math.min(this.pollIntervalMs, deadline.remainingMs()), deadline.signal);
      if (deadline.signal.aborted || deadline.remainingMs() <= 0) {
        throw deadline.failure('while downloading the result', progress);
      }
    }
  }

  /**
   * The result link is public; the key is deliberately not sent with it, since the link may point
   * at another host than the API.
   */
  private async download(
    url: string,
    deadline: Deadline,
    progress: Progress,
  ): Promise<{ bytes: Buffer; mimeType: string }> {
    const { status, contentType, body } = await this.fetchBytes(
      url,
      { method: 'GET', redirect: 'follow' },
      deadline,
      progress,
      this.maxResultBytes,
    );
    if (status >= 500) {
      throw new ProviderError(
        'provider_unavailable',
        `Turbotext's result answered HTTP ${status}`,
        {
          retryable: true,
          httpStatus: status,
        },
      );
    }
    if (status < 200 || status >= 300) {
      throw badResponse(`Turbotext's result answered HTTP ${status}`, status);
    }
    if (body.length === 0) throw badResponse("Turbotext's result is empty", status);
    const mimeType = resultMimeType(contentType, body);
    if (!mimeType) throw badResponse("Turbotext's result is not an image", status);
    return { bytes: body, mimeType };
  }

  /** One exchange, body included, under the deadline; bodies over `limit` are refused mid-stream. */
  private async fetchBytes(
    url: string,
    init: RequestInit,
    deadline: Deadline,
    progress: Progress,
    limit: number,
  ): Promise<{ status: number; contentType: string | null; body: Buffer }> {
    try {
      const response = await fetch(url, { ...init, signal: deadline.signal });
      progress.httpStatus = response.status;
      const body = await readCapped(response, limit);
      if (!body) {
        throw badResponse(`Turbotext sent more than ${limit} bytes`, response.status);
      }
      return { status: response.status, contentType: response.headers.get('content-type'), body };
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      if (deadline.signal.aborted) throw deadline.failure('in flight', progress, error);
      throw new ProviderError('network', `Turbotext could not be reached (${networkCode(error)})`, {
        retryable: true,
        cause: error,
      });
    }
  }
}

/**
 * The caller's signal combined with a timer at `deadlineAt`, so polling and downloads never outlive
 * the deadline even when the caller's signal is late or never fires.
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly forward = () => this.controller.abort(this.outer.reason);
  private reached = false;

  constructor(
    private readonly outer: AbortSignal,
    private readonly at: number,
  ) {
    if (outer.aborted) this.forward();
    else outer.addEventListener('abort', this.forward, { once: true });
    this.timer = setTimeout(
      () => {
        this.reached = true;
        this.controller.abort(new Error('The Turbotext deadline was reached'));
      },
      Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS),
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  remainingMs(): number {
    return this.at - Date.now();
  }

  /**
   * A cancellation also reads as `timeout` here, as in the Gemini driver: the caller owns the signal
   * and knows which one it was.
   */
  failure(when: string, progress: Progress, cause?: unknown): ProviderError {
    // Every path here ends on the caller's abort or on the deadline, so a live caller means the latter.
    const byDeadline = this.reached || !this.outer.aborted;
    const why = byDeadline
      ? 'Turbotext did not finish before the deadline'
      : 'The Turbotext call was aborted';
    return new ProviderError('timeout', `${why} ${when} (${progress.polls} polls)`, {
      retryable: false,
      cause: cause ?? this.controller.signal.reason,
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer.removeEventListener('abort', this.forward);
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

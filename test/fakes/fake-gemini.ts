/**
 * A local HTTP server speaking Gemini's REST protocol (`POST /v1beta/models/{model}:generateContent`).
 *
 *   const gemini = await FakeGemini.start();            // env: GEMINI_BASE_URL=gemini.baseUrl
 *   gemini.enqueue(GeminiReply.quotaExceeded(), GeminiReply.image(png));   // next calls, in order
 *   gemini.respondWith(GeminiReply.hang());              // every call once the queue is empty
 *   gemini.requests[0].images()[0].bytes                  // what the client sent
 *   gemini.respondWith(GeminiReply.drip(GeminiReply.image(png)));   // a sound answer, badly delivered
 *   await gemini.close();
 *
 * Without a script every call answers `echoPhoto()`: the first image it was sent, as a success.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Transmission, Transmit } from './fake-http';
import { FakeHttpServer, sendText as sendWireText, through, Wire } from './fake-http';

export interface InlineImage {
  mimeType: string;
  bytes: Buffer;
}

const GENERATE_CONTENT = /^\/v1beta\/models\/([^/:]+):generateContent$/;

/** One request as the fake received it. */
export class GeminiRequest {
  constructor(
    readonly method: string,
    /** With the query string, as sent. */
    readonly path: string,
    readonly headers: IncomingHttpHeaders,
    readonly rawBody: Buffer,
    /** The parsed JSON body; undefined when it was not JSON. */
    readonly body: any,
  ) {}

  /** The model named in the URL, decoded. */
  get model(): string | undefined {
    const match = GENERATE_CONTENT.exec(this.path.split('?')[0]);
    return match ? decodeURIComponent(match[1]) : undefined;
  }

  get apiKey(): string | undefined {
    const value = this.headers['x-goog-api-key'];
    return Array.isArray(value) ? value[0] : value;
  }

  get parts(): any[] {
    return this.body?.contents?.flatMap((content: any) => content?.parts ?? []) ?? [];
  }

  /** Every inline image, decoded, in the order sent: the photo, then the templates. */
  images(): InlineImage[] {
    return this.parts
      .filter((part) => part?.inlineData)
      .map((part) => ({
        mimeType: part.inlineData.mimeType,
        bytes: Buffer.from(part.inlineData.data ?? '', 'base64'),
      }));
  }

  /** The guest photo: the first inline image. */
  get photo(): InlineImage | undefined {
    return this.images()[0];
  }

  /** The text parts, joined by blank lines; undefined when there is none. */
  text(): string | undefined {
    const texts = this.parts.filter((part) => typeof part?.text === 'string').map((p) => p.text);
    return texts.length > 0 ? texts.join('\n\n') : undefined;
  }

  get aspectRatio(): string | undefined {
    return this.body?.generationConfig?.imageConfig?.aspectRatio;
  }
}

export interface GeminiExchange {
  request: GeminiRequest;
  response: ServerResponse;
  /** A timer that `close()` cancels, so no scripted delay outlives the fake. */
  after(ms: number, action: () => void): void;
}

/** How the fake answers one generateContent call. */
export type GeminiBehaviour = (exchange: GeminiExchange) => void;

/** A behaviour that keeps how each of its answers went out. */
export type TrackedBehaviour = GeminiBehaviour & { readonly transmissions: Transmission[] };

/** A behaviour that waits until `release()`; `reached` resolves when a call first arrives. */
export interface HeldBehaviour extends GeminiBehaviour {
  readonly reached: Promise<void>;
  release(): void;
}

export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
}

export const DEFAULT_USAGE: GeminiUsage = {
  promptTokenCount: 560,
  candidatesTokenCount: 1290,
  totalTokenCount: 1850,
};

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  sendWireText(response, status, text, JSON_TYPE);
}

const JSON_TYPE = 'application/json; charset=UTF-8';

function googleError(
  response: ServerResponse,
  code: number,
  status: string,
  message: string,
  details?: unknown[],
): void {
  sendJson(response, code, { error: { code, message, status, ...(details ? { details } : {}) } });
}

function candidate(parts: unknown[] | undefined, finishReason: string, finishMessage?: string) {
  return {
    ...(parts ? { content: { role: 'model', parts } } : {}),
    finishReason,
    ...(finishMessage !== undefined ? { finishMessage } : {}),
    index: 0,
  };
}

function success(request: GeminiRequest, body: Record<string, unknown>): Record<string, unknown> {
  return { ...body, modelVersion: request.model, responseId: 'fake-response' };
}

/** Ready-made answers, shaped like the real service's. */
export const GeminiReply = {
  /** 200 with the image; `text` adds a text part before it, as the real model sometimes does. */
  image(
    bytes: Buffer,
    mimeType = 'image/png',
    options: { text?: string; usage?: Partial<GeminiUsage> } = {},
  ): GeminiBehaviour {
    const data = bytes.toString('base64');
    return ({ request, response }) => {
      const parts: unknown[] = options.text === undefined ? [] : [{ text: options.text }];
      parts.push({ inlineData: { mimeType, data } });
      sendJson(
        response,
        200,
        success(request, {
          candidates: [candidate(parts, 'STOP')],
          usageMetadata: { ...DEFAULT_USAGE, ...options.usage },
        }),
      );
    };
  },

  /** 200 with the first image the request carried (the normalised photo), in its MIME type. */
  echoPhoto(): GeminiBehaviour {
    return (exchange) => {
      const photo = exchange.request.photo;
      if (!photo) {
        googleError(exchange.response, 400, 'INVALID_ARGUMENT', 'The request holds no image.');
        return;
      }
      GeminiReply.image(photo.bytes, photo.mimeType)(exchange);
    };
  },

  /** 200 without candidates: the prompt itself was refused. */
  blocked(blockReason = 'PROHIBITED_CONTENT', blockReasonMessage?: string): GeminiBehaviour {
    return ({ request, response }) =>
      sendJson(
        response,
        200,
        success(request, {
          promptFeedback: { blockReason, ...(blockReasonMessage ? { blockReasonMessage } : {}) },
          usageMetadata: { promptTokenCount: 560, totalTokenCount: 560 },
        }),
      );
  },

  /** 200 with a candidate that stopped for `reason` and holds no image (IMAGE_SAFETY, …). */
  finishReason(reason: string, message?: string): GeminiBehaviour {
    return ({ request, response }) =>
      sendJson(
        response,
        200,
        success(request, {
          candidates: [candidate(undefined, reason, message)],
          usageMetadata: DEFAULT_USAGE,
        }),
      );
  },

  /** 200, finished normally, but only words: how the model usually declines. */
  textOnly(text: string): GeminiBehaviour {
    return ({ request, response }) =>
      sendJson(
        response,
        200,
        success(request, {
          candidates: [candidate([{ text }], 'STOP')],
          usageMetadata: DEFAULT_USAGE,
        }),
      );
  },

  /** Google's error envelope: `{"error":{"code","message","status","details"}}`. */
  error(httpStatus: number, status: string, message: string, details?: unknown[]): GeminiBehaviour {
    return ({ response }) => googleError(response, httpStatus, status, message, details);
  },

  /** 429 RESOURCE_EXHAUSTED; `daily` names a per-day quota, which no retry can fix today. */
  quotaExceeded({ daily = false }: { daily?: boolean } = {}): GeminiBehaviour {
    const quotaId = daily
      ? 'GenerateRequestsPerDayPerProjectPerModel-FreeTier'
      : 'GenerateRequestsPerMinutePerProjectPerModel';
    return GeminiReply.error(
      429,
      'RESOURCE_EXHAUSTED',
      'You exceeded your current quota, please check your plan and billing details.',
      [
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests',
              quotaId,
            },
          ],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '20s' },
      ],
    );
  },

  /** 503 UNAVAILABLE, the usual "overloaded" answer. */
  unavailable(): GeminiBehaviour {
    return GeminiReply.error(
      503,
      'UNAVAILABLE',
      'The model is overloaded. Please try again later.',
    );
  },

  /** 200 whose body is cut off mid-JSON. */
  malformedJson(): GeminiBehaviour {
    return ({ response }) => sendText(response, 200, '{"candidates":[{"content":{"parts":[');
  },

  /** 200 with an image part whose data is not base64. */
  invalidBase64(): GeminiBehaviour {
    return ({ request, response }) =>
      sendJson(
        response,
        200,
        success(request, {
          candidates: [
            candidate([{ inlineData: { mimeType: 'image/png', data: '#not base64!' } }], 'STOP'),
          ],
          usageMetadata: DEFAULT_USAGE,
        }),
      );
  },

  /**
   * Never answers; the client has to give up. `afterHeaders` sends the status line and half a body
   * first, to check that the client's deadline also covers reading the body.
   */
  hang({ afterHeaders = false }: { afterHeaders?: boolean } = {}): GeminiBehaviour {
    return ({ response }) => {
      if (!afterHeaders) return;
      response.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      response.write('{"candidates":[');
    };
  },

  /** `behaviour`'s answer, its body sent `bytesPerTick` bytes every `intervalMs`. */
  drip(
    behaviour: GeminiBehaviour,
    options: { bytesPerTick?: number; intervalMs?: number } = {},
  ): TrackedBehaviour {
    return through(behaviour, (answer) => Wire.drip(answer, options));
  },

  /** `behaviour`'s answer cut after `bytes` of its body: the connection is reset or closed. */
  cutOff(
    behaviour: GeminiBehaviour,
    options: { bytes: number; ending?: 'reset' | 'close' },
  ): TrackedBehaviour {
    return through(behaviour, (answer) => Wire.cutOff(answer, options));
  },

  /** Any answer's delivery (`Wire.raw(…)`, `Wire.huge(…)`…), tracked the same way. */
  wire(transmit: Transmit): TrackedBehaviour {
    return Object.assign((exchange: GeminiExchange) => void transmit(exchange.response, exchange), {
      transmissions: transmit.transmissions,
    });
  },

  /**
   * A 200 of `totalBytes` shaped like an image answer, its base64 data a run of `A`s generated as
   * the client reads it; `declareLength: false` streams it without `Content-Length`.
   */
  huge(totalBytes: number, { declareLength = true }: { declareLength?: boolean } = {}) {
    return GeminiReply.wire(
      Wire.huge({
        totalBytes,
        declareLength,
        contentType: JSON_TYPE,
        head: '{"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"',
        tail: '"}}]},"finishReason":"STOP","index":0}]}',
      }),
    );
  },

  /** Runs `behaviour` after `ms`. */
  delay(ms: number, behaviour: GeminiBehaviour): GeminiBehaviour {
    return (exchange) => exchange.after(ms, () => behaviour(exchange));
  },

  /** Holds every call until `release()`, then runs `behaviour`; for in-flight tests without sleeps. */
  held(behaviour: GeminiBehaviour = GeminiReply.echoPhoto()): HeldBehaviour {
    let released = false;
    let signalReached: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (signalReached = resolve));
    const waiting: GeminiExchange[] = [];
    const held = ((exchange: GeminiExchange) => {
      signalReached();
      if (released) behaviour(exchange);
      else waiting.push(exchange);
    }) as HeldBehaviour;
    Object.assign(held, {
      reached,
      release() {
        released = true;
        for (const exchange of waiting.splice(0)) behaviour(exchange);
      },
    });
    return held;
  },
};

export interface FakeGeminiOptions {
  /** When set, any other key is refused with 400 API_KEY_INVALID, as Google does. */
  apiKey?: string;
}

export class FakeGemini extends FakeHttpServer<GeminiRequest> {
  private readonly queue: GeminiBehaviour[] = [];
  private fallback: GeminiBehaviour = GeminiReply.echoPhoto();

  private constructor(
    server: Server,
    origin: string,
    private readonly options: FakeGeminiOptions,
  ) {
    super(server, origin);
  }

  static async start(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
    const { server, origin } = await FakeHttpServer.listen();
    return new FakeGemini(server, origin, options);
  }

  /** `GEMINI_BASE_URL` for the client. */
  get baseUrl(): string {
    return this.origin;
  }

  /** The answer for every call once the queue is empty. */
  respondWith(behaviour: GeminiBehaviour): this {
    this.fallback = behaviour;
    return this;
  }

  /** Answers for the next calls, one each, before the default applies again. */
  enqueue(...behaviours: GeminiBehaviour[]): this {
    this.queue.push(...behaviours);
    return this;
  }

  /** Forgets requests and script; the default goes back to `echoPhoto()`. */
  reset(): this {
    this.requests.length = 0;
    this.queue.length = 0;
    this.fallback = GeminiReply.echoPhoto();
    return this;
  }

  protected received(incoming: IncomingMessage, rawBody: Buffer, response: ServerResponse): void {
    const request = new GeminiRequest(
      incoming.method ?? 'GET',
      incoming.url ?? '/',
      incoming.headers,
      rawBody,
      parseJson(rawBody),
    );
    this.record(request);
    this.answer(request, response);
  }

  private answer(request: GeminiRequest, response: ServerResponse): void {
    if (request.method !== 'POST' || request.model === undefined) {
      googleError(response, 404, 'NOT_FOUND', `Unknown path ${request.method} ${request.path}`);
      return;
    }
    if (!request.apiKey) {
      googleError(
        response,
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). " +
          'Please use API Key or other form of API consumer identity to call this API.',
      );
      return;
    }
    if (this.options.apiKey !== undefined && request.apiKey !== this.options.apiKey) {
      googleError(
        response,
        400,
        'INVALID_ARGUMENT',
        'API key not valid. Please pass a valid API key.',
        [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
          },
        ],
      );
      return;
    }
    if (request.body === undefined) {
      googleError(response, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      return;
    }
    const behaviour = this.queue.shift() ?? this.fallback;
    behaviour({ request, response, after: (ms, action) => this.after(ms, action) });
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

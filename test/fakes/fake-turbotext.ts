/**
 * A local HTTP server speaking Turbotext's queue protocol (`POST {base}/{method}`, form-encoded,
 * `Authorization: Bearer {key}`), at a base with a path like the real one (`…/api_ai`), so relative
 * result paths really are resolved against the site root.
 *
 *   const turbotext = await FakeTurbotext.start();          // env: TURBOTEXT_BASE_URL=turbotext.baseUrl
 *   turbotext.enqueue({ reconnects: 2 }, { create: TurbotextReply.refused('Недостаточно средств') });
 *   turbotext.respondWith({ result: TurbotextReply.forbidden() });   // every queue once the script is empty
 *   turbotext.queues[0].photo?.status                        // what it got when it fetched our photo link
 *   turbotext.requestsFor('get_result').length
 *   const download = Wire.drip(imageAnswer(png, 'image/png'));      // a result served badly
 *   turbotext.respondWith({ result: TurbotextReply.imageVia(download) });
 *   await turbotext.close();
 *
 * Like the real service it downloads every image it is given by URL (`url`, `url_image_target`)
 * when a queue is created, and records what it got (`queue.inputs`). A done answer is only given
 * when every input was fetched; otherwise the queue fails with `{"success":false}`, as Turbotext's
 * does. Without a script every queue is done at its first poll with its guest photo echoed back.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Transmission, Transmit } from './fake-http';
import { FakeHttpServer, sendText as sendWireText, through, Wire } from './fake-http';

/** The path the API lives under, as on www.turbotext.ru. */
export const API_PATH = '/api_ai';
/** Where the fake serves the images it produced; outside the API path, like the real site. */
export const GENERATED_PATH = '/generated';
/** Where `upload()` serves images, standing in for the server's provider-media links. */
export const UPLOADS_PATH = '/uploads';

export const TURBOTEXT_METHODS = ['mix_images', 'deepfake_photo', 'generate_image2image'] as const;
export type TurbotextMethodName = (typeof TURBOTEXT_METHODS)[number];

/** Which form field carries the guest photo and which the template, per method (SPEC §5). */
const ROLES: Record<TurbotextMethodName, { photo: string; template?: string }> = {
  mix_images: { photo: 'url_image_target', template: 'url' },
  deepfake_photo: { photo: 'url_image_target', template: 'url' },
  generate_image2image: { photo: 'url' },
};
const INPUT_FIELDS = ['url', 'url_image_target'];
const INPUT_FETCH_TIMEOUT_MS = 5_000;

/** One API request as the fake received it. */
export class TurbotextRequest {
  constructor(
    readonly httpMethod: string,
    /** With the query string, as sent. */
    readonly path: string,
    readonly headers: IncomingHttpHeaders,
    readonly rawBody: Buffer,
    /** The form fields; empty when the body was not form-encoded. */
    readonly fields: Record<string, string>,
    readonly receivedAt: number,
  ) {}

  /** The API method named in the path (`mix_images`…), or undefined off the API path. */
  get method(): string | undefined {
    const path = this.path.split('?')[0];
    return path.startsWith(`${API_PATH}/`) ? path.slice(API_PATH.length + 1) : undefined;
  }

  get do(): string | undefined {
    return this.fields.do;
  }

  get queueId(): string | undefined {
    return this.fields.queueid;
  }

  get contentType(): string | undefined {
    return this.headers['content-type'];
  }

  get authorization(): string | undefined {
    return this.headers.authorization;
  }

  /** The key from `Authorization: Bearer {key}`. */
  get apiKey(): string | undefined {
    const match = /^Bearer (.+)$/.exec(this.authorization ?? '');
    return match?.[1];
  }
}

/** The fake's download of one image it was given by URL. */
export interface InputFetch {
  field: string;
  url: string;
  /** Undefined when no HTTP answer came (refused connection, timeout). */
  status?: number;
  /** The body of a 2xx answer. */
  bytes?: Buffer;
  mimeType?: string;
  error?: string;
  fetchedAt: number;
}

/** A queue, from its `create_queue` on. */
export class TurbotextQueue {
  /** Every input download, by form field (`url`, `url_image_target`). */
  readonly inputs: Record<string, InputFetch> = {};
  /** `get_result` calls received for this queue. */
  polls = 0;
  /** False when `create_queue` was answered with anything but a queue id. */
  accepted = false;

  constructor(
    readonly id: string,
    readonly method: TurbotextMethodName,
    readonly fields: Record<string, string>,
    readonly scenario: TurbotextScenario,
  ) {}

  /** The guest photo's download, per the method's field roles. */
  get photo(): InputFetch | undefined {
    return this.inputs[ROLES[this.method].photo];
  }

  /** The template's download (`mix_images`, `deepfake_photo`). */
  get template(): InputFetch | undefined {
    const field = ROLES[this.method].template;
    return field ? this.inputs[field] : undefined;
  }

  /** The first input that could not be fetched with a 2xx, if any. */
  get failedInput(): InputFetch | undefined {
    return Object.values(this.inputs).find((input) => !input.bytes);
  }
}

export interface TurbotextExchange {
  request: TurbotextRequest;
  response: ServerResponse;
  /** The queue created (create_queue) or polled (get_result). */
  queue: TurbotextQueue;
  /** Serves `bytes` under `/generated/…` and returns the root-relative path. */
  publish(bytes: Buffer, mimeType: string): string;
  /** Serves whatever `transmit` sends under `/generated/…` and returns the root-relative path. */
  publishWire(transmit: Transmit): string;
  /** The fake's origin (`http://127.0.0.1:port`), for absolute result URLs. */
  origin: string;
  /** A timer that `close()` cancels, so no scripted delay outlives the fake. */
  after(ms: number, action: () => void): void;
}

/** How the fake answers one create_queue or get_result call. */
export type TurbotextBehaviour = (exchange: TurbotextExchange) => void;

/** A behaviour that keeps how each of its answers went out. */
export type TrackedBehaviour = TurbotextBehaviour & { readonly transmissions: Transmission[] };

/** What one queue does, from creation to its last poll. */
export interface TurbotextScenario {
  /** Answers `create_queue`; default `accept()`. */
  create?: TurbotextBehaviour;
  /** The first polls answer `{"action":"reconnect"}`; `Infinity` for a queue that never finishes. */
  reconnects?: number;
  /** The polls after those, one answer each (a 502 between two reconnects…). */
  polls?: TurbotextBehaviour[];
  /** Every later poll; default `echo()`. */
  result?: TurbotextBehaviour;
}

/** Where a done answer names the image, in the order a client must look (SPEC §5). */
export type ResultField = 'uploaded_image' | 'data.uploaded_image' | 'data.image';

export interface ResultOptions {
  field?: ResultField;
  /** Root-relative `/generated/…` instead of an absolute URL; `noSlash` drops the leading `/`. */
  relative?: boolean | 'noSlash';
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/html; charset=utf-8',
): void {
  sendWireText(response, status, text, contentType);
}

function doneAnswer(exchange: TurbotextExchange, location: string, options: ResultOptions) {
  const { field = 'uploaded_image' } = options;
  const data: Record<string, unknown> = { queueid: Number(exchange.queue.id) };
  const body: Record<string, unknown> = { success: true, error: '', data };
  if (field === 'uploaded_image') {
    body.uploaded_image = location;
    data.image = [location];
  } else if (field === 'data.uploaded_image') {
    data.uploaded_image = location;
  } else {
    data.image = [location];
  }
  return body;
}

function locate(exchange: TurbotextExchange, path: string, options: ResultOptions): string {
  if (options.relative === 'noSlash') return path.replace(/^\//, '');
  return options.relative ? path : `${exchange.origin}${path}`;
}

/** Ready-made answers, shaped like the real service's. */
export const TurbotextReply = {
  /** `create_queue` accepted: `{"success":true,"queueid":N}`. */
  accept(): TurbotextBehaviour {
    return ({ response, queue }) => {
      queue.accepted = true;
      sendJson(response, 200, { success: true, queueid: Number(queue.id) });
    };
  },

  /** Still working. */
  reconnect(): TurbotextBehaviour {
    return ({ response }) => sendJson(response, 200, { action: 'reconnect' });
  },

  /** Done with `bytes`, served by the fake, named where `options` says. */
  image(bytes: Buffer, mimeType = 'image/png', options: ResultOptions = {}): TurbotextBehaviour {
    return (exchange) => {
      const failed = exchange.queue.failedInput;
      if (failed) {
        TurbotextReply.refused(unreachableMessage(failed))(exchange);
        return;
      }
      const path = exchange.publish(bytes, mimeType);
      sendJson(
        exchange.response,
        200,
        doneAnswer(exchange, locate(exchange, path, options), options),
      );
    };
  },

  /** Done with the guest photo the fake fetched, as the result. */
  echo(options: ResultOptions = {}): TurbotextBehaviour {
    return (exchange) => {
      const photo = exchange.queue.photo;
      if (!photo?.bytes) {
        TurbotextReply.refused(photo ? unreachableMessage(photo) : 'Не передано изображение')(
          exchange,
        );
        return;
      }
      TurbotextReply.image(photo.bytes, photo.mimeType ?? 'image/jpeg', options)(exchange);
    };
  },

  /** Done, but the named image is not there (404 when downloaded). */
  missingImage(options: ResultOptions = {}): TurbotextBehaviour {
    return (exchange) => {
      const path = `${GENERATED_PATH}/missing-${exchange.queue.id}.png`;
      sendJson(
        exchange.response,
        200,
        doneAnswer(exchange, locate(exchange, path, options), options),
      );
    };
  },

  /**
   * Done, naming an image whose download is whatever `transmit` sends (`Wire.drip(…)`,
   * `Wire.huge(…)`…); its transmissions show how far each download got.
   */
  imageVia(transmit: Transmit, options: ResultOptions = {}): TurbotextBehaviour {
    return (exchange) => {
      const path = exchange.publishWire(transmit);
      sendJson(
        exchange.response,
        200,
        doneAnswer(exchange, locate(exchange, path, options), options),
      );
    };
  },

  /** Done, without any image URL. */
  noImage(): TurbotextBehaviour {
    return ({ response, queue }) =>
      sendJson(response, 200, { success: true, error: '', data: { queueid: Number(queue.id) } });
  },

  /** `{"success":false,"error":message}`, HTTP 200, as the service refuses. */
  refused(message: string): TurbotextBehaviour {
    return ({ response }) => sendJson(response, 200, { success: false, error: message });
  },

  /** The picture was refused by the service's content filter. */
  forbidden(): TurbotextBehaviour {
    return ({ response, queue }) =>
      sendJson(response, 200, {
        success: true,
        error: '',
        data: { queueid: Number(queue.id), forbidden_content: true },
      });
  },

  /** A bare HTTP error, with a JSON refusal body unless `body` is given. */
  httpError(status: number, body?: string): TurbotextBehaviour {
    return ({ response }) =>
      body === undefined
        ? sendJson(response, status, { success: false, error: `HTTP ${status}` })
        : sendText(response, status, body);
  },

  /** 200 whose body is cut off mid-JSON. */
  garbage(): TurbotextBehaviour {
    return ({ response }) => sendText(response, 200, '{"success":tr', 'application/json');
  },

  /** Never answers; the client has to give up. */
  hang(): TurbotextBehaviour {
    return () => undefined;
  },

  /** `behaviour`'s answer, its body sent `bytesPerTick` bytes every `intervalMs`. */
  drip(
    behaviour: TurbotextBehaviour,
    options: { bytesPerTick?: number; intervalMs?: number } = {},
  ): TrackedBehaviour {
    return through(behaviour, (answer) => Wire.drip(answer, options));
  },

  /** `behaviour`'s answer cut after `bytes` of its body: the connection is reset or closed. */
  cutOff(
    behaviour: TurbotextBehaviour,
    options: { bytes: number; ending?: 'reset' | 'close' },
  ): TrackedBehaviour {
    return through(behaviour, (answer) => Wire.cutOff(answer, options));
  },

  /** Runs `behaviour` after `ms`. */
  delay(ms: number, behaviour: TurbotextBehaviour): TurbotextBehaviour {
    return (exchange) => exchange.after(ms, () => behaviour(exchange));
  },
};

function unreachableMessage(input: InputFetch): string {
  const why = input.status !== undefined ? `HTTP ${input.status}` : (input.error ?? 'no answer');
  return `Не удалось загрузить изображение ${input.field} (${why})`;
}

export interface FakeTurbotextOptions {
  /** When set, any other key is refused with 401, as Turbotext does. */
  apiKey?: string;
}

type Hosted = { expiresAt: number } & (
  { bytes: Buffer; mimeType: string } | { transmit: Transmit }
);

export class FakeTurbotext extends FakeHttpServer<TurbotextRequest> {
  /** Every queue created, in order. */
  readonly queues: TurbotextQueue[] = [];
  /** Every GET of a generated or uploaded image: path and the status it was answered. */
  readonly downloads: { path: string; status: number }[] = [];
  /** `TURBOTEXT_BASE_URL` for the client: the origin plus `/api_ai`. */
  readonly baseUrl: string;
  private readonly script: TurbotextScenario[] = [];
  private fallback: TurbotextScenario = {};
  private readonly files = new Map<string, Hosted>();
  private readonly fetches = new Set<AbortController>();
  private nextQueueId = 731_001;
  private nextFile = 1;

  private constructor(
    server: Server,
    origin: string,
    private readonly options: FakeTurbotextOptions,
  ) {
    super(server, origin);
    this.baseUrl = `${origin}${API_PATH}`;
  }

  static async start(options: FakeTurbotextOptions = {}): Promise<FakeTurbotext> {
    const { server, origin } = await FakeHttpServer.listen();
    return new FakeTurbotext(server, origin, options);
  }

  /** What every queue does once the script is empty. */
  respondWith(scenario: TurbotextScenario): this {
    this.fallback = scenario;
    return this;
  }

  /** Scenarios for the next queues, one each, before the default applies again. */
  enqueue(...scenarios: TurbotextScenario[]): this {
    this.script.push(...scenarios);
    return this;
  }

  /** Forgets requests, queues and script; the default goes back to an immediate echo. */
  reset(): this {
    this.requests.length = 0;
    this.queues.length = 0;
    this.downloads.length = 0;
    this.script.length = 0;
    this.fallback = {};
    return this;
  }

  get lastQueue(): TurbotextQueue | undefined {
    return this.queues.at(-1);
  }

  /** The API requests whose `do` field is `action`. */
  requestsFor(action: 'create_queue' | 'get_result'): TurbotextRequest[] {
    return this.requests.filter((request) => request.do === action);
  }

  /**
   * Serves `bytes` at an absolute URL of the fake until `ttlMs` has passed, then answers 410: a
   * stand-in for the server's temporary provider-media links in driver tests.
   */
  upload(bytes: Buffer, mimeType: string, ttlMs = 60_000): string {
    const path = `${UPLOADS_PATH}/${this.nextFile++}${extension(mimeType)}`;
    this.files.set(path, { bytes, mimeType, expiresAt: Date.now() + ttlMs });
    return `${this.origin}${path}`;
  }

  /** Cancels the fake's own downloads of the links it was given. */
  protected override onClose(): void {
    for (const controller of this.fetches) controller.abort();
    this.fetches.clear();
  }

  protected received(incoming: IncomingMessage, rawBody: Buffer, response: ServerResponse): void {
    const path = incoming.url ?? '/';
    const method = incoming.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      this.serveFile(path, response);
      return;
    }
    const request = new TurbotextRequest(
      method,
      path,
      incoming.headers,
      rawBody,
      parseForm(incoming.headers['content-type'], rawBody),
      Date.now(),
    );
    this.record(request);
    void this.answer(request, response);
  }

  private async answer(request: TurbotextRequest, response: ServerResponse): Promise<void> {
    const method = request.method;
    if (request.httpMethod !== 'POST' || !isMethod(method)) {
      sendJson(response, 404, { success: false, error: 'Метод не найден' });
      return;
    }
    const key = request.apiKey;
    if (!key || (this.options.apiKey !== undefined && key !== this.options.apiKey)) {
      sendJson(response, 401, { success: false, error: 'Неверный API ключ' });
      return;
    }
    if (request.do === 'create_queue') {
      const queue = new TurbotextQueue(
        String(this.nextQueueId++),
        method,
        request.fields,
        this.script.shift() ?? this.fallback,
      );
      this.queues.push(queue);
      await this.fetchInputs(queue);
      if (this.closed) return;
      this.run(queue.scenario.create ?? TurbotextReply.accept(), request, response, queue);
      return;
    }
    if (request.do === 'get_result') {
      const queue = this.queues.find(
        (candidate) => candidate.accepted && candidate.id === request.queueId,
      );
      if (!queue || queue.method !== method) {
        sendJson(response, 200, { success: false, error: 'Очередь не найдена' });
        return;
      }
      const index = queue.polls++;
      const { reconnects = 0, polls = [], result = TurbotextReply.echo() } = queue.scenario;
      const behaviour =
        index < reconnects ? TurbotextReply.reconnect() : (polls[index - reconnects] ?? result);
      this.run(behaviour, request, response, queue);
      return;
    }
    sendJson(response, 400, { success: false, error: 'Неизвестное действие' });
  }

  private run(
    behaviour: TurbotextBehaviour,
    request: TurbotextRequest,
    response: ServerResponse,
    queue: TurbotextQueue,
  ): void {
    behaviour({
      request,
      response,
      queue,
      origin: this.origin,
      publish: (bytes, mimeType) => {
        const path = `${GENERATED_PATH}/${queue.id}-${this.nextFile++}${extension(mimeType)}`;
        this.files.set(path, { bytes, mimeType, expiresAt: Infinity });
        return path;
      },
      publishWire: (transmit) => {
        const path = `${GENERATED_PATH}/${queue.id}-${this.nextFile++}`;
        this.files.set(path, { transmit, expiresAt: Infinity });
        return path;
      },
      after: (ms, action) => this.after(ms, action),
    });
  }

  /** Downloads the queue's image URLs as the real service does, recording what came back. */
  private async fetchInputs(queue: TurbotextQueue): Promise<void> {
    const fields = INPUT_FIELDS.filter((field) => queue.fields[field] !== undefined);
    await Promise.all(
      fields.map(async (field) => {
        queue.inputs[field] = await this.fetchInput(field, queue.fields[field]);
      }),
    );
  }

  private async fetchInput(field: string, url: string): Promise<InputFetch> {
    const controller = new AbortController();
    this.fetches.add(controller);
    const timer = setTimeout(() => controller.abort(), INPUT_FETCH_TIMEOUT_MS);
    try {
      const response = await fetch(url, { signal: controller.signal });
      const body = Buffer.from(await response.arrayBuffer());
      return {
        field,
        url,
        status: response.status,
        ...(response.ok ? { bytes: body } : {}),
        mimeType: response.headers.get('content-type')?.split(';')[0] ?? undefined,
        fetchedAt: Date.now(),
      };
    } catch (error) {
      return { field, url, error: describe(error), fetchedAt: Date.now() };
    } finally {
      clearTimeout(timer);
      this.fetches.delete(controller);
    }
  }

  private serveFile(url: string, response: ServerResponse): void {
    const path = url.split('?')[0];
    const file = this.files.get(path);
    let status = 200;
    if (!file) status = 404;
    else if (Date.now() >= file.expiresAt) status = 410;
    this.downloads.push({ path, status });
    if (!file || status !== 200) {
      sendText(response, status, `<html><body>${status}</body></html>`);
      return;
    }
    if ('transmit' in file) {
      file.transmit(response, this);
      return;
    }
    if (response.destroyed) return;
    response.writeHead(200, { 'content-type': file.mimeType, 'content-length': file.bytes.length });
    response.end(file.bytes);
  }
}

function isMethod(value: string | undefined): value is TurbotextMethodName {
  return (TURBOTEXT_METHODS as readonly (string | undefined)[]).includes(value);
}

/** Only form-encoded bodies have fields, as for the real (PHP) service. */
function parseForm(contentType: string | undefined, body: Buffer): Record<string, string> {
  if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return {};
  return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
}

function extension(mimeType: string): string {
  const known: Record<string, string> = {
    'image/jpeg': '.jpg',
    'image/png': '.png',
    'image/webp': '.webp',
  };
  return known[mimeType] ?? '';
}

/** The transport's reason (`ECONNREFUSED`…) rather than fetch's bare "fetch failed". */
function describe(error: unknown): string {
  const { cause, message } = (error ?? {}) as { cause?: unknown; message?: unknown };
  const { code, message: causeMessage } = (cause ?? {}) as { code?: unknown; message?: unknown };
  for (const candidate of [code, causeMessage, message]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
  }
  return 'unknown error';
}

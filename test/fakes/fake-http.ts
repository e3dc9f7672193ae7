/**
 * What the fake providers share: a loopback HTTP server whose timers, waiters and connections
 * `close()` ends, request records, and `Wire` — ways of putting an answer on the wire badly
 * (dripped, cut off, oversized, not HTTP at all) that either fake can use for any of its answers.
 */
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Timers {
  /** A timer that the fake's `close()` cancels, so no scripted delay outlives the fake. */
  after(ms: number, action: () => void): void;
}

/** An answer as a fake produced it, before it goes on the wire. */
export interface WireAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** How one answer went out: read by tests to tell a client that hung up from one that read it all. */
export class Transmission {
  readonly startedAt = Date.now();
  /** Body bytes handed to the socket. */
  sentBytes = 0;
  /** The whole body went out. */
  finished = false;
  /** When the connection closed before the whole body went out (the client gave up, or a cut). */
  closedEarlyAt?: number;

  watch(response: ServerResponse): this {
    response.on('close', () => {
      if (!this.finished) this.closedEarlyAt ??= Date.now();
    });
    return this;
  }
}

/** Puts an answer on the wire, one call per request; every call's Transmission is kept. */
export interface Transmit {
  (response: ServerResponse, timers: Timers): Transmission;
  readonly transmissions: Transmission[];
}

function transmitter(send: (response: ServerResponse, timers: Timers, sent: Transmission) => void) {
  const transmissions: Transmission[] = [];
  const transmit = (response: ServerResponse, timers: Timers): Transmission => {
    const sent = new Transmission().watch(response);
    transmissions.push(sent);
    if (response.destroyed || response.headersSent) return sent;
    send(response, timers, sent);
    return sent;
  };
  return Object.assign(transmit, { transmissions }) as Transmit;
}

export function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  contentType: string,
): void {
  if (response.destroyed || response.headersSent) return;
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function imageAnswer(bytes: Buffer, mimeType: string, status = 200): WireAnswer {
  return {
    status,
    headers: { 'content-type': mimeType, 'content-length': bytes.length },
    body: bytes,
  };
}

const FILLER_CHUNK = 64 * 1024;

export interface HugeBody {
  /** The whole body's size, head and tail included. */
  totalBytes: number;
  contentType: string;
  /** Sent before and after the filler: a JSON envelope around a huge string, say. */
  head?: string;
  tail?: string;
  /** The byte the filler repeats (`A` is valid base64). */
  filler?: string;
  /** Send `Content-Length` (a client can refuse at once) or stream it chunked (it must count). */
  declareLength?: boolean;
  status?: number;
}

/** Broken deliveries of an otherwise well-formed answer. */
export const Wire = {
  /** The answer as it is. */
  whole(answer: WireAnswer): Transmit {
    return transmitter((response, _timers, sent) => {
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body, () => {
        sent.sentBytes = answer.body.length;
        sent.finished = true;
      });
    });
  },

  /** Headers at once, then `bytesPerTick` bytes of the body every `intervalMs`. */
  drip(
    answer: WireAnswer,
    { bytesPerTick = 1, intervalMs = 200 }: { bytesPerTick?: number; intervalMs?: number } = {},
  ): Transmit {
    return transmitter((response, timers, sent) => {
      response.writeHead(answer.status, answer.headers);
      response.flushHeaders();
      const tick = () => {
        if (response.destroyed) return;
        const next = answer.body.subarray(sent.sentBytes, sent.sentBytes + bytesPerTick);
        sent.sentBytes += next.length;
        if (sent.sentBytes < answer.body.length) {
          response.write(next);
          timers.after(intervalMs, tick);
        } else {
          response.end(next, () => (sent.finished = true));
        }
      };
      timers.after(intervalMs, tick);
    });
  },

  /**
   * Headers (with the full `Content-Length`) and the first `bytes` of the body, then the
   * connection dies: `reset` sends a TCP RST, `close` a plain FIN.
   */
  cutOff(
    answer: WireAnswer,
    { bytes, ending = 'reset' }: { bytes: number; ending?: 'reset' | 'close' },
  ): Transmit {
    return transmitter((response, timers, sent) => {
      response.writeHead(answer.status, answer.headers);
      const part = answer.body.subarray(0, Math.min(bytes, answer.body.length - 1));
      response.write(part);
      sent.sentBytes = part.length;
      // Long enough for the client to have read the headers and the part before the cut.
      timers.after(50, () => {
        const socket = response.socket;
        if (!socket || socket.destroyed) return;
        if (ending === 'reset') socket.resetAndDestroy();
        else socket.end();
      });
    });
  },

  /**
   * Bytes that are not HTTP straight on the socket instead of an answer, the connection left
   * open: what a TLS server, or anything else on the wrong port, says to a plain-HTTP client.
   */
  raw(bytes: Buffer): Transmit {
    return transmitter((response, _timers, sent) => {
      response.socket?.write(bytes);
      sent.sentBytes = bytes.length;
    });
  },

  /** A body of `totalBytes`, generated as the client reads it, so the fake holds none of it. */
  huge(body: HugeBody): Transmit {
    const head = Buffer.from(body.head ?? '', 'utf8');
    const tail = Buffer.from(body.tail ?? '', 'utf8');
    // A multiple of 4, so a base64 filler stays valid base64.
    const fillerBytes = Math.max(0, body.totalBytes - head.length - tail.length) & ~3;
    const chunk = Buffer.alloc(FILLER_CHUNK, body.filler ?? 'A');
    return transmitter((response, _timers, sent) => {
      response.writeHead(body.status ?? 200, {
        'content-type': body.contentType,
        ...(body.declareLength === false
          ? {}
          : { 'content-length': head.length + fillerBytes + tail.length }),
      });
      let left = fillerBytes;
      const write = (bytes: Buffer): boolean => {
        sent.sentBytes += bytes.length;
        return response.write(bytes);
      };
      const pump = (): void => {
        while (left > 0 && !response.destroyed) {
          const size = Math.min(left, FILLER_CHUNK);
          left -= size;
          if (!write(chunk.subarray(0, size))) {
            response.once('drain', pump);
            return;
          }
        }
        if (response.destroyed) return;
        sent.sentBytes += tail.length;
        response.end(tail, () => (sent.finished = true));
      };
      if (write(head)) pump();
      else response.once('drain', pump);
    });
  },

  /** Each request gets the next of `transmits`; the last one answers every later request. */
  inTurn(...transmits: Transmit[]): Transmit {
    const transmissions: Transmission[] = [];
    let next = 0;
    const transmit = (response: ServerResponse, timers: Timers): Transmission => {
      const sent = transmits[Math.min(next++, transmits.length - 1)](response, timers);
      transmissions.push(sent);
      return sent;
    };
    return Object.assign(transmit, { transmissions });
  },

  /** Reads the request and never answers: the headers never come. */
  silent(): Transmit {
    return transmitter(() => undefined);
  },
};

/**
 * Runs `produce` against a stand-in response and resolves with what it wrote, so any ready-made
 * answer can then be delivered through one of `Wire`'s broken deliveries.
 */
export function capture(produce: (response: ServerResponse) => void): Promise<WireAnswer> {
  return new Promise((resolve) => {
    const answer: WireAnswer = { status: 200, headers: {}, body: Buffer.alloc(0) };
    const stand = {
      destroyed: false,
      headersSent: false,
      on: () => stand,
      once: () => stand,
      writeHead(status: number, headers: OutgoingHttpHeaders = {}) {
        answer.status = status;
        answer.headers = headers;
        stand.headersSent = true;
        return stand;
      },
      end(body?: string | Buffer) {
        answer.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? answer.body);
        resolve(answer);
        return stand;
      },
    };
    produce(stand as unknown as ServerResponse);
  });
}

/**
 * `behaviour`'s answer, delivered through `deliver` (say `(a) => Wire.drip(a)`). The returned
 * behaviour keeps every call's Transmission.
 */
export function through<E extends Timers & { response: ServerResponse }>(
  behaviour: (exchange: E) => void,
  deliver: (answer: WireAnswer) => Transmit,
): ((exchange: E) => void) & { readonly transmissions: Transmission[] } {
  const transmissions: Transmission[] = [];
  const wrapped = (exchange: E): void => {
    void capture((stand) => behaviour({ ...exchange, response: stand })).then((answer) => {
      transmissions.push(deliver(answer)(exchange.response, exchange));
    });
  };
  return Object.assign(wrapped, { transmissions });
}

interface Waiter<R> {
  count: number;
  resolve: (requests: R[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A loopback HTTP server that reads each request whole and hands it to `received`. It records
 * requests for `waitForRequests`, and its `close()` cancels every timer and drops every
 * connection, held or hanging ones included.
 */
export abstract class FakeHttpServer<R> implements Timers {
  /** Every request received, scripted or refused, in arrival order. */
  readonly requests: R[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<Waiter<R>>();
  private closing = false;

  protected constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:port` */
    readonly origin: string,
  ) {
    server.on('request', (incoming: IncomingMessage, response: ServerResponse) =>
      this.receive(incoming, response),
    );
  }

  /** A server listening on a free loopback port, not yet answering. */
  protected static async listen(): Promise<{ server: Server; origin: string }> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    return { server, origin: `http://127.0.0.1:${port}` };
  }

  protected abstract received(
    incoming: IncomingMessage,
    body: Buffer,
    response: ServerResponse,
  ): void;

  /** Extra clean-up before the connections drop. */
  protected onClose(): void {}

  get closed(): boolean {
    return this.closing;
  }

  get lastRequest(): R | undefined {
    return this.requests.at(-1);
  }

  after(ms: number, action: () => void): void {
    if (this.closing) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  /** Resolves once `count` requests in total have arrived. */
  waitForRequests(count = 1, timeoutMs = 5_000): Promise<R[]> {
    if (this.requests.length >= count) return Promise.resolve([...this.requests]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter<R> = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new Error(`${this.constructor.name} got ${this.requests.length} of ${count} requests`),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.onClose();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${this.constructor.name} closed`));
    }
    this.waiters.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected record(request: R): void {
    this.requests.push(request);
    for (const waiter of this.waiters) {
      if (this.requests.length < waiter.count) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve([...this.requests]);
    }
  }

  private receive(incoming: IncomingMessage, response: ServerResponse): void {
    // A client that gives up must not crash the fake when a late answer is written.
    response.on('error', () => undefined);
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('error', () => undefined);
    incoming.on('end', () => this.received(incoming, Buffer.concat(chunks), response));
  }
}

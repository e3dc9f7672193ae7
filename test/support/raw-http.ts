// HTTP spoken byte for byte over a socket: for requests no HTTP client sends on purpose — a body
// shorter than its Content-Length, a hang-up halfway, a chunked upload that never ends.
import { connect, Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined by ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** The parsed body when it is JSON. */
  json: any;
}

/** One connection to the app; `response` settles with the first final (non-1xx) answer. */
export class RawConnection {
  /** Undefined when the server closed the connection without answering. */
  readonly response: Promise<RawResponse | undefined>;
  readonly closed: Promise<void>;
  /** Bytes of the body accepted by the socket so far. */
  bytesWritten = 0;
  /** Whether the server sent `100 Continue`. */
  continued = false;
  private received = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    let settle: (answer: RawResponse | undefined) => void = () => undefined;
    this.response = new Promise((resolve) => (settle = resolve));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      const answer = this.parse(false);
      if (answer) settle(answer);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => settle(this.parse(true)));
  }

  static open(baseUrl: string): Promise<RawConnection> {
    const { hostname, port } = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () =>
        resolve(new RawConnection(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** Writes bytes; resolves false once the server has closed or reset the connection. */
  write(data: Buffer | string): Promise<boolean> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve(false);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return new Promise((resolve) => {
      this.socket.write(bytes, (error) => {
        if (error) return resolve(false);
        this.bytesWritten += bytes.length;
        resolve(true);
      });
    });
  }

  /** Half-closes: the server sees the end of the stream but can still answer. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The first final response in what arrived, once complete (or at close, whatever came). */
  private parse(atClose: boolean): RawResponse | undefined {
    let buffer = this.received;
    for (;;) {
      const headEnd = buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return undefined;
      const [statusLine, ...lines] = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      const rest = buffer.subarray(headEnd + 4);
      if (status >= 100 && status < 200) {
        if (status === 100) this.continued = true;
        buffer = rest;
        continue;
      }
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] ? `${headers[name]}, ${value}` : value;
      }
      const length = headers['content-length'];
      let body: Buffer;
      if (length !== undefined) {
        if (rest.length < Number(length)) return undefined;
        body = rest.subarray(0, Number(length));
      } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        const decoded = dechunk(rest);
        if (!decoded) return undefined;
        body = decoded;
      } else {
        if (!atClose) return undefined;
        body = rest;
      }
      let json: unknown;
      if (/json/.test(headers['content-type'] ?? '') && body.length > 0) {
        json = JSON.parse(body.toString('utf8'));
      }
      return { status, headers, body, json };
    }
  }
}

/** The head of a request, as sent: request line, headers, blank line. */
export function requestHead(
  method: string,
  path: string,
  headers: Record<string, string | number>,
): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** One chunk of a chunked body (an empty one ends it). */
export function chunk(bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${bytes.length.toString(16)}\r\n`),
    bytes,
    Buffer.from('\r\n'),
  ]);
}

function dechunk(buffer: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buffer.subarray(offset, lineEnd).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts);
    if (buffer.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

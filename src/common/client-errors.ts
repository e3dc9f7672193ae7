import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { DomainError } from './domain-error';
import { errorBody } from './error.filter';

/**
 * Requests Node's HTTP parser refuses itself — malformed bytes, a body cut off by the client's
 * half-close, oversized headers, a request timeout — get SPEC's JSON error body instead of Node's
 * bare status line. The connection is closed afterwards, as Node would.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // Only when nothing of an answer went out yet: never corrupt a response already under way.
    if (socket.writable && !inFlight?.headersSent) {
      const [status, text, message] = describe(error.code);
      const body = JSON.stringify(errorBody(new DomainError('invalid_request', message)));
      socket.write(
        `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  });
}

function describe(code: string | undefined): [number, string, string] {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return [431, 'Request Header Fields Too Large', 'The request headers are too large'];
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return [408, 'Request Timeout', 'The request was not received in time'];
  }
  return [400, 'Bad Request', 'The request is not valid HTTP or its body is incomplete'];
}

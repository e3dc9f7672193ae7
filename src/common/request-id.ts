import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  readonly requestId: string;
}

export const REQUEST_ID_HEADER = 'X-Request-Id';

// Letters, digits and the punctuation tracing systems use; anything else could forge log content.
const SANE_REQUEST_ID = /^[\w.:/+=-]{1,64}$/;

const storage = new AsyncLocalStorage<RequestContext>();

/** The id of the HTTP request being handled, wherever in its async chain this runs. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Runs `handler` (and everything it starts) as part of the request `context`. */
export function runInRequestContext<T>(context: RequestContext, handler: () => T): T {
  return storage.run(context, handler);
}

/** The booth's or proxy's id when it is a plain token, else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

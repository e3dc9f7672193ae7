/** Small pieces both drivers need to read answers from HTTP services safely. */

/** The longest provider message kept on a job row. */
export const PROVIDER_MESSAGE_MAX_CHARS = 500;

/** The largest result image a driver takes from a provider; a booth print is a few megabytes. */
export const MAX_RESULT_IMAGE_BYTES = 50 * 1024 * 1024;

/** Visible ASCII only: fetch refuses other header values with an error that quotes the value. */
export const HEADER_SAFE = /^[\x21-\x7e]+$/;

/** Removes the key wherever it appears and cuts the text to what the job row keeps. */
export function clean(value: unknown, secret: string): string | undefined {
  const message = nonEmpty(value);
  if (message === undefined) return undefined;
  const safe = secret ? message.split(secret).join('[redacted]') : message;
  return safe.length > PROVIDER_MESSAGE_MAX_CHARS
    ? `${safe.slice(0, PROVIDER_MESSAGE_MAX_CHARS - 1)}…`
    : safe;
}

/**
 * `ECONNREFUSED`, `ENOTFOUND`, a TLS code… — undici hides it in `cause`. Read by shape, not
 * `instanceof`: fetch's errors may come from another realm (jest's sandbox).
 */
export function networkCode(error: unknown): string {
  const { cause, message } = (error ?? {}) as { cause?: unknown; message?: unknown };
  const { code, message: causeMessage } = (cause ?? {}) as { code?: unknown; message?: unknown };
  for (const candidate of [code, causeMessage, message]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
  }
  return 'unknown error';
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * The whole body, or undefined once it is past `limit` bytes: refused from `Content-Length`
 * before reading, else mid-stream with the rest never read, so a runaway answer costs at most
 * `limit` bytes of memory instead of whatever the other side cares to send.
 */
export async function readCapped(response: Response, limit: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || !value) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

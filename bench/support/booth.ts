/** The booth's side: uploads as DSLR Remote Pro sends them. */
import { createHash, randomUUID } from 'node:crypto';
import { ClientRequest, IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { dslrFields } from '../../test/support/booth';
import type { Photo } from './photos';
import { INGEST_PASSWORD } from './server';

export interface Outcome {
  status: number;
  ms: number;
  bytes: number;
  resultUrl: string | undefined;
}

/**
 * A booth upload around a shared photo buffer: the fields and the file part's headers, then the
 * photo's own bytes, then the closing boundary (so no copy of the photo is made).
 */
function multipart(fields: Record<string, string>, photo: Photo) {
  const boundary = `----------booth${randomUUID().replace(/-/g, '')}`;
  const head = Buffer.from(
    Object.entries(fields)
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      )
      .join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; ` +
      `filename="${photo.fileName}"\r\nContent-Type: ${photo.mimeType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { boundary, head, tail, length: head.length + photo.bytes.length + tail.length };
}

/** A booth's POST as DSLR Remote Pro sends it: the body follows the server's 100 Continue. */
function openUpload(url: string, boundary: string, length: number): ClientRequest {
  return httpRequest(url, {
    method: 'POST',
    agent: false,
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(length),
      expect: '100-continue',
    },
  });
}

/**
 * Posts like DSLR Remote Pro (`Expect: 100-continue`, fixed Content-Length, a fresh connection),
 * writing the photo from the shared buffer rather than a copied body. The clock runs from the
 * request to the last byte of the answer.
 */
export function post(url: string, photo: Photo): Promise<Outcome> {
  const { boundary, head, tail, length } = multipart(
    { ...dslrFields(), password: INGEST_PASSWORD },
    photo,
  );
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = openUpload(url, boundary, length);
    request.on('continue', () => {
      request.write(head);
      request.write(photo.bytes);
      request.end(tail);
    });
    request.on('response', (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          ms: performance.now() - started,
          bytes,
          resultUrl: response.headers['x-result-url'] as string | undefined,
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.flushHeaders();
  });
}

export async function mustPost(url: string, photo: Photo): Promise<Outcome> {
  const outcome = await post(url, photo);
  if (outcome.status !== 200) throw new Error(`${url}: ${outcome.status} for ${photo.label}`);
  return outcome;
}

/** One shot as the booth lived it; `status` 0 when no answer came. */
export interface Shot {
  status: number;
  ms: number;
  headers: IncomingHttpHeaders | undefined;
  /** SHA-256 of the answer's body, hex. */
  sha256: string | undefined;
  bytes: number;
  /** The JSON body of an error answer. */
  json: { failure_reason?: string; job_id?: string; message?: string } | undefined;
  /** The booth hung up on purpose: mid-upload, or while waiting for the answer. */
  dropped: 'upload' | 'wait' | undefined;
  /** What went wrong on the wire when no answer came and nothing was dropped on purpose. */
  error: string | undefined;
}

export interface ShotOptions {
  /** The form's text fields, the password among them (or not). */
  fields: Record<string, string>;
  /** Hang up once this share (0–1) of the photo went out. */
  dropUploadAt?: number;
  /** Hang up this long after the body went out, unless the answer came first. */
  dropWaitMs?: number;
  /** No answer by then: the shot counts as unanswered. */
  timeoutMs: number;
}

/**
 * A DSLR Remote Pro upload that can also misbehave like a booth on bad Wi-Fi. Never rejects:
 * everything the booth saw is in the returned Shot. The answer is hashed as it arrives, not kept.
 */
export function shoot(url: string, photo: Photo, options: ShotOptions): Promise<Shot> {
  const { boundary, head, tail, length } = multipart(options.fields, photo);
  const started = performance.now();
  const shot: Shot = {
    status: 0,
    ms: NaN,
    headers: undefined,
    sha256: undefined,
    bytes: 0,
    json: undefined,
    dropped: undefined,
    error: undefined,
  };
  return new Promise((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      shot.ms = performance.now() - started;
      resolve(shot);
    };
    const request = openUpload(url, boundary, length);
    const hangUp = (why: 'upload' | 'wait') => {
      if (settled || shot.headers) return;
      shot.dropped = why;
      request.destroy();
      finish();
    };
    timers.push(
      setTimeout(() => {
        shot.error = `no answer within ${options.timeoutMs / 1000} s`;
        request.destroy();
        finish();
      }, options.timeoutMs),
    );
    request.on('continue', () => {
      request.write(head);
      if (options.dropUploadAt !== undefined) {
        const cut = Math.floor(photo.bytes.length * options.dropUploadAt);
        // Whatever the socket accepted is on its way; the rest never comes.
        request.write(photo.bytes.subarray(0, cut), () => hangUp('upload'));
        return;
      }
      request.write(photo.bytes);
      request.end(tail, () => {
        const wait = options.dropWaitMs;
        if (wait !== undefined) timers.push(setTimeout(() => hangUp('wait'), wait));
      });
    });
    request.on('response', (response) => {
      shot.status = response.statusCode ?? 0;
      shot.headers = response.headers;
      const hash = createHash('sha256');
      const small: Buffer[] = [];
      const isJson = String(response.headers['content-type'] ?? '').includes('json');
      response.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        shot.bytes += chunk.length;
        if (isJson) small.push(chunk);
      });
      response.on('end', () => {
        shot.sha256 = hash.digest('hex');
        if (isJson) {
          try {
            shot.json = JSON.parse(Buffer.concat(small).toString('utf8')) as Shot['json'];
          } catch {
            shot.error = 'an error answer that is not JSON';
          }
        }
        finish();
        // An answer before the whole body went out (404, 413 before 100-continue) ends the shot.
        request.destroy();
      });
      response.on('error', (error) => {
        shot.error = `answer cut: ${error.message}`;
        shot.status = 0;
        finish();
      });
    });
    request.on('error', (error) => {
      if (!settled && !shot.dropped) {
        shot.error = error.message;
        finish();
      }
    });
    request.flushHeaders();
  });
}

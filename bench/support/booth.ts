/** The booth's side: uploads as DSLR Remote Pro sends them. */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
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
 * Posts like DSLR Remote Pro (`Expect: 100-continue`, fixed Content-Length, a fresh connection),
 * writing the photo from the shared buffer rather than a copied body. The clock runs from the
 * request to the last byte of the answer.
 */
export function post(url: string, photo: Photo): Promise<Outcome> {
  const boundary = `----------bench${randomUUID().replace(/-/g, '')}`;
  const fields = { ...dslrFields(), password: INGEST_PASSWORD };
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
  const length = head.length + photo.bytes.length + tail.length;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(length),
        expect: '100-continue',
      },
    });
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

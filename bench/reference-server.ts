/**
 * The bare reference for `bench/ingest.ts`: a plain Node HTTP server doing only the work an ingest
 * cannot avoid, run in its own process like the real server.
 *
 *   POST /ingest   multipart upload → busboy to a temp file with SHA-256 → EXIF orientation and
 *                  long edge ≤ 2048 with sharp, re-encoded as ImageProcessor does → the same
 *                  Gemini JSON call to the same provider → the provider's bytes as the answer
 *   GET  /static   the file named by REFERENCE_STATIC_FILE, streamed from disk
 *
 * Environment: PORT, PROVIDER_URL (the fake Gemini's base URL), REFERENCE_STATIC_FILE, TMP_DIR.
 */
import busboy from 'busboy';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';

const MAX_EDGE_PX = 2048;
const port = Number(process.env.PORT);
const providerUrl = `${process.env.PROVIDER_URL}/v1beta/models/gemini-bench:generateContent`;
const staticFile = process.env.REFERENCE_STATIC_FILE ?? '';
const tmpDir = process.env.TMP_DIR ?? '/tmp';

// The product's libvips settings (ImageProcessor's configureSharp), so both do the same work.
sharp.cache(false);
sharp.concurrency(
  Math.min(
    sharp.concurrency(),
    Math.max(1, Math.floor(availableParallelism() / (Number(process.env.UV_THREADPOOL_SIZE) || 4))),
  ),
);

class Sha256Tap extends Transform {
  readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

async function receive(request: IncomingMessage, file: string): Promise<string> {
  const tap = new Sha256Tap();
  const parser = busboy({ headers: request.headers });
  let writing: Promise<void> | undefined;
  await new Promise<void>((resolve, reject) => {
    parser.on('file', (name, stream) => {
      if (name !== 'fileToUpload') {
        stream.resume();
        return;
      }
      writing = pipeline(stream, tap, createWriteStream(file));
      writing.catch(reject);
    });
    parser.on('close', resolve);
    parser.on('error', reject);
    request.pipe(parser);
  });
  if (!writing) throw new Error('no fileToUpload part');
  await writing;
  return tap.hash.digest('hex');
}

async function normalize(file: string): Promise<{ bytes: Buffer; mimeType: string }> {
  const image = sharp(file, { failOn: 'error' });
  const { format } = await image.metadata();
  const pipeline = image.autoOrient().resize({
    width: MAX_EDGE_PX,
    height: MAX_EDGE_PX,
    fit: 'inside',
    withoutEnlargement: true,
  });
  if (format === 'jpeg') {
    return {
      bytes: await pipeline.jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toBuffer(),
      mimeType: 'image/jpeg',
    };
  }
  if (format === 'png') return { bytes: await pipeline.png().toBuffer(), mimeType: 'image/png' };
  return { bytes: await pipeline.webp({ quality: 90 }).toBuffer(), mimeType: 'image/webp' };
}

interface GeminiAnswer {
  candidates?: Array<{ content?: { parts?: Array<{ inlineData?: { data?: string } }> } }>;
}

async function callProvider(photo: { bytes: Buffer; mimeType: string }): Promise<Buffer> {
  const body = JSON.stringify({
    contents: [
      {
        role: 'user',
        parts: [
          { inlineData: { mimeType: photo.mimeType, data: photo.bytes.toString('base64') } },
          { text: 'Put them on a sunny beach' },
        ],
      },
    ],
    generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '3:2' } },
  });
  const response = await fetch(providerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench-key' },
    body,
  });
  const answer = JSON.parse(await response.text()) as GeminiAnswer;
  const data = answer.candidates?.[0]?.content?.parts?.find((part) => part.inlineData)?.inlineData
    ?.data;
  if (!response.ok || !data) throw new Error(`provider answered ${response.status}`);
  return Buffer.from(data, 'base64');
}

async function ingest(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const file = path.join(tmpDir, `reference-${randomUUID()}`);
  try {
    const sha256 = await receive(request, file);
    const photo = await normalize(file);
    const result = await callProvider(photo);
    response.writeHead(200, {
      'content-type': photo.mimeType,
      'content-length': result.length,
      'cache-control': 'no-store',
      'x-sha256': sha256,
    });
    response.end(result);
  } finally {
    await fs.rm(file, { force: true });
  }
}

async function serveStatic(response: ServerResponse): Promise<void> {
  const { size } = await fs.stat(staticFile);
  response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': size });
  createReadStream(staticFile).pipe(response);
}

const server = createServer((request, response) => {
  const route =
    request.method === 'POST' && request.url === '/ingest'
      ? ingest(request, response)
      : request.method === 'GET' && request.url === '/static'
        ? serveStatic(response)
        : Promise.reject(new Error(`no route ${request.method} ${request.url}`));
  route.catch((error: unknown) => {
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(String(error));
  });
});
server.listen(port, '127.0.0.1', () => process.send?.('ready'));

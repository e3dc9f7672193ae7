// Admin uploads the way the console sends them: one multipart `file` part, a few text fields.
import { request as httpRequest } from 'node:http';
import sharp from 'sharp';
import { multipart } from './booth';
import type { Rgb } from './images';
import type { ApiResponse, TestApp } from './test-app';

export interface TemplateDto {
  id: string;
  mime_type: string;
  size_bytes: number;
  width: number;
  height: number;
  preview_url: string;
}

/** `POST {route}` with `bytes` as the `file` part (none when undefined) and `fields`. */
export function postFile(
  app: TestApp,
  route: string,
  token: string | undefined,
  bytes: Buffer | undefined,
  fields: Record<string, string> = {},
): Promise<ApiResponse> {
  const { body, contentType } = multipart({
    fields,
    file: bytes
      ? { field: 'file', name: 'upload.bin', contentType: 'application/octet-stream', bytes }
      : undefined,
  });
  return app.request('POST', route, { token, body, headers: { 'content-type': contentType } });
}

/** `POST /api/template-media/register`; throws unless it answered 201. */
export async function uploadTemplate(
  app: TestApp,
  token: string,
  bytes: Buffer,
  fields: Record<string, string> = {},
): Promise<TemplateDto> {
  const response = await postFile(app, '/api/template-media/register', token, bytes, fields);
  if (response.status !== 201) {
    throw new Error(`template upload: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body as TemplateDto;
}

/** A one-colour image, to tell images apart by their pixels. */
export function solidImage(
  width: number,
  height: number,
  colour: Rgb,
  format: 'jpeg' | 'png' | 'webp' = 'png',
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .toFormat(format)
    .toBuffer();
}

export async function dimensions(
  image: Buffer,
): Promise<{ width: number; height: number; format: string }> {
  const meta = await sharp(image).metadata();
  return { width: meta.width, height: meta.height, format: meta.format };
}

/** A GET with the path sent byte for byte: fetch would resolve `../` and `%2e%2e` first. */
export function rawGet(
  baseUrl: string,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; contentType: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(baseUrl, { method: 'GET', path: rawPath, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks),
          contentType: String(response.headers['content-type'] ?? ''),
        }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

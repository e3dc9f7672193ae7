import { request as httpRequest } from 'node:http';

/** The parts of a DSLR Remote Pro upload: its text fields and one photo. */
export interface BoothUpload {
  fields?: Record<string, string>;
  file?: { name?: string; field?: string; contentType?: string; bytes: Buffer };
}

/** DSLR Remote Pro's usual text fields for one shot (SPEC §4, the brief's captured request). */
export function dslrFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    time: String(Math.floor(Date.now() / 1000)),
    user_id: 'Acer',
    id: `CY04N068111304S2L_${Math.random().toString().slice(2, 10)}.`,
    profile: 'C:\\Users\\Acer\\Documents\\PhotoboothImages\\setup_Serg.xml',
    status: 'C:\\Users\\Acer\\Documents\\PhotoboothImages\\screenSerg\\preview.jpg',
    name: 'DESKTOP-K968T3F',
    model: 'Windows',
    version: '3.30.2',
    ...overrides,
  };
}

/** A multipart body exactly as written by hand: boundary, CRLFs, one part per field. */
export function multipart(
  upload: BoothUpload,
  boundary = '------------090306000104030805010400',
): {
  body: Buffer;
  contentType: string;
} {
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(upload.fields ?? {})) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  if (upload.file) {
    const {
      field = 'fileToUpload',
      name = 'IMG_0003.JPG',
      contentType = 'image/jpeg',
      bytes,
    } = upload.file;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: ${contentType}\r\n\r\n`,
      ),
      bytes,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface BoothResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The JSON body of an error answer. */
  json: any;
  /** Whether the server answered before the body was sent (Expect: 100-continue refused). */
  refusedBeforeBody: boolean;
}

/**
 * Posts like DSLR Remote Pro: `Expect: 100-continue` and a fixed Content-Length, sending the
 * body only after the server says `100 Continue`.
 */
export function boothPost(
  url: string,
  upload: BoothUpload,
  options: {
    expectContinue?: boolean;
    headers?: Record<string, string>;
    contentLength?: number;
  } = {},
): Promise<BoothResponse> {
  const { body, contentType } = multipart(upload);
  const expectContinue = options.expectContinue ?? true;
  return new Promise((resolve, reject) => {
    let bodySent = false;
    const request = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'content-length': String(options.contentLength ?? body.length),
        ...(expectContinue ? { expect: '100-continue' } : {}),
        ...options.headers,
      },
    });
    request.on('continue', () => {
      bodySent = true;
      request.end(body);
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const buffer = Buffer.concat(chunks);
        const isJson = String(response.headers['content-type'] ?? '').includes('json');
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: buffer,
          json: isJson && buffer.length > 0 ? JSON.parse(buffer.toString('utf8')) : undefined,
          refusedBeforeBody: !bodySent,
        });
      });
    });
    request.on('error', reject);
    if (!expectContinue) {
      bodySent = true;
      request.end(body);
    } else {
      request.flushHeaders();
    }
  });
}

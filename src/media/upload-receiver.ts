import { Injectable } from '@nestjs/common';
import busboy from 'busboy';
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs, WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '../common/domain-error';
import { asStorageFull } from './result-store';

export interface ReceivedFile {
  /** A temp file under MEDIA_ROOT/tmp; the caller removes it. */
  path: string;
  sizeBytes: number;
  sha256: string;
  sha1: string;
  /** The first bytes, for type sniffing. */
  head: Buffer;
}

export interface ReceivedUpload {
  fields: Record<string, string>;
  file: ReceivedFile | undefined;
}

export interface ReceiveOptions {
  /** Accepted names of the file part, in order of preference (`fileToUpload`, then `file`). */
  fileFields: readonly string[];
  maxFileBytes: number;
  tempPath: string;
  /**
   * Text fields refused when sent twice: which copy counts would be ambiguous (a proxy or log
   * may read the other one). Other repeated fields keep their first value.
   */
  uniqueFields?: readonly string[];
  /** Refuses an upload still incomplete when this fires (a stalled or dripping body). */
  deadline?: { signal: AbortSignal; seconds: number };
}

// Generous for DSLR Remote Pro's dozen fields; small enough that a flood of fields is cheap.
export const MAX_FIELDS = 100;
export const MAX_FIELD_BYTES = 16 * 1024;
export const MAX_FIELD_NAME_BYTES = 200;
/**
 * What a whole body may add to its photo: boundaries, part headers and the text fields. The
 * body, declared or not, is refused past `maxFileBytes` + this.
 */
export const ENVELOPE_BYTES = 64 * 1024;
const HEAD_BYTES = 32;
// busboy's own fixed texts, safe to pass on: they say where the body broke.
const PARSER_MESSAGES = new Set(['Malformed part header', 'Unexpected end of form']);

/**
 * Streams a multipart upload: text fields into memory (bounded), the photo straight to a temp
 * file while hashing it, so a 15 MB photo never sits in the heap.
 */
@Injectable()
export class UploadReceiver {
  async receive(request: IncomingMessage, options: ReceiveOptions): Promise<ReceivedUpload> {
    if (!/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
      throw invalid('Send the photo as multipart/form-data');
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        defParamCharset: 'utf8',
        limits: {
          fileSize: options.maxFileBytes,
          files: 4,
          fields: MAX_FIELDS,
          fieldSize: MAX_FIELD_BYTES,
          parts: MAX_FIELDS + 4,
        },
      });
    } catch {
      throw invalid('The multipart body has no boundary');
    }

    const maxBodyBytes = options.maxFileBytes + ENVELOPE_BYTES;
    const tooLarge = (): DomainError =>
      new DomainError(
        'payload_too_large',
        `The photo is larger than ${Math.floor(options.maxFileBytes / 1024 / 1024)} MB`,
        { headers: { Connection: 'close' } },
      );
    // Null prototype: a field named `__proto__` or `constructor` is just a field.
    const fields = Object.create(null) as Record<string, string>;
    const uniqueFields = new Set(options.uniqueFields ?? []);
    const fileParts = new Set<string>();
    let file: ReceivedFile | undefined;
    let fileName: string | undefined;
    let writing: Promise<void> | undefined;
    let fileStream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
    const sinks: WriteStream[] = [];
    let fail: (error: DomainError) => void = () => undefined;
    let received = 0;
    const countBody = (chunk: Buffer): void => {
      received += chunk.length;
      // Whatever the body carries (a photo, another file, one endless field), it stops here.
      if (received > maxBodyBytes) fail(tooLarge());
    };
    const deadline = options.deadline;
    const onDeadline = (): void =>
      fail(invalid(`The upload was not complete within the ${deadline?.seconds} s deadline`));

    const done = new Promise<void>((resolve, reject) => {
      // Stop at the first problem: no point reading the rest of a 200 MB body.
      fail = reject;
      parser.on('field', (name: string | undefined, value: string | undefined, info) => {
        if (name === undefined) return fail(invalid('A form part has no name'));
        // busboy bounds names only in urlencoded bodies; a multipart part header may hold 16 KiB.
        if (info.nameTruncated || Buffer.byteLength(name) > MAX_FIELD_NAME_BYTES) {
          return fail(invalid(`A form field name is longer than ${MAX_FIELD_NAME_BYTES} bytes`));
        }
        const shown = name.slice(0, 64);
        if (options.fileFields.includes(name)) {
          return fail(invalid(`The "${name}" part has no filename: send the photo as a file`));
        }
        if (info.valueTruncated) {
          return fail(invalid(`The form field "${shown}" is longer than ${MAX_FIELD_BYTES} bytes`));
        }
        // busboy gives no text for a charset it cannot decode.
        if (value === undefined) {
          return fail(invalid(`The form field "${shown}" is in a charset that cannot be read`));
        }
        if (!(name in fields)) fields[name] = value;
        else if (uniqueFields.has(name)) {
          fail(invalid(`The "${shown}" field must be sent once`));
        }
      });
      parser.on('file', (name: string | undefined, stream) => {
        const preference = name === undefined ? -1 : options.fileFields.indexOf(name);
        if (preference >= 0 && fileParts.has(name!)) {
          stream.resume();
          return fail(invalid(`The "${name}" part must be sent once`));
        }
        if (preference >= 0) fileParts.add(name!);
        const better =
          preference >= 0 &&
          (fileName === undefined || preference < options.fileFields.indexOf(fileName));
        if (!better) {
          stream.resume(); // an extra or unknown file part: read past it
          return;
        }
        fileName = name;
        fileStream = stream;
        const tap = new HashingTap();
        stream.on('limit', () => fail(tooLarge()));
        const write = (): Promise<void> => {
          const sink = createWriteStream(options.tempPath);
          sinks.push(sink);
          return pipeline(stream, tap, sink);
        };
        if (writing) {
          // `fileToUpload` after a `file` part replaces it. Parts arrive one after the other, so
          // the earlier part is fully read; its write ends before this one reuses the temp path.
          // Until then this part's stream errors only with the parser, which reports them.
          stream.on('error', () => undefined);
        }
        writing = (writing ? writing.catch(() => undefined).then(write) : write()).then(() => {
          file = {
            path: options.tempPath,
            sizeBytes: tap.size,
            sha256: tap.sha256.digest('hex'),
            sha1: tap.sha1.digest('hex'),
            head: tap.head,
          };
        });
        writing.catch(() => undefined);
      });
      parser.on('fieldsLimit', () => fail(invalid(`More than ${MAX_FIELDS} form fields`)));
      parser.on('partsLimit', () => fail(invalid(`More than ${MAX_FIELDS} form parts`)));
      parser.on('filesLimit', () => fail(invalid('Too many files in one request')));
      parser.on('error', (error: Error) =>
        reject(
          invalid(
            PARSER_MESSAGES.has(error.message)
              ? `The multipart body is broken: ${error.message}`
              : 'The multipart body is broken',
          ),
        ),
      );
      parser.on('close', () => resolve());
      request.on('aborted', () => reject(invalid('The upload was interrupted')));
      request.on('error', () => reject(invalid('The upload was interrupted')));
    });

    request.on('data', countBody);
    if (deadline?.signal.aborted) onDeadline();
    deadline?.signal.addEventListener('abort', onDeadline, { once: true });
    request.pipe(parser);
    try {
      await done;
      await writing;
    } catch (error) {
      request.unpipe(parser);
      fileStream?.destroy();
      await writing?.catch(() => undefined);
      // A write stream destroyed while its file was still opening creates the file afterwards:
      // remove the temp file only once every one of them has closed.
      await Promise.all(sinks.map(closed));
      await fs.rm(options.tempPath, { force: true });
      // A full disk is the server's problem (503 storage_full), not a bad request.
      const mapped = asStorageFull(error);
      const refused =
        mapped instanceof DomainError ? mapped : invalid('The upload could not be read');
      // The rest of the body was not read: the connection cannot carry another request.
      if (request.complete) throw refused;
      throw new DomainError(refused.code, refused.message, {
        headers: { ...refused.options.headers, Connection: 'close' },
      });
    } finally {
      request.off('data', countBody);
      deadline?.signal.removeEventListener('abort', onDeadline);
    }
    return { fields, file };
  }
}

/** Passes bytes through while hashing them and keeping the first few. */
class HashingTap extends Transform {
  readonly sha256 = createHash('sha256');
  readonly sha1 = createHash('sha1');
  head = Buffer.alloc(0);
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sha256.update(chunk);
    this.sha1.update(chunk);
    if (this.head.length < HEAD_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
    }
    this.size += chunk.length;
    callback(null, chunk);
  }
}

/** Resolves when the stream has closed, whether or not it failed first. */
function closed(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function invalid(message: string): DomainError {
  return new DomainError('invalid_request', message);
}

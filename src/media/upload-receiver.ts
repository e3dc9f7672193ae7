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
}

// Generous for DSLR Remote Pro's dozen fields; small enough that a flood of fields is cheap.
const MAX_FIELDS = 100;
const MAX_FIELD_BYTES = 16 * 1024;
const HEAD_BYTES = 32;

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

    const fields: Record<string, string> = {};
    let file: ReceivedFile | undefined;
    let fileName: string | undefined;
    let writing: Promise<void> | undefined;
    let fileStream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
    const sinks: WriteStream[] = [];
    let fail: (error: DomainError) => void = () => undefined;

    const done = new Promise<void>((resolve, reject) => {
      // Stop at the first problem: no point reading the rest of a 200 MB body.
      fail = reject;
      parser.on('field', (name, value, info) => {
        if (info.nameTruncated || info.valueTruncated) {
          fail(
            invalid(
              `The form field "${name.slice(0, 64)}" is longer than ${MAX_FIELD_BYTES} bytes`,
            ),
          );
        } else if (!(name in fields)) {
          fields[name] = value;
        }
      });
      parser.on('file', (name, stream) => {
        const preference = options.fileFields.indexOf(name);
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
        stream.on('limit', () =>
          fail(
            new DomainError(
              'payload_too_large',
              `The photo is larger than ${Math.floor(options.maxFileBytes / 1024 / 1024)} MB`,
              { headers: { Connection: 'close' } },
            ),
          ),
        );
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
      parser.on('error', () => reject(invalid('The multipart body is broken')));
      parser.on('close', () => resolve());
      request.on('aborted', () => reject(invalid('The upload was interrupted')));
      request.on('error', () => reject(invalid('The upload was interrupted')));
    });

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

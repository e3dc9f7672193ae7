import type { ServerResponse } from 'node:http';
import { open, type FileHandle } from 'node:fs/promises';

/** A file opened for sending: its size is read from the descriptor, so the two always agree. */
export interface OpenFile {
  handle: FileHandle;
  sizeBytes: number;
}

/**
 * Bytes read and written at a time. Downloads read through a small pool of these instead of a
 * fresh buffer per read: every fresh buffer counts as external memory to V8, and after a busy
 * round of ingests that churn set off a full collection every few downloads (docs/performance.md).
 */
const CHUNK_BYTES = 256 * 1024;
/** Chunks of one download on their way to the socket while the next one is read. */
const CHUNKS_IN_FLIGHT = 2;
/** Idle chunks kept for reuse (16 MiB); more are allocated under load and dropped afterwards. */
const POOL_LIMIT = 64;

const pool: Buffer[] = [];

function takeChunk(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

function giveBack(chunk: Buffer): void {
  if (pool.length < POOL_LIMIT) pool.push(chunk);
}

/** Opens a file for `sendFile`; null when it is not there (removed, or never written). */
export async function openForSending(absolutePath: string): Promise<OpenFile | null> {
  let handle: FileHandle;
  try {
    handle = await open(absolutePath, 'r');
  } catch {
    return null;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      return null;
    }
    return { handle, sizeBytes: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Sends the body of an open file on a response whose status and headers are set, and closes the
 * file. A client leaving mid-download is not an error: the send stops and the file is closed.
 * A file that turns out shorter than its size destroys the response, so a cut body never looks
 * complete.
 */
export async function sendFile(response: ServerResponse, file: OpenFile): Promise<void> {
  const inFlight: Promise<boolean>[] = [];
  // Write callbacks come back once the socket is done with a chunk, also on failure; the close
  // of the response stands in for any that would not, so the file is always closed.
  let onClose = (): void => undefined;
  const closed = new Promise<boolean>((resolve) => {
    onClose = () => resolve(false);
    response.once('close', onClose);
  });
  try {
    if (response.req?.method === 'HEAD') {
      response.end();
      return;
    }
    let position = 0;
    while (position < file.sizeBytes && !response.destroyed) {
      // A chunk is reused only once the socket has taken it: the write's callback says so.
      if (inFlight.length >= CHUNKS_IN_FLIGHT && !(await inFlight.shift())) {
        response.destroy();
        return;
      }
      const chunk = takeChunk();
      let bytesRead: number;
      try {
        ({ bytesRead } = await file.handle.read(
          chunk,
          0,
          Math.min(CHUNK_BYTES, file.sizeBytes - position),
          position,
        ));
      } catch (error) {
        giveBack(chunk);
        throw error;
      }
      if (bytesRead === 0) {
        giveBack(chunk);
        response.destroy();
        return;
      }
      position += bytesRead;
      inFlight.push(Promise.race([write(response, chunk, bytesRead), closed]));
    }
    if (!response.destroyed) response.end();
  } catch {
    // The file could not be read (the disk failed under it): the body is cut, so say so.
    response.destroy();
  } finally {
    await Promise.all(inFlight);
    response.off('close', onClose);
    await file.handle.close().catch(() => undefined);
  }
}

/** Resolves true once the socket has the bytes, false when the response failed first. */
function write(response: ServerResponse, chunk: Buffer, length: number): Promise<boolean> {
  return new Promise((resolve) => {
    response.write(length === chunk.length ? chunk : chunk.subarray(0, length), (error) => {
      // A failed write may leave the chunk with the socket a little longer: let it go.
      if (error) return resolve(false);
      giveBack(chunk);
      resolve(true);
    });
  });
}

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Writes `bytes` so that `finalPath` holds either nothing (or its previous content) or the whole
 * new file, even across a crash: write a temp file beside it, fsync, rename over, fsync the folder.
 * The temp name is random, so two writers never share one, and starts with a dot, so listings of
 * the folder can tell leftovers apart.
 */
export async function writeFileAtomic(finalPath: string, bytes: Uint8Array): Promise<void> {
  const directory = path.dirname(finalPath);
  const temp = path.join(
    directory,
    `.${path.basename(finalPath)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const file = await open(temp, 'wx', 0o644);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, finalPath);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

/** Makes a rename durable. Best effort: some file systems refuse fsync on a folder. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The file itself is complete and in place; only the rename's durability is at stake.
  }
}

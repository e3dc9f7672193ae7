import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { TempFolder, tempFolder } from '../../test/support/images';
import type { AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { asStorageFull, MediaPathError, ResultStore } from './result-store';

describe('ResultStore', () => {
  let folder: TempFolder;
  let mediaRoot: string;
  let store: ResultStore;

  beforeEach(async () => {
    folder = await tempFolder('photochanger-media-');
    mediaRoot = path.join(folder.path, 'media');
    store = new ResultStore({ mediaRoot } as AppConfig);
  });

  afterEach(async () => {
    await folder.remove();
  });

  const payload = {
    bytes: Buffer.from('jpeg bytes, as far as the store cares'),
    mimeType: 'image/jpeg' as const,
  };
  const preview = Buffer.from('webp preview');

  describe('save', () => {
    it('writes payload and preview at the documented paths and returns them relative to MEDIA_ROOT', async () => {
      const jobId = randomUUID();
      const saved = await store.save('slot-007', jobId, payload, preview);

      expect(saved).toEqual({
        path: `results/slot-007/${jobId}/payload.jpg`,
        previewPath: `results/slot-007/${jobId}/preview.webp`,
        sizeBytes: payload.bytes.length,
        sha256: createHash('sha256').update(payload.bytes).digest('hex'),
      });
      const folderPath = path.join(mediaRoot, 'results', 'slot-007', jobId);
      await expect(readFile(path.join(folderPath, 'payload.jpg'))).resolves.toEqual(payload.bytes);
      await expect(readFile(path.join(folderPath, 'preview.webp'))).resolves.toEqual(preview);
      expect(store.resolve(saved.path)).toBe(path.join(folderPath, 'payload.jpg'));
      // The temp files of the atomic writes are gone.
      expect((await readdir(folderPath)).sort()).toEqual(['payload.jpg', 'preview.webp']);
    });

    it('names the payload after its format', async () => {
      const saved = await store.save(
        'slot-001',
        randomUUID(),
        { bytes: Buffer.from('png'), mimeType: 'image/png' },
        preview,
      );
      expect(saved.path).toMatch(/\/payload\.png$/);
    });

    it('replaces an earlier file whole', async () => {
      const jobId = randomUUID();
      await store.save('slot-001', jobId, payload, preview);
      const second = { bytes: Buffer.from('second'), mimeType: 'image/jpeg' as const };
      const saved = await store.save('slot-001', jobId, second, preview);
      await expect(readFile(store.resolve(saved.path), 'utf8')).resolves.toBe('second');
    });

    it('refuses ids that could build a path elsewhere', async () => {
      const jobId = randomUUID();
      for (const slotId of ['../slot-001', 'slot-1', 'slot-001/..', 'SLOT-001', 'slot-0001', '']) {
        await expect(store.save(slotId, jobId, payload, preview)).rejects.toThrow(MediaPathError);
      }
      for (const badJob of ['..', '../../etc', 'not-a-uuid', `${jobId}/x`, `${jobId}\0`]) {
        await expect(store.save('slot-001', badJob, payload, preview)).rejects.toThrow(
          MediaPathError,
        );
      }
      await expect(stat(path.join(mediaRoot, 'results'))).rejects.toThrow(/ENOENT/);
    });

    it('leaves nothing behind when one of the two files cannot be written', async () => {
      const jobId = randomUUID();
      const folderPath = path.join(mediaRoot, 'results', 'slot-001', jobId);
      // A folder where the payload must go: its rename fails while the preview's goes ahead.
      await mkdir(path.join(folderPath, 'payload.jpg', 'in-the-way'), { recursive: true });

      await expect(store.save('slot-001', jobId, payload, preview)).rejects.toThrow();
      // The preview's write was waited for, then removed with the folder: no half result.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expect(stat(folderPath)).rejects.toThrow(/ENOENT/);
    });

    it('turns a full disk into storage_full and leaves other errors alone', () => {
      const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      const mapped = asStorageFull(full);
      expect(mapped).toBeInstanceOf(DomainError);
      expect((mapped as DomainError).code).toBe('storage_full');
      expect(asStorageFull(denied)).toBe(denied);
    });
  });

  describe('resolve', () => {
    it('maps a stored relative path under MEDIA_ROOT', () => {
      expect(store.resolve('results/slot-001/x/payload.jpg')).toBe(
        path.join(mediaRoot, 'results/slot-001/x/payload.jpg'),
      );
    });

    it('refuses paths that escape MEDIA_ROOT or are not relative', () => {
      for (const bad of [
        '../secrets/key',
        'results/../../outside',
        '..',
        '.',
        '',
        '/etc/passwd',
        path.join(mediaRoot, 'results/x'),
        'results\\..\\..\\x',
        'results/\0x',
      ]) {
        expect(() => store.resolve(bad)).toThrow(MediaPathError);
      }
    });

    it('does not take a sibling folder with the same prefix for MEDIA_ROOT', () => {
      expect(() => store.resolve('../media-other/file')).toThrow(MediaPathError);
    });
  });

  describe('remove', () => {
    it('deletes the job folder and counts its files and bytes', async () => {
      const jobId = randomUUID();
      const other = randomUUID();
      await store.save('slot-002', jobId, payload, preview);
      await store.save('slot-002', other, payload, preview);

      await expect(store.remove('slot-002', jobId)).resolves.toEqual({
        files: 2,
        bytes: payload.bytes.length + preview.length,
      });
      await expect(stat(path.join(mediaRoot, 'results/slot-002', jobId))).rejects.toThrow(/ENOENT/);
      await expect(stat(path.join(mediaRoot, 'results/slot-002', other))).resolves.toBeTruthy();
      await expect(store.remove('slot-002', jobId)).resolves.toEqual({ files: 0, bytes: 0 });
    });

    it('refuses bad ids', async () => {
      await expect(store.remove('slot-002', '../..')).rejects.toThrow(MediaPathError);
      await expect(store.remove('..', randomUUID())).rejects.toThrow(MediaPathError);
    });
  });

  describe('temp files', () => {
    it('hands out fresh paths under MEDIA_ROOT/tmp, creating the folder', async () => {
      const first = await store.tempPath('upload');
      const second = await store.tempPath('upload');

      expect(path.dirname(first)).toBe(path.join(mediaRoot, 'tmp'));
      expect(path.basename(first)).toMatch(/^upload-/);
      expect(first).not.toBe(second);
      expect((await stat(path.dirname(first))).isDirectory()).toBe(true);
      await expect(stat(first)).rejects.toThrow(/ENOENT/);
    });

    it('removes a temp file, and does not mind when it is already gone', async () => {
      const file = await store.tempPath('upload');
      await writeFile(file, 'partial upload');
      await store.removeTemp(file);
      await expect(stat(file)).rejects.toThrow(/ENOENT/);
      await expect(store.removeTemp(file)).resolves.toBeUndefined();
    });

    it('refuses to remove anything outside the temp folder', async () => {
      const jobId = randomUUID();
      const saved = await store.save('slot-003', jobId, payload, preview);
      await expect(store.removeTemp(store.resolve(saved.path))).rejects.toThrow(MediaPathError);
      await expect(store.removeTemp(path.join(mediaRoot, 'tmp/../results'))).rejects.toThrow(
        MediaPathError,
      );
      await expect(stat(store.resolve(saved.path))).resolves.toBeTruthy();
    });

    it('refuses prefixes that are not plain names', async () => {
      await expect(store.tempPath('../up')).rejects.toThrow(MediaPathError);
      await expect(store.tempPath('')).rejects.toThrow(MediaPathError);
    });

    it('sweeps temp files older than a cutoff', async () => {
      const stale = await store.tempPath('upload');
      const fresh = await store.tempPath('upload');
      await writeFile(stale, 'left by a crash');
      await writeFile(fresh, 'in progress');
      const old = new Date(Date.now() - 3_600_000);
      await utimes(stale, old, old);

      await expect(store.removeStaleTemp(new Date(Date.now() - 60_000))).resolves.toEqual({
        files: 1,
        bytes: 'left by a crash'.length,
      });
      await expect(stat(stale)).rejects.toThrow(/ENOENT/);
      await expect(stat(fresh)).resolves.toBeTruthy();
    });
  });
});

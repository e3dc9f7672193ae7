import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { TempFolder, tempFolder } from '../../test/support/images';
import { writeFileAtomic } from './atomic-file';

describe('writeFileAtomic', () => {
  let folder: TempFolder;

  beforeEach(async () => {
    folder = await tempFolder('photochanger-atomic-');
  });

  afterEach(async () => {
    await folder.remove();
  });

  it('writes the whole file and leaves no temp file beside it', async () => {
    const target = path.join(folder.path, 'payload.jpg');
    await writeFileAtomic(target, Buffer.from('first'));
    await writeFileAtomic(target, Buffer.from('second, longer'));

    await expect(readFile(target, 'utf8')).resolves.toBe('second, longer');
    expect(await readdir(folder.path)).toEqual(['payload.jpg']);
  });

  it('cleans up its temp file when the final rename fails', async () => {
    // A folder in the way: the bytes are written, the rename over it is refused.
    const target = path.join(folder.path, 'preview.webp');
    await mkdir(target);

    await expect(writeFileAtomic(target, Buffer.from('preview'))).rejects.toThrow();
    expect((await stat(target)).isDirectory()).toBe(true);
    expect(await readdir(folder.path)).toEqual(['preview.webp']);
  });

  it('fails when the folder does not exist, writing nothing', async () => {
    const target = path.join(folder.path, 'missing', 'payload.png');
    await expect(writeFileAtomic(target, Buffer.from('x'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(folder.path)).toEqual([]);
  });
});

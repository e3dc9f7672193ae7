import { Test } from '@nestjs/testing';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { TempFolder, tempFolder } from '../../test/support/images';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { DiskSpace, FREE_SPACE_PROBE, statfsFreeBytes } from './disk-space';

const MB = 1024 * 1024;

describe('DiskSpace', () => {
  let folder: TempFolder;
  let config: AppConfig;

  beforeEach(async () => {
    folder = await tempFolder('photochanger-disk-');
    config = { mediaRoot: path.join(folder.path, 'media'), minFreeDiskMb: 500 } as AppConfig;
  });

  afterEach(async () => {
    await folder.remove();
  });

  it('measures the real file system, creating MEDIA_ROOT first', async () => {
    const disk = new DiskSpace(config);
    const free = await disk.freeMb();

    expect((await stat(config.mediaRoot)).isDirectory()).toBe(true);
    expect(free).toBeGreaterThan(0);
    expect(free).toBe(Math.floor((await statfsFreeBytes(config.mediaRoot)) / MB));
  });

  it('lets ingest through with enough room', async () => {
    const disk = new DiskSpace(config, () => Promise.resolve(500 * MB));
    await expect(disk.freeMb()).resolves.toBe(500);
    await expect(disk.assertRoomForIngest()).resolves.toBeUndefined();
  });

  it('answers storage_full below MIN_FREE_DISK_MB', async () => {
    const probed: string[] = [];
    const disk = new DiskSpace(config, (directory) => {
      probed.push(directory);
      return Promise.resolve(500 * MB - 1);
    });

    const error: unknown = await disk.assertRoomForIngest().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('storage_full');
    expect((error as DomainError).message).toMatch(/499 MB free.*500 MB/);
    expect(probed).toEqual([config.mediaRoot]);
  });

  it('takes its probe from FREE_SPACE_PROBE when a module provides one', async () => {
    const module = await Test.createTestingModule({
      providers: [
        DiskSpace,
        { provide: APP_CONFIG, useValue: config },
        { provide: FREE_SPACE_PROBE, useValue: () => Promise.resolve(10 * MB) },
      ],
    }).compile();

    await expect(module.get(DiskSpace).freeMb()).resolves.toBe(10);
    await expect(module.get(DiskSpace).assertRoomForIngest()).rejects.toMatchObject({
      code: 'storage_full',
    });
  });
});

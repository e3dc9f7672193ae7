// Test images made with sharp on the fly, so no binary fixtures live in the repository.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** The top-left quadrant of the generated photos, so a test can tell which way is up. */
export const MARKER: Rgb = { r: 255, g: 0, b: 0 };
/** Everything else. */
export const BACKGROUND: Rgb = { r: 0, g: 0, b: 255 };

export interface JpegOptions {
  /** EXIF Orientation tag, 1–8. */
  orientation?: number;
  /** Writes camera make/model and a GPS position into the EXIF, as a phone or DSLR would. */
  cameraExif?: boolean;
  quality?: number;
}

/** A blue JPEG whose stored top-left quadrant is red. */
export async function jpeg(
  width: number,
  height: number,
  options: JpegOptions = {},
): Promise<Buffer> {
  let image = marked(width, height).jpeg({ quality: options.quality ?? 90 });
  if (options.cameraExif) {
    image = image.withExif({
      IFD0: { Make: 'Canon', Model: 'EOS 5D Mark IV' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '55/1 45/1 21/1' },
    });
  }
  if (options.orientation !== undefined) {
    image = image.withMetadata({ orientation: options.orientation });
  }
  return image.toBuffer();
}

/** `jpeg()` with an EXIF Orientation tag: the stored pixels are not the way up a viewer shows. */
export function jpegWithOrientation(
  width: number,
  height: number,
  orientation: number,
): Promise<Buffer> {
  return jpeg(width, height, { orientation });
}

/** A PNG with the red top-left marker; with `alpha`, the rest is half transparent. */
export function png(
  width: number,
  height: number,
  options: { alpha?: boolean } = {},
): Promise<Buffer> {
  const background = options.alpha ? { ...BACKGROUND, alpha: 0.5 } : BACKGROUND;
  return marked(width, height, background).png().toBuffer();
}

/** A WEBP with the red top-left marker; with `alpha`, the rest is half transparent. */
export function webp(
  width: number,
  height: number,
  options: { alpha?: boolean } = {},
): Promise<Buffer> {
  const background = options.alpha ? { ...BACKGROUND, alpha: 0.5 } : BACKGROUND;
  return marked(width, height, background).webp({ quality: 90 }).toBuffer();
}

/** A GIF: a real image in a format the server refuses. */
export function gif(width: number, height: number): Promise<Buffer> {
  return marked(width, height).gif().toBuffer();
}

/**
 * A valid PNG signature and IHDR (correct CRC) declaring `width`×`height` with a few bytes of body:
 * a decompression bomb's header, which a decoder must refuse before allocating the pixels.
 */
export function pngHeaderDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  // compression, filter and interlace methods stay 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG cut off halfway: its header is intact, its pixel data is not. */
export async function truncatedJpeg(width = 320, height = 240): Promise<Buffer> {
  // Noise, so the entropy-coded data is long and the cut lands well inside it.
  const full = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: BACKGROUND,
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  return full.subarray(0, Math.floor(full.length / 2));
}

/** Plain text bytes, e.g. a file renamed to `.jpg`. */
export function textBytes(text = 'This is a text file, not a photo.\n'): Buffer {
  return Buffer.from(text, 'utf8');
}

/** The colour at a pixel of an encoded image, as stored (EXIF orientation not applied). */
export async function pixelAt(
  image: Buffer,
  x: number,
  y: number,
): Promise<Rgb & { alpha: number }> {
  const { data, info } = await sharp(image)
    .extract({ left: x, top: y, width: 1, height: 1 })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`Expected 4 channels, got ${info.channels}`);
  return { r: data[0], g: data[1], b: data[2], alpha: data[3] };
}

/** True when two colours differ by at most `tolerance` per channel (JPEG is lossy). */
export function closeTo(actual: Rgb, expected: Rgb, tolerance = 40): boolean {
  return (
    Math.abs(actual.r - expected.r) <= tolerance &&
    Math.abs(actual.g - expected.g) <= tolerance &&
    Math.abs(actual.b - expected.b) <= tolerance
  );
}

/** A fresh temp folder with `write(name, bytes)` and `remove()`, for tests that need real files. */
export async function tempFolder(prefix = 'photochanger-test-'): Promise<TempFolder> {
  return new TempFolder(await mkdtemp(path.join(tmpdir(), prefix)));
}

export class TempFolder {
  constructor(readonly path: string) {}

  async write(name: string, bytes: Buffer): Promise<string> {
    const file = path.join(this.path, name);
    await writeFile(file, bytes);
    return file;
  }

  remove(): Promise<void> {
    return rm(this.path, { recursive: true, force: true });
  }
}

function marked(
  width: number,
  height: number,
  background: Rgb & { alpha?: number } = BACKGROUND,
): sharp.Sharp {
  const quadrant = {
    create: {
      width: Math.max(1, Math.floor(width / 2)),
      height: Math.max(1, Math.floor(height / 2)),
      channels: 3 as const,
      background: MARKER,
    },
  };
  const channels = background.alpha === undefined ? 3 : 4;
  return sharp({ create: { width, height, channels, background } }).composite([
    { input: quadrant, top: 0, left: 0 },
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** Camera-like photos generated for the benchmarks: sizes and noise as a real booth's. */
import sharp from 'sharp';

export interface Photo {
  label: string;
  bytes: Buffer;
  mimeType: string;
  fileName: string;
  width: number;
  height: number;
}

/**
 * A camera-like photo: smooth colour fields under per-pixel sensor noise, which is what makes a
 * real 24 MP JPEG weigh 8–15 MB (a flat synthetic image would compress to almost nothing).
 */
async function noisyPixels(
  width: number,
  height: number,
  channels: 3 | 4,
  sigma: number,
): Promise<Buffer> {
  const base = await sharp({
    create: {
      width: 24,
      height: 16,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .resize(width, height, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  const noise = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma },
    },
  })
    .raw()
    .toBuffer();
  const out = Buffer.alloc(width * height * channels);
  for (let pixel = 0, i = 0, o = 0; pixel < width * height; pixel++) {
    for (let c = 0; c < 3; c++, i++, o++) {
      const value = (base[i] ?? 0) + (noise[i] ?? 128) - 128;
      out[o] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
    if (channels === 4) {
      // A cut-out: an opaque ellipse with a soft edge on a transparent background.
      const x = ((pixel % width) / width - 0.5) * 2;
      const y = (Math.floor(pixel / width) / height - 0.5) * 2;
      const r = Math.sqrt(x * x + y * y);
      out[o++] = r < 0.8 ? 255 : r > 0.9 ? 0 : Math.round((0.9 - r) * 2550);
    }
  }
  return out;
}

export async function jpegPhoto(
  label: string,
  width: number,
  height: number,
  sigma: number,
  quality: number,
  orientation = 1,
): Promise<Photo> {
  const pixels = await noisyPixels(width, height, 3, sigma);
  const bytes = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .withMetadata({ orientation })
    .toBuffer();
  return { label, bytes, mimeType: 'image/jpeg', fileName: 'IMG_0001.JPG', width, height };
}

export async function pngPhoto(label: string, width: number, height: number): Promise<Photo> {
  const pixels = await noisyPixels(width, height, 4, 6);
  const bytes = await sharp(pixels, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return { label, bytes, mimeType: 'image/png', fileName: 'IMG_0001.PNG', width, height };
}

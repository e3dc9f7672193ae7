import type { ImageMime } from '../providers/provider-driver';

/** The image formats PhotoChanger accepts and produces, as sharp names them. */
export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** How many leading bytes `sniffImageType` and `describeUnsupportedImage` need. */
export const SNIFF_BYTES = 12;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The image type by magic bytes alone: the client's Content-Type and file name are never trusted
 * (SPEC §4). Undefined for anything that is not JPEG, PNG or WEBP.
 */
export function sniffImageType(head: Buffer): ImageMime | undefined {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return 'image/jpeg';
  }
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (
    head.length >= 12 &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'image/webp';
  }
  return undefined;
}

/**
 * Names a common image format we refuse, so a 415 can say "GIF is not accepted" rather than
 * "not an image". Magic bytes only: refused content is never handed to a decoder.
 */
export function describeUnsupportedImage(head: Buffer): string | undefined {
  const ascii = head.toString('latin1', 0, Math.min(head.length, SNIFF_BYTES));
  if (ascii.startsWith('GIF87a') || ascii.startsWith('GIF89a')) return 'GIF';
  if (ascii.startsWith('II*\0') || ascii.startsWith('MM\0*')) return 'TIFF';
  if (ascii.startsWith('BM')) return 'BMP';
  if (ascii.startsWith('%PDF')) return 'PDF';
  if (ascii.slice(4, 8) === 'ftyp') return 'HEIC/AVIF';
  return undefined;
}

export function extensionFor(mime: ImageMime): 'jpg' | 'png' | 'webp' {
  switch (mime) {
    case 'image/jpeg':
      return 'jpg';
    case 'image/png':
      return 'png';
    case 'image/webp':
      return 'webp';
  }
}

export function mimeForFormat(format: ImageFormat): ImageMime {
  switch (format) {
    case 'jpeg':
      return 'image/jpeg';
    case 'png':
      return 'image/png';
    case 'webp':
      return 'image/webp';
  }
}

export function formatForMime(mime: ImageMime): ImageFormat {
  switch (mime) {
    case 'image/jpeg':
      return 'jpeg';
    case 'image/png':
      return 'png';
    case 'image/webp':
      return 'webp';
  }
}

/** Narrows a declared MIME type (a provider's, a header's) to one we handle; case-insensitive. */
export function toImageMime(value: string): ImageMime | undefined {
  const mime = value.split(';')[0]?.trim().toLowerCase();
  if (mime === 'image/jpg') return 'image/jpeg';
  return mime === 'image/jpeg' || mime === 'image/png' || mime === 'image/webp' ? mime : undefined;
}

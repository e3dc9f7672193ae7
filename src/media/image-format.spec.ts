import { gif, jpeg, png, textBytes, webp } from '../../test/support/images';
import {
  describeUnsupportedImage,
  extensionFor,
  formatForMime,
  mimeForFormat,
  sniffImageType,
  toImageMime,
} from './image-format';

describe('sniffImageType', () => {
  it('recognises real JPEG, PNG and WEBP files by their first bytes', async () => {
    expect(sniffImageType(await jpeg(8, 8))).toBe('image/jpeg');
    expect(sniffImageType(await png(8, 8))).toBe('image/png');
    expect(sniffImageType(await webp(8, 8))).toBe('image/webp');
  });

  it('needs only the head of the file', async () => {
    expect(sniffImageType((await webp(8, 8)).subarray(0, 12))).toBe('image/webp');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff]))).toBe('image/jpeg');
  });

  it('refuses anything else, whatever it claims to be', async () => {
    expect(sniffImageType(textBytes())).toBeUndefined();
    expect(sniffImageType(await gif(8, 8))).toBeUndefined();
    expect(sniffImageType(Buffer.alloc(0))).toBeUndefined();
    // Almost a JPEG, almost a PNG, a RIFF that is not WEBP.
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0x00]))).toBeUndefined();
    expect(sniffImageType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a]))).toBeUndefined();
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1'))).toBeUndefined();
  });
});

describe('describeUnsupportedImage', () => {
  it('names common formats we refuse', async () => {
    expect(describeUnsupportedImage(await gif(8, 8))).toBe('GIF');
    expect(describeUnsupportedImage(Buffer.from('II*\0', 'latin1'))).toBe('TIFF');
    expect(describeUnsupportedImage(Buffer.from('\0\0\0\x18ftypheic', 'latin1'))).toBe('HEIC/AVIF');
  });

  it('names nothing for text or accepted formats', async () => {
    expect(describeUnsupportedImage(textBytes())).toBeUndefined();
    expect(describeUnsupportedImage(await jpeg(8, 8))).toBeUndefined();
  });
});

describe('format names', () => {
  it('maps MIME types, sharp formats and file extensions both ways', () => {
    expect(extensionFor('image/jpeg')).toBe('jpg');
    expect(extensionFor('image/png')).toBe('png');
    expect(extensionFor('image/webp')).toBe('webp');
    expect(mimeForFormat('jpeg')).toBe('image/jpeg');
    expect(mimeForFormat('png')).toBe('image/png');
    expect(mimeForFormat('webp')).toBe('image/webp');
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      expect(formatForMime(mimeForFormat(format))).toBe(format);
    }
  });

  it('narrows declared MIME types', () => {
    expect(toImageMime('IMAGE/PNG')).toBe('image/png');
    expect(toImageMime('image/jpg')).toBe('image/jpeg');
    expect(toImageMime('image/webp; charset=binary')).toBe('image/webp');
    expect(toImageMime('image/gif')).toBeUndefined();
    expect(toImageMime('')).toBeUndefined();
  });
});

import sharp from 'sharp';
import {
  BACKGROUND,
  closeTo,
  gif,
  jpeg,
  jpegWithOrientation,
  MARKER,
  pixelAt,
  png,
  pngHeaderDeclaring,
  TempFolder,
  tempFolder,
  textBytes,
  truncatedJpeg,
  webp,
} from '../../test/support/images';
import { DomainError } from '../common/domain-error';
import { sniffImageType } from './image-format';
import { ImageProcessor, ResultNotImageError } from './image-processor';

const MAX_PIXELS = 50_000_000;
const LIMITS = { maxPixels: MAX_PIXELS };

describe('ImageProcessor', () => {
  const images = new ImageProcessor();
  let folder: TempFolder;

  beforeAll(async () => {
    folder = await tempFolder();
  });

  afterAll(async () => {
    await folder.remove();
  });

  async function expectUnsupported(promise: Promise<unknown>, message: RegExp): Promise<void> {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('unsupported_media_type');
    expect((error as DomainError).message).toMatch(message);
  }

  describe('inspect', () => {
    it('reports the type and size of JPEG, PNG and WEBP uploads from their content', async () => {
      // Misleading names: only the bytes count.
      const jpg = await folder.write('a.png', await jpeg(120, 80));
      const pngFile = await folder.write('b.jpg', await png(64, 48));
      const webpFile = await folder.write('c', await webp(30, 20));

      await expect(images.inspect(jpg, LIMITS)).resolves.toEqual({
        mimeType: 'image/jpeg',
        width: 120,
        height: 80,
        orientation: 1,
      });
      await expect(images.inspect(pngFile, LIMITS)).resolves.toMatchObject({
        mimeType: 'image/png',
        width: 64,
        height: 48,
      });
      await expect(images.inspect(webpFile, LIMITS)).resolves.toMatchObject({
        mimeType: 'image/webp',
        width: 30,
        height: 20,
      });
    });

    it('gives dimensions as displayed: orientations 5–8 swap width and height', async () => {
      const turned = await folder.write('o6.jpg', await jpegWithOrientation(120, 80, 6));
      const flipped = await folder.write('o3.jpg', await jpegWithOrientation(120, 80, 3));

      await expect(images.inspect(turned, LIMITS)).resolves.toEqual({
        mimeType: 'image/jpeg',
        width: 80,
        height: 120,
        orientation: 6,
      });
      await expect(images.inspect(flipped, LIMITS)).resolves.toMatchObject({
        width: 120,
        height: 80,
        orientation: 3,
      });
    });

    it('refuses a decompression bomb from its header, without decoding it', async () => {
      const bomb = await folder.write('bomb.png', pngHeaderDeclaring(60_000, 60_000));
      const started = Date.now();
      await expectUnsupported(images.inspect(bomb, LIMITS), /limit of 50 megapixels/);
      // 60000×60000 RGB would be 10.8 GB: refusing it quickly means nothing was allocated.
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('refuses an ordinary image over the configured pixel limit', async () => {
      const file = await folder.write('big.png', await png(200, 200));
      await expectUnsupported(images.inspect(file, { maxPixels: 30_000 }), /0\.03 megapixels/);
      await expect(images.inspect(file, { maxPixels: 40_000 })).resolves.toMatchObject({
        width: 200,
      });
    });

    it('refuses text, empty files and other image formats', async () => {
      const text = await folder.write('text.jpg', textBytes());
      const empty = await folder.write('empty.jpg', Buffer.alloc(0));
      const animation = await folder.write('anim.jpg', await gif(16, 16));

      await expectUnsupported(images.inspect(text, LIMITS), /not an image/);
      await expectUnsupported(images.inspect(empty, LIMITS), /empty/);
      await expectUnsupported(images.inspect(animation, LIMITS), /GIF images are not accepted/);
    });

    it('refuses a truncated JPEG although its header reads fine', async () => {
      const bytes = await truncatedJpeg();
      expect((await sharp(bytes).metadata()).width).toBe(320); // the header alone would pass
      const file = await folder.write('cut.jpg', bytes);
      await expectUnsupported(images.inspect(file, LIMITS), /damaged or incomplete/);
    });

    it('refuses a PNG whose body is garbage', async () => {
      const whole = await png(64, 64);
      const broken = Buffer.concat([whole.subarray(0, 60), Buffer.alloc(200, 0x5a)]);
      const file = await folder.write('broken.png', broken);
      await expectUnsupported(images.inspect(file, LIMITS), /damaged or incomplete/);
    });
  });

  describe('normalizeForProvider', () => {
    it('applies EXIF orientation 6: the picture is turned upright and nothing says rotate', async () => {
      // Stored 200×100 with the red quadrant top-left; a quarter turn clockwise puts it top-right.
      const file = await folder.write('turn.jpg', await jpegWithOrientation(200, 100, 6));
      const out = await images.normalizeForProvider(file, {
        maxEdgePx: 2048,
        maxPixels: MAX_PIXELS,
      });

      expect(out).toMatchObject({ mimeType: 'image/jpeg', width: 100, height: 200 });
      const metadata = await sharp(out.bytes).metadata();
      expect([metadata.width, metadata.height]).toEqual([100, 200]);
      expect(metadata.orientation).toBeUndefined();
      expect(closeTo(await pixelAt(out.bytes, 75, 50), MARKER)).toBe(true);
      expect(closeTo(await pixelAt(out.bytes, 25, 50), BACKGROUND)).toBe(true);
      expect(closeTo(await pixelAt(out.bytes, 75, 150), BACKGROUND)).toBe(true);
    });

    it('downscales a 6000×4000 camera JPEG to 2048×1365 and strips EXIF and GPS', async () => {
      const original = await jpeg(6000, 4000, { cameraExif: true });
      const before = await sharp(original).metadata();
      expect(before.exif?.toString('latin1')).toContain('Canon'); // the fixture does carry them
      const file = await folder.write('camera.jpg', original);

      const out = await images.normalizeForProvider(file, {
        maxEdgePx: 2048,
        maxPixels: MAX_PIXELS,
      });

      expect(out).toMatchObject({ mimeType: 'image/jpeg', width: 2048, height: 1365 });
      expect(sniffImageType(out.bytes)).toBe('image/jpeg');
      const metadata = await sharp(out.bytes).metadata();
      expect([metadata.width, metadata.height]).toEqual([2048, 1365]);
      expect(metadata.exif).toBeUndefined();
      expect(metadata.xmp).toBeUndefined();
      expect(metadata.chromaSubsampling).toBe('4:2:0');
      expect(out.bytes.includes('Canon')).toBe(false);
    });

    it('keeps a PNG a PNG, transparency included', async () => {
      const file = await folder.write('alpha.png', await png(100, 80, { alpha: true }));
      const out = await images.normalizeForProvider(file, { maxEdgePx: 50, maxPixels: MAX_PIXELS });

      expect(out).toMatchObject({ mimeType: 'image/png', width: 50, height: 40 });
      expect(sniffImageType(out.bytes)).toBe('image/png');
      expect((await sharp(out.bytes).metadata()).hasAlpha).toBe(true);
      const transparentCorner = await pixelAt(out.bytes, 45, 35);
      expect(transparentCorner.alpha).toBeGreaterThan(100);
      expect(transparentCorner.alpha).toBeLessThan(155);
    });

    it('keeps a WEBP a WEBP', async () => {
      const file = await folder.write('photo.webp', await webp(300, 200));
      const out = await images.normalizeForProvider(file, {
        maxEdgePx: 150,
        maxPixels: MAX_PIXELS,
      });
      expect(out).toMatchObject({ mimeType: 'image/webp', width: 150, height: 100 });
      expect(sniffImageType(out.bytes)).toBe('image/webp');
    });

    it('never enlarges a small photo', async () => {
      const file = await folder.write('small.jpg', await jpeg(300, 200));
      const out = await images.normalizeForProvider(file, {
        maxEdgePx: 2048,
        maxPixels: MAX_PIXELS,
      });
      expect(out).toMatchObject({ mimeType: 'image/jpeg', width: 300, height: 200 });
    });

    it('fails with 415 on a truncated body, a bomb or text', async () => {
      const options = { maxEdgePx: 2048, maxPixels: MAX_PIXELS };
      const cut = await folder.write('n-cut.jpg', await truncatedJpeg());
      const bomb = await folder.write('n-bomb.png', pngHeaderDeclaring(60_000, 60_000));
      const text = await folder.write('n-text.webp', textBytes());

      await expectUnsupported(images.normalizeForProvider(cut, options), /damaged or incomplete/);
      await expectUnsupported(images.normalizeForProvider(bomb, options), /50 megapixels/);
      await expectUnsupported(images.normalizeForProvider(text, options), /not an image/);
    });
  });

  describe('renderResult', () => {
    it('converts a PNG answer to the booth’s JPEG', async () => {
      const out = await images.renderResult(await png(300, 200), {
        format: 'image/jpeg',
        maxPixels: MAX_PIXELS,
      });
      expect(out).toMatchObject({ mimeType: 'image/jpeg', width: 300, height: 200 });
      expect(sniffImageType(out.bytes)).toBe('image/jpeg');
    });

    it('prints transparent areas on white when converting to JPEG', async () => {
      const out = await images.renderResult(await png(100, 80, { alpha: true }), {
        format: 'image/jpeg',
        maxPixels: MAX_PIXELS,
      });
      // Half-transparent blue over white, not over black.
      expect(closeTo(await pixelAt(out.bytes, 75, 60), { r: 128, g: 128, b: 255 })).toBe(true);
    });

    it('passes an answer already in the right format through byte for byte', async () => {
      for (const [input, format] of [
        [await jpeg(300, 200, { quality: 60 }), 'image/jpeg'],
        [await png(64, 48, { alpha: true }), 'image/png'],
        [await webp(64, 48), 'image/webp'],
      ] as const) {
        const out = await images.renderResult(input, { format, maxPixels: MAX_PIXELS });
        expect(out.mimeType).toBe(format);
        expect(out.bytes.equals(input)).toBe(true);
      }
      const sized = await jpeg(300, 200);
      const same = await images.renderResult(sized, {
        format: 'image/jpeg',
        longEdgePx: 300,
        maxPixels: MAX_PIXELS,
      });
      expect(same).toMatchObject({ width: 300, height: 200 });
      expect(same.bytes.equals(sized)).toBe(true);
    });

    it('resizes to the slot’s long edge, enlarging when asked for a bigger print', async () => {
      const input = await jpeg(300, 200);
      const larger = await images.renderResult(input, {
        format: 'image/jpeg',
        longEdgePx: 600,
        maxPixels: MAX_PIXELS,
      });
      const smaller = await images.renderResult(await png(200, 300), {
        format: 'image/png',
        longEdgePx: 150,
        maxPixels: MAX_PIXELS,
      });
      expect(larger).toMatchObject({ mimeType: 'image/jpeg', width: 600, height: 400 });
      expect((await sharp(larger.bytes).metadata()).width).toBe(600);
      expect(smaller).toMatchObject({ mimeType: 'image/png', width: 100, height: 150 });
    });

    it('turns an answer with an EXIF orientation upright', async () => {
      const out = await images.renderResult(await jpegWithOrientation(200, 100, 6), {
        format: 'image/jpeg',
        maxPixels: MAX_PIXELS,
      });
      expect(out).toMatchObject({ width: 100, height: 200 });
      expect((await sharp(out.bytes).metadata()).orientation).toBeUndefined();
    });

    it('rejects bytes that are not a decodable JPEG, PNG or WEBP with ResultNotImageError', async () => {
      const options = { format: 'image/jpeg' as const, maxPixels: MAX_PIXELS };
      await expect(images.renderResult(textBytes('{"error":"oops"}'), options)).rejects.toThrow(
        ResultNotImageError,
      );
      await expect(images.renderResult(await gif(16, 16), options)).rejects.toThrow(/GIF/);
      await expect(images.renderResult(await truncatedJpeg(), options)).rejects.toThrow(
        ResultNotImageError,
      );
      await expect(
        images.renderResult(pngHeaderDeclaring(60_000, 60_000), options),
      ).rejects.toThrow(ResultNotImageError);
    });
  });

  describe('preview', () => {
    it('is a WEBP whose long edge is at most 512 px', async () => {
      const wide = await images.preview(await jpeg(2000, 1000));
      const small = await images.preview(await png(300, 200));

      expect(sniffImageType(wide)).toBe('image/webp');
      const metadata = await sharp(wide).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', 512, 256]);
      const smallMetadata = await sharp(small).metadata();
      expect([smallMetadata.format, smallMetadata.width, smallMetadata.height]).toEqual([
        'webp',
        300,
        200,
      ]);
    });
  });
});

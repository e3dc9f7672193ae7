import { Injectable } from '@nestjs/common';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { DomainError } from '../common/domain-error';
import type { ImageMime, ProviderImage } from '../providers/provider-driver';
import {
  describeUnsupportedImage,
  formatForMime,
  type ImageFormat,
  mimeForFormat,
  SNIFF_BYTES,
  sniffImageType,
} from './image-format';

/** What `inspect` learns about an upload. Dimensions are as displayed, EXIF orientation applied. */
export interface ImageInfo {
  mimeType: ImageMime;
  width: number;
  height: number;
  /** The EXIF Orientation tag, 1–8; 1 when absent. */
  orientation: number;
}

export interface InspectOptions {
  maxPixels: number;
  /**
   * false: the header only (type, pixel count), for a caller that decodes every pixel next anyway
   * — the ingest pipeline's normalisation refuses a truncated or corrupt file just the same.
   */
  decode?: boolean;
  /** The file's first bytes when already known (the upload receiver keeps them): no re-read. */
  head?: Buffer;
}

export interface NormalizeOptions {
  /** The long edge of the photo sent to a provider (`provider_max_edge_px`). */
  maxEdgePx: number;
  maxPixels: number;
  /** As in InspectOptions. */
  head?: Buffer;
}

export interface RenderOptions {
  /** The format the booth receives. */
  format: ImageMime;
  /** A slot's `output_long_edge_px`: the answer's long edge, enlarging when needed. */
  longEdgePx?: number;
  maxPixels: number;
}

/** The answer as the booth receives it. */
export interface RenderedImage extends ProviderImage {
  /** The gallery preview, when rendering already decoded the pixels for it. */
  preview?: Buffer;
}

/** The provider's bytes are not a usable image; the pipeline records `bad_response`. */
export class ResultNotImageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResultNotImageError';
  }
}

export const PREVIEW_EDGE_PX = 512;
const PREVIEW_QUALITY = 80;
const JPEG_QUALITY = 90;
const WEBP_QUALITY = 90;
// Enough for JPEG's 1/8 shrink-on-load to do nearly all the work when we only check decodability.
const PROBE_EDGE_PX = 64;
// A serious decoder error or a truncated file is refused; mere warnings are not, because camera
// JPEGs often carry harmless ones ("extraneous bytes before marker").
const FAIL_ON = 'error';

let sharpConfigured = false;

/**
 * Image operations at once, process-wide. Each one holds a libuv pool thread for its whole run, and
 * the pool also carries every file operation (the uploads being written, results, fsyncs): with
 * all threads on images, a burst of ingests would wait on its own disk writes behind every queued
 * decode, the jobs progressing in lockstep and finishing together, late. One thread stays free for
 * the disk, no more images decode at once than there are cores, and the rest wait here in order —
 * an answer's work (result, preview) before a new photo's, since it finishes a job and frees memory.
 */
class ImageQueue {
  private running = 0;
  private readonly waiting: Array<{ urgent: boolean; start: () => void }> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>, urgent = false): Promise<T> {
    if (this.running < this.limit) this.running++;
    else {
      await new Promise<void>((start) => {
        const entry = { urgent, start };
        const at = urgent ? this.waiting.findIndex((other) => !other.urgent) : -1;
        if (at < 0) this.waiting.push(entry);
        else this.waiting.splice(at, 0, entry);
      });
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }
}

function poolSize(): number {
  return Number(process.env.UV_THREADPOOL_SIZE) || 4;
}

const imageQueue = new ImageQueue(Math.max(1, Math.min(poolSize() - 1, availableParallelism())));

/**
 * Process-wide libvips settings, applied once.
 *
 * - The operation cache is off: every photo is different, so the cache would only hold decoded
 *   pixels and open files of images we never touch again, growing memory under load.
 * - Threads per image are capped so that the libuv pool (UV_THREADPOOL_SIZE images at once,
 *   4 by default) times the threads per image stays near the core count; concurrent ingests already
 *   keep the cores busy. sharp's own default is kept when lower (it is 1 on glibc without jemalloc,
 *   to limit memory fragmentation).
 */
export function configureSharp(): void {
  if (sharpConfigured) return;
  sharpConfigured = true;
  sharp.cache(false);
  const perImage = Math.max(1, Math.floor(availableParallelism() / poolSize()));
  sharp.concurrency(Math.min(sharp.concurrency(), perImage));
}

/**
 * Every image operation of the server, on libvips threads: nothing here blocks the event loop, and
 * files are read by path so libvips streams them instead of the heap holding the original.
 */
@Injectable()
export class ImageProcessor {
  constructor() {
    configureSharp();
  }

  /**
   * Checks an upload completely before a job exists (SPEC §3: a 415 never creates a job): type by
   * magic bytes, pixel count from the header, then a full decode at reduced scale so a truncated
   * or corrupt body is refused here too.
   */
  async inspect(path: string, options: InspectOptions): Promise<ImageInfo> {
    const mimeType = acceptedType(options.head ?? (await readHead(path)));
    let metadata: sharp.Metadata;
    try {
      metadata = await imageQueue.run(() =>
        sharp(path, inputOptions(options.maxPixels)).metadata(),
      );
    } catch (error) {
      throw unsupported(error, options.maxPixels);
    }
    if (metadata.format !== formatForMime(mimeType)) {
      throw new DomainError(
        'unsupported_media_type',
        `The file starts like ${label(mimeType)} but decodes as ${String(metadata.format).toUpperCase()}`,
      );
    }
    if (options.decode ?? true) {
      try {
        await imageQueue.run(() => probeDecode(sharp(path, inputOptions(options.maxPixels))));
      } catch (error) {
        throw unsupported(error, options.maxPixels);
      }
    }
    const orientation = validOrientation(metadata.orientation);
    return { mimeType, orientation, ...orientedSize(metadata.width, metadata.height, orientation) };
  }

  /**
   * The photo as a provider receives it: upright, long edge ≤ `maxEdgePx`, re-encoded once in its
   * own format. All metadata is dropped (the default when sharp writes), so a guest's GPS position
   * and camera details never leave the booth.
   */
  async normalizeForProvider(path: string, options: NormalizeOptions): Promise<ProviderImage> {
    const mimeType = acceptedType(options.head ?? (await readHead(path)));
    const pipeline = sharp(path, inputOptions(options.maxPixels)).autoOrient().resize({
      width: options.maxEdgePx,
      height: options.maxEdgePx,
      fit: 'inside',
      withoutEnlargement: true,
    });
    try {
      return await imageQueue.run(() => encode(pipeline, formatForMime(mimeType)));
    } catch (error) {
      throw unsupported(error, options.maxPixels);
    }
  }

  /**
   * The provider's answer in the booth's format. Bytes already in that format, upright and at the
   * requested size are passed through untouched (no second lossy encode). `longEdgePx` is an
   * explicit print size, so a smaller answer is enlarged to it.
   */
  renderResult(input: Buffer, options: RenderOptions): Promise<RenderedImage> {
    return imageQueue.run(() => this.render(input, options), true);
  }

  private async render(input: Buffer, options: RenderOptions): Promise<RenderedImage> {
    const sniffed = sniffImageType(input.subarray(0, SNIFF_BYTES));
    if (!sniffed) {
      const other = describeUnsupportedImage(input.subarray(0, SNIFF_BYTES));
      throw new ResultNotImageError(
        other
          ? `The provider answered with a ${other} image, not JPEG, PNG or WEBP`
          : 'The provider answered with bytes that are not an image',
      );
    }
    let metadata: sharp.Metadata;
    try {
      metadata = await sharp(input, inputOptions(options.maxPixels)).metadata();
      if (metadata.format !== formatForMime(sniffed)) {
        throw new Error(`${label(sniffed)} header but ${String(metadata.format)} content`);
      }
    } catch (error) {
      throw undecodable(error);
    }

    const orientation = validOrientation(metadata.orientation);
    const size = orientedSize(metadata.width, metadata.height, orientation);
    const longEdge = Math.max(size.width, size.height);
    const resize = options.longEdgePx !== undefined && options.longEdgePx !== longEdge;
    // Print software may ignore EXIF orientation, so only an upright answer passes through as is.
    if (sniffed === options.format && orientation === 1 && !resize) {
      // The preview decodes every pixel: it is the decodability check too, one decode instead of two.
      try {
        const preview = await previewOf(sharp(input, inputOptions(options.maxPixels)));
        return { bytes: input, mimeType: sniffed, ...size, preview };
      } catch (error) {
        throw undecodable(error);
      }
    }
    try {
      await probeDecode(sharp(input, inputOptions(options.maxPixels)));
    } catch (error) {
      throw undecodable(error);
    }

    const target = formatForMime(options.format);
    let pipeline = sharp(input, inputOptions(options.maxPixels)).autoOrient();
    if (options.longEdgePx !== undefined) {
      pipeline = pipeline.resize({
        width: options.longEdgePx,
        height: options.longEdgePx,
        fit: 'inside',
      });
    }
    // JPEG has no alpha: transparent areas print as white paper, not black.
    if (target === 'jpeg' && metadata.hasAlpha) {
      pipeline = pipeline.flatten({ background: '#ffffff' });
    }
    try {
      return await encode(pipeline, target);
    } catch (error) {
      const message = `The provider's image cannot be converted: ${errorMessage(error)}`;
      throw new ResultNotImageError(message, { cause: error });
    }
  }

  /** The gallery thumbnail: WEBP, upright, long edge ≤ 512 px. */
  preview(input: Buffer): Promise<Buffer> {
    return imageQueue.run(() => previewOf(sharp(input, { failOn: FAIL_ON })), true);
  }
}

function previewOf(image: sharp.Sharp): Promise<Buffer> {
  return image
    .autoOrient()
    .resize({
      width: PREVIEW_EDGE_PX,
      height: PREVIEW_EDGE_PX,
      fit: 'inside',
      withoutEnlargement: true,
    })
    .webp({ quality: PREVIEW_QUALITY })
    .toBuffer();
}

function undecodable(error: unknown): ResultNotImageError {
  return new ResultNotImageError(`The provider's image cannot be decoded: ${errorMessage(error)}`, {
    cause: error,
  });
}

function inputOptions(maxPixels: number): sharp.SharpOptions {
  // 0 would mean "no limit" to sharp; a bad setting must never disable the bomb guard.
  return { limitInputPixels: Math.max(1, Math.floor(maxPixels)), failOn: FAIL_ON };
}

async function encode(pipeline: sharp.Sharp, format: ImageFormat): Promise<ProviderImage> {
  switch (format) {
    case 'jpeg':
      pipeline = pipeline.jpeg({ quality: JPEG_QUALITY, chromaSubsampling: '4:2:0' });
      break;
    case 'png':
      pipeline = pipeline.png();
      break;
    case 'webp':
      pipeline = pipeline.webp({ quality: WEBP_QUALITY });
      break;
  }
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { bytes: data, mimeType: mimeForFormat(format), width: info.width, height: info.height };
}

/** Decodes every pixel at reduced scale: cheap, yet truncation and corruption surface. */
async function probeDecode(image: sharp.Sharp): Promise<void> {
  await image
    .resize({
      width: PROBE_EDGE_PX,
      height: PROBE_EDGE_PX,
      fit: 'inside',
      withoutEnlargement: true,
    })
    .raw()
    .toBuffer();
}

async function readHead(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await file.read(head, 0, SNIFF_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function acceptedType(head: Buffer): ImageMime {
  const mimeType = sniffImageType(head);
  if (mimeType) return mimeType;
  const other = describeUnsupportedImage(head);
  throw new DomainError(
    'unsupported_media_type',
    other
      ? `${other} images are not accepted; send JPEG, PNG or WEBP`
      : head.length === 0
        ? 'The file is empty'
        : 'The file is not an image; send JPEG, PNG or WEBP',
  );
}

function unsupported(error: unknown, maxPixels: number): DomainError {
  const message = isPixelLimitError(error)
    ? `The image has more pixels than the limit of ${megapixels(maxPixels)} megapixels`
    : 'The image cannot be decoded: the file is damaged or incomplete';
  return new DomainError('unsupported_media_type', message, { cause: error });
}

function isPixelLimitError(error: unknown): boolean {
  return error instanceof Error && /pixel limit/i.test(error.message);
}

function megapixels(pixels: number): string {
  return String(Math.round(pixels / 10_000) / 100);
}

function validOrientation(value: number | undefined): number {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 8 ? value : 1;
}

/** Orientations 5–8 include a quarter turn, so the displayed width is the stored height. */
function orientedSize(
  width: number,
  height: number,
  orientation: number,
): { width: number; height: number } {
  return orientation >= 5 ? { width: height, height: width } : { width, height };
}

function label(mime: ImageMime): string {
  return formatForMime(mime).toUpperCase();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

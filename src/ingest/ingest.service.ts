import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DiskSpace } from '../media/disk-space';
import { MetricsService } from '../metrics/metrics.service';
import { describeUnsupportedImage, sniffImageType } from '../media/image-format';
import { ImageProcessor } from '../media/image-processor';
import { ResultStore } from '../media/result-store';
import { TemplateMediaService } from '../media/template-media.service';
import { ProviderRegistry } from '../providers/provider-registry';
import type {
  ImageMime,
  ProviderDriver,
  ProviderImage,
  TemplateImage,
} from '../providers/provider-driver';
import { RuntimeSettings, SettingsService } from '../settings/settings.service';
import type { SlotRecord } from '../slots/slots.repository';
import { Deadline } from './deadline';
import { IngestPreflight } from './ingest-preflight';
import type { JobEntity, JobSource } from './job.entity';
import { isActive, JobsRepository } from './jobs.repository';
import { JobAnswer, JobRunner } from './job-runner';
import { ReceivedFile, UploadReceiver } from '../media/upload-receiver';

const MB = 1024 * 1024;
const DUPLICATE_POLL_MS = 250;

interface Accepted {
  slot: SlotRecord;
  settings: RuntimeSettings;
  fields: Record<string, string>;
  file: ReceivedFile;
  photo: ProviderImage;
  templates: TemplateImage[];
  inputMimeType: ImageMime;
  driver: ProviderDriver;
  apiKey: string;
}

/**
 * The booth's request, from the first header to the answer: checks in SPEC §4's order, the job
 * record, dedupe and the per-slot limit, then the provider under one deadline.
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly preflight: IngestPreflight,
    private readonly receiver: UploadReceiver,
    private readonly settings: SettingsService,
    private readonly registry: ProviderRegistry,
    private readonly images: ImageProcessor,
    private readonly store: ResultStore,
    private readonly templates: TemplateMediaService,
    private readonly disk: DiskSpace,
    private readonly jobs: JobsRepository,
    private readonly runner: JobRunner,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
    private readonly metrics: MetricsService,
  ) {}

  /** `POST /ingest/{slot_id}` from DSLR Remote Pro. */
  ingest(
    slotId: string,
    request: IncomingMessage,
    idempotencyKey: string | undefined,
  ): Promise<JobAnswer> {
    const answer = this.handle('ingest', slotId, request, idempotencyKey);
    return this.metrics.measureIngest(slotId, answer);
  }

  /** `POST /api/slots/{id}/test-run`: the same pipeline, no password, inactive slots allowed. */
  testRun(slotId: string, request: IncomingMessage): Promise<JobAnswer> {
    return this.handle('ui_test', slotId, request, undefined);
  }

  private async handle(
    source: JobSource,
    slotId: string,
    request: IncomingMessage,
    idempotencyKey: string | undefined,
  ): Promise<JobAnswer> {
    const startedAt = this.clock.now();
    try {
      const { slot, settings } = await this.preflight.check(request, slotId);
      // The deadline runs from acceptance: the upload and our own work count against it.
      const deadline = new Deadline(Date.now() + settings.syncResponseSeconds * 1000);
      try {
        const accepted = await this.accept(source, slot, settings, request, deadline);
        return await this.admitAndRun(source, accepted, deadline, startedAt, idempotencyKey);
      } finally {
        deadline.dispose();
      }
    } catch (error) {
      if (error instanceof DomainError && !error.options.jobId) {
        this.logger.event('info', 'ingest.refused', {
          slot_id: slotId.slice(0, 64),
          source,
          failure_reason: error.code,
          message: error.message,
        });
      }
      throw error;
    }
  }

  /** Everything up to 415: the upload, password, slot readiness and the photo itself. */
  private async accept(
    source: JobSource,
    slot: SlotRecord,
    settings: RuntimeSettings,
    request: IncomingMessage,
    deadline: Deadline,
  ): Promise<Accepted> {
    const upload = await this.receiver.receive(request, {
      fileFields: source === 'ingest' ? ['fileToUpload', 'file'] : ['test_image', 'file'],
      uniqueFields: ['password'],
      maxFileBytes: settings.maxUploadMb * MB,
      tempPath: await this.store.tempPath('upload'),
      // The upload counts against the deadline: a stalled body cannot hold the request past it.
      deadline: { signal: deadline.signal, seconds: settings.syncResponseSeconds },
    });
    const file = upload.file;
    try {
      const { password, ...sent } = upload.fields;
      const fields = storableFields(sent);
      if (!file)
        throw invalid(
          source === 'ingest'
            ? 'The fileToUpload field is missing'
            : 'The test_image field is missing',
        );
      if (file.sizeBytes === 0) throw invalid('The uploaded photo is empty');
      if (source === 'ingest') {
        if (password === undefined || password === '')
          throw invalid('The password field is missing');
        await this.checkPassword(password);
      }
      const { driver, apiKey } = await this.readiness(source, slot);

      const sniffed = sniffImageType(file.head);
      if (!sniffed) {
        const other = describeUnsupportedImage(file.head);
        throw new DomainError(
          'unsupported_media_type',
          other
            ? `${other} images are not accepted; send JPEG, PNG or WEBP`
            : 'The photo is not a JPEG, PNG or WEBP image',
        );
      }
      const maxPixels = settings.maxInputMegapixels * 1_000_000;
      // The header here (type, pixel limit); the normalisation below decodes every pixel once and
      // refuses a truncated or corrupt photo with the same 415, still before any job exists.
      const inspected = await this.images.inspect(file.path, {
        maxPixels,
        decode: false,
        head: file.head,
      });
      const [photo, templates] = await Promise.all([
        this.images.normalizeForProvider(file.path, {
          maxEdgePx: settings.providerMaxEdgePx,
          maxPixels,
          head: file.head,
        }),
        this.templates.forSlot(slot.id, settings.providerMaxEdgePx, maxPixels),
      ]);
      await this.disk.assertRoomForIngest();
      return {
        slot,
        settings,
        fields,
        file,
        photo,
        templates,
        inputMimeType: inspected.mimeType,
        driver,
        apiKey,
      };
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  }

  private async checkPassword(password: string): Promise<void> {
    switch (await this.settings.verifyIngestPassword(password)) {
      case 'ok':
        return;
      case 'not_set':
        throw new DomainError(
          'invalid_password',
          'No ingest password is set yet: an admin must set one on the settings page',
        );
      case 'wrong':
        throw new DomainError('invalid_password', 'Wrong ingest password');
    }
  }

  /** 409 `slot_not_ready` unless the slot can take a photo now. */
  private async readiness(
    source: JobSource,
    slot: SlotRecord,
  ): Promise<{ driver: ProviderDriver; apiKey: string }> {
    if (source === 'ingest' && !slot.isActive) throw notReady(`Slot ${slot.id} is not active`);
    if (!slot.provider || !slot.operation) {
      throw notReady(`Slot ${slot.id} has no provider configured`);
    }
    const driver = this.registry.find(slot.provider);
    if (!driver) throw notReady(`The ${slot.provider} provider is not available on this server`);
    const apiKey = await this.settings.getProviderApiKey(slot.provider);
    if (!apiKey) throw notReady(`No API key is configured for ${slot.provider}`);
    return { driver, apiKey };
  }

  private async admitAndRun(
    source: JobSource,
    accepted: Accepted,
    deadline: Deadline,
    startedAt: Date,
    idempotencyKey: string | undefined,
  ): Promise<JobAnswer> {
    const { slot, settings, file, fields } = accepted;
    const clientHash = fields.hash?.trim() || null;
    const admission = await this.jobs.admit(
      {
        id: randomUUID(),
        slotId: slot.id,
        source,
        provider: slot.provider ?? '',
        operation: slot.operation ?? '',
        model: accepted.driver.attempts(slot.settings)[0]?.model ?? null,
        startedAt,
        deadlineAt: new Date(startedAt.getTime() + settings.syncResponseSeconds * 1000),
        inputSha256: file.sha256,
        inputSizeBytes: file.sizeBytes,
        inputMimeType: accepted.inputMimeType,
        clientHash: clientHash?.slice(0, 256) ?? null,
        hashVerified: clientHash?.toLowerCase() === file.sha1,
        clientFields: fields,
        dedupeKey:
          source === 'ingest' ? dedupeKey(slot, file.sha256, fields, idempotencyKey) : null,
      },
      settings.slotConcurrency,
      startedAt,
    );

    switch (admission.kind) {
      case 'busy':
        throw new DomainError(
          'slot_busy',
          `Slot ${slot.id} is already processing ${settings.slotConcurrency} photos; retry shortly`,
          { headers: { 'Retry-After': String(admission.retryAfterSeconds) } },
        );
      case 'completed':
        this.logDuplicate(admission.job, 'completed');
        return this.runner.storedAnswer(admission.job);
      case 'in_flight':
        this.logDuplicate(admission.job, 'in_flight');
        return this.awaitDuplicate(admission.job.id, deadline);
      case 'admitted':
        this.logger.event('info', 'ingest.accepted', {
          job_id: admission.job.id,
          slot_id: slot.id,
          source,
          provider: slot.provider,
          operation: slot.operation,
          input_bytes: file.sizeBytes,
          input_mime_type: accepted.inputMimeType,
          provider_bytes: accepted.photo.bytes.length,
          hash_verified: admission.job.hashVerified,
        });
        return this.runner.run({
          job: admission.job,
          slot,
          settings,
          photo: accepted.photo,
          templates: accepted.templates,
          inputMimeType: accepted.inputMimeType,
          driver: accepted.driver,
          apiKey: accepted.apiKey,
          deadline,
        });
    }
  }

  /** An exact retry of a running job waits for it (on any instance) and gets its outcome. */
  private async awaitDuplicate(jobId: string, deadline: Deadline): Promise<JobAnswer> {
    for (;;) {
      const job = await this.jobs.findById(jobId);
      if (!job) throw new DomainError('internal', 'The original job disappeared');
      if (!isActive(job, this.clock.now())) return this.outcomeOf(job);
      if (deadline.remainingMs() <= 0) {
        throw new DomainError(
          'timeout',
          'The photo was not ready before the deadline; print the original',
          {
            jobId,
          },
        );
      }
      await sleep(Math.min(DUPLICATE_POLL_MS, Math.max(1, deadline.remainingMs())));
    }
  }

  private async outcomeOf(job: JobEntity): Promise<JobAnswer> {
    if (job.status === 'completed') return this.runner.storedAnswer(job);
    // Still "running" past its deadline: its process died; the booth gets what a timeout gets.
    const reason =
      job.status === 'pending' || job.status === 'processing' ? 'timeout' : job.failureReason;
    throw new DomainError(
      failureCode(reason),
      `The original request for this photo ended with ${reason ?? job.status}`,
      { jobId: job.id },
    );
  }

  private logDuplicate(job: JobEntity, state: 'completed' | 'in_flight'): void {
    this.logger.event('info', 'ingest.deduplicated', {
      job_id: job.id,
      slot_id: job.slotId,
      state,
    });
  }
}

/**
 * Identifies an exact retry (SPEC §2): the `Idempotency-Key` header on the same slot, or the same
 * slot version, photo bytes and DSLR Remote Pro's `time` and `id` fields. Anything else is a new shot.
 */
export function dedupeKey(
  slot: Pick<SlotRecord, 'version'>,
  sha256: string,
  fields: Record<string, string>,
  idempotencyKey: string | undefined,
): string | null {
  const digest = (text: string): string => createHash('sha256').update(text).digest('hex');
  if (idempotencyKey) return `key:${digest(idempotencyKey)}`;
  if (fields.time && fields.id) {
    return `shot:${digest(JSON.stringify([slot.version, sha256, fields.time, fields.id]))}`;
  }
  return null;
}

const FAILURE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'timeout',
  'cancelled',
  'provider_error',
  'provider_unavailable',
  'quota',
  'blocked',
  'bad_response',
  'network',
  'storage_full',
  'interrupted',
  'internal',
]);

function failureCode(reason: string | null): ErrorCode {
  return reason !== null && FAILURE_CODES.has(reason) ? (reason as ErrorCode) : 'internal';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The booth's text fields as PostgreSQL can store them: text cannot hold NUL and JSON cannot hold
 * a lone UTF-16 surrogate (a part declared in UTF-16 may decode to one); both become U+FFFD.
 * Were the field rejected or stored raw, a stray byte in an optional field would cost the shot.
 */
function storableFields(fields: Record<string, string>): Record<string, string> {
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    const key = storable(name);
    if (!Object.hasOwn(stored, key)) {
      Object.defineProperty(stored, key, {
        value: storable(value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return stored;
}

function storable(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
}

function invalid(message: string): DomainError {
  return new DomainError('invalid_request', message);
}

function notReady(message: string): DomainError {
  return new DomainError('slot_not_ready', message);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

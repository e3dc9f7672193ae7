import { Injectable } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { DomainError, statusOf } from '../common/domain-error';
import { domainErrorOf, errorBody } from '../common/error.filter';
import { RequestTracker } from '../common/request-tracker';
import { ENVELOPE_BYTES } from '../media/upload-receiver';
import { MetricsService } from '../metrics/metrics.service';
import { RuntimeSettings, SettingsService } from '../settings/settings.service';
import { slotNotFound, SLOT_ID_PATTERN } from '../slots/slots.errors';
import { SlotRecord, SlotsRepository } from '../slots/slots.repository';

export interface Preflight {
  slot: SlotRecord;
  settings: RuntimeSettings;
}

const INGEST_PATH = /^\/(?:api\/)?ingest\/([^/?#]+)\/?(?:[?#]|$)/;
const PREFLIGHT = Symbol('photochanger:preflight');

type CheckedRequest = IncomingMessage & { [PREFLIGHT]?: Promise<Preflight> };

/**
 * The checks SPEC §4 decides from the URL and headers alone — unknown slot (404), declared size
 * over the limit (413) — made before a byte of the body is read.
 */
@Injectable()
export class IngestPreflight {
  constructor(
    private readonly slots: SlotsRepository,
    private readonly settings: SettingsService,
    private readonly tracker: RequestTracker,
    private readonly metrics: MetricsService,
  ) {}

  /** Runs the checks once per request (the 100-continue hook may already have). */
  check(request: IncomingMessage, slotId: string): Promise<Preflight> {
    const checked = request as CheckedRequest;
    return (checked[PREFLIGHT] ??= this.run(slotId, request.headers['content-length']));
  }

  /**
   * Answers `Expect: 100-continue` for ingest routes only after the checks pass, so a booth
   * posting to a wrong slot or a too-large photo is refused before it uploads anything.
   */
  attach(server: Server): void {
    const onCheckContinue = (request: IncomingMessage, response: ServerResponse): void => {
      const slotId = INGEST_PATH.exec(request.url ?? '')?.[1];
      const proceed = (): void => {
        response.writeContinue();
        server.emit('request', request, response);
      };
      if (request.method !== 'POST' || slotId === undefined) return proceed();
      this.check(request, decodeURIComponentSafe(slotId)).then(proceed, (error: unknown) => {
        const refusal = domainErrorOf(error);
        this.metrics.ingestRefused(decodeURIComponentSafe(slotId), refusal);
        // setHeader is case-insensitive: the refusal's own `Connection: close` is not sent twice.
        for (const [name, value] of Object.entries(refusal.options.headers ?? {})) {
          response.setHeader(name, value);
        }
        response.setHeader('content-type', 'application/json; charset=utf-8');
        response.setHeader('connection', 'close');
        response.writeHead(statusOf(refusal));
        response.end(JSON.stringify(errorBody(refusal)));
      });
    };
    // Tracked here as well: a refusal from this hook never reaches Express and its middleware.
    server.on('checkContinue', this.tracker.wrap(onCheckContinue));
  }

  private async run(slotId: string, contentLength: string | undefined): Promise<Preflight> {
    const slot = SLOT_ID_PATTERN.test(slotId) ? await this.slots.findById(slotId) : null;
    if (!slot) throw slotNotFound(slotId);
    const settings = await this.settings.getRuntimeSettings();
    const declared = Number(contentLength);
    // The same bound the receiver holds an undeclared (chunked) body to.
    if (
      Number.isFinite(declared) &&
      declared > settings.maxUploadMb * 1024 * 1024 + ENVELOPE_BYTES
    ) {
      throw new DomainError(
        'payload_too_large',
        `The photo is larger than the ${settings.maxUploadMb} MB limit`,
        { headers: { Connection: 'close' } },
      );
    }
    return { slot, settings };
  }
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

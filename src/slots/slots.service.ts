import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { isPrivateHost } from '../config/app-config';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import {
  findProvider,
  isTemplateKind,
  OperationSpec,
  PROVIDER_IDS,
  ProviderSpec,
  TEMPLATE_KINDS,
} from '../providers/provider-catalog';
import { FieldErrors, SlotSettingsValidator } from '../providers/slot-settings-validator';
import { SlotDetailDto, SlotSummaryDto } from './dto/slot.dto';
import { TemplateBindingInputDto, UpdateSlotDto } from './dto/update-slot.dto';
import { invalidSlot, SLOT_ID_PATTERN, slotNotFound, versionConflict } from './slots.errors';
import { SlotRecord, SlotsRepository } from './slots.repository';

const RECENT_RESULTS = 10;

@Injectable()
export class SlotsService {
  constructor(
    private readonly slots: SlotsRepository,
    private readonly settingsValidator: SlotSettingsValidator,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async list(): Promise<SlotSummaryDto[]> {
    const slots = await this.slots.list();
    return slots.map((slot) => this.summary(slot));
  }

  async get(id: string): Promise<SlotDetailDto> {
    const slot = await this.find(id);
    const [bindings, results] = await Promise.all([
      this.slots.templateBindings(id),
      this.slots.recentResults(id, this.clock.now(), RECENT_RESULTS),
    ]);
    return {
      ...this.summary(slot),
      settings: slot.settings,
      updated_by: slot.updatedBy,
      template_media: bindings.map((binding) => ({
        media_kind: binding.mediaKind,
        template_media_id: binding.templateMediaId,
        mime_type: binding.mimeType,
        width: binding.width,
        height: binding.height,
        preview_url: `/api/template-media/${binding.templateMediaId}/preview`,
      })),
      recent_results: results.map((result) => {
        const resultUrl = `${this.config.publicBaseUrl}/public/results/${result.jobId}`;
        return {
          job_id: result.jobId,
          result_url: resultUrl,
          preview_url: `${resultUrl}/preview`,
          finished_at: result.finishedAt.toISOString(),
          expires_at: result.expiresAt.toISOString(),
          mime_type: result.mimeType,
        };
      }),
    };
  }

  /** A full replacement of the slot's settings, refused whole when anything is wrong. */
  async update(id: string, input: UpdateSlotDto, actor: string): Promise<SlotDetailDto> {
    await this.find(id);
    const { errors, provider } = await this.check(input);
    if (Object.keys(errors).length > 0) throw invalidSlot(errors);

    const outcome = await this.slots.replace(
      id,
      input.version,
      {
        displayName: input.display_name,
        provider: provider?.id ?? null,
        operation: input.operation,
        isActive: input.is_active,
        settings: input.settings,
        templateMedia: input.template_media.map((binding) => ({
          mediaKind: binding.media_kind,
          templateMediaId: binding.template_media_id,
        })),
      },
      actor,
      this.clock.now(),
    );
    switch (outcome.kind) {
      case 'replaced': {
        const saved = await this.get(id);
        const warning = this.unreachableLinksWarning(saved);
        return warning ? { ...saved, warnings: [warning] } : saved;
      }
      case 'not_found':
        throw slotNotFound(id);
      case 'version_conflict':
        throw versionConflict(id, input.version, outcome.currentVersion);
      case 'templates_missing': {
        // A template deleted between the checks and the save.
        const missing = new Set(outcome.templateMediaIds);
        const late: FieldErrors = {};
        input.template_media.forEach((binding, index) => {
          if (missing.has(binding.template_media_id)) {
            late[`template_media.${index}.template_media_id`] = 'no such template';
          }
        });
        throw invalidSlot(late);
      }
    }
  }

  /**
   * Turbotext fetches the guest photo from PUBLIC_MEDIA_BASE_URL: a loopback or private address
   * works in a demo and fails at the event, so the admin hears it on save.
   */
  unreachableLinksWarning(slot: {
    provider: string | null;
    is_active: boolean;
  }): string | undefined {
    if (slot.provider !== 'turbotext' || !slot.is_active) return undefined;
    const host = new URL(this.config.publicBaseUrl).hostname;
    if (!isPrivateHost(host)) return undefined;
    return `PUBLIC_MEDIA_BASE_URL (${this.config.publicBaseUrl}) is not reachable from the internet: Turbotext cannot download the photos. Set it to the server's public address.`;
  }

  private async find(id: string): Promise<SlotRecord> {
    const slot = SLOT_ID_PATTERN.test(id) ? await this.slots.findById(id) : null;
    if (!slot) throw slotNotFound(id);
    return slot;
  }

  /**
   * Catalogue and database rules, all reported together.
   *
   * `is_active` is accepted whatever the provider: whether a slot can take photos (provider
   * chosen, API key present) is decided at ingest time, which answers 409 `slot_not_ready`,
   * because a key can also disappear after the slot was saved.
   */
  private async check(
    input: UpdateSlotDto,
  ): Promise<{ errors: FieldErrors; provider: ProviderSpec | undefined }> {
    const errors: FieldErrors = {};
    let operation: OperationSpec | undefined;

    const provider = input.provider === null ? undefined : findProvider(input.provider);
    if (input.provider === null) {
      if (input.operation !== null) {
        add(errors, 'operation', 'must be null while no provider is chosen');
      }
      if (Object.keys(input.settings).length > 0) {
        add(errors, 'settings', 'must be empty while no provider is chosen');
      }
    } else if (!provider) {
      add(errors, 'provider', `unknown provider; one of: ${PROVIDER_IDS.join(', ')}, or null`);
    } else {
      const known = provider.operations.map((spec) => spec.id).join(', ');
      operation = provider.operations.find((spec) => spec.id === input.operation);
      if (input.operation === null) {
        add(errors, 'operation', `is required with ${provider.id}: one of ${known}`);
      } else if (!operation) {
        add(
          errors,
          'operation',
          `${provider.id} has no operation "${input.operation}"; one of: ${known}`,
        );
      } else {
        Object.assign(
          errors,
          this.settingsValidator.validate(provider.id, operation.id, input.settings),
        );
      }
    }

    Object.assign(errors, await this.checkTemplates(input.template_media, operation));
    return { errors, provider };
  }

  /**
   * Kinds and ids of the bindings; with a known operation, also the kinds it accepts and needs.
   * An unconfigured slot may keep bindings of any kind, so templates can be uploaded first.
   */
  private async checkTemplates(
    bindings: TemplateBindingInputDto[],
    operation: OperationSpec | undefined,
  ): Promise<FieldErrors> {
    const errors: FieldErrors = {};
    const existing = await this.slots.existingTemplateIds([
      ...new Set(bindings.map((binding) => binding.template_media_id)),
    ]);
    const accepted = operation
      ? new Set<string>([...operation.requiredTemplates, ...operation.optionalTemplates])
      : undefined;
    const operationId = operation?.id ?? '';
    const seen = new Set<string>();
    const perKind = new Map<string, number>();

    bindings.forEach((binding, index) => {
      const at = `template_media.${index}`;
      const kind = binding.media_kind;
      if (!isTemplateKind(kind)) {
        add(errors, `${at}.media_kind`, `must be one of: ${TEMPLATE_KINDS.join(', ')}`);
      } else if (accepted && !accepted.has(kind)) {
        add(errors, `${at}.media_kind`, `${operationId} does not use "${kind}" templates`);
      }
      if (!existing.has(binding.template_media_id)) {
        add(errors, `${at}.template_media_id`, 'no such template');
      }
      const pair = `${kind}\u0000${binding.template_media_id}`;
      if (seen.has(pair)) add(errors, at, 'binds the same template in the same role twice');
      seen.add(pair);
      const count = (perKind.get(kind) ?? 0) + 1;
      perKind.set(kind, count);
      const limit = operation?.maxTemplatesPerKind;
      if (limit && count > limit) {
        add(errors, `${at}.media_kind`, `at most ${limit} "${kind}" template(s) can be bound`);
      }
    });

    const missing = (operation?.requiredTemplates ?? []).filter((kind) => !perKind.has(kind));
    if (missing.length > 0) {
      const kinds = missing.map((kind) => `"${kind}"`).join(', ');
      add(errors, 'template_media', `${operationId} needs a ${kinds} template`);
    }
    return errors;
  }

  private summary(slot: SlotRecord): SlotSummaryDto {
    return {
      id: slot.id,
      display_name: slot.displayName,
      provider: slot.provider,
      operation: slot.operation,
      is_active: slot.isActive,
      version: slot.version,
      updated_at: slot.updatedAt.toISOString(),
      ingest_url: `${this.config.publicBaseUrl}/ingest/${slot.id}`,
      last_job_at: slot.lastJobAt?.toISOString() ?? null,
      last_status: slot.lastStatus,
    };
  }
}

function add(errors: FieldErrors, key: string, message: string): void {
  errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
}

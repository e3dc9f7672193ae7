import { Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuditEntry } from '../audit/audit.repository';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { RuntimeSecrets } from '../config/runtime-secrets';
import { PROVIDER_IDS, ProviderId } from '../providers/provider-catalog';
import { SettingsDto } from './dto/settings.dto';
import { UpdateSettingsDto } from './dto/update-settings.dto';
import { PasswordHasher } from './password-hasher';
import { SecretBox } from './secret-box';
import {
  isInRange,
  NUMERIC_SETTING_NAMES,
  NUMERIC_SETTINGS,
  NumericSetting,
  NumericValues,
} from './settings.limits';
import { providerKeyRow, SettingsRepository, StoredSettings } from './settings.repository';

/** The settings other modules act on, read fresh for every request. */
export interface RuntimeSettings {
  syncResponseSeconds: number;
  resultTtlHours: number;
  maxUploadMb: number;
  maxInputMegapixels: number;
  slotConcurrency: number;
  providerConcurrency: Record<ProviderId, number>;
  providerMaxEdgePx: number;
  version: number;
}

export type ProviderKeyStatus = Record<
  ProviderId,
  { configured: boolean; updated_at: string | null }
>;

type AuditValues = Record<string, unknown>;

@Injectable()
export class SettingsService {
  /** The last ingest password that passed the slow check, as an HMAC bound to the hash it matched. */
  private verifiedIngestPassword: { hash: string; digest: Buffer } | undefined;
  /** Slow hashes under way, by the HMAC of the stored hash and the password tried. */
  private readonly ingestVerifications = new Map<string, Promise<boolean>>();

  constructor(
    private readonly repository: SettingsRepository,
    private readonly hasher: PasswordHasher,
    private readonly secretBox: SecretBox,
    private readonly secrets: RuntimeSecrets,
    @InjectConfig() private readonly config: AppConfig,
    private readonly logger: AppLogger,
    private readonly clock: Clock,
  ) {}

  // No cache: every read goes to app_settings (a handful of rows), so a change made on any
  // instance applies to the next request.
  async getRuntimeSettings(): Promise<RuntimeSettings> {
    const stored = await this.repository.load();
    const values = this.effectiveValues(stored);
    return {
      syncResponseSeconds: values.sync_response_seconds,
      resultTtlHours: values.result_ttl_hours,
      maxUploadMb: values.max_upload_mb,
      maxInputMegapixels: values.max_input_megapixels,
      slotConcurrency: values.slot_concurrency,
      providerConcurrency: {
        gemini: values['provider_concurrency.gemini'],
        turbotext: values['provider_concurrency.turbotext'],
      },
      providerMaxEdgePx: values.provider_max_edge_px,
      version: stored.version,
    };
  }

  /** The stored key when there is a readable one, else the environment's. */
  async getProviderApiKey(provider: ProviderId): Promise<string | undefined> {
    return this.apiKey(await this.repository.load(), provider);
  }

  async providerKeyStatus(): Promise<ProviderKeyStatus> {
    return this.keyStatus(await this.repository.load());
  }

  /**
   * 'not_set' while no ingest password exists. A verified password is remembered as an HMAC
   * keyed with secretsKey (never in clear) until the stored hash changes, so the slow hash is
   * not recomputed on every shot.
   */
  async verifyIngestPassword(password: string): Promise<'ok' | 'wrong' | 'not_set'> {
    const stored = (await this.repository.load()).ingestPassword;
    if (!stored) return 'not_set';
    const digest = createHmac('sha256', this.secrets.secretsKey)
      .update(stored.hash)
      .update('\0')
      .update(password, 'utf8')
      .digest();
    const remembered = this.verifiedIngestPassword;
    if (remembered?.hash === stored.hash && timingSafeEqual(remembered.digest, digest)) {
      return 'ok';
    }
    // Shots arriving together with the same password (a fresh server, a new password) share one
    // slow hash instead of queueing one each.
    const key = digest.toString('base64');
    let verification = this.ingestVerifications.get(key);
    if (!verification) {
      verification = this.hasher.verify(password, stored.hash);
      this.ingestVerifications.set(key, verification);
      void verification.finally(() => this.ingestVerifications.delete(key)).catch(() => undefined);
    }
    if (!(await verification)) return 'wrong';
    this.logger.redactValue(password);
    this.verifiedIngestPassword = { hash: stored.hash, digest };
    return 'ok';
  }

  async getSettings(): Promise<SettingsDto> {
    return this.view(await this.repository.load());
  }

  async updateSettings(input: UpdateSettingsDto, actor: string): Promise<SettingsDto> {
    const at = this.clock.now();
    // The slow hash and the encryption depend on nothing stored: done before taking the lock.
    let passwordHash: string | undefined;
    if (input.ingest_password !== undefined) {
      this.logger.redactValue(input.ingest_password);
      passwordHash = await this.hasher.hash(input.ingest_password);
    }
    const sealedKeys: Partial<Record<ProviderId, string | null>> = {};
    for (const provider of PROVIDER_IDS) {
      const key = input.provider_keys?.[provider];
      if (key === undefined) continue;
      if (key !== null) this.logger.redactValue(key);
      sealedKeys[provider] =
        key === null ? null : this.secretBox.seal(key, providerKeyRow(provider));
    }
    const requested = requestedValues(input);

    const committed = await this.repository.update((current) => {
      if (input.version !== undefined && input.version !== current.version) {
        throw new DomainError(
          'version_conflict',
          `The settings were changed meanwhile (now version ${current.version}); reload and retry`,
        );
      }
      const before = this.effectiveValues(current);
      const oldValues: AuditValues = {};
      const newValues: AuditValues = {};
      for (const name of NUMERIC_SETTING_NAMES) {
        const next = requested[name];
        if (next === undefined || next === before[name]) continue;
        oldValues[name] = before[name];
        newValues[name] = next;
      }
      if (passwordHash !== undefined) {
        oldValues.ingest_password = current.ingestPassword ? '[set]' : null;
        newValues.ingest_password = '[changed]';
      }
      const providerKeys: Partial<Record<ProviderId, string | null>> = {};
      for (const provider of PROVIDER_IDS) {
        const sealed = sealedKeys[provider];
        const had = current.providerKeys[provider] !== undefined;
        // Deleting a key that is not stored changes nothing.
        if (sealed === undefined || (sealed === null && !had)) continue;
        providerKeys[provider] = sealed;
        oldValues[`provider_keys.${provider}`] = had ? '[set]' : null;
        newValues[`provider_keys.${provider}`] = sealed === null ? '[deleted]' : '[set]';
      }
      const version = current.version + 1;
      const audit: AuditEntry | undefined =
        Object.keys(newValues).length === 0
          ? undefined
          : {
              actor,
              entityType: 'settings',
              entityId: null,
              action: 'update',
              oldValue: { version: current.version, ...oldValues },
              newValue: { version, ...newValues },
            };
      return {
        version,
        values: { ...storedValues(current), ...requested },
        ingestPasswordHash: passwordHash,
        providerKeys,
        at,
        actor,
        audit,
      };
    });

    this.logger.event('info', 'settings.updated', {
      actor,
      version: committed.version,
      fields: Object.keys(requested).concat(
        passwordHash !== undefined ? ['ingest_password'] : [],
        Object.keys(sealedKeys).map((provider) => `provider_keys.${provider}`),
      ),
    });
    return this.view(committed);
  }

  private view(stored: StoredSettings): SettingsDto {
    const values = this.effectiveValues(stored);
    return {
      sync_response_seconds: values.sync_response_seconds,
      result_ttl_hours: values.result_ttl_hours,
      max_upload_mb: values.max_upload_mb,
      max_input_megapixels: values.max_input_megapixels,
      slot_concurrency: values.slot_concurrency,
      provider_concurrency: {
        gemini: values['provider_concurrency.gemini'],
        turbotext: values['provider_concurrency.turbotext'],
      },
      provider_max_edge_px: values.provider_max_edge_px,
      version: stored.version,
      ingest_password_set: stored.ingestPassword !== null,
      ingest_password_rotated_at: stored.ingestPassword?.rotatedAt.toISOString() ?? null,
      ingest_password_rotated_by: stored.ingestPassword?.rotatedBy ?? null,
      provider_keys: this.keyStatus(stored),
    };
  }

  /**
   * Unset values follow the defaults, so RESULT_TTL_HOURS keeps applying until an admin sets
   * result_ttl_hours; a stored value that left its range (a tightened limit) falls back too.
   */
  private effectiveValues(stored: StoredSettings): NumericValues {
    const values = {} as NumericValues;
    for (const name of NUMERIC_SETTING_NAMES) {
      values[name] =
        name === 'result_ttl_hours' ? this.config.resultTtlHours : NUMERIC_SETTINGS[name].fallback;
    }
    return { ...values, ...storedValues(stored) };
  }

  private keyStatus(stored: StoredSettings): ProviderKeyStatus {
    const status = {} as ProviderKeyStatus;
    for (const provider of PROVIDER_IDS) {
      const readable = this.storedKey(stored, provider) !== undefined;
      status[provider] = {
        configured: readable || this.environmentKey(provider) !== undefined,
        updated_at: readable ? stored.providerKeys[provider]!.updatedAt.toISOString() : null,
      };
    }
    return status;
  }

  private apiKey(stored: StoredSettings, provider: ProviderId): string | undefined {
    const key = this.storedKey(stored, provider) ?? this.environmentKey(provider);
    this.logger.redactValue(key);
    return key;
  }

  private storedKey(stored: StoredSettings, provider: ProviderId): string | undefined {
    const entry = stored.providerKeys[provider];
    if (!entry) return undefined;
    try {
      const key = this.secretBox.open(entry.sealed, providerKeyRow(provider));
      this.logger.redactValue(key);
      return key;
    } catch (error) {
      // Most likely SECRETS_KEY changed: say so, and let the environment key (if any) apply.
      this.logger.event('error', 'settings.provider_key_unreadable', {
        provider,
        message: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }

  private environmentKey(provider: ProviderId): string | undefined {
    switch (provider) {
      case 'gemini':
        return this.config.geminiApiKey;
      case 'turbotext':
        return this.config.turbotextApiKey;
    }
  }
}

function storedValues(stored: StoredSettings): Partial<NumericValues> {
  const values: Partial<NumericValues> = {};
  for (const name of NUMERIC_SETTING_NAMES) {
    const value = stored.values[name];
    if (isInRange(name, value)) values[name] = value;
  }
  return values;
}

function requestedValues(input: UpdateSettingsDto): Partial<NumericValues> {
  const sent: Record<NumericSetting, number | undefined> = {
    sync_response_seconds: input.sync_response_seconds,
    result_ttl_hours: input.result_ttl_hours,
    max_upload_mb: input.max_upload_mb,
    max_input_megapixels: input.max_input_megapixels,
    slot_concurrency: input.slot_concurrency,
    'provider_concurrency.gemini': input.provider_concurrency?.gemini,
    'provider_concurrency.turbotext': input.provider_concurrency?.turbotext,
    provider_max_edge_px: input.provider_max_edge_px,
  };
  const values: Partial<NumericValues> = {};
  for (const name of NUMERIC_SETTING_NAMES) {
    const value = sent[name];
    if (value !== undefined) values[name] = value;
  }
  return values;
}

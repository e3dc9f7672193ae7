import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuditEntry, AuditRepository } from '../audit/audit.repository';
import { PROVIDER_IDS, ProviderId } from '../providers/provider-catalog';
import { AppSettingEntity } from './app-setting.entity';

/** The row whose version is the settings version and whose lock serialises every update. */
const RUNTIME_KEY = 'runtime';
const INGEST_PASSWORD_KEY = 'ingest_password';

export function providerKeyRow(provider: ProviderId): string {
  return `provider_key.${provider}`;
}

const ALL_KEYS = [RUNTIME_KEY, INGEST_PASSWORD_KEY, ...PROVIDER_IDS.map(providerKeyRow)];

/** What app_settings holds, read in one query. */
export interface StoredSettings {
  /** 1 until the first save. */
  version: number;
  /** Only the values an admin has set, by dotted path; the service fills in defaults. */
  values: Record<string, unknown>;
  ingestPassword: { hash: string; rotatedAt: Date; rotatedBy: string | null } | null;
  /** Sealed (encrypted) keys, present only when stored. */
  providerKeys: Partial<Record<ProviderId, { sealed: string; updatedAt: Date }>>;
}

export interface SettingsWrite {
  version: number;
  values: Record<string, number>;
  /** Only when the password is rotated. */
  ingestPasswordHash?: string;
  /** A sealed key to store, or null to delete; absent providers are left alone. */
  providerKeys: Partial<Record<ProviderId, string | null>>;
  at: Date;
  actor: string;
  audit?: AuditEntry;
}

@Injectable()
export class SettingsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  load(): Promise<StoredSettings> {
    return this.read(this.dataSource.manager);
  }

  /**
   * Runs `decide` on the current settings while holding the row lock, then applies what it
   * returns together with its audit entry, all in one transaction: concurrent updates queue up
   * instead of overwriting each other. Returns the settings as committed.
   */
  async update(
    decide: (current: StoredSettings) => SettingsWrite | Promise<SettingsWrite>,
  ): Promise<StoredSettings> {
    return this.dataSource.transaction(async (manager) => {
      // A fresh database has no row to lock yet; a concurrent insert waits for ours to commit.
      await manager
        .createQueryBuilder()
        .insert()
        .into(AppSettingEntity)
        .values({ key: RUNTIME_KEY, value: {}, version: 1, updatedAt: new Date(), updatedBy: null })
        .orIgnore()
        .execute();
      await manager.findOneOrFail(AppSettingEntity, {
        where: { key: RUNTIME_KEY },
        lock: { mode: 'pessimistic_write' },
      });
      const write = await decide(await this.read(manager));
      await this.apply(manager, write);
      if (write.audit) await this.audit.record(write.audit, write.at, manager);
      return this.read(manager);
    });
  }

  private async apply(manager: EntityManager, write: SettingsWrite): Promise<void> {
    const row = (key: string, value: Record<string, unknown>) => ({
      key,
      value,
      version: write.version,
      updatedAt: write.at,
      updatedBy: write.actor,
    });
    await manager.upsert(AppSettingEntity, row(RUNTIME_KEY, write.values), ['key']);
    if (write.ingestPasswordHash !== undefined) {
      const hash = write.ingestPasswordHash;
      await manager.upsert(AppSettingEntity, row(INGEST_PASSWORD_KEY, { hash }), ['key']);
    }
    for (const provider of PROVIDER_IDS) {
      const sealed = write.providerKeys[provider];
      if (sealed === undefined) continue;
      if (sealed === null)
        await manager.delete(AppSettingEntity, { key: providerKeyRow(provider) });
      else
        await manager.upsert(AppSettingEntity, row(providerKeyRow(provider), { sealed }), ['key']);
    }
  }

  private async read(manager: EntityManager): Promise<StoredSettings> {
    const rows = await manager.find(AppSettingEntity, { where: { key: In(ALL_KEYS) } });
    const byKey = new Map(rows.map((row) => [row.key, row]));
    const runtime = byKey.get(RUNTIME_KEY);
    const password = byKey.get(INGEST_PASSWORD_KEY);
    const passwordHash = stringField(password?.value, 'hash');
    const providerKeys: StoredSettings['providerKeys'] = {};
    for (const provider of PROVIDER_IDS) {
      const keyRow = byKey.get(providerKeyRow(provider));
      const sealed = stringField(keyRow?.value, 'sealed');
      if (keyRow && sealed) providerKeys[provider] = { sealed, updatedAt: keyRow.updatedAt };
    }
    return {
      version: runtime?.version ?? 1,
      values: isRecord(runtime?.value) ? runtime.value : {},
      ingestPassword:
        password && passwordHash
          ? { hash: passwordHash, rotatedAt: password.updatedAt, rotatedBy: password.updatedBy }
          : null,
      providerKeys,
    };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(value: unknown, field: string): string | undefined {
  const found = isRecord(value) ? value[field] : undefined;
  return typeof found === 'string' && found !== '' ? found : undefined;
}

import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  OnInit,
  signal,
} from '@angular/core';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import type { ProviderId, Settings, SettingsUpdate } from '../../core/api/api-types';
import { ConfirmService } from '../../core/ui/confirm.service';
import { formatDateTime, PROVIDER_NAMES } from '../../core/ui/format';
import { ToastService } from '../../core/ui/toast.service';
import type { HasUnsavedChanges } from '../../core/ui/unsaved-changes.guard';
import { AsyncState } from '../../shared/async-state';
import { FormActions } from '../../shared/form-actions';

interface NumberSetting {
  key: string;
  label: string;
  hint: string;
  min: number;
  max: number;
  read: (settings: Settings) => number;
}

const LIMITS: NumberSetting[] = [
  {
    key: 'result_ttl_hours',
    label: 'Хранение результатов, часов',
    hint: 'Через сколько часов результаты и их ссылки удаляются.',
    min: 1,
    max: 168,
    read: (s) => s.result_ttl_hours,
  },
  {
    key: 'max_upload_mb',
    label: 'Максимальный размер снимка, МБ',
    hint: 'Больший файл отклоняется (413) ещё до загрузки.',
    min: 1,
    max: 50,
    read: (s) => s.max_upload_mb,
  },
  {
    key: 'max_input_megapixels',
    label: 'Максимум мегапикселей снимка',
    hint: 'Защита от огромных изображений.',
    min: 1,
    max: 100,
    read: (s) => s.max_input_megapixels,
  },
  {
    key: 'slot_concurrency',
    label: 'Одновременных снимков на слот',
    hint: 'Сверх лимита фотобудка получает 429 и повторяет.',
    min: 1,
    max: 50,
    read: (s) => s.slot_concurrency,
  },
  {
    key: 'provider_concurrency.gemini',
    label: 'Одновременных запросов к Gemini',
    hint: 'Лишние ждут очереди в пределах T_sync_response.',
    min: 1,
    max: 200,
    read: (s) => s.provider_concurrency.gemini,
  },
  {
    key: 'provider_concurrency.turbotext',
    label: 'Одновременных запросов к Turbotext',
    hint: 'Лишние ждут очереди в пределах T_sync_response.',
    min: 1,
    max: 200,
    read: (s) => s.provider_concurrency.turbotext,
  },
  {
    key: 'provider_max_edge_px',
    label: 'Длинная сторона фото для провайдера, px',
    hint: 'Снимок уменьшается до этого размера перед отправкой.',
    min: 512,
    max: 4096,
    read: (s) => s.provider_max_edge_px,
  },
];

const PROVIDERS: ProviderId[] = ['gemini', 'turbotext'];

interface Draft {
  syncSeconds: number;
  limits: Record<string, string>;
  ingestPassword: string;
  keys: Record<ProviderId, string>;
  deleteKeys: Record<ProviderId, boolean>;
}

/** Global settings: ingest password, T_sync_response, limits, provider keys, cache purge. */
@Component({
  selector: 'pc-settings-page',
  imports: [AsyncState, FormActions],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-head">
      <div>
        <p class="eyebrow">Глобальные параметры</p>
        <h1>Настройки платформы</h1>
      </div>
    </header>
    <pc-async-state [loading]="loading()" [error]="loadError()" (retry)="load()" />
    @if (settings(); as current) {
      <form class="card card-form" (submit)="$event.preventDefault(); save()" novalidate>
        <h2>Приём снимков</h2>
        <div class="field field-wide">
          <label for="sync-seconds"
            >Синхронный таймаут T_sync_response:
            <output for="sync-seconds" data-testid="sync-value"
              >{{ draft().syncSeconds }} с</output
            ></label
          >
          <input
            id="sync-seconds"
            type="range"
            min="10"
            max="60"
            step="1"
            [value]="draft().syncSeconds"
            aria-describedby="sync-hint"
            [attr.aria-valuetext]="draft().syncSeconds + ' секунд'"
            (input)="patch({ syncSeconds: +$any($event.target).value })"
          />
          <div class="range-scale" aria-hidden="true"><span>10 с</span><span>60 с</span></div>
          <span class="hint" id="sync-hint">
            Сколько фотобудка ждёт обработанное фото (по умолчанию 48 с). После этого сервер
            отвечает 504, и печатается оригинал. Таймаут в DSLR Remote Pro должен быть больше.
          </span>
          @if (errors()['sync_response_seconds']; as message) {
            <span class="field-error" role="alert">{{ message }}</span>
          }
        </div>

        <div class="field field-wide">
          <label for="ingest-password">Новый ingest-пароль</label>
          <input
            id="ingest-password"
            type="password"
            autocomplete="new-password"
            placeholder="Оставьте пустым, чтобы не менять"
            [value]="draft().ingestPassword"
            [attr.aria-invalid]="!!errors()['ingest_password']"
            aria-describedby="ingest-password-hint"
            (input)="patch({ ingestPassword: $any($event.target).value })"
          />
          @if (errors()['ingest_password']; as message) {
            <span class="field-error" role="alert">{{ message }}</span>
          }
          <span class="hint" id="ingest-password-hint">
            @if (current.ingest_password_set) {
              Пароль задан
              @if (current.ingest_password_rotated_at) {
                · обновлён {{ formatDateTime(current.ingest_password_rotated_at) }}
                @if (current.ingest_password_rotated_by) {
                  ({{ current.ingest_password_rotated_by }})
                }
              }
              . Сервер хранит только его хеш, поэтому показать пароль нельзя.
            } @else {
              Пароль не задан: фотобудка получит 401, пока вы его не укажете (от 8 символов).
            }
          </span>
        </div>

        <h2>Хранение и лимиты</h2>
        <div class="form-grid">
          @for (setting of limits; track setting.key) {
            <div class="field">
              <label [for]="'limit-' + setting.key">{{ setting.label }}</label>
              <input
                type="number"
                [id]="'limit-' + setting.key"
                [attr.min]="setting.min"
                [attr.max]="setting.max"
                step="1"
                [value]="draft().limits[setting.key]"
                [attr.aria-invalid]="!!errors()[setting.key]"
                (input)="setLimit(setting.key, $any($event.target).value)"
              />
              @if (errors()[setting.key]; as message) {
                <span class="field-error" role="alert">{{ message }}</span>
              } @else {
                <span class="hint">{{ setting.hint }} ({{ setting.min }}–{{ setting.max }})</span>
              }
            </div>
          }
        </div>

        <h2>API-ключи провайдеров</h2>
        <p class="hint">
          Ключи хранятся зашифрованными и никогда не показываются. Введите новый ключ, чтобы
          заменить текущий.
        </p>
        @for (provider of providers; track provider) {
          @let status = current.provider_keys[provider];
          <div class="key-card">
            <div class="key-head">
              <strong>{{ providerName(provider) }}</strong>
              @if (draft().deleteKeys[provider]) {
                <span class="pill pill-warn"
                  ><span class="dot"></span>Будет удалён при сохранении</span
                >
              } @else if (status.configured) {
                <span class="pill pill-ok"><span class="dot"></span>Ключ настроен</span>
              } @else {
                <span class="pill pill-muted"><span class="dot"></span>Ключ не настроен</span>
              }
            </div>
            <span class="hint">
              @if (status.updated_at) {
                Сохранён {{ formatDateTime(status.updated_at) }}.
              } @else if (status.configured) {
                Ключ задан переменной окружения сервера.
              }
            </span>
            <div class="copy-field">
              <input
                type="password"
                autocomplete="off"
                [attr.aria-label]="'Новый ключ ' + providerName(provider)"
                placeholder="Новый ключ"
                [value]="draft().keys[provider]"
                [attr.aria-invalid]="!!errors()['provider_keys.' + provider]"
                (input)="setKey(provider, $any($event.target).value)"
              />
              @if (status.updated_at && !draft().deleteKeys[provider]) {
                <button type="button" class="btn btn-ghost" (click)="deleteKey(provider)">
                  Удалить ключ
                </button>
              }
            </div>
            @if (errors()['provider_keys.' + provider]; as message) {
              <span class="field-error" role="alert">{{ message }}</span>
            }
          </div>
        }

        <pc-form-actions
          [error]="saveError()"
          [dirty]="dirty()"
          [saving]="saving()"
          (discard)="discard()"
        />
      </form>

      <section class="card" aria-labelledby="cache-title">
        <h2 id="cache-title">Мультимедиа кеш</h2>
        <button type="button" class="btn btn-ghost" [disabled]="purging()" (click)="purge()">
          Очистить мультимедиа кеш
        </button>
        <p class="hint">
          Удаляет временные файлы для провайдеров и результаты с истёкшим сроком хранения. Шаблоны и
          действующие результаты не затрагиваются. Очистка также выполняется автоматически каждые 15
          минут.
        </p>
      </section>
    }
  `,
})
export class SettingsPage implements OnInit, HasUnsavedChanges {
  private readonly api = inject(ApiClient);
  private readonly confirm = inject(ConfirmService);
  private readonly toasts = inject(ToastService);

  protected readonly limits = LIMITS;
  protected readonly providers = PROVIDERS;
  protected readonly settings = signal<Settings | null>(null);
  protected readonly loading = signal(true);
  protected readonly loadError = signal<string | null>(null);
  protected readonly saving = signal(false);
  protected readonly purging = signal(false);
  protected readonly saveError = signal<string | null>(null);
  protected readonly errors = signal<Record<string, string>>({});
  protected readonly draft = signal<Draft>(blankDraft());
  private readonly pristine = signal('');
  protected readonly dirty = computed(
    () => this.settings() !== null && JSON.stringify(this.draft()) !== this.pristine(),
  );
  protected readonly formatDateTime = formatDateTime;

  ngOnInit(): void {
    void this.load();
  }

  hasUnsavedChanges(): boolean {
    return this.dirty();
  }

  async load(): Promise<void> {
    this.loading.set(true);
    this.loadError.set(null);
    try {
      this.reset(await this.api.settings());
    } catch (error) {
      this.loadError.set(
        error instanceof ApiError ? error.message : 'Не удалось загрузить настройки.',
      );
    } finally {
      this.loading.set(false);
    }
  }

  protected providerName(id: ProviderId): string {
    return PROVIDER_NAMES[id] ?? id;
  }

  protected patch(change: Partial<Draft>): void {
    this.draft.update((draft) => ({ ...draft, ...change }));
  }

  protected setLimit(key: string, value: string): void {
    this.draft.update((draft) => ({ ...draft, limits: { ...draft.limits, [key]: value } }));
  }

  protected setKey(provider: ProviderId, value: string): void {
    this.draft.update((draft) => ({
      ...draft,
      keys: { ...draft.keys, [provider]: value },
      deleteKeys: { ...draft.deleteKeys, [provider]: false },
    }));
  }

  protected async deleteKey(provider: ProviderId): Promise<void> {
    const confirmed = await this.confirm.ask({
      title: `Удалить ключ ${this.providerName(provider)}?`,
      message:
        'После сохранения слоты этого провайдера перестанут работать (если ключ не задан переменной окружения).',
      confirmLabel: 'Удалить при сохранении',
      danger: true,
    });
    if (!confirmed) return;
    this.draft.update((draft) => ({
      ...draft,
      keys: { ...draft.keys, [provider]: '' },
      deleteKeys: { ...draft.deleteKeys, [provider]: true },
    }));
  }

  protected async save(): Promise<void> {
    const current = this.settings();
    if (!current || this.saving()) return;
    const draft = this.draft();
    const errors: Record<string, string> = {};
    const body: SettingsUpdate = { version: current.version };
    if (draft.syncSeconds !== current.sync_response_seconds) {
      body.sync_response_seconds = draft.syncSeconds;
    }
    const concurrency: { gemini?: number; turbotext?: number } = {};
    for (const setting of LIMITS) {
      const text = draft.limits[setting.key]?.trim() ?? '';
      const value = Number(text);
      if (!/^\d+$/.test(text) || value < setting.min || value > setting.max) {
        errors[setting.key] = `Целое число от ${setting.min} до ${setting.max}.`;
        continue;
      }
      if (value === setting.read(current)) continue;
      if (setting.key.startsWith('provider_concurrency.')) {
        concurrency[setting.key.split('.')[1] as ProviderId] = value;
      } else {
        (body as Record<string, unknown>)[setting.key] = value;
      }
    }
    if (Object.keys(concurrency).length > 0) body.provider_concurrency = concurrency;
    if (draft.ingestPassword !== '') {
      if (draft.ingestPassword.length < 8) errors['ingest_password'] = 'Не короче 8 символов.';
      else if (draft.ingestPassword.length > 256)
        errors['ingest_password'] = 'Не длиннее 256 символов.';
      else body.ingest_password = draft.ingestPassword;
    }
    const keys: Partial<Record<ProviderId, string | null>> = {};
    for (const provider of PROVIDERS) {
      const key = draft.keys[provider].trim();
      if (draft.deleteKeys[provider]) keys[provider] = null;
      else if (key !== '') {
        if (!/^[\x21-\x7e]+$/.test(key)) {
          errors[`provider_keys.${provider}`] =
            'Только латинские буквы, цифры и знаки, без пробелов.';
        } else keys[provider] = key;
      }
    }
    if (Object.keys(keys).length > 0) body.provider_keys = keys;
    this.errors.set(errors);
    if (Object.keys(errors).length > 0) {
      this.saveError.set('Исправьте отмеченные поля.');
      return;
    }

    this.saving.set(true);
    this.saveError.set(null);
    let failure: { error: unknown } | undefined;
    try {
      this.reset(await this.api.saveSettings(body));
      this.toasts.show('Настройки сохранены');
    } catch (error) {
      failure = { error };
    } finally {
      this.saving.set(false);
    }
    // After the button is back: a version conflict asks in a modal.
    if (failure) await this.onSaveError(failure.error);
  }

  private async onSaveError(error: unknown): Promise<void> {
    if (!(error instanceof ApiError)) {
      this.saveError.set('Не удалось сохранить настройки.');
      return;
    }
    this.saveError.set(error.message);
    if (error.code === 'validation_failed') this.errors.set({ ...error.fields });
    if (error.code === 'version_conflict') {
      const reload = await this.confirm.ask({
        title: 'Настройки изменены другим администратором',
        message: 'Загрузить актуальные настройки? Ваши несохранённые изменения пропадут.',
        confirmLabel: 'Загрузить заново',
        cancelLabel: 'Остаться',
        danger: true,
      });
      if (reload) await this.load();
    }
  }

  protected async discard(): Promise<void> {
    const confirmed = await this.confirm.ask({
      title: 'Отменить изменения?',
      message: 'Форма вернётся к сохранённым настройкам.',
      confirmLabel: 'Отменить изменения',
      cancelLabel: 'Продолжить редактирование',
      danger: true,
    });
    const current = this.settings();
    if (confirmed && current) this.reset(current);
  }

  protected async purge(): Promise<void> {
    const confirmed = await this.confirm.ask({
      title: 'Очистить мультимедиа кеш?',
      message:
        'Будут удалены временные файлы и результаты с истёкшим сроком хранения. Шаблоны и действующие результаты останутся.',
      confirmLabel: 'Очистить',
      danger: true,
    });
    if (!confirmed) return;
    this.purging.set(true);
    try {
      await this.api.purgeMediaCache();
      this.toasts.show('Очистка кеша запущена');
    } catch (error) {
      this.toasts.show(
        error instanceof ApiError ? error.message : 'Не удалось запустить очистку.',
        'error',
      );
    } finally {
      this.purging.set(false);
    }
  }

  private reset(settings: Settings): void {
    const draft: Draft = {
      syncSeconds: settings.sync_response_seconds,
      limits: Object.fromEntries(
        LIMITS.map((setting) => [setting.key, String(setting.read(settings))]),
      ),
      ingestPassword: '',
      keys: { gemini: '', turbotext: '' },
      deleteKeys: { gemini: false, turbotext: false },
    };
    this.settings.set(settings);
    this.draft.set(draft);
    this.pristine.set(JSON.stringify(draft));
    this.errors.set({});
    this.saveError.set(null);
  }
}

function blankDraft(): Draft {
  return {
    syncSeconds: 48,
    limits: {},
    ingestPassword: '',
    keys: { gemini: '', turbotext: '' },
    deleteKeys: { gemini: false, turbotext: false },
  };
}

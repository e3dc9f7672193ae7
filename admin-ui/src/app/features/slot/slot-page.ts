import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  signal,
  untracked,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import type { Provider, ProviderId, SlotDetail, SlotUpdate } from '../../core/api/api-types';
import { copyText } from '../../core/ui/clipboard';
import { ConfirmService } from '../../core/ui/confirm.service';
import { formatDateTime, TEMPLATE_KIND_LABELS } from '../../core/ui/format';
import { ToastService } from '../../core/ui/toast.service';
import type { HasUnsavedChanges } from '../../core/ui/unsaved-changes.guard';
import { AsyncState } from '../../shared/async-state';
import { FormActions } from '../../shared/form-actions';
import { GallerySharePanel } from './gallery-share-panel';
import { RecentResults } from './recent-results';
import {
  fieldsFromSchema,
  FormValues,
  initialValues,
  settingsFromValues,
  splitServerErrors,
  validateValues,
} from './schema-form';
import { SchemaFormFields } from './schema-form-fields';
import { EditableTemplate, TemplatePicker } from './template-picker';
import { TestRunPanel } from './test-run-panel';

interface Draft {
  name: string;
  active: boolean;
  provider: ProviderId | '';
  operation: string;
  values: FormValues;
  templates: EditableTemplate[];
}

/** One slot: its provider, operation and settings form, templates, test, gallery and results. */
@Component({
  selector: 'pc-slot-page',
  imports: [
    RouterLink,
    AsyncState,
    FormActions,
    SchemaFormFields,
    TemplatePicker,
    TestRunPanel,
    GallerySharePanel,
    RecentResults,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <nav class="breadcrumbs" aria-label="Навигация"><a routerLink="/slots">← Все слоты</a></nav>
    <pc-async-state [loading]="loading()" [error]="loadError()" (retry)="load()" />
    @if (slot(); as current) {
      <section class="card card-form">
        <header class="card-head">
          <div>
            <h1>Слот — AI обработка</h1>
            <p class="subtitle">
              {{ current.id }}
              @if (selectedProvider(); as provider) {
                · {{ provider.name }}
              }
              @if (current.updated_by) {
                · изменён {{ formatDateTime(current.updated_at) }} ({{ current.updated_by }})
              }
            </p>
          </div>
          @if (dirty()) {
            <span class="pill pill-warn" role="status"
              ><span class="dot"></span>Есть несохранённые изменения</span
            >
          }
        </header>

        <form (submit)="$event.preventDefault(); save()" novalidate>
          <div class="form-grid">
            <div class="field field-wide">
              <label for="slot-name"
                >Название <span class="required" aria-hidden="true">*</span></label
              >
              <input
                id="slot-name"
                type="text"
                maxlength="100"
                placeholder="Например: Портрет в студии"
                [value]="draft().name"
                [attr.aria-invalid]="!!formErrors()['display_name']"
                aria-describedby="slot-name-hint"
                (input)="patch({ name: $any($event.target).value })"
              />
              @if (formErrors()['display_name']; as message) {
                <span class="field-error" role="alert">{{ message }}</span>
              } @else {
                <span class="hint" id="slot-name-hint"
                  >Название появится в списке слотов и в галерее.</span
                >
              }
            </div>

            <div class="field">
              <label for="slot-provider">Провайдер</label>
              <select id="slot-provider" (change)="chooseProvider($any($event.target).value)">
                <option value="" [selected]="draft().provider === ''">— не выбран —</option>
                @for (provider of providers(); track provider.id) {
                  <option [value]="provider.id" [selected]="draft().provider === provider.id">
                    {{ provider.name }}{{ provider.configured ? '' : ' (нет API-ключа)' }}
                  </option>
                }
              </select>
              @if (selectedProvider(); as provider) {
                @if (!provider.configured) {
                  <span class="field-error"
                    >API-ключ {{ provider.name }} не задан: укажите его в настройках.</span
                  >
                }
              }
            </div>

            <div class="field">
              <label for="slot-operation">Операция</label>
              <select
                id="slot-operation"
                [disabled]="!selectedProvider()"
                [attr.aria-invalid]="!!formErrors()['operation']"
                (change)="chooseOperation($any($event.target).value)"
              >
                @for (operation of selectedProvider()?.operations ?? []; track operation.id) {
                  <option [value]="operation.id" [selected]="draft().operation === operation.id">
                    {{ operation.name }}
                  </option>
                }
              </select>
              @if (formErrors()['operation']; as message) {
                <span class="field-error" role="alert">{{ message }}</span>
              }
            </div>

            <div class="field field-wide">
              <label class="switch" for="slot-active">
                <input
                  id="slot-active"
                  type="checkbox"
                  [checked]="draft().active"
                  (change)="patch({ active: $any($event.target).checked })"
                />
                <span class="switch-track" aria-hidden="true"></span>
                <span>Слот активен (принимает снимки с фотобудки)</span>
              </label>
            </div>
          </div>

          @if (fields().length > 0) {
            <fieldset class="group">
              <legend>Параметры операции</legend>
              <div class="form-grid">
                <pc-schema-form-fields
                  class="contents"
                  [fields]="fields()"
                  [values]="draft().values"
                  (valuesChange)="patch({ values: $event })"
                  [errors]="settingsErrors()"
                />
              </div>
            </fieldset>
          }

          <fieldset class="group">
            <legend>Шаблонные изображения</legend>
            <pc-template-picker
              [slotId]="current.id"
              [operation]="selectedOperation()"
              [templates]="draft().templates"
              (templatesChange)="patch({ templates: $event })"
              (uploaded)="uploadedIds.add($event)"
            />
            @if (formErrors()['template_media']; as message) {
              <p class="field-error" role="alert">{{ message }}</p>
            }
          </fieldset>

          <fieldset class="group">
            <legend>Протестировать AI обработку</legend>
            <pc-test-run-panel [slotId]="current.id" [unsaved]="dirty()" />
          </fieldset>

          <div class="field field-wide">
            <label for="ingest-link">Ingest-ссылка слота</label>
            <div class="copy-field">
              <input id="ingest-link" type="text" readonly [value]="current.ingest_url" />
              <button type="button" class="btn btn-primary" (click)="copy(current.ingest_url)">
                Копировать
              </button>
            </div>
            <span class="hint"
              >Эту ссылку указывают в DSLR Remote Pro (HTTP POST) вместе с ingest-паролем.</span
            >
          </div>

          @for (warning of warnings(); track warning) {
            <div class="alert alert-info" role="status">{{ warning }}</div>
          }
          <pc-form-actions
            [error]="saveError()"
            [dirty]="dirty()"
            [saving]="saving()"
            (discard)="discard()"
          />
        </form>
      </section>

      <section class="card" aria-labelledby="share-title">
        <h2 id="share-title">Публичная галерея</h2>
        <pc-gallery-share-panel [slotId]="current.id" />
      </section>

      <section class="card" aria-labelledby="results-title">
        <h2 id="results-title">Последние результаты</h2>
        <pc-recent-results [results]="current.recent_results" (refresh)="refreshResults()" />
      </section>
    }
  `,
})
export class SlotPage implements HasUnsavedChanges {
  private readonly api = inject(ApiClient);
  private readonly confirm = inject(ConfirmService);
  private readonly toasts = inject(ToastService);

  /** The route's `:id`. */
  readonly id = input.required<string>();

  protected readonly slot = signal<SlotDetail | null>(null);
  protected readonly providers = signal<Provider[]>([]);
  protected readonly loading = signal(true);
  protected readonly loadError = signal<string | null>(null);
  protected readonly saving = signal(false);
  protected readonly saveError = signal<string | null>(null);
  protected readonly formErrors = signal<Record<string, string>>({});
  protected readonly settingsErrors = signal<Record<string, string>>({});
  protected readonly warnings = signal<string[]>([]);
  protected readonly draft = signal<Draft>(emptyDraft());
  private readonly saved = signal<string>(JSON.stringify(emptyDraft()));
  /** Templates uploaded on this page: deleted after a save that leaves them unbound. */
  protected readonly uploadedIds = new Set<string>();
  protected readonly formatDateTime = formatDateTime;

  protected readonly selectedProvider = computed(
    () => this.providers().find((provider) => provider.id === this.draft().provider) ?? null,
  );
  protected readonly selectedOperation = computed(
    () =>
      this.selectedProvider()?.operations.find((op) => op.id === this.draft().operation) ?? null,
  );
  protected readonly fields = computed(() =>
    fieldsFromSchema(this.selectedOperation()?.settings_schema),
  );
  protected readonly dirty = computed(
    () => this.slot() !== null && JSON.stringify(this.draft()) !== this.saved(),
  );

  constructor() {
    effect(() => {
      this.id();
      untracked(() => void this.load());
    });
  }

  hasUnsavedChanges(): boolean {
    return this.dirty();
  }

  async load(): Promise<void> {
    this.loading.set(true);
    this.loadError.set(null);
    try {
      const [slot, providers] = await Promise.all([this.api.slot(this.id()), this.api.providers()]);
      this.providers.set(providers);
      this.reset(slot);
    } catch (error) {
      this.loadError.set(error instanceof ApiError ? error.message : 'Не удалось загрузить слот.');
    } finally {
      this.loading.set(false);
    }
  }

  protected patch(change: Partial<Draft>): void {
    this.draft.update((draft) => ({ ...draft, ...change }));
  }

  protected chooseProvider(id: string): void {
    const provider = this.providers().find((item) => item.id === id) ?? null;
    const operation = provider?.operations[0]?.id ?? '';
    this.switchOperation((id as ProviderId | '') || '', operation);
  }

  protected chooseOperation(id: string): void {
    this.switchOperation(this.draft().provider, id);
  }

  /** Carries over the values that mean the same in the new form (a prompt stays a prompt). */
  private switchOperation(provider: ProviderId | '', operation: string): void {
    const carried = settingsFromValues(this.fields(), this.draft().values);
    const schema = this.providers()
      .find((item) => item.id === provider)
      ?.operations.find((op) => op.id === operation)?.settings_schema;
    const fields = fieldsFromSchema(schema);
    const known = new Set(fields.map((field) => field.key));
    const kept = Object.fromEntries(Object.entries(carried).filter(([key]) => known.has(key)));
    this.patch({ provider, operation, values: initialValues(fields, kept) });
    this.settingsErrors.set({});
  }

  protected async save(): Promise<void> {
    const current = this.slot();
    if (!current || this.saving()) return;
    const draft = this.draft();
    const formErrors: Record<string, string> = {};
    const name = draft.name.trim();
    if (name === '') formErrors['display_name'] = 'Обязательное поле.';
    else if (name.length > 100) formErrors['display_name'] = 'Не длиннее 100 символов.';
    const operation = this.selectedOperation();
    if (draft.provider && !operation) formErrors['operation'] = 'Выберите операцию.';
    const accepted = new Set([
      ...(operation?.required_templates ?? []),
      ...(operation?.optional_templates ?? []),
    ]);
    const templates = operation
      ? draft.templates.filter((template) => accepted.has(template.media_kind))
      : draft.templates;
    const missing = (operation?.required_templates ?? []).filter(
      (kind) => !templates.some((template) => template.media_kind === kind),
    );
    if (missing.length > 0) {
      formErrors['template_media'] =
        `Загрузите обязательный шаблон: ${missing.map((kind) => TEMPLATE_KIND_LABELS[kind] ?? kind).join(', ')}.`;
    }
    const settingsErrors = validateValues(this.fields(), draft.values);
    this.formErrors.set(formErrors);
    this.settingsErrors.set(settingsErrors);
    if (Object.keys(formErrors).length > 0 || Object.keys(settingsErrors).length > 0) {
      this.saveError.set('Исправьте отмеченные поля.');
      focusFirstInvalid();
      return;
    }

    const body: SlotUpdate = {
      display_name: name,
      provider: draft.provider || null,
      operation: draft.provider ? draft.operation : null,
      is_active: draft.active,
      settings: draft.provider ? settingsFromValues(this.fields(), draft.values) : {},
      template_media: templates.map((template) => ({
        media_kind: template.media_kind,
        template_media_id: template.template_media_id,
      })),
      version: current.version,
    };
    this.saving.set(true);
    this.saveError.set(null);
    let failure: { error: unknown } | undefined;
    try {
      const saved = await this.api.saveSlot(current.id, body);
      const before = new Set([
        ...current.template_media.map((template) => template.template_media_id),
        ...this.uploadedIds,
      ]);
      this.reset(saved);
      this.warnings.set(saved.warnings ?? []);
      this.toasts.show('Слот сохранён');
      void this.deleteUnbound(before, saved);
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
      this.saveError.set('Не удалось сохранить слот.');
      return;
    }
    if (error.code === 'version_conflict') {
      this.saveError.set(error.message);
      const reload = await this.confirm.ask({
        title: 'Слот изменён другим администратором',
        message:
          'Пока вы редактировали, слот сохранили с другими настройками. Загрузить актуальную версию? Ваши несохранённые изменения пропадут.',
        confirmLabel: 'Загрузить заново',
        cancelLabel: 'Остаться',
        danger: true,
      });
      if (reload) await this.load();
      return;
    }
    if (error.code === 'validation_failed') {
      const { settings, other } = splitServerErrors(error.fields);
      this.settingsErrors.set(settings);
      this.formErrors.set(other);
      const unplaced = Object.entries(other).filter(
        ([key]) => !['display_name', 'operation', 'template_media'].includes(key),
      );
      this.saveError.set(
        unplaced.length > 0
          ? `${error.message} ${unplaced.map(([key, message]) => `${key}: ${message}`).join(' ')}`
          : error.message,
      );
      focusFirstInvalid();
      return;
    }
    this.saveError.set(error.message);
  }

  /** Templates this page knew that the saved slot no longer binds are not needed any more. */
  private async deleteUnbound(candidates: Set<string>, saved: SlotDetail): Promise<void> {
    const bound = new Set(saved.template_media.map((template) => template.template_media_id));
    for (const id of candidates) {
      if (bound.has(id)) continue;
      this.uploadedIds.delete(id);
      // 409 template_in_use: another slot binds it; it stays.
      await this.api.deleteTemplate(id).catch(() => undefined);
    }
  }

  protected async discard(): Promise<void> {
    const confirmed = await this.confirm.ask({
      title: 'Отменить изменения?',
      message: 'Форма вернётся к сохранённым настройкам слота.',
      confirmLabel: 'Отменить изменения',
      cancelLabel: 'Продолжить редактирование',
      danger: true,
    });
    const slot = this.slot();
    if (confirmed && slot) this.reset(slot);
  }

  protected async refreshResults(): Promise<void> {
    try {
      const fresh = await this.api.slot(this.id());
      this.slot.update((slot) =>
        slot ? { ...slot, recent_results: fresh.recent_results } : fresh,
      );
    } catch (error) {
      this.toasts.show(error instanceof ApiError ? error.message : 'Не удалось обновить', 'error');
    }
  }

  protected async copy(text: string): Promise<void> {
    const copied = await copyText(text);
    this.toasts.show(
      copied ? 'Ссылка скопирована' : 'Не удалось скопировать',
      copied ? 'success' : 'error',
    );
  }

  private reset(slot: SlotDetail): void {
    const provider = this.providers().find((item) => item.id === slot.provider);
    const operation = provider?.operations.find((op) => op.id === slot.operation);
    const draft: Draft = {
      name: slot.display_name,
      active: slot.is_active,
      provider: slot.provider ?? '',
      operation: slot.operation ?? '',
      values: initialValues(fieldsFromSchema(operation?.settings_schema), slot.settings),
      templates: slot.template_media.map((template) => ({
        media_kind: template.media_kind,
        template_media_id: template.template_media_id,
        preview_url: template.preview_url,
      })),
    };
    this.slot.set(slot);
    this.draft.set(draft);
    this.saved.set(JSON.stringify(draft));
    this.formErrors.set({});
    this.settingsErrors.set({});
    this.saveError.set(null);
  }
}

function emptyDraft(): Draft {
  return { name: '', active: false, provider: '', operation: '', values: {}, templates: [] };
}

function focusFirstInvalid(): void {
  setTimeout(() => document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}

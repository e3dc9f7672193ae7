import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  input,
  model,
  output,
  signal,
} from '@angular/core';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import type { ProviderOperation } from '../../core/api/api-types';
import { ConfirmService } from '../../core/ui/confirm.service';
import { TEMPLATE_KIND_LABELS } from '../../core/ui/format';
import { AuthedImage } from '../../shared/authed-image';
import { DropZone } from '../../shared/drop-zone';

export interface EditableTemplate {
  media_kind: string;
  template_media_id: string;
  preview_url: string;
}

/** Template images of a slot, by role: the operation's required kinds, then an optional one. */
@Component({
  selector: 'pc-template-picker',
  imports: [AuthedImage, DropZone],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (operation(); as op) {
      @if (requiredKinds().length === 0 && optionalKinds().length === 0) {
        <p class="hint">Эта операция не использует шаблонные изображения.</p>
      }
      @for (kind of requiredKinds(); track kind.id) {
        <section class="template-kind" [attr.aria-label]="kind.label">
          <h4>{{ kind.label }} <span class="badge badge-required">обязательно</span></h4>
          <div class="template-grid">
            @for (template of bound(kind.id); track template.template_media_id) {
              <figure class="template-card">
                <pc-authed-image [src]="template.preview_url" [alt]="kind.label" />
                <button
                  type="button"
                  class="btn btn-small btn-ghost"
                  [attr.aria-label]="'Убрать: ' + kind.label"
                  (click)="remove(template)"
                >
                  Убрать
                </button>
              </figure>
            }
            @if (canAdd(kind.id)) {
              <pc-drop-zone
                [label]="uploading() === kind.id ? 'Загрузка…' : kind.label"
                [disabled]="uploading() !== null"
                [testId]="'template-input-' + kind.id"
                (file)="upload(kind.id, $event)"
              />
            }
          </div>
          @if (uploadError()?.kind === kind.id) {
            <p class="field-error" role="alert">{{ uploadError()?.message }}</p>
          }
        </section>
      }
      @if (optionalKinds().length > 0) {
        <section class="template-kind" aria-label="Дополнительные шаблоны">
          <h4>Дополнительные шаблоны <span class="badge">по желанию</span></h4>
          <div class="template-grid">
            @for (
              template of optionalBound();
              track template.template_media_id + template.media_kind
            ) {
              <figure class="template-card">
                <pc-authed-image [src]="template.preview_url" [alt]="label(template.media_kind)" />
                <figcaption class="hint">{{ label(template.media_kind) }}</figcaption>
                <button
                  type="button"
                  class="btn btn-small btn-ghost"
                  [attr.aria-label]="'Убрать: ' + label(template.media_kind)"
                  (click)="remove(template)"
                >
                  Убрать
                </button>
              </figure>
            }
            @if (canAdd(optionalKind())) {
              <div class="template-add">
                @if (optionalKinds().length > 1) {
                  <label for="template-kind">Роль шаблона</label>
                  <select id="template-kind" (change)="chosenKind.set($any($event.target).value)">
                    @for (kind of optionalKinds(); track kind.id) {
                      <option [value]="kind.id" [selected]="kind.id === optionalKind()">
                        {{ kind.label }}
                      </option>
                    }
                  </select>
                }
                <pc-drop-zone
                  [label]="uploading() !== null ? 'Загрузка…' : label(optionalKind())"
                  [disabled]="uploading() !== null"
                  testId="template-input-optional"
                  (file)="upload(optionalKind(), $event)"
                />
              </div>
            }
          </div>
          @if (uploadError(); as failure) {
            @if (!isRequired(failure.kind)) {
              <p class="field-error" role="alert">{{ failure.message }}</p>
            }
          }
          @if (operation()?.id === 'image_edit' && optionalBound().length > 0) {
            <p class="hint">
              Шаблоны передаются модели после фото гостя; упомяните их в промпте («второе
              изображение — фон»).
            </p>
          }
        </section>
      }
      @if (unused().length > 0) {
        <p class="hint">
          Шаблоны ролей, которые операция «{{ op.name }}» не использует, будут отвязаны при
          сохранении.
        </p>
      }
    } @else {
      <p class="hint">Выберите провайдера и операцию, чтобы добавить шаблоны.</p>
    }
  `,
})
export class TemplatePicker {
  private readonly api = inject(ApiClient);
  private readonly confirm = inject(ConfirmService);

  readonly slotId = input.required<string>();
  readonly operation = input<ProviderOperation | null>(null);
  readonly templates = model.required<EditableTemplate[]>();
  readonly uploaded = output<string>();

  protected readonly uploading = signal<string | null>(null);
  protected readonly uploadError = signal<{ kind: string; message: string } | null>(null);

  protected readonly kinds = computed(() => {
    const op = this.operation();
    if (!op) return [];
    return [
      ...op.required_templates.map((id) => ({ id, required: true })),
      ...op.optional_templates
        .filter((id) => !op.required_templates.includes(id))
        .map((id) => ({ id, required: false })),
    ].map((kind) => ({ ...kind, label: TEMPLATE_KIND_LABELS[kind.id] ?? kind.id }));
  });

  protected readonly requiredKinds = computed(() => this.kinds().filter((kind) => kind.required));
  protected readonly optionalKinds = computed(() => this.kinds().filter((kind) => !kind.required));
  protected readonly chosenKind = signal<string | null>(null);
  protected readonly optionalKind = computed(() => {
    const chosen = this.chosenKind();
    const kinds = this.optionalKinds();
    return kinds.some((kind) => kind.id === chosen) ? chosen! : (kinds[0]?.id ?? '');
  });
  protected readonly optionalBound = computed(() => {
    const optional = new Set(this.optionalKinds().map((kind) => kind.id));
    return this.templates().filter((template) => optional.has(template.media_kind));
  });

  protected readonly unused = computed(() => {
    const accepted = new Set(this.kinds().map((kind) => kind.id));
    return this.templates().filter((template) => !accepted.has(template.media_kind));
  });

  protected label(kind: string): string {
    return TEMPLATE_KIND_LABELS[kind] ?? kind;
  }

  protected isRequired(kind: string): boolean {
    return this.requiredKinds().some((item) => item.id === kind);
  }

  protected bound(kind: string): EditableTemplate[] {
    return this.templates().filter((template) => template.media_kind === kind);
  }

  protected canAdd(kind: string): boolean {
    const limit = this.operation()?.max_templates_per_kind;
    return limit === null || limit === undefined || this.bound(kind).length < limit;
  }

  protected async upload(kind: string, file: File): Promise<void> {
    this.uploading.set(kind);
    this.uploadError.set(null);
    try {
      const media = await this.api.uploadTemplate(file, this.slotId(), kind);
      this.templates.update((list) => [
        ...list,
        { media_kind: kind, template_media_id: media.id, preview_url: media.preview_url },
      ]);
      this.uploaded.emit(media.id);
    } catch (error) {
      const message = error instanceof ApiError ? error.message : 'Не удалось загрузить файл.';
      this.uploadError.set({ kind, message });
    } finally {
      this.uploading.set(null);
    }
  }

  protected async remove(template: EditableTemplate): Promise<void> {
    const confirmed = await this.confirm.ask({
      title: 'Убрать шаблон?',
      message:
        'Шаблон будет отвязан от слота и удалён с сервера после нажатия «Сохранить». До сохранения изменение можно отменить.',
      confirmLabel: 'Убрать',
      danger: true,
    });
    if (!confirmed) return;
    this.templates.update((list) =>
      list.filter(
        (item) =>
          !(
            item.template_media_id === template.template_media_id &&
            item.media_kind === template.media_kind
          ),
      ),
    );
  }
}

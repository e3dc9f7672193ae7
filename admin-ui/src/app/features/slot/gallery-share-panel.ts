import { ChangeDetectionStrategy, Component, effect, inject, input, signal } from '@angular/core';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import type { GalleryLink } from '../../core/api/api-types';
import { copyText } from '../../core/ui/clipboard';
import { ConfirmService } from '../../core/ui/confirm.service';
import { formatDateTime, formatRemaining } from '../../core/ui/format';
import { ToastService } from '../../core/ui/toast.service';
import { QrCode } from '../../shared/qr-code';

/** A time-limited public link to the slot's results: create or extend, show with a QR code, revoke. */
@Component({
  selector: 'pc-gallery-share-panel',
  imports: [QrCode],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (loading()) {
      <div class="loading" role="status">
        <span class="spinner" aria-hidden="true"></span> Загрузка…
      </div>
    } @else {
      @if (link(); as shared) {
        <div class="share-grid">
          <pc-qr-code [value]="shared.url" [pixels]="168" label="QR-код публичной галереи" />
          <div class="share-info">
            <label for="gallery-link">Публичная ссылка</label>
            <div class="copy-field">
              <input
                id="gallery-link"
                type="text"
                readonly
                [value]="shared.url"
                data-testid="gallery-link"
              />
              <button type="button" class="btn btn-primary" (click)="copy(shared.url)">
                Копировать
              </button>
            </div>
            <p class="hint">
              Действует до {{ formatDateTime(shared.expires_at) }} ({{
                formatRemaining(shared.expires_at)
              }}). Гости видят превью и могут скачать результаты без входа.
            </p>
            <div class="actions actions-start">
              <a class="btn btn-ghost" [href]="shared.url" target="_blank" rel="noopener"
                >Открыть</a
              >
              <button type="button" class="btn btn-danger" (click)="revoke()">
                Отозвать доступ
              </button>
            </div>
          </div>
        </div>
      } @else {
        <p class="hint">
          Галерея закрыта. Создайте ссылку, чтобы гости могли посмотреть и скачать результаты.
        </p>
      }
      <form class="inline-form" (submit)="$event.preventDefault(); share()">
        <label for="gallery-hours">Срок действия, часов (1–168)</label>
        <input
          id="gallery-hours"
          type="number"
          min="1"
          max="168"
          step="1"
          [value]="hours()"
          [attr.aria-invalid]="!!hoursError()"
          (input)="hours.set($any($event.target).value)"
        />
        <button type="submit" class="btn btn-primary" [disabled]="busy()">
          {{ link() ? 'Продлить' : 'Создать ссылку' }}
        </button>
      </form>
      @if (hoursError(); as message) {
        <p class="field-error" role="alert">{{ message }}</p>
      }
    }
    @if (error(); as message) {
      <div class="alert alert-error" role="alert">{{ message }}</div>
    }
  `,
})
export class GallerySharePanel {
  private readonly api = inject(ApiClient);
  private readonly confirm = inject(ConfirmService);
  private readonly toasts = inject(ToastService);
  readonly slotId = input.required<string>();

  protected readonly link = signal<GalleryLink | null>(null);
  protected readonly loading = signal(true);
  protected readonly busy = signal(false);
  protected readonly hours = signal<string>('24');
  protected readonly hoursError = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly formatDateTime = formatDateTime;
  protected readonly formatRemaining = formatRemaining;

  constructor() {
    effect(() => void this.load(this.slotId()));
  }

  private async load(slotId: string): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      this.link.set(await this.api.galleryLink(slotId));
    } catch (error) {
      this.error.set(error instanceof ApiError ? error.message : 'Не удалось загрузить ссылку.');
    } finally {
      this.loading.set(false);
    }
  }

  protected async share(): Promise<void> {
    const hours = Number(this.hours());
    if (!Number.isInteger(hours) || hours < 1 || hours > 168) {
      this.hoursError.set('Целое число часов от 1 до 168.');
      return;
    }
    this.hoursError.set(null);
    this.busy.set(true);
    this.error.set(null);
    try {
      const extending = this.link() !== null;
      this.link.set(await this.api.shareGallery(this.slotId(), hours));
      this.toasts.show(extending ? 'Срок действия ссылки продлён' : 'Ссылка на галерею создана');
    } catch (error) {
      this.error.set(error instanceof ApiError ? error.message : 'Не удалось создать ссылку.');
    } finally {
      this.busy.set(false);
    }
  }

  protected async revoke(): Promise<void> {
    const confirmed = await this.confirm.ask({
      title: 'Отозвать доступ к галерее?',
      message: 'Ссылка и QR-код сразу перестанут работать. Новая ссылка будет другой.',
      confirmLabel: 'Отозвать',
      danger: true,
    });
    if (!confirmed) return;
    this.busy.set(true);
    try {
      await this.api.revokeGallery(this.slotId());
      this.link.set(null);
      this.toasts.show('Доступ к галерее отозван');
    } catch (error) {
      this.error.set(error instanceof ApiError ? error.message : 'Не удалось отозвать ссылку.');
    } finally {
      this.busy.set(false);
    }
  }

  protected async copy(url: string): Promise<void> {
    const copied = await copyText(url);
    this.toasts.show(
      copied ? 'Ссылка скопирована' : 'Не удалось скопировать',
      copied ? 'success' : 'error',
    );
  }
}

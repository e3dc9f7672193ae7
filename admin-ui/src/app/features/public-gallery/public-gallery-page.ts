import {
  ChangeDetectionStrategy,
  Component,
  effect,
  inject,
  input,
  signal,
  untracked,
} from '@angular/core';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import type { PublicGallery } from '../../core/api/api-types';
import { formatDateTime } from '../../core/ui/format';
import { QrCode } from '../../shared/qr-code';

/** What a guest sees through a shared link: previews, downloads and a QR code per photo. */
@Component({
  selector: 'pc-public-gallery-page',
  imports: [QrCode],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="app-header public-header">
      <span class="brand"><span>PHOTOCHANGER</span></span>
      <span class="hint">Публичный доступ на ограниченное время</span>
    </header>
    <main class="page" id="main">
      @if (loading()) {
        <div class="loading" role="status">
          <span class="spinner" aria-hidden="true"></span> Загрузка галереи…
        </div>
      } @else if (error(); as message) {
        <section class="card center-card">
          <h1>Галерея недоступна</h1>
          <p>{{ message }}</p>
          <p class="hint">Попросите у организатора новую ссылку.</p>
        </section>
      } @else if (gallery(); as data) {
        <header class="page-head">
          <div>
            <p class="eyebrow">Галерея фотобудки</p>
            <h1>{{ data.display_name }}</h1>
            <p class="hint">
              Ссылка работает до {{ formatDateTime(data.expires_at) }}. Отсканируйте QR-код
              телефоном, чтобы скачать фото.
            </p>
          </div>
          <button type="button" class="btn btn-primary" (click)="load()">Обновить</button>
        </header>
        @if (data.results.length === 0) {
          <p class="empty">Фотографий пока нет. Загляните позже.</p>
        } @else {
          <ul class="results-grid public-grid">
            @for (result of data.results; track result.job_id) {
              <li class="result-card">
                <img [src]="result.preview_url" alt="Фото из фотобудки" loading="lazy" />
                <div class="result-body">
                  <pc-qr-code
                    [value]="result.result_url"
                    [pixels]="112"
                    label="QR-код для скачивания фото"
                  />
                  <div class="result-meta">
                    <span class="hint">{{ formatDateTime(result.finished_at) }}</span>
                    <a class="btn btn-primary btn-small" [href]="result.result_url" download
                      >Скачать</a
                    >
                  </div>
                </div>
              </li>
            }
          </ul>
        }
      }
    </main>
  `,
})
export class PublicGalleryPage {
  private readonly api = inject(ApiClient);
  readonly token = input.required<string>();
  protected readonly gallery = signal<PublicGallery | null>(null);
  protected readonly loading = signal(true);
  protected readonly error = signal<string | null>(null);
  protected readonly formatDateTime = formatDateTime;

  constructor() {
    effect(() => {
      this.token();
      untracked(() => void this.load());
    });
  }

  async load(): Promise<void> {
    this.loading.set(this.gallery() === null);
    this.error.set(null);
    try {
      this.gallery.set(await this.api.publicGallery(this.token()));
    } catch (error) {
      this.gallery.set(null);
      this.error.set(error instanceof ApiError ? error.message : 'Не удалось загрузить галерею.');
    } finally {
      this.loading.set(false);
    }
  }
}

import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import type { SlotSummary } from '../../core/api/api-types';
import { copyText } from '../../core/ui/clipboard';
import { formatDateTime, PROVIDER_NAMES, STATUS_LABELS } from '../../core/ui/format';
import { ToastService } from '../../core/ui/toast.service';
import { AsyncState } from '../../shared/async-state';
import { PillTone, StatusPill } from '../../shared/status-pill';

/** «Слоты AI-обработки»: the 15 slots at a glance, with their ingest links. */
@Component({
  selector: 'pc-slots-page',
  imports: [RouterLink, AsyncState, StatusPill],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-head">
      <div>
        <p class="eyebrow">Панель управления</p>
        <h1>Слоты AI-обработки</h1>
      </div>
      <button type="button" class="btn btn-ghost" (click)="load()" [disabled]="loading()">
        Обновить
      </button>
    </header>
    <pc-async-state
      [loading]="loading() && slots().length === 0"
      [error]="error()"
      (retry)="load()"
    />
    <ul class="slot-list">
      @for (slot of slots(); track slot.id) {
        <li class="slot-row card">
          <div class="slot-main">
            <a class="slot-name" [routerLink]="['/slots', slot.id]">{{ slot.display_name }}</a>
            <span class="slot-meta">{{ slot.id }} · Провайдер: {{ providerName(slot) }}</span>
            <span class="slot-meta">
              Последняя обработка:
              @if (slot.last_job_at) {
                <time [attr.datetime]="slot.last_job_at">{{
                  formatDateTime(slot.last_job_at)
                }}</time>
                ({{ statusLabel(slot) }})
              } @else {
                ещё не было
              }
            </span>
          </div>
          <div class="copy-field slot-link">
            <input
              type="text"
              readonly
              [value]="slot.ingest_url"
              [attr.aria-label]="'Ingest-ссылка ' + slot.id"
            />
            <button
              type="button"
              class="btn btn-primary"
              (click)="copy(slot)"
              [attr.aria-label]="'Копировать ссылку ' + slot.id"
            >
              Копировать
            </button>
          </div>
          <pc-status-pill [text]="pill(slot).text" [tone]="pill(slot).tone" />
          <a
            class="icon-button"
            [routerLink]="['/slots', slot.id]"
            [attr.aria-label]="'Настроить ' + slot.display_name"
          >
            <svg viewBox="0 0 24 24" aria-hidden="true" width="20" height="20">
              <path d="M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4" />
            </svg>
          </a>
        </li>
      }
    </ul>
  `,
})
export class SlotsPage implements OnInit {
  private readonly api = inject(ApiClient);
  private readonly toasts = inject(ToastService);
  protected readonly slots = signal<SlotSummary[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal<string | null>(null);
  protected readonly formatDateTime = formatDateTime;

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      this.slots.set(await this.api.slots());
    } catch (error) {
      this.error.set(error instanceof ApiError ? error.message : 'Не удалось загрузить слоты.');
    } finally {
      this.loading.set(false);
    }
  }

  protected providerName(slot: SlotSummary): string {
    return slot.provider ? (PROVIDER_NAMES[slot.provider] ?? slot.provider) : 'не выбран';
  }

  protected statusLabel(slot: SlotSummary): string {
    return slot.last_status ? (STATUS_LABELS[slot.last_status] ?? slot.last_status) : '';
  }

  protected pill(slot: SlotSummary): { text: string; tone: PillTone } {
    if (!slot.provider) return { text: 'Не настроен', tone: 'muted' };
    if (!slot.is_active) return { text: 'Выключен', tone: 'muted' };
    if (slot.last_status === 'failed_timeout') return { text: 'Таймаут', tone: 'error' };
    if (slot.last_status?.startsWith('failed_')) return { text: 'Ошибка', tone: 'error' };
    if (slot.last_status === 'processing' || slot.last_status === 'pending') {
      return { text: 'Обработка', tone: 'warn' };
    }
    return { text: 'Активен', tone: 'ok' };
  }

  protected async copy(slot: SlotSummary): Promise<void> {
    const copied = await copyText(slot.ingest_url);
    this.toasts.show(
      copied ? `Ссылка ${slot.id} скопирована` : 'Не удалось скопировать',
      copied ? 'success' : 'error',
    );
  }
}

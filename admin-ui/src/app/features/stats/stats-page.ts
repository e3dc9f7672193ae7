import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  inject,
  OnInit,
  signal,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import { ApiClient } from '../../core/api/api-client';
import { ApiError, FAILURE_MESSAGES } from '../../core/api/api-error';
import type { StatsOverview } from '../../core/api/api-types';
import { FAILURE_SHORT, formatDateTime, formatNumber, formatPercent } from '../../core/ui/format';
import { AsyncState } from '../../shared/async-state';
import { JobsChart } from './jobs-chart';

const WINDOWS = [
  { minutes: 15, label: '15 минут' },
  { minutes: 60, label: '1 час' },
  { minutes: 360, label: '6 часов' },
  { minutes: 1440, label: '24 часа' },
  { minutes: 4320, label: '3 дня' },
];

/** «Статистика AI-слотов»: counters, a chart and a table by slot for a chosen window. */
@Component({
  selector: 'pc-stats-page',
  imports: [RouterLink, AsyncState, JobsChart],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-head">
      <div>
        <p class="eyebrow">Мониторинг</p>
        <h1>Статистика AI-слотов</h1>
        <p class="hint">
          Учитываются снимки с фотобудки; тестовые запуски из консоли показаны отдельно.
          @if (updatedAt(); as at) {
            Обновлено {{ formatDateTime(at) }}.
          }
        </p>
      </div>
      @if (stats(); as data) {
        <div class="window-total" data-testid="window-jobs">
          <span class="label">Задач за окно</span>
          <strong>{{ data.system.jobs_last_window }}</strong>
        </div>
      }
    </header>

    <div class="toolbar">
      <label for="window">Временное окно</label>
      <select id="window" (change)="choose(+$any($event.target).value)">
        @for (option of windows; track option.minutes) {
          <option [value]="option.minutes" [selected]="option.minutes === windowMinutes()">
            {{ option.label }}
          </option>
        }
      </select>
      <button type="button" class="btn btn-ghost" (click)="load()" [disabled]="loading()">
        Обновить
      </button>
    </div>

    <pc-async-state [loading]="loading() && !stats()" [error]="error()" (retry)="load()" />
    @if (stats(); as data) {
      <section class="counters" aria-label="Глобальные показатели">
        <div class="counter card">
          <span class="label">Всего задач</span
          ><strong>{{ formatNumber(data.system.jobs_total) }}</strong
          ><span class="hint">за всё время</span>
        </div>
        <div class="counter card">
          <span class="label">Задач за окно</span
          ><strong>{{ formatNumber(data.system.jobs_last_window) }}</strong
          ><span class="hint"
            >успешно {{ formatPercent(data.system.success_rate_last_window) }}</span
          >
        </div>
        <div class="counter card">
          <span class="label">Таймауты</span
          ><strong>{{ formatNumber(data.system.timeouts_last_window) }}</strong
          ><span class="hint">504 за окно</span>
        </div>
        <div class="counter card">
          <span class="label">Ошибки провайдера</span
          ><strong>{{ formatNumber(data.system.provider_errors_last_window) }}</strong
          ><span class="hint">Gemini / Turbotext</span>
        </div>
        <div class="counter card">
          <span class="label">p95 времени ответа</span
          ><strong>{{ seconds(data.system.p95_duration_ms_last_window) }}</strong
          ><span class="hint">успешные снимки</span>
        </div>
        <div class="counter card">
          <span class="label">Занято диском</span
          ><strong>{{ formatNumber(data.system.storage_usage_mb, 1) }} МБ</strong
          ><span class="hint">результаты и шаблоны</span>
        </div>
      </section>

      @if (data.series; as series) {
        <section class="card">
          <h2>Задачи по времени</h2>
          <pc-jobs-chart [buckets]="series.buckets" />
        </section>
      }

      <section class="card">
        <h2>Слоты</h2>
        <div class="table-scroll">
          <table class="plain-table">
            <thead>
              <tr>
                <th scope="col">Слот</th>
                <th scope="col" class="num">Задач</th>
                <th scope="col" class="num">Таймаутов</th>
                <th scope="col" class="num">Ошибок провайдера</th>
                <th scope="col" class="num">Успех</th>
                <th scope="col">Последний успех</th>
                <th scope="col">Последняя ошибка</th>
              </tr>
            </thead>
            <tbody>
              @for (slot of data.slots; track slot.slot_id) {
                <tr [class.inactive]="!slot.is_active">
                  <th scope="row">
                    <a [routerLink]="['/slots', slot.slot_id]">{{ slot.display_name }}</a>
                    <span class="hint block"
                      >{{ slot.slot_id }}{{ slot.is_active ? '' : ' · выключен' }}</span
                    >
                  </th>
                  <td class="num">{{ slot.jobs_last_window }}</td>
                  <td class="num">{{ slot.timeouts_last_window }}</td>
                  <td class="num">{{ slot.provider_errors_last_window }}</td>
                  <td class="num">{{ formatPercent(slot.success_rate) }}</td>
                  <td>{{ formatDateTime(slot.last_success_at) }}</td>
                  <td [attr.title]="errorTitle(slot.last_error_reason)">
                    {{ errorLabel(slot.last_error_reason) }}
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      </section>
    }
  `,
})
export class StatsPage implements OnInit {
  private readonly api = inject(ApiClient);
  protected readonly windows = WINDOWS;
  protected readonly windowMinutes = signal(60);
  protected readonly stats = signal<StatsOverview | null>(null);
  protected readonly loading = signal(true);
  protected readonly error = signal<string | null>(null);
  protected readonly updatedAt = signal<string | null>(null);
  protected readonly formatDateTime = formatDateTime;
  protected readonly formatNumber = formatNumber;
  protected readonly formatPercent = formatPercent;

  constructor() {
    const timer = setInterval(() => void this.load(), 30_000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      this.stats.set(await this.api.stats(this.windowMinutes()));
      this.updatedAt.set(new Date().toISOString());
    } catch (error) {
      this.error.set(
        error instanceof ApiError ? error.message : 'Не удалось загрузить статистику.',
      );
    } finally {
      this.loading.set(false);
    }
  }

  protected choose(minutes: number): void {
    this.windowMinutes.set(minutes);
    void this.load();
  }

  protected seconds(ms: number | null | undefined): string {
    return ms === null || ms === undefined ? '—' : `${formatNumber(ms / 1000, 1)} с`;
  }

  protected errorLabel(reason: string | null): string {
    return reason ? (FAILURE_SHORT[reason] ?? reason) : '—';
  }

  protected errorTitle(reason: string | null): string | null {
    return reason ? (FAILURE_MESSAGES[reason] ?? null) : null;
  }
}

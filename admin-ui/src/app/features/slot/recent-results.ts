import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import type { RecentResult } from '../../core/api/api-types';
import { formatDateTime } from '../../core/ui/format';

/** The slot's last booth results: previews (public links) and downloads. */
@Component({
  selector: 'pc-recent-results',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="section-head">
      <p class="hint">
        Превью последних успешно обработанных снимков. Ссылки на скачивание работают, пока результат
        хранится.
      </p>
      <button type="button" class="btn btn-ghost btn-small" (click)="refresh.emit()">
        Обновить
      </button>
    </div>
    @if (results().length === 0) {
      <p class="empty">Пока нет результатов с фотобудки.</p>
    } @else {
      <ul class="results-grid">
        @for (result of results(); track result.job_id) {
          <li class="result-card">
            <img [src]="result.preview_url" alt="Превью результата" loading="lazy" />
            <div class="result-meta">
              <strong>{{ formatDateTime(result.finished_at) }}</strong>
              <span class="hint">Хранится до {{ formatDateTime(result.expires_at) }}</span>
              <span class="hint">{{ result.mime_type }}</span>
            </div>
            <a class="btn btn-small btn-primary" [href]="result.result_url" download>Скачать</a>
          </li>
        }
      </ul>
    }
  `,
})
export class RecentResults {
  readonly results = input.required<RecentResult[]>();
  readonly refresh = output<void>();
  protected readonly formatDateTime = formatDateTime;
}

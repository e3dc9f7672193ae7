import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import type { AuditEntry } from '../../core/api/api-types';
import { formatDateTime } from '../../core/ui/format';
import { AsyncState } from '../../shared/async-state';

const PAGE = 50;

const ENTITY_LABELS: Readonly<Record<string, string>> = {
  slot: 'Слот',
  settings: 'Настройки',
  account: 'Аккаунт',
  template_media: 'Шаблон',
  job: 'Задача',
  gallery: 'Галерея',
};

const ACTION_LABELS: Readonly<Record<string, string>> = {
  update: 'изменение',
  create: 'создание',
  delete: 'удаление',
  share: 'открыт доступ',
  extend: 'доступ продлён',
  revoke: 'доступ отозван',
  password_changed: 'смена пароля',
  delete_result: 'удалён результат',
};

export interface Change {
  key: string;
  before: string;
  after: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function show(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'string' && ISO_DATE.test(value)) return formatDateTime(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/** What an entry changed, field by field (one level into `settings` and similar objects). */
export function describeChanges(entry: Pick<AuditEntry, 'old_value' | 'new_value'>): Change[] {
  const changes: Change[] = [];
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  const walk = (prefix: string, before: unknown, after: unknown, depth: number): void => {
    if (depth < 2 && (isObject(before) || isObject(after))) {
      const a = isObject(before) ? before : {};
      const b = isObject(after) ? after : {};
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        walk(prefix ? `${prefix}.${key}` : key, a[key], b[key], depth + 1);
      }
    } else if (JSON.stringify(before) !== JSON.stringify(after)) {
      changes.push({ key: prefix, before: show(before), after: show(after) });
    }
  };
  walk('', entry.old_value ?? {}, entry.new_value ?? {}, 0);
  return changes.filter((change) => change.key !== 'version');
}

/** The change history (`audit_log`), newest first, page by page. */
@Component({
  selector: 'pc-history-page',
  imports: [AsyncState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-head">
      <div>
        <p class="eyebrow">Журнал аудита</p>
        <h1>История изменений</h1>
        <p class="hint">Кто и когда менял слоты, настройки и доступы. Секреты не записываются.</p>
      </div>
    </header>
    <pc-async-state
      [loading]="loading() && entries().length === 0"
      [error]="error()"
      (retry)="load()"
    />
    @if (entries().length === 0 && !loading() && !error()) {
      <p class="empty">Изменений пока не было.</p>
    }
    <ol class="history">
      @for (entry of entries(); track entry.id) {
        <li class="card history-entry">
          <div class="history-head">
            <time [attr.datetime]="entry.created_at">{{ formatDateTime(entry.created_at) }}</time>
            <strong>{{ entry.actor }}</strong>
            <span>{{ entity(entry) }}</span>
            <span class="pill pill-muted">{{ action(entry.action) }}</span>
          </div>
          @let changes = describe(entry);
          @if (changes.length > 0) {
            <dl class="changes">
              @for (change of changes; track change.key) {
                <dt>{{ change.key }}</dt>
                <dd>
                  <span class="before">{{ change.before }}</span> →
                  <span class="after">{{ change.after }}</span>
                </dd>
              }
            </dl>
          }
        </li>
      }
    </ol>
    @if (more()) {
      <div class="actions actions-center">
        <button type="button" class="btn btn-ghost" [disabled]="loading()" (click)="loadMore()">
          Показать ещё
        </button>
      </div>
    }
  `,
})
export class HistoryPage implements OnInit {
  private readonly api = inject(ApiClient);
  protected readonly entries = signal<AuditEntry[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal<string | null>(null);
  protected readonly more = signal(false);
  protected readonly formatDateTime = formatDateTime;
  protected readonly describe = describeChanges;

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    this.entries.set([]);
    await this.fetch();
  }

  protected async loadMore(): Promise<void> {
    await this.fetch(this.entries().at(-1)?.id);
  }

  private async fetch(before?: string): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      const page = await this.api.audit(PAGE, before);
      this.entries.update((list) => [...list, ...page]);
      this.more.set(page.length === PAGE);
    } catch (error) {
      this.error.set(error instanceof ApiError ? error.message : 'Не удалось загрузить историю.');
    } finally {
      this.loading.set(false);
    }
  }

  protected entity(entry: AuditEntry): string {
    const label = ENTITY_LABELS[entry.entity_type] ?? entry.entity_type;
    return entry.entity_id ? `${label} ${entry.entity_id}` : label;
  }

  protected action(action: string): string {
    return ACTION_LABELS[action] ?? action;
  }
}

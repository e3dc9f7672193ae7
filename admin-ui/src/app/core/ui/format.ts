/** Dates and numbers as a Russian-speaking admin reads them, in the browser's time zone. */
const DATE_TIME = new Intl.DateTimeFormat('ru-RU', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const TIME = new Intl.DateTimeFormat('ru-RU', { hour: '2-digit', minute: '2-digit' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : DATE_TIME.format(date);
}

export function formatTime(iso: string): string {
  return TIME.format(new Date(iso));
}

export function formatPercent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return `${(rate * 100).toLocaleString('ru-RU', { maximumFractionDigits: 1 })} %`;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined) return '—';
  return value.toLocaleString('ru-RU', { maximumFractionDigits: digits });
}

/** «через 5 ч», «через 2 дн.» — how long a link still works. */
export function formatRemaining(iso: string, now = Date.now()): string {
  const minutes = Math.round((new Date(iso).getTime() - now) / 60_000);
  if (minutes <= 0) return 'истекла';
  if (minutes < 60) return `ещё ${minutes} мин`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `ещё ${hours} ч`;
  return `ещё ${Math.round(hours / 24)} дн.`;
}

export const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  gemini: 'Google Gemini',
  turbotext: 'Turbotext',
};

export const STATUS_LABELS: Readonly<Record<string, string>> = {
  pending: 'в очереди',
  processing: 'обработка',
  completed: 'успешно',
  failed_timeout: 'таймаут',
  failed_provider: 'ошибка провайдера',
  failed_internal: 'ошибка сервера',
  cancelled: 'отменено',
};

export const TEMPLATE_KIND_LABELS: Readonly<Record<string, string>> = {
  style: 'Шаблон стиля',
  base: 'Базовое фото (тело/сцена)',
  background: 'Фон',
  reference: 'Референс',
  overlay: 'Наложение',
};

/** Short names of failure reasons for tables; the full text is in FAILURE_MESSAGES. */
export const FAILURE_SHORT: Readonly<Record<string, string>> = {
  timeout: 'таймаут',
  provider_error: 'ошибка провайдера',
  provider_unavailable: 'провайдер недоступен',
  quota: 'исчерпана квота',
  blocked: 'отклонено фильтром',
  bad_response: 'некорректный ответ',
  network: 'нет связи',
  storage_full: 'нет места на диске',
  interrupted: 'прервано',
  cancelled: 'отменено',
  internal: 'ошибка сервера',
};

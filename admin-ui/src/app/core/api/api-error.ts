import { HttpErrorResponse } from '@angular/common/http';
import type { ErrorBody } from './api-types';

/** Russian text for every `failure_reason` the server answers with (SPEC §3, §4, §6). */
export const FAILURE_MESSAGES: Readonly<Record<string, string>> = {
  invalid_request: 'Запрос не понят сервером. Проверьте данные и попробуйте ещё раз.',
  validation_failed: 'Некоторые поля заполнены неверно.',
  invalid_password: 'Неверный ingest-пароль.',
  invalid_credentials: 'Неверное имя пользователя или пароль.',
  unauthorized: 'Сеанс истёк. Войдите снова.',
  forbidden: 'Недостаточно прав.',
  not_found: 'Не найдено.',
  slot_not_found: 'Слот не найден.',
  job_not_found: 'Задача не найдена.',
  result_not_found: 'Результат не найден.',
  media_not_found: 'Файл не найден.',
  gallery_not_found: 'Галерея не найдена.',
  result_expired: 'Срок хранения результата истёк.',
  media_expired: 'Срок действия ссылки на файл истёк.',
  gallery_expired: 'Срок действия ссылки на галерею истёк или доступ отозван.',
  version_conflict: 'Данные уже изменил другой администратор.',
  slot_not_ready: 'Слот не готов: выберите провайдера и операцию и задайте API-ключ.',
  template_in_use: 'Шаблон используется другим слотом.',
  cancelled: 'Обработка отменена.',
  job_final: 'Задача уже завершена.',
  payload_too_large: 'Файл слишком большой.',
  unsupported_media_type: 'Формат не поддерживается: нужен JPEG, PNG или WEBP.',
  throttled: 'Слишком много неудачных попыток входа. Подождите 15 минут.',
  slot_busy: 'Слот занят другими снимками. Повторите через несколько секунд.',
  blocked: 'Провайдер отказался обрабатывать это изображение (фильтр контента).',
  provider_error: 'Провайдер вернул ошибку. Проверьте настройки слота и API-ключ.',
  bad_response: 'Провайдер вернул некорректный ответ.',
  provider_unavailable: 'Провайдер временно недоступен. Попробуйте позже.',
  quota: 'Исчерпана квота провайдера.',
  network: 'Нет связи с провайдером.',
  storage_full: 'На сервере закончилось место на диске.',
  timeout: 'Провайдер не успел ответить за отведённое время (T_sync_response).',
  interrupted: 'Обработка прервана перезапуском сервера.',
  internal: 'Внутренняя ошибка сервера.',
};

const BY_STATUS: Readonly<Record<number, string>> = {
  0: 'Сервер недоступен. Проверьте подключение к сети.',
  401: FAILURE_MESSAGES['unauthorized']!,
  404: FAILURE_MESSAGES['not_found']!,
  413: FAILURE_MESSAGES['payload_too_large']!,
  502: FAILURE_MESSAGES['provider_error']!,
  503: 'Сервис временно недоступен. Попробуйте позже.',
  504: FAILURE_MESSAGES['timeout']!,
};

/** An API failure, ready to show: `message` is Russian; `fields` maps dotted paths to Russian text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Readonly<Record<string, string>> = {},
    readonly serverMessage = '',
    readonly errorId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function describeFailure(code: string | undefined, status: number): string {
  if (code && FAILURE_MESSAGES[code]) return FAILURE_MESSAGES[code]!;
  if (BY_STATUS[status]) return BY_STATUS[status]!;
  if (status >= 500) return FAILURE_MESSAGES['internal']!;
  return 'Не удалось выполнить запрос.';
}

const FIELD_PATTERNS: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/must be a whole number from (-?\d+) to (-?\d+)/, (m) => `Целое число от ${m[1]} до ${m[2]}.`],
  [/must be (?:>=|at least) (-?[\d.]+)/, (m) => `Не меньше ${m[1]}.`],
  [/must be (?:<=|at most) (-?[\d.]+)/, (m) => `Не больше ${m[1]}.`],
  [/must NOT have more than (\d+) characters/, (m) => `Не длиннее ${m[1]} символов.`],
  [/must NOT have fewer than (\d+) characters/, (m) => `Не короче ${m[1]} символов.`],
  [/must be longer than or equal to (\d+) characters/, (m) => `Не короче ${m[1]} символов.`],
  [/must be shorter than or equal to (\d+) characters/, (m) => `Не длиннее ${m[1]} символов.`],
  [/must have required property/, () => 'Обязательное поле.'],
  [/must be equal to one of the allowed values/, () => 'Выберите значение из списка.'],
  [
    /must NOT have additional properties|unknown (setting|property)/i,
    () => 'Неизвестный параметр.',
  ],
  [/must be (?:an? )?(integer|whole number)/, () => 'Нужно целое число.'],
  [/must be (?:a )?number/, () => 'Нужно число.'],
  [/must be (?:a )?boolean/, () => 'Нужно «да» или «нет».'],
  [/must match pattern/, () => 'Недопустимые символы.'],
  [/no such template/, () => 'Шаблон не найден (возможно, удалён).'],
  [/needs an? (.+) template/, (m) => `Нужен шаблон: ${m[1]!.replace(/"/g, '')}.`],
  [/does not use "(.+)" templates/, (m) => `Операция не использует шаблоны «${m[1]}».`],
  [/at most (\d+) "(.+)" template/, (m) => `Не больше ${m[1]} шаблона «${m[2]}».`],
  [/is required|should not be empty|must not be empty/, () => 'Обязательное поле.'],
  [/should not exist/, () => 'Неизвестный параметр.'],
  [/printable ASCII/, () => 'Только латинские буквы, цифры и знаки, без пробелов.'],
];

/** The server's field messages are English; the console shows Russian, keeping unknown ones as they are. */
export function translateFieldMessage(message: string): string {
  for (const [pattern, render] of FIELD_PATTERNS) {
    const match = pattern.exec(message);
    if (match) return render(match);
  }
  return `Недопустимое значение (${message})`;
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorBody).failure_reason === 'string'
  );
}

async function readBody(raw: unknown): Promise<unknown> {
  if (typeof Blob !== 'undefined' && raw instanceof Blob) raw = await raw.text();
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  }
  return raw;
}

/** Turns whatever HttpClient threw into an ApiError with Russian text (reads Blob bodies too). */
export async function toApiError(error: unknown): Promise<ApiError> {
  if (error instanceof ApiError) return error;
  if (!(error instanceof HttpErrorResponse)) {
    return new ApiError(0, 'client', 'Непредвиденная ошибка в браузере.', {}, String(error));
  }
  const body = await readBody(error.error);
  if (!isErrorBody(body)) {
    return new ApiError(
      error.status,
      `http_${error.status}`,
      describeFailure(undefined, error.status),
    );
  }
  const fields: Record<string, string> = {};
  for (const [path, message] of Object.entries(body.errors ?? {})) {
    fields[path] = translateFieldMessage(message);
  }
  return new ApiError(
    error.status,
    body.failure_reason,
    describeFailure(body.failure_reason, error.status),
    fields,
    body.message,
    body.error_id,
  );
}

import { HttpErrorResponse } from '@angular/common/http';
import { ApiError, describeFailure, toApiError, translateFieldMessage } from './api-error';

const body = (failure_reason: string, extra: Record<string, unknown> = {}) => ({
  status: 'error',
  failure_reason,
  message: 'English text from the server',
  ...extra,
});

describe('describeFailure', () => {
  it('has Russian text for every failure reason of SPEC §3', () => {
    for (const reason of [
      'timeout',
      'provider_error',
      'provider_unavailable',
      'quota',
      'blocked',
      'bad_response',
      'network',
      'storage_full',
      'interrupted',
      'cancelled',
      'internal',
    ]) {
      expect(describeFailure(reason, 500)).toMatch(/[а-яё]/i);
    }
    expect(describeFailure('version_conflict', 409)).toBe(
      'Данные уже изменил другой администратор.',
    );
  });

  it('falls back on the HTTP status for unknown codes', () => {
    expect(describeFailure('something_new', 504)).toMatch(/не успел/);
    expect(describeFailure(undefined, 0)).toMatch(/Сервер недоступен/);
    expect(describeFailure(undefined, 418)).toBe('Не удалось выполнить запрос.');
  });
});

describe('translateFieldMessage', () => {
  it('translates the server’s usual field messages', () => {
    expect(translateFieldMessage('must be a whole number from 10 to 60')).toBe(
      'Целое число от 10 до 60.',
    );
    expect(translateFieldMessage('must NOT have more than 4000 characters')).toBe(
      'Не длиннее 4000 символов.',
    );
    expect(translateFieldMessage('image_edit needs a "style" template')).toBe(
      'Нужен шаблон: style.',
    );
    expect(translateFieldMessage('no such template')).toMatch(/Шаблон не найден/);
  });

  it('keeps an unknown message visible', () => {
    expect(translateFieldMessage('is odd')).toBe('Недопустимое значение (is odd)');
  });
});

describe('toApiError', () => {
  it('maps a JSON error body to Russian text and dotted field errors', async () => {
    const error = await toApiError(
      new HttpErrorResponse({
        status: 422,
        error: body('validation_failed', {
          errors: { sync_response_seconds: 'must be a whole number from 10 to 60' },
        }),
      }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe('Некоторые поля заполнены неверно.');
    expect(error.fields).toEqual({ sync_response_seconds: 'Целое число от 10 до 60.' });
    expect(error.serverMessage).toBe('English text from the server');
  });

  it('reads the body of a Blob answer (test-run errors)', async () => {
    const blob = new Blob([JSON.stringify(body('timeout', { job_id: 'j1' }))], {
      type: 'application/json',
    });
    const error = await toApiError(new HttpErrorResponse({ status: 504, error: blob }));
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/не успел ответить/);
  });

  it('handles answers that are not the error JSON', async () => {
    const offline = await toApiError(
      new HttpErrorResponse({ status: 0, error: new ProgressEvent('error') }),
    );
    expect(offline.message).toMatch(/Сервер недоступен/);
    const html = await toApiError(
      new HttpErrorResponse({ status: 502, error: '<html>Bad gateway</html>' }),
    );
    expect(html.code).toBe('http_502');
    expect(html.message).toMatch(/Провайдер вернул ошибку/);
  });

  it('passes an ApiError through and wraps anything else', async () => {
    const original = new ApiError(409, 'version_conflict', 'x');
    expect(await toApiError(original)).toBe(original);
    expect((await toApiError(new TypeError('boom'))).code).toBe('client');
  });
});

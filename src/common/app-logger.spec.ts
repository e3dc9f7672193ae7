import { AppLogger } from './app-logger';
import { requestIdFrom, runInRequestContext } from './request-id';

function capture(): { logger: AppLogger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new AppLogger('debug', (line) => lines.push(line)), lines };
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZXJnIiwiaWF0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJlLXZhbHVl';

describe('AppLogger redaction', () => {
  it('masks fields whose names look secret, at any depth', () => {
    const { logger, lines } = capture();
    logger.event('info', 'x', {
      password: 'p1',
      nested: { api_key: 'k1', Authorization: 'a1', cookie: 'c1', jwt: 'j1', kept: 'visible' },
    });
    const entry = JSON.parse(lines[0]);
    expect(entry.password).toBe('[redacted]');
    expect(entry.nested).toEqual({
      api_key: '[redacted]',
      Authorization: '[redacted]',
      cookie: '[redacted]',
      jwt: '[redacted]',
      kept: 'visible',
    });
  });

  it('masks bearer tokens and JWTs inside any text', () => {
    const { logger, lines } = capture();
    logger.event('warn', 'x', {
      message: `upstream said: Authorization: Bearer sk-live_abc.DEF/123= was refused`,
      detail: `token ${JWT} expired`,
      partial: `prefix eyJhbGciOiJIUzI1NiJ9 only`,
    });
    expect(lines[0]).not.toContain('sk-live_abc');
    expect(lines[0]).not.toContain('eyJ');
    const entry = JSON.parse(lines[0]);
    expect(entry.message).toBe('upstream said: Authorization: Bearer [redacted] was refused');
    expect(entry.detail).toBe('token [redacted] expired');
  });

  it('leaves the word Bearer alone when no token follows', () => {
    const { logger, lines } = capture();
    logger.event('info', 'x', { token_type_name: 'Bearer', note: 'Bearer' });
    expect(JSON.parse(lines[0]).note).toBe('Bearer');
  });

  it('masks registered values wherever they appear', () => {
    const { logger, lines } = capture();
    logger.redactValue('booth-secret-1');
    logger.event('info', 'x', { message: 'the password booth-secret-1 was used' });
    expect(lines[0]).not.toContain('booth-secret-1');
  });
});

describe('AppLogger request ids', () => {
  it('adds the current request id to lines written inside a request, including after awaits', async () => {
    const { logger, lines } = capture();
    await runInRequestContext({ requestId: 'req-1' }, async () => {
      logger.event('info', 'before');
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.event('info', 'after');
    });
    logger.event('info', 'outside');
    expect(lines.map((line) => JSON.parse(line).request_id)).toEqual(['req-1', 'req-1', undefined]);
  });

  it('keeps an explicit request_id field', () => {
    const { logger, lines } = capture();
    runInRequestContext({ requestId: 'req-2' }, () =>
      logger.event('info', 'x', { request_id: 'other' }),
    );
    expect(JSON.parse(lines[0]).request_id).toBe('other');
  });
});

describe('requestIdFrom', () => {
  it.each(['abc', 'a'.repeat(64), 'trace:1/2+3=4_5-6.7'])('keeps the sane id %s', (id) => {
    expect(requestIdFrom(id)).toBe(id);
  });

  it.each(['', 'a'.repeat(65), 'two words', 'line\nbreak', '{"json":1}'])(
    'replaces %j with a UUID',
    (id) => {
      expect(requestIdFrom(id)).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('takes the first of repeated headers, and makes one when there is none', () => {
    expect(requestIdFrom(['first', 'second'])).toBe('first');
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { JwtService } from '@nestjs/jwt';
import { sql } from './support/database';
import { ADMIN_PASSWORDS, TestApp } from './support/test-app';

const MINUTE = 60_000;

describe('admin sign-in and tokens', () => {
  let app: TestApp;

  // TRUST_PROXY lets each test be a different client through X-Forwarded-For.
  const env = { TRUST_PROXY: 'true' };
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  const login = (username: string, password: string, ip: string) =>
    app.request('POST', '/api/login', { json: { username, password }, headers: from(ip) });

  beforeAll(async () => {
    app = await TestApp.start({ env });
  });

  afterAll(async () => {
    await app.close();
  });

  it('signs in and the token opens protected routes', async () => {
    const response = await login('serg', ADMIN_PASSWORDS.serg, '10.0.0.1');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 12 * 3600,
    });
    const account = await app.request('GET', '/api/account', {
      token: response.body.access_token,
    });
    expect(account.status).toBe(200);
    expect(account.body).toEqual({ username: 'serg' });
    expect(app.logs).toContainEqual(
      expect.objectContaining({ event: 'auth.login.success', username: 'serg', ip: '10.0.0.1' }),
    );
  });

  it('answers a wrong password and an unknown user the same way, and logs without the password', async () => {
    const wrongPassword = await login('serg', 'not-the-password-42', '10.0.0.2');
    const unknownUser = await login('anna', 'not-the-password-42', '10.0.0.2');

    for (const response of [wrongPassword, unknownUser]) {
      expect(response.status).toBe(401);
      expect(response.body.failure_reason).toBe('invalid_credentials');
    }
    expect(unknownUser.body.message).toBe(wrongPassword.body.message);
    expect(app.logs).toContainEqual(
      expect.objectContaining({
        event: 'auth.login.failure',
        username: 'serg',
        reason: 'wrong_password',
        ip: '10.0.0.2',
      }),
    );
    expect(app.logs).toContainEqual(
      expect.objectContaining({ event: 'auth.login.failure', username: 'anna', ip: '10.0.0.2' }),
    );
    expect(app.rawLogs.join('\n')).not.toContain('not-the-password-42');
  });

  it('refuses a body without a password with 422', async () => {
    const response = await app.request('POST', '/api/login', { json: { username: 'serg' } });

    expect(response.status).toBe(422);
    expect(response.body.failure_reason).toBe('validation_failed');
    expect(Object.keys(response.body.errors)).toEqual(['password']);
  });

  it('locks a username+IP after 10 failures, even for the right password, for 15 minutes', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await login('serg', `wrong-${i}`, '10.1.0.1')).status).toBe(401);
    }

    const locked = await login('serg', ADMIN_PASSWORDS.serg, '10.1.0.1');
    expect(locked.status).toBe(429);
    expect(locked.body.failure_reason).toBe('throttled');
    expect(locked.headers.get('retry-after')).toBe('900');
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.1.0.2')).status).toBe(200);
    expect((await login('igor', ADMIN_PASSWORDS.igor, '10.1.0.1')).status).toBe(200);

    app.clock.advance(14 * MINUTE);
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.1.0.1')).status).toBe(429);
    app.clock.advance(MINUTE);
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.1.0.1')).status).toBe(200);
  });

  it('starts the count over after a success', async () => {
    for (let i = 0; i < 9; i++) await login('serg', `wrong-${i}`, '10.2.0.1');
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.2.0.1')).status).toBe(200);

    // Without the reset this would be the 11th attempt in the window.
    expect((await login('serg', 'wrong-again', '10.2.0.1')).status).toBe(401);
  });

  it('counts parallel attempts exactly, so a burst cannot get past the limit', async () => {
    const responses = await Promise.all(
      Array.from({ length: 14 }, (_, i) => login('igor', `burst-${i}`, '10.3.0.1')),
    );

    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array(10).fill(401), ...Array(4).fill(429)]);
  });

  it('locks an IP after 50 failures across usernames, counting bursts exactly and not successes', async () => {
    const guesses = (from: number, count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) => login(`guess-${from + i}`, 'x', '10.7.0.1')),
      );
    expect((await guesses(0, 40)).map((response) => response.status)).toEqual(Array(40).fill(401));
    // Successes from the same address are not failures: they leave room for 10 more.
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.7.0.1')).status).toBe(200);
    expect((await login('igor', ADMIN_PASSWORDS.igor, '10.7.0.1')).status).toBe(200);

    const burst = (await guesses(40, 15)).map((response) => response.status).sort();
    expect(burst).toEqual([...Array(10).fill(401), ...Array(5).fill(429)]);

    // Locked for every username now, even the right password of one never tried from here.
    const locked = await login('serg', ADMIN_PASSWORDS.serg, '10.7.0.1');
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ status: 'error', failure_reason: 'throttled' });
    expect(locked.headers.get('retry-after')).toBe('900');
    expect(app.logs).toContainEqual(
      expect.objectContaining({
        event: 'auth.login.failure',
        reason: 'ip_throttled',
        ip: '10.7.0.1',
      }),
    );
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.7.0.2')).status).toBe(200);

    // Counted in PostgreSQL: a second instance on the same database sees the lock.
    const second = await TestApp.start({
      env,
      databaseUrl: app.databaseUrl,
      dataDir: app.dataDir,
      clock: app.clock,
    });
    try {
      const elsewhere = await second.request('POST', '/api/login', {
        json: { username: 'igor', password: ADMIN_PASSWORDS.igor },
        headers: from('10.7.0.1'),
      });
      expect(elsewhere.status).toBe(429);
    } finally {
      await second.close(true);
    }

    app.clock.advance(15 * MINUTE);
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.7.0.1')).status).toBe(200);
  });

  it('changes the password, revoking every older token', async () => {
    const first = await app.login('igor');
    const second = await app.login('igor');
    const change = (token: string, current: string, next: string) =>
      app.request('POST', '/api/account/password', {
        token,
        json: { current_password: current, new_password: next },
      });

    const wrongCurrent = await change(first, 'not-igors-password', 'igor-new-password-2');
    expect(wrongCurrent.status).toBe(401);
    expect(wrongCurrent.body.failure_reason).toBe('invalid_credentials');
    const tooShort = await change(first, ADMIN_PASSWORDS.igor, 'short');
    expect(tooShort.status).toBe(422);
    expect(Object.keys(tooShort.body.errors)).toEqual(['new_password']);

    const changed = await change(first, ADMIN_PASSWORDS.igor, 'igor-new-password-2');
    expect(changed.status).toBe(200);
    for (const revoked of [first, second]) {
      const response = await app.request('GET', '/api/account', { token: revoked });
      expect(response.status).toBe(401);
      expect(response.body.failure_reason).toBe('unauthorized');
    }
    const fresh = await app.request('GET', '/api/account', { token: changed.body.access_token });
    expect(fresh.body).toEqual({ username: 'igor' });
    expect((await login('igor', ADMIN_PASSWORDS.igor, '10.4.0.1')).status).toBe(401);
    expect((await login('igor', 'igor-new-password-2', '10.4.0.1')).status).toBe(200);

    const audit = await sql(
      app.databaseUrl,
      `SELECT actor, entity_type, entity_id, action, old_value, new_value FROM audit_log`,
    );
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'igor',
        entity_type: 'account',
        entity_id: 'igor',
        action: 'password_changed',
      }),
    ]);
    const written = JSON.stringify(audit) + app.rawLogs.join('\n');
    expect(written).not.toContain('igor-new-password-2');
    expect(written).not.toContain(ADMIN_PASSWORDS.igor);
  });

  it('refuses missing, garbage, forged and expired tokens with 401 unauthorized', async () => {
    const valid = await app.login('serg');
    const payload = JSON.parse(Buffer.from(valid.split('.')[1], 'base64url').toString());
    const forged = new JwtService({ secret: 'not-the-servers-key' }).sign(payload);
    const unsigned = [{ alg: 'none', typ: 'JWT' }, payload]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .concat('')
      .join('.');

    for (const token of [undefined, 'garbage', forged, unsigned]) {
      const response = await app.request('GET', '/api/account', { token });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        status: 'error',
        failure_reason: 'unauthorized',
        message: expect.any(String),
      });
    }

    app.clock.advance(12 * 60 * MINUTE - 1000);
    expect((await app.request('GET', '/api/account', { token: valid })).status).toBe(200);
    app.clock.advance(1000);
    const expired = await app.request('GET', '/api/account', { token: valid });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/expired/);
  });

  it('refuses the token of an account removed from the file', async () => {
    const token = await app.login('serg');
    const file = app.config.adminCredentialsFile;
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    delete stored.accounts.serg;
    writeFileSync(file, JSON.stringify(stored));

    const response = await app.request('GET', '/api/account', { token });
    expect(response.status).toBe(401);
    expect(response.body.failure_reason).toBe('unauthorized');
    expect((await login('serg', ADMIN_PASSWORDS.serg, '10.5.0.1')).status).toBe(401);
  });

  it('answers an unknown /api route with 404 not_found JSON', async () => {
    const response = await app.request('GET', '/api/no-such-route');

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 'error', failure_reason: 'not_found' });
  });

  it('keeps a lock across a restart', async () => {
    for (let i = 0; i < 10; i++) await login('igor', `wrong-${i}`, '10.6.0.1');

    await app.close(true);
    app = await TestApp.start({
      env,
      databaseUrl: app.databaseUrl,
      dataDir: app.dataDir,
      clock: app.clock,
    });

    expect((await login('igor', 'igor-new-password-2', '10.6.0.1')).status).toBe(429);
    expect((await login('igor', 'igor-new-password-2', '10.6.0.2')).status).toBe(200);
  });
});

describe('sign-in throttle without TRUST_PROXY', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });

  afterAll(async () => {
    await app.close();
  });

  it('keys on the socket address and ignores X-Forwarded-For', async () => {
    const login = (password: string, i: number) =>
      app.request('POST', '/api/login', {
        json: { username: 'serg', password },
        headers: { 'x-forwarded-for': `192.0.2.${i}` },
      });
    for (let i = 0; i < 10; i++) expect((await login('wrong', i)).status).toBe(401);

    expect((await login(ADMIN_PASSWORDS.serg, 99)).status).toBe(429);
    expect(app.logs).toContainEqual(
      expect.objectContaining({ event: 'auth.login.failure', ip: '127.0.0.1' }),
    );
  });

  it('counts the per-IP limit on the socket address too, whatever X-Forwarded-For says', async () => {
    app.clock.advance(15 * 60_000);
    const guess = (i: number) =>
      app.request('POST', '/api/login', {
        json: { username: `guess-${i}`, password: 'wrong' },
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => guess(i)));
    expect(statuses.map((response) => response.status)).toEqual(Array(50).fill(401));

    const locked = await app.request('POST', '/api/login', {
      json: { username: 'igor', password: ADMIN_PASSWORDS.igor },
      headers: { 'x-forwarded-for': '198.51.100.200' },
    });
    expect(locked.status).toBe(429);
    expect(locked.body.failure_reason).toBe('throttled');
  });
});

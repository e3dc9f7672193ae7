import * as path from 'node:path';
import { ConfigError, isPrivateHost, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('applies the defaults of SPEC §8', () => {
    const config = loadConfig({}, '/srv/pc');
    expect(config).toMatchObject({
      port: 8000,
      databaseUrl: undefined,
      dataDir: '/srv/pc/data',
      mediaRoot: '/srv/pc/data/media',
      publicBaseUrl: 'http://localhost:8000',
      jwtTtlHours: 12,
      trustProxy: false,
      geminiBaseUrl: 'https://generativelanguage.googleapis.com',
      turbotextBaseUrl: 'https://www.turbotext.ru/api_ai',
      geminiModel: 'gemini-3.1-flash-image',
      resultTtlHours: 72,
      adminCredentialsFile: path.join('/srv/pc/data/secrets/runtime_credentials.json'),
      logLevel: 'info',
      minFreeDiskMb: 500,
      adminUiDir: '/srv/pc/admin-ui/dist/admin-ui/browser',
    });
  });

  it('derives paths from DATA_DIR and strips trailing slashes from URLs', () => {
    const config = loadConfig(
      {
        DATA_DIR: '/var/lib/pc',
        PORT: '9000',
        PUBLIC_MEDIA_BASE_URL: 'https://booth.example.com/',
        TRUST_PROXY: 'yes',
      },
      '/srv',
    );
    expect(config.mediaRoot).toBe('/var/lib/pc/media');
    expect(config.secretsDir).toBe('/var/lib/pc/secrets');
    expect(config.publicBaseUrl).toBe('https://booth.example.com');
    expect(config.port).toBe(9000);
    expect(config.trustProxy).toBe(true);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        RESULT_TTL_HOURS: '500',
        DATABASE_URL: 'mysql://x',
        SECRETS_KEY: 'short',
        TRUST_PROXY: 'maybe',
        LOG_LEVEL: 'loud',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      'PORT',
      'RESULT_TTL_HOURS',
      'DATABASE_URL',
      'SECRETS_KEY',
      'TRUST_PROXY',
      'LOG_LEVEL',
    ]) {
      expect(message).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  it('accepts a SECRETS_KEY as hex or base64 of 32 bytes', () => {
    expect(loadConfig({ SECRETS_KEY: 'ab'.repeat(32) }).secretsKey).toBe('ab'.repeat(32));
    const base64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ SECRETS_KEY: base64 }).secretsKey).toBe(base64);
  });
});

describe('isPrivateHost', () => {
  it.each([
    'localhost',
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.10',
    '::1',
    'booth.local',
  ])('%s is not reachable from the internet', (host) => expect(isPrivateHost(host)).toBe(true));
  it.each(['booth.example.com', '8.8.8.8', '172.32.0.1'])('%s is public', (host) =>
    expect(isPrivateHost(host)).toBe(false),
  );
});

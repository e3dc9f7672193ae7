import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ADMIN_PASSWORDS, TestApp } from './support/test-app';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as an operator runs it, from the sources. */
function cli(dataDir: string, args: string[], stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', ...args],
      // Empty values win over a developer's .env, which dotenv never overrides.
      { env: { ...process.env, DATA_DIR: dataDir, ADMIN_CREDENTIALS_FILE: '' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin ?? '');
  });
}

describe('npm run cli -- set-password', () => {
  let dataDir: string;
  let app: TestApp | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'photochanger-cli-'));
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const credentialsFile = () => path.join(dataDir, 'secrets', 'runtime_credentials.json');

  it('sets passwords from the argument and from stdin that the server then accepts', async () => {
    const fromArgument = await cli(dataDir, ['set-password', 'serg', 'serg-from-cli-1']);
    expect(fromArgument).toMatchObject({ code: 0, stderr: '' });
    expect(fromArgument.stdout).toContain('igor has no password yet');
    expect((await cli(dataDir, ['set-password', 'igor'], 'igor-from-stdin-1\n')).code).toBe(0);
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);

    app = await TestApp.start({ dataDir });
    const login = (username: string, password: string) =>
      app!.request('POST', '/api/login', { json: { username, password } });
    const serg = await login('serg', 'serg-from-cli-1');
    expect(serg.status).toBe(200);
    expect((await login('igor', 'igor-from-stdin-1')).status).toBe(200);
    expect((await login('serg', ADMIN_PASSWORDS.serg)).status).toBe(401);

    // A running server sees the change at once: new password in, older tokens out.
    expect((await cli(dataDir, ['set-password', 'serg', 'serg-from-cli-2'])).code).toBe(0);
    const token = serg.body.access_token;
    expect((await app.request('GET', '/api/account', { token })).status).toBe(401);
    expect((await login('serg', 'serg-from-cli-2')).status).toBe(200);
  });

  it('refuses unknown usernames, short passwords and missing arguments', async () => {
    const unknown = await cli(dataDir, ['set-password', 'anna', 'long-enough-1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown admin "anna"');
    const short = await cli(dataDir, ['set-password', 'serg'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 8 characters');
    expect((await cli(dataDir, ['set-password'])).code).toBe(2);
    expect((await cli(dataDir, ['no-such-command'])).code).toBe(2);

    expect(existsSync(credentialsFile())).toBe(false);
  });
});

describe('first start without an accounts file', () => {
  it('creates one with random passwords and prints them once, outside the log', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'photochanger-first-'));
    const printed: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    let app = await TestApp.start({ dataDir });

    const banner = printed.join('');
    const passwords = Object.fromEntries(
      [...banner.matchAll(/^\|\s+(serg|igor)\s+(\S+)\s+\|$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(passwords).sort()).toEqual(['igor', 'serg']);
    expect(statSync(app.config.adminCredentialsFile).mode & 0o777).toBe(0o600);
    for (const [username, password] of Object.entries(passwords)) {
      const response = await app.request('POST', '/api/login', { json: { username, password } });
      expect(response.status).toBe(200);
      expect(app.rawLogs.join('\n')).not.toContain(password);
    }

    await app.close(true);
    app = await TestApp.start({ dataDir, databaseUrl: app.databaseUrl });
    stderr.mockRestore();
    await app.close();
    expect(printed.join('')).toBe(banner);
  });
});

import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { verifyPassword } from '../common/password-hash';
import {
  AccountRuleError,
  createCredentialsFileIfMissing,
  CredentialsFileError,
  CredentialsReader,
  setAdminPassword,
  writeAdminPasswords,
} from './credentials-file';

describe('admin credentials file', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'photochanger-credentials-'));
    file = path.join(dir, 'secrets', 'runtime_credentials.json');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes hashes privately and moves the token version of changed accounts only', async () => {
    await writeAdminPasswords(file, { serg: 'serg-password-1', igor: 'igor-password-1' });
    await setAdminPassword(file, 'serg', 'serg-password-2');
    await setAdminPassword(file, 'igor', 'igor-password-2');
    await setAdminPassword(file, 'serg', 'serg-password-3');
    const accounts = (await new CredentialsReader(file).accounts())!;
    expect(accounts.get('serg')!.tokenVersion).toBe(3);
    expect(accounts.get('igor')!.tokenVersion).toBe(2);
    expect(await verifyPassword('igor-password-2', accounts.get('igor')!.passwordHash)).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('password-');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(file))).toEqual(['runtime_credentials.json']);
  });

  it('waits for a writer holding the lock, and breaks a lock left by a crash', async () => {
    await writeAdminPasswords(file, { serg: 'serg-password-1' });
    const lock = `${file}.lock`;
    writeFileSync(lock, '');
    let done = false;
    const writing = setAdminPassword(file, 'serg', 'serg-password-2').then(() => (done = true));

    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(done).toBe(false);
    rmSync(lock);
    await writing;
    expect((await new CredentialsReader(file).find('serg'))!.tokenVersion).toBe(2);

    writeFileSync(lock, '');
    utimesSync(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await setAdminPassword(file, 'serg', 'serg-password-3');
    expect((await new CredentialsReader(file).find('serg'))!.tokenVersion).toBe(3);
  });

  it('refuses unknown admins and short passwords without touching the file', async () => {
    await expect(setAdminPassword(file, 'anna', 'long-enough-1')).rejects.toThrow(AccountRuleError);
    await expect(setAdminPassword(file, 'serg', 'seven77')).rejects.toThrow(/at least 8/);
    expect(await new CredentialsReader(file).accounts()).toBeUndefined();
  });

  it('re-reads only when the file changed', async () => {
    await writeAdminPasswords(file, { serg: 'serg-password-1' });
    const reader = new CredentialsReader(file);
    const first = await reader.accounts();

    expect(await reader.accounts()).toBe(first);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    stored.accounts.serg.token_version = 7;
    writeFileSync(file, JSON.stringify(stored));
    expect((await reader.find('serg'))!.tokenVersion).toBe(7);
    writeFileSync(file, '{"accounts": {"serg": {}}}');
    await expect(reader.accounts()).rejects.toThrow(CredentialsFileError);
  });

  it('creates the file once when several instances start together', async () => {
    const results = await Promise.all([
      createCredentialsFileIfMissing(file),
      createCredentialsFileIfMissing(file),
    ]);

    const created = results.filter((result) => result !== undefined);
    expect(created).toHaveLength(1);
    const accounts = (await new CredentialsReader(file).accounts())!;
    expect(await verifyPassword(created[0].serg, accounts.get('serg')!.passwordHash)).toBe(true);
    expect(await createCredentialsFileIfMissing(file)).toBeUndefined();
  });
});

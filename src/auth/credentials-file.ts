import { randomBytes } from 'node:crypto';
import { promises as fs, Stats } from 'node:fs';
import * as path from 'node:path';
import { hashPassword } from '../common/password-hash';

/** The two admin accounts SPEC §6 defines; the CLI manages no other name. */
export const ADMIN_USERNAMES = ['serg', 'igor'] as const;
export type AdminUsername = (typeof ADMIN_USERNAMES)[number];

export const MIN_PASSWORD_LENGTH = 8;

export function isAdminUsername(name: string): name is AdminUsername {
  return (ADMIN_USERNAMES as readonly string[]).includes(name);
}

export interface AdminAccount {
  username: string;
  passwordHash: string;
  passwordChangedAt: string;
  /** Carried in every token; bumped by each password change so older tokens stop working. */
  tokenVersion: number;
}

/** The file as stored (snake_case, like the rest of the API). */
interface StoredFile {
  format: 1;
  accounts: Record<
    string,
    { password_hash: string; password_changed_at: string; token_version: number }
  >;
}

export class CredentialsFileError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'CredentialsFileError';
  }
}

/** A username or password the account rules refuse; its message is fit to show the operator. */
export class AccountRuleError extends Error {
  override name = 'AccountRuleError';
}

/**
 * Reads the accounts file, re-parsing only when it changed. Every authenticated request asks,
 * and another instance or the CLI may rewrite the file at any time, so one stat per call is the
 * price of seeing a password change at once. Writes replace the file by rename, so the inode
 * changes even when two writes land within one mtime tick.
 */
export class CredentialsReader {
  private cache: { key: string; accounts: Map<string, AdminAccount> } | undefined;

  constructor(readonly file: string) {}

  /** The accounts, or undefined when the file does not exist. */
  async accounts(): Promise<Map<string, AdminAccount> | undefined> {
    let stats: Stats;
    try {
      stats = await fs.stat(this.file);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const key = `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
    if (this.cache?.key !== key) {
      this.cache = { key, accounts: await readAccounts(this.file) };
    }
    return this.cache.accounts;
  }

  async find(username: string): Promise<AdminAccount | undefined> {
    return (await this.accounts())?.get(username);
  }
}

/**
 * Sets passwords (hashing them) and keeps every other account as it is. Each changed account
 * gets a new token version, which revokes the tokens issued before.
 */
export async function writeAdminPasswords(
  file: string,
  passwords: Record<string, string>,
  now: Date = new Date(),
): Promise<void> {
  const hashes = await Promise.all(
    Object.entries(passwords).map(
      async ([username, password]) => [username, await hashPassword(password)] as const,
    ),
  );
  await withFileLock(file, async () => {
    const accounts = (await readAccountsIfPresent(file)) ?? new Map<string, AdminAccount>();
    for (const [username, passwordHash] of hashes) {
      accounts.set(username, {
        username,
        passwordHash,
        passwordChangedAt: now.toISOString(),
        tokenVersion: (accounts.get(username)?.tokenVersion ?? 0) + 1,
      });
    }
    await replaceFile(file, serialize(accounts));
  });
}

/** The CLI's and the API's way to set one admin's password, with the same rules for both. */
export async function setAdminPassword(
  file: string,
  username: string,
  password: string,
  now: Date = new Date(),
): Promise<void> {
  if (!isAdminUsername(username)) {
    throw new AccountRuleError(
      `Unknown admin "${username}": the accounts are ${ADMIN_USERNAMES.join(' and ')}`,
    );
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountRuleError(
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters long`,
    );
  }
  await writeAdminPasswords(file, { [username]: password }, now);
}

/**
 * First start: creates the file with a random password per admin and returns them, or returns
 * undefined when the file already exists. link(2) refuses to replace a file, so when several
 * instances start together exactly one creates it and only that one gets passwords to show.
 */
export async function createCredentialsFileIfMissing(
  file: string,
  now: Date = new Date(),
): Promise<Record<AdminUsername, string> | undefined> {
  if (await exists(file)) return undefined;
  const passwords = Object.fromEntries(
    ADMIN_USERNAMES.map((name) => [name, randomBytes(12).toString('base64url')]),
  ) as Record<AdminUsername, string>;
  const accounts = new Map<string, AdminAccount>();
  for (const username of ADMIN_USERNAMES) {
    accounts.set(username, {
      username,
      passwordHash: await hashPassword(passwords[username]),
      passwordChangedAt: now.toISOString(),
      tokenVersion: 1,
    });
  }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = tempName(file);
  await fs.writeFile(temp, serialize(accounts), { mode: 0o600 });
  try {
    await fs.link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
  return passwords;
}

/** The one-time notice of generated passwords: for a human at the console, not for log shippers. */
export function passwordsBanner(file: string, passwords: Record<string, string>): string {
  const lines = [
    'Admin accounts created with these passwords (shown only this once):',
    '',
    ...Object.entries(passwords).map(([name, password]) => `  ${name.padEnd(6)} ${password}`),
    '',
    `Stored hashed in ${file}`,
    'Change them in the console, or: npm run cli -- set-password <username>',
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const border = `+${'-'.repeat(width + 2)}+`;
  return [border, ...lines.map((line) => `| ${line.padEnd(width)} |`), border, ''].join('\n');
}

async function readAccountsIfPresent(file: string): Promise<Map<string, AdminAccount> | undefined> {
  try {
    return await readAccounts(file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function readAccounts(file: string): Promise<Map<string, AdminAccount>> {
  const text = await fs.readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CredentialsFileError(file, 'is not valid JSON');
  }
  const accounts = (parsed as Partial<StoredFile> | null)?.accounts;
  if (!accounts || typeof accounts !== 'object' || Array.isArray(accounts)) {
    throw new CredentialsFileError(file, 'has no "accounts" object');
  }
  const out = new Map<string, AdminAccount>();
  for (const [username, entry] of Object.entries(accounts)) {
    const { password_hash, password_changed_at, token_version } = (entry ?? {}) as Record<
      string,
      unknown
    >;
    if (
      typeof password_hash !== 'string' ||
      typeof password_changed_at !== 'string' ||
      typeof token_version !== 'number' ||
      !Number.isSafeInteger(token_version)
    ) {
      throw new CredentialsFileError(file, `the account "${username}" is incomplete`);
    }
    out.set(username, {
      username,
      passwordHash: password_hash,
      passwordChangedAt: password_changed_at,
      tokenVersion: token_version,
    });
  }
  return out;
}

function serialize(accounts: Map<string, AdminAccount>): string {
  const stored: StoredFile = { format: 1, accounts: {} };
  for (const account of accounts.values()) {
    stored.accounts[account.username] = {
      password_hash: account.passwordHash,
      password_changed_at: account.passwordChangedAt,
      token_version: account.tokenVersion,
    };
  }
  return `${JSON.stringify(stored, null, 2)}\n`;
}

/** Readers see the old file or the new one, never a half-written one. */
async function replaceFile(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = tempName(file);
  try {
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/**
 * Serialises read-modify-write between the CLI and every instance sharing the file, so two
 * password changes at once cannot drop each other. A lock left by a crashed process goes stale.
 */
async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await fs.open(lock, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await fs.stat(lock).then(
        (stats) => Date.now() - stats.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) await fs.rm(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by another process`);
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(lock, { force: true });
  }
}

function tempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    (error: unknown) => {
      if (isNotFound(error)) return false;
      throw error;
    },
  );
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

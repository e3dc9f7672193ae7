import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AppConfig, decodeKey } from './app-config';

/** Keys every instance must share: from the environment, else generated once under DATA_DIR/secrets. */
export class RuntimeSecrets {
  constructor(
    readonly jwtSigningKey: string,
    readonly secretsKey: Buffer,
  ) {}
}

export async function resolveRuntimeSecrets(config: AppConfig): Promise<RuntimeSecrets> {
  await ensurePrivateDir(config.secretsDir);
  const jwtSigningKey =
    config.jwtSigningKey ??
    (await readOrCreate(path.join(config.secretsDir, 'jwt_signing_key'), () =>
      randomBytes(48).toString('base64url'),
    ));
  const secretsKeyText =
    config.secretsKey ??
    (await readOrCreate(path.join(config.secretsDir, 'secrets_key'), () =>
      randomBytes(32).toString('hex'),
    ));
  const secretsKey = decodeKey(secretsKeyText);
  if (!secretsKey) {
    throw new Error(`${path.join(config.secretsDir, 'secrets_key')} does not hold a 32-byte key`);
  }
  return new RuntimeSecrets(jwtSigningKey, secretsKey);
}

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
}

/**
 * Publishes a new value with link(2), which fails when the file exists: two instances starting
 * together agree on one value, and nobody ever reads a half-written file.
 */
export async function readOrCreate(file: string, create: () => string): Promise<string> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temp, `${create()}\n`, { mode: 0o600 });
  try {
    await fs.link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
  const value = (await fs.readFile(file, 'utf8')).trim();
  if (value === '') throw new Error(`${file} is empty; delete it or set the variable`);
  return value;
}

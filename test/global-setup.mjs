// One PostgreSQL for the whole run: DATABASE_URL when given, else an embedded one in a temp folder.
// Each test file then creates its own database on it (test/support/database.ts).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.PHOTOCHANGER_TEST_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'photochanger-test-pg-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
  const output = execFileSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'test/support/postgres-server.ts', dataDir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const { url } = JSON.parse(output.trim().split('\n').pop());
  process.env.PHOTOCHANGER_TEST_DATABASE_URL = url;
  process.env.PHOTOCHANGER_TEST_PG_DIR = dataDir;
}

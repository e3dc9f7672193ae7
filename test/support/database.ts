import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The run's PostgreSQL (see global-setup.mjs). */
export function testServerUrl(): string {
  const url = process.env.PHOTOCHANGER_TEST_DATABASE_URL;
  if (!url)
    throw new Error('PHOTOCHANGER_TEST_DATABASE_URL is not set: run the tests through jest');
  return url;
}

/** A fresh, empty database for one test file; the app applies the migrations when it boots. */
export async function createTestDatabase(): Promise<string> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs SQL directly, the way a test reads raw rows behind the API's back. */
export async function sql<T extends Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

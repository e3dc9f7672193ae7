/**
 * Starts the embedded PostgreSQL for a test run in its own process: jest on Node 20 cannot
 * import the ESM-only binaries package inside its module sandbox.
 * Usage: ts-node test/support/postgres-server.ts <data-dir>  → prints {"url": …} and exits,
 * leaving PostgreSQL running (pg_ctl detaches it) until global teardown stops it.
 */
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: postgres-server.ts <data-dir>');
  const server = await EmbeddedPostgres.start(dataDir, () => undefined);
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

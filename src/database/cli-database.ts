import type { AppConfig } from '../config/app-config';
import { EmbeddedPostgres, Log } from './embedded-postgres';

export interface CliDatabase {
  url: string;
  /** Stops the embedded PostgreSQL if this command started it; a no-op otherwise. */
  stop(): Promise<void>;
}

/**
 * The database a CLI command should use: DATABASE_URL, else the embedded PostgreSQL of the
 * server running on this DATA_DIR, else one started just for the command.
 */
export async function databaseForCli(config: AppConfig, log: Log): Promise<CliDatabase> {
  const noop = (): Promise<void> => Promise.resolve();
  if (config.databaseUrl) return { url: config.databaseUrl, stop: noop };
  const running = await EmbeddedPostgres.runningUrl(config.dataDir);
  if (running) return { url: running, stop: noop };
  const embedded = await EmbeddedPostgres.start(config.dataDir, log);
  return { url: embedded.url, stop: () => embedded.stop() };
}

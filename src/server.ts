import { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { createApp } from './app.factory';
import { AppLogger } from './common/app-logger';
import { loadConfig } from './config/app-config';
import { resolveRuntimeSecrets } from './config/runtime-secrets';
import { EmbeddedPostgres } from './database/embedded-postgres';

export interface RunningServer {
  app: INestApplication;
  /** Stops taking requests, closes the app, then the embedded PostgreSQL if we started one. */
  stop(): Promise<void>;
}

// The longest deadline (60 s) plus time to write the answer: in-flight ingests finish first.
const DRAIN_GRACE_MS = 65_000;

/**
 * Stops accepting connections and waits for in-flight requests (an ingest may take up to its
 * deadline) before the database goes away; idle keep-alive connections are closed as they idle.
 */
async function drain(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const giveUp = setTimeout(() => {
      server.closeAllConnections();
    }, graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(giveUp);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** jemalloc when preloaded (`npm start` and the image do so when it is installed), else glibc's. */
function memoryAllocator(): 'jemalloc' | 'system' {
  const report = process.report.getReport() as { sharedObjects?: string[] };
  return report.sharedObjects?.some((file) => file.includes('libjemalloc')) ? 'jemalloc' : 'system';
}

/** Config → secrets → database → app → listen. Throws with one clear message on bad config. */
export async function startServer(env: NodeJS.ProcessEnv): Promise<RunningServer> {
  const config = loadConfig(env);
  const logger = new AppLogger(config.logLevel);
  logger.redactValue(config.geminiApiKey);
  logger.redactValue(config.turbotextApiKey);
  const secrets = await resolveRuntimeSecrets(config);

  const embedded = config.databaseUrl
    ? undefined
    : await EmbeddedPostgres.start(config.dataDir, (message) =>
        logger.event('info', 'database.embedded', { message }),
      );
  const databaseUrl = config.databaseUrl ?? embedded!.url;

  let app: INestApplication | undefined;
  try {
    app = await createApp({ config, secrets, databaseUrl, logger });
    await app.listen(config.port, config.host);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
  logger.event('info', 'server.started', {
    port: config.port,
    public_base_url: config.publicBaseUrl,
    database: embedded ? 'embedded' : 'external',
    memory_allocator: memoryAllocator(),
  });

  let stopping: Promise<void> | undefined;
  const running = app;
  return {
    app: running,
    stop: () =>
      (stopping ??= (async () => {
        logger.event('info', 'server.stopping');
        await drain(running.getHttpServer() as Server, DRAIN_GRACE_MS);
        await running.close();
        await embedded?.stop();
        logger.event('info', 'server.stopped');
      })()),
  };
}

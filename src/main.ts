import 'reflect-metadata';
import 'dotenv/config';
import { ConfigError } from './config/app-config';
import { startServer } from './server';

async function main(): Promise<void> {
  const server = await startServer(process.env);
  // A repeated signal (Ctrl-C reaches both `npm start` and the server) must not cut the drain
  // short: stop() is idempotent, and the drain is bounded by its grace period anyway.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      server.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { AppLogger } from '../common/app-logger';
import { loadConfig } from '../config/app-config';
import { resolveRuntimeSecrets } from '../config/runtime-secrets';
import { databaseForCli } from '../database/cli-database';
import { CleanupService } from './cleanup.service';

/** Boots the application without HTTP on the right database, sweeps once, prints the report. */
export async function runCleanup(env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadConfig(env);
  // stdout carries the report (JSON for cron mail or jq); log lines go to stderr.
  const logger = new AppLogger(config.logLevel === 'debug' ? 'debug' : 'warn', (line) =>
    process.stderr.write(`${line}\n`),
  );
  const secrets = await resolveRuntimeSecrets(config);
  const database = await databaseForCli(config, () => undefined);
  try {
    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot({ config, secrets, databaseUrl: database.url, logger }),
      { logger },
    );
    try {
      const report = await app.get(CleanupService).run({ trigger: 'cli' });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    } finally {
      await app.close();
    }
  } finally {
    await database.stop();
  }
}

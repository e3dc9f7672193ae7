import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminUiModule } from './admin-ui/admin-ui.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CleanupModule } from './cleanup/cleanup.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { AppLogger } from './common/app-logger';
import { Clock } from './common/clock';
import { ErrorFilter } from './common/error.filter';
import { RequestTracker } from './common/request-tracker';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { APP_CONFIG } from './config/config.tokens';
import { RuntimeSecrets } from './config/runtime-secrets';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { IngestModule } from './ingest/ingest.module';
import { MediaModule } from './media/media.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProvidersModule } from './providers/providers.module';
import { SettingsModule } from './settings/settings.module';
import { SlotsModule } from './slots/slots.module';
import { StatsModule } from './stats/stats.module';

export interface AppOptions {
  config: AppConfig;
  secrets: RuntimeSecrets;
  /** The resolved database: DATABASE_URL or the embedded server's. */
  databaseUrl: string;
  logger: AppLogger;
  /** Tests pass a controllable clock. */
  clock?: Clock;
}

@Module({})
export class AppModule {
  static forRoot(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        DatabaseModule.forRoot(options.databaseUrl),
        ScheduleModule.forRoot(),
        MetricsModule,
        AuditModule,
        AuthModule,
        SettingsModule,
        ProvidersModule,
        SlotsModule,
        IngestModule,
        MediaModule,
        StatsModule,
        CleanupModule,
        HealthModule,
        AdminUiModule,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: options.config },
        { provide: RuntimeSecrets, useValue: options.secrets },
        { provide: AppLogger, useValue: options.logger },
        { provide: Clock, useValue: options.clock ?? new Clock() },
        RequestTracker,
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
      exports: [APP_CONFIG, RuntimeSecrets, AppLogger, Clock, RequestTracker],
    };
  }
}

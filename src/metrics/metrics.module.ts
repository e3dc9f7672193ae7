import { Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { LoginFailuresMiddleware } from './login-failures.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';

/**
 * One prom-client Registry per app instance: prom-client's default registry is process-wide, so
 * two apps in one process (tests, a CLI beside a server) would share or clash over every metric.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `GET /metrics` and the MetricsService every feature reports to. Global, like the logger: ingest,
 * cleanup and storage code inject MetricsService without importing this module.
 */
@Global()
@Module({
  imports: [
    // Only the route wiring is the library's; its default metrics would go to the global registry.
    PrometheusModule.register({
      controller: MetricsController,
      path: '/metrics',
      defaultMetrics: { enabled: false },
    }),
  ],
  providers: [
    { provide: Registry, useFactory: createMetricsRegistry },
    MetricsService,
    MetricsTokenGuard,
    LoginFailuresMiddleware,
  ],
  exports: [MetricsService, MetricsTokenGuard],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(LoginFailuresMiddleware)
      .forRoutes({ path: 'api/login', method: RequestMethod.POST });
  }
}

import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppOptions } from './app.module';
import { answerClientErrorsAsJson } from './common/client-errors';
import { RequestTracker } from './common/request-tracker';
import { securityHeaders } from './common/security-headers';
import { IngestPreflight } from './ingest/ingest-preflight';
import { setupOpenApi } from './openapi';

/** Builds the HTTP application exactly as production runs it; tests call this too. */
export async function createApp(options: AppOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    logger: options.logger,
    bodyParser: false,
  });
  app.disable('x-powered-by');
  app.set('trust proxy', options.config.trustProxy);
  // First, so the request id and its log line cover every later middleware and route.
  app.use(app.get(RequestTracker).middleware);
  // Before every route, Swagger's included, so no answer goes out without them.
  app.use(securityHeaders(options.config.publicBaseUrl));
  app.useBodyParser('json', { limit: '1mb' });
  // Decides `Expect: 100-continue` for ingest routes from the URL and headers (404/413 early).
  app.get(IngestPreflight).attach(app.getHttpServer());
  answerClientErrorsAsJson(app.getHttpServer());
  setupOpenApi(app);
  return app;
}

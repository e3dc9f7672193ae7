import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { contentSecurityPolicy, CSP_HEADER } from './common/security-headers';

const DOCS_PATH = 'api/docs';

// Swagger UI's page carries two inline <style> blocks and a style attribute, and its CSS draws
// icons from data: URLs. Its scripts are files, so scripts stay 'self' only; inline styles on a
// page showing only our own API description are an accepted trade.
const DOCS_POLICY = contentSecurityPolicy({ img: ['data:'], style: ["'unsafe-inline'"] });

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('PhotoChanger')
    .setDescription('Photobooth ingest, AI providers, results and the admin API')
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /api/docs and the JSON at /api/docs-json (both public). */
export function setupOpenApi(app: INestApplication): void {
  app.use(`/${DOCS_PATH}`, (_request: Request, response: Response, next: NextFunction) => {
    response.setHeader(CSP_HEADER, DOCS_POLICY);
    next();
  });
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    // The page never asks the public validator service about our document.
    swaggerOptions: { validatorUrl: null },
  });
}

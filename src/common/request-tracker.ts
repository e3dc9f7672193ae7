import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { AppLogger } from './app-logger';
import {
  REQUEST_ID_HEADER,
  RequestContext,
  requestIdFrom,
  runInRequestContext,
} from './request-id';

// Probes and scrapes arrive every few seconds: at info they would drown the lines that matter.
const QUIET_PATHS = new Set(['/healthz', '/healthz/live', '/metrics']);
const TRACKED = Symbol('photochanger:request-context');

type TrackedRequest = IncomingMessage & { [TRACKED]?: RequestContext };

/**
 * Gives every request an id (echoed as `X-Request-Id` and attached to every log line written
 * while it is handled) and logs one `http.request` line when it ends. The 100-continue hook
 * answers some ingest refusals before Express sees the request, so both entry points use it.
 */
@Injectable()
export class RequestTracker {
  constructor(
    private readonly logger: AppLogger,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Express middleware; registered first, so everything after it runs inside the context. */
  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    this.run(request, response, next);
  };

  /** A server listener (`request`, `checkContinue`) that runs inside the request's context. */
  wrap(
    listener: (request: IncomingMessage, response: ServerResponse) => void,
  ): (request: IncomingMessage, response: ServerResponse) => void {
    return (request, response) => this.run(request, response, () => listener(request, response));
  }

  /** Runs `handler` inside the request's context, starting it on first sight of the request. */
  run<T>(request: IncomingMessage, response: ServerResponse, handler: () => T): T {
    return runInRequestContext(this.start(request, response), handler);
  }

  private start(request: IncomingMessage, response: ServerResponse): RequestContext {
    const tracked = request as TrackedRequest;
    const existing = tracked[TRACKED];
    if (existing) return existing;
    const context: RequestContext = { requestId: requestIdFrom(request.headers['x-request-id']) };
    tracked[TRACKED] = context;
    response.setHeader(REQUEST_ID_HEADER, context.requestId);

    const started = performance.now();
    const socketIp = request.socket.remoteAddress;
    let logged = false;
    const log = (): void => {
      if (logged) return;
      logged = true;
      const path = pathOnly((request as Partial<Request>).originalUrl ?? request.url);
      const completed = response.writableFinished;
      const quiet = QUIET_PATHS.has(path) && completed && response.statusCode < 400;
      this.logger.event(quiet ? 'debug' : 'info', 'http.request', {
        request_id: context.requestId,
        method: request.method,
        path,
        status: response.headersSent ? response.statusCode : undefined,
        duration_ms: Math.round(performance.now() - started),
        ip: this.clientIp(request, socketIp),
        // The client went away before the answer was complete.
        aborted: completed ? undefined : true,
      });
    };
    response.once('finish', log);
    response.once('close', log);
    return context;
  }

  /** Express's `req.ip` (which honours TRUST_PROXY) once it has seen the request. */
  private clientIp(request: IncomingMessage, socketIp: string | undefined): string | undefined {
    const expressIp = (request as Partial<Request>).ip;
    if (typeof expressIp === 'string') return expressIp;
    const forwarded = request.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    return this.config.trustProxy && first ? first.slice(0, 64) : socketIp;
  }
}

/** The path alone: query strings carry tokens and personal data and never reach a log. */
function pathOnly(url: string | undefined): string {
  const path = (url ?? '').split(/[?#]/, 1)[0] ?? '';
  return path.length > 256 ? `${path.slice(0, 256)}…` : path;
}

// Admin request routing: the Rust proxy's admin endpoints, with their exact statuses and bodies.

import { promisify } from 'node:util';
import { gzip, constants as zlibConstants } from 'node:zlib';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { LogLevelControl } from '../log/root-logger.js';
import { METRICS_CONTENT_TYPE } from '../metrics/exposition.js';
import { envJson } from './env-json.js';
import {
  emptyResponse,
  FORBIDDEN_NOT_LOCALHOST,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  textResponse,
  type AdminResponse,
} from './response.js';

const gzipAsync = promisify(gzip);

export interface AdminContext {
  readonly metrics: { render(): Promise<string> };
  readonly readiness: { isReady(): boolean };
  readonly logger: Logger;
  /** undefined when logging is disabled (⇒ /proxy-log-level is 404). */
  readonly logLevel: LogLevelControl | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly shutdown: { readonly enabled: boolean; trigger(): void };
}

export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  /** Raw text after `?`; undefined when there is none. */
  readonly query: string | undefined;
  /** The first Accept header. */
  readonly accept: string | undefined;
  /** All Accept-Encoding values joined. */
  readonly acceptEncoding: string | undefined;
  readonly clientIsLocal: boolean;
  /** The whole body; undefined if it exceeds the admin body limit. */
  readBody(): Promise<Buffer | undefined>;
}

export interface RouteResult {
  readonly response: AdminResponse;
  /** Runs once the response has been handed to the socket (used by /shutdown). */
  readonly afterSend?: () => void;
}

export async function routeAdmin(req: AdminRequest, ctx: AdminContext): Promise<RouteResult> {
  switch (req.path) {
    case '/live':
      return { response: textResponse(200, 'live\n') };
    case '/ready':
      return {
        response: ctx.readiness.isReady() ? textResponse(200, 'ready\n') : { status: 503, body: 'not ready\n' },
      };
    case '/metrics':
      return { response: await metrics(req, ctx) };
    case '/proxy-log-level':
      return { response: await logLevel(req, ctx) };
    case '/env.json':
      return { response: envJson(req.method, req.query, req.accept, ctx.env) };
    case '/shutdown':
      return shutdown(req, ctx);
    default:
      return { response: NOT_FOUND };
  }
}

async function metrics(req: AdminRequest, ctx: AdminContext): Promise<AdminResponse> {
  let text: string;
  try {
    text = await ctx.metrics.render();
  } catch (err) {
    ctx.logger.error('Failed to format metrics', { error: messageOf(err) });
    return textResponse(500, messageOf(err));
  }
  if (req.acceptEncoding?.includes('gzip') === true) {
    // Upstream uses its encoder's fast setting: scrapes are frequent and the text compresses well.
    const body = await gzipAsync(text, { level: zlibConstants.Z_BEST_SPEED });
    return {
      status: 200,
      headers: { 'content-encoding': 'gzip', 'content-type': METRICS_CONTENT_TYPE },
      body,
    };
  }
  return { status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE }, body: text };
}

async function logLevel(req: AdminRequest, ctx: AdminContext): Promise<AdminResponse> {
  if (!req.clientIsLocal) return FORBIDDEN_NOT_LOCALHOST;
  const control = ctx.logLevel;
  if (control === undefined) return NOT_FOUND;
  switch (req.method) {
    case 'GET':
      return { status: 200, body: control.get() };
    case 'PUT': {
      const body = await req.readBody();
      if (body === undefined) return { status: 413, headers: { connection: 'close' } };
      let error: string;
      try {
        control.set(decodeUtf8(body));
        return emptyResponse(204);
      } catch (err) {
        error = messageOf(err);
      }
      ctx.logger.warn('Setting log level failed', { error });
      return { status: 400, body: error };
    }
    default:
      return { status: 405, headers: { allow: ['GET', 'PUT'] } };
  }
}

function shutdown(req: AdminRequest, ctx: AdminContext): RouteResult {
  if (req.method !== 'POST') return { response: METHOD_NOT_ALLOWED };
  if (!req.clientIsLocal) return { response: FORBIDDEN_NOT_LOCALHOST };
  if (!ctx.shutdown.enabled) {
    return { response: textResponse(404, 'shutdown endpoint is not enabled\n') };
  }
  return { response: textResponse(200, 'shutdown\n'), afterSend: () => ctx.shutdown.trigger() };
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new Error('request body is not valid UTF-8');
  }
}

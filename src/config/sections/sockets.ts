// Accept-side (server) and connect-side socket options of one direction.
import type { EnvReader } from '../env-reader.js';
import { parseDuration, uintParser } from '../formats.js';
import type { BackoffConfig, ConnectConfig, Http2ClientConfig, ServerConfig } from '../types.js';
import { readBackoff } from './backoff.js';
import type { DirectionEnv } from './direction-env.js';
import { readHttp2Server } from './http2.js';

const backlog = uintParser(0xffff_ffff);
const usize = uintParser(Number.MAX_SAFE_INTEGER);

export interface ConnectDefaults {
  readonly timeoutMs: number;
  readonly backoff: BackoffConfig;
  readonly maxIdlePerEndpoint: number;
  readonly poolIdleTimeoutMs: number;
}

export function readServer(r: EnvReader, names: DirectionEnv): ServerConfig {
  return {
    keepaliveMs: r.parse(names.acceptKeepalive, parseDuration),
    userTimeoutMs: r.parse(names.acceptUserTimeout, parseDuration),
    backlog: r.parse(names.listenBacklog, backlog),
    http2: readHttp2Server(r, names.serverHttp2),
  };
}

export function readConnect(
  r: EnvReader,
  names: DirectionEnv,
  defaults: ConnectDefaults,
  http2: Http2ClientConfig,
): ConnectConfig {
  return {
    timeoutMs: r.parse(names.connectTimeout, parseDuration) ?? defaults.timeoutMs,
    backoff: readBackoff(r, names.backoff, defaults.backoff),
    keepaliveMs: r.parse(names.connectKeepalive, parseDuration),
    userTimeoutMs: r.parse(names.connectUserTimeout, parseDuration),
    http1Pool: {
      maxIdlePerEndpoint: r.parse(names.maxIdleConnsPerEndpoint, usize) ?? defaults.maxIdlePerEndpoint,
      idleTimeoutMs: r.parse(names.http1PoolIdleTimeout, parseDuration) ?? defaults.poolIdleTimeoutMs,
    },
    http2,
  };
}

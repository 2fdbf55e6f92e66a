// loadConfig: parse every variable, collect every problem, then throw one ConfigError or return a frozen Config.
import { ConfigError } from './config-error.js';
import { DEFAULTS } from './defaults.js';
import { ENV, ENV_PREFIX, isKnownEnvName } from './env-names.js';
import { EnvReader, type Env } from './env-reader.js';
import { parseDuration } from './formats.js';
import { deepFreeze } from './freeze.js';
import { readControlPlane } from './sections/control-plane.js';
import { readHttp2Client } from './sections/http2.js';
import { readIdentity } from './sections/identity.js';
import { readInbound } from './sections/inbound.js';
import { readListeners } from './sections/listeners.js';
import { readAdmin, readLogging, readRuntime, readTraceCollector } from './sections/misc.js';
import { readOutbound } from './sections/outbound.js';
import type { Config } from './types.js';

export interface LoadedConfig {
  readonly config: Config;
  /** Non-fatal findings (deprecated names, defaults taken, ignored values) for the caller to log. */
  readonly warnings: string[];
}

/**
 * Reads the configuration from `env` (pass `process.env` in production, a plain object in tests).
 * Throws a ConfigError (exitCode 64) listing every invalid or missing variable.
 */
export function loadConfig(env: Env): LoadedConfig {
  const r = new EnvReader(env);

  const listeners = readListeners(r);
  const http2 = readHttp2Client(r);
  const inbound = readInbound(r, listeners, http2);
  const outbound = readOutbound(r, http2);
  const ctx = { inbound, outbound };
  const controlPlane = readControlPlane(r, ctx);
  const identity = readIdentity(r, ctx);
  const traceCollector = readTraceCollector(r, ctx);
  const admin = readAdmin(r);
  const logging = readLogging(r);
  const runtime = readRuntime(r);
  const shutdownGracePeriodMs = r.parse(ENV.SHUTDOWN_GRACE_PERIOD, parseDuration) ?? DEFAULTS.shutdownGracePeriodMs;

  for (const name of r.names()) {
    if (name.startsWith(ENV_PREFIX) && !isKnownEnvName(name)) {
      r.warn(`${name} is set but is not a variable this proxy reads`);
    }
  }

  if (r.problems.length > 0 || controlPlane === undefined || identity === undefined) {
    if (r.problems.length === 0) throw new Error('config: a mandatory section is missing without a recorded problem');
    throw new ConfigError(r.problems);
  }

  const config: Config = {
    listeners,
    inbound,
    outbound,
    controlPlane,
    identity,
    admin,
    logging,
    traceCollector,
    runtime,
    shutdownGracePeriodMs,
  };
  return { config: deepFreeze(config), warnings: [...r.warnings] };
}

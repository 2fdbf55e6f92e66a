// Admin switches, logging, the trace collector pair and the (Rust-only) runtime sizing variables.
import { DEFAULTS } from '../defaults.js';
import { ENV } from '../env-names.js';
import type { EnvReader } from '../env-reader.js';
import { parseBool, parseDuration } from '../formats.js';
import type { AdminConfig, ControlPlaneClient, LoggingConfig, RuntimeConfig } from '../types.js';
import { controlClient, readControlPair, type ClientContext } from './control-plane.js';

export function readAdmin(r: EnvReader): AdminConfig {
  return {
    shutdownEndpointEnabled: r.parse(ENV.SHUTDOWN_ENDPOINT_ENABLED, parseBool) ?? DEFAULTS.shutdownEndpointEnabled,
    metricsRetainIdleMs: r.parse(ENV.METRICS_RETAIN_IDLE, parseDuration) ?? DEFAULTS.metricsRetainIdleMs,
  };
}

/**
 * The filter string is kept as given (the logger applies it leniently). Format and access log
 * never fail startup, as in Rust: an unknown format is plain, an unknown access log is off;
 * both are reported as warnings.
 */
export function readLogging(r: EnvReader): LoggingConfig {
  const format = r.raw(ENV.LOG_FORMAT);
  const isJson = format !== undefined && format.trim().toLowerCase() === 'json';
  if (format !== undefined && !isJson && format.trim().toLowerCase() !== 'plain') {
    r.warn(`${ENV.LOG_FORMAT}=${JSON.stringify(format)} is not json or plain; using plain`);
  }
  const access = r.raw(ENV.ACCESS_LOG);
  let accessLog: LoggingConfig['accessLog'];
  if (access !== undefined) {
    const lower = access.toLowerCase();
    if (lower === 'apache' || lower === 'json') accessLog = lower;
    else r.warn(`Invalid ${ENV.ACCESS_LOG}=${JSON.stringify(access)}: expected either 'apache' or 'json'; access log disabled`);
  }
  return { filter: r.raw(ENV.LOG) ?? DEFAULTS.logFilter, format: isJson ? 'json' : 'plain', accessLog };
}

/** Validated like any control-plane pair; nothing consumes it yet. */
export function readTraceCollector(r: EnvReader, ctx: ClientContext): ControlPlaneClient | undefined {
  const pair = readControlPair(r, { addr: ENV.TRACE_COLLECTOR_SVC_ADDR, name: ENV.TRACE_COLLECTOR_SVC_NAME });
  return pair.state === 'ok' ? controlClient(pair, ctx) : undefined;
}

/** Invalid values are ignored with a warning, exactly as the Rust runtime builder does. */
export function readRuntime(r: EnvReader): RuntimeConfig {
  const cores = (name: string): number | undefined => {
    const raw = r.raw(name);
    if (raw === undefined) return undefined;
    if (/^\+?[0-9]+$/.test(raw) && Number(raw) >= 1 && Number.isSafeInteger(Number(raw))) return Number(raw);
    r.warn(`Ignoring invalid configuration ${name}=${JSON.stringify(raw)} (expected an integer ≥ 1)`);
    return undefined;
  };
  const ratioRaw = r.raw(ENV.CORES_MAX_RATIO);
  let coresMaxRatio: number | undefined;
  if (ratioRaw !== undefined) {
    const n = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(ratioRaw) ? Number(ratioRaw) : NaN;
    if (n > 0 && n <= 1) coresMaxRatio = n;
    else r.warn(`Ignoring invalid configuration ${ENV.CORES_MAX_RATIO}=${JSON.stringify(ratioRaw)} (expected a number in (0, 1])`);
  }
  // The legacy name is consulted only when CORES_MIN is absent or invalid.
  const coresMin = cores(ENV.CORES_MIN) ?? cores(ENV.CORES);
  return { coresMin, coresMax: cores(ENV.CORES_MAX), coresMaxRatio };
}

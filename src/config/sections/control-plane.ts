// Control-plane clients: the ADDR/NAME pair rule, loopback ⇒ plaintext, stream limits, destination and policy.
import { isLoopbackHost } from '../addrs.js';
import { DEFAULTS } from '../defaults.js';
import { ENV } from '../env-names.js';
import type { EnvReader } from '../env-reader.js';
import {
  EXPECTED,
  parseControlAddr,
  parseDnsName,
  parseDnsSuffixes,
  parseDuration,
  parseNetworks,
  parseOptionalDuration,
} from '../formats.js';
import type {
  ControlAddr,
  ControlPlaneClient,
  ControlPlaneConfig,
  ControlPlaneTls,
  InboundConfig,
  OutboundConfig,
  StreamLimits,
} from '../types.js';

export type ControlPair =
  | { readonly state: 'unset' }
  | { readonly state: 'invalid' }
  | { readonly state: 'ok'; readonly addr: ControlAddr; readonly tls: ControlPlaneTls };

export interface PairEnv {
  readonly addr: string;
  readonly name: string;
}

export const NO_STREAM_LIMITS: StreamLimits = { initialTimeoutMs: undefined, idleTimeoutMs: undefined, lifetimeMs: undefined };

/**
 * A loopback ADDR needs no NAME (plaintext; a NAME is still validated if given, then ignored).
 * Otherwise ADDR and NAME go together and NAME is both the SNI and the expected server identity.
 */
export function readControlPair(r: EnvReader, names: PairEnv): ControlPair {
  const addr = r.parse(names.addr, parseControlAddr);
  const name = r.parse(names.name, parseDnsName);
  if (r.failed(names.addr) || r.failed(names.name)) return { state: 'invalid' };
  if (addr === undefined && name === undefined) return { state: 'unset' };
  if (addr !== undefined && isLoopbackHost(addr.host)) {
    return { state: 'ok', addr, tls: { kind: 'none', reason: 'loopback' } };
  }
  if (addr !== undefined && name !== undefined) {
    return { state: 'ok', addr, tls: { kind: 'mtls', serverName: name, serverId: name } };
  }
  const missing = addr === undefined ? names.addr : names.name;
  r.rule(
    missing,
    undefined,
    missing === names.addr ? EXPECTED.controlAddr : EXPECTED.dnsName,
    `${names.addr} and ${names.name} must be specified together`,
  );
  return { state: 'invalid' };
}

export interface ClientContext {
  readonly inbound: InboundConfig;
  readonly outbound: OutboundConfig;
}

/**
 * Derives a client's connection settings as the Rust proxy does: loopback control planes use the
 * inbound connect settings and failfast, others the outbound ones; stream limits only off-host.
 */
export function controlClient(
  pair: { readonly addr: ControlAddr; readonly tls: ControlPlaneTls },
  ctx: ClientContext,
  opts: { readonly limits?: StreamLimits; readonly failfastTimeoutMs?: number } = {},
): ControlPlaneClient {
  const loopback = pair.tls.kind === 'none';
  const side = loopback ? ctx.inbound : ctx.outbound;
  return {
    addr: pair.addr,
    tls: pair.tls,
    connect: side.connect,
    queue: {
      capacity: DEFAULTS.controlQueueCapacity,
      failfastTimeoutMs: opts.failfastTimeoutMs ?? side.httpQueue.failfastTimeoutMs,
    },
    streamLimits: loopback || opts.limits === undefined ? NO_STREAM_LIMITS : opts.limits,
  };
}

/** Empty values mean "no limit"; the three must satisfy initial ≤ idle ≤ lifetime. */
export function readStreamLimits(r: EnvReader): StreamLimits {
  const names = [ENV.CONTROL_STREAM_INITIAL_TIMEOUT, ENV.CONTROL_STREAM_IDLE_TIMEOUT, ENV.CONTROL_STREAM_LIFETIME];
  const [initial, idle, lifetime] = names.map((n) => r.parse(n, parseOptionalDuration));
  const order: [string, number | undefined, string, number | undefined][] = [
    [ENV.CONTROL_STREAM_INITIAL_TIMEOUT, initial, ENV.CONTROL_STREAM_IDLE_TIMEOUT, idle],
    [ENV.CONTROL_STREAM_INITIAL_TIMEOUT, initial, ENV.CONTROL_STREAM_LIFETIME, lifetime],
    [ENV.CONTROL_STREAM_IDLE_TIMEOUT, idle, ENV.CONTROL_STREAM_LIFETIME, lifetime],
  ];
  for (const [lowName, low, highName, high] of order) {
    if (low !== undefined && high !== undefined && low > high) {
      r.rule(lowName, r.raw(lowName), `a duration not greater than ${highName}`, `${lowName} must not be greater than ${highName}=${r.raw(highName) ?? ''}`);
    }
  }
  return { initialTimeoutMs: initial, idleTimeoutMs: idle, lifetimeMs: lifetime };
}

/** Destination and policy clients plus discovery settings; undefined when a mandatory part is missing. */
export function readControlPlane(r: EnvReader, ctx: ClientContext): ControlPlaneConfig | undefined {
  const streamLimits = readStreamLimits(r);
  const dst = readControlPair(r, { addr: ENV.DESTINATION_SVC_ADDR, name: ENV.DESTINATION_SVC_NAME });
  if (dst.state === 'unset') {
    r.rule(ENV.DESTINATION_SVC_ADDR, undefined, EXPECTED.controlAddr, 'no destination service configured');
  }
  const policy = readControlPair(r, { addr: ENV.POLICY_SVC_ADDR, name: ENV.POLICY_SVC_NAME });
  if (policy.state === 'unset') {
    r.rule(ENV.POLICY_SVC_ADDR, undefined, EXPECTED.controlAddr, 'no policy service configured');
  }
  const workload = readWorkload(r);
  const profileSuffixes =
    r.parse(ENV.DESTINATION_PROFILE_SUFFIXES, parseDnsSuffixes) ?? [DEFAULTS.destinationProfileSuffixes];
  const profileNetworks = r.parse(ENV.DESTINATION_PROFILE_NETWORKS, parseNetworks) ?? [];
  const profileInitialTimeoutMs =
    r.parse(ENV.DESTINATION_PROFILE_INITIAL_TIMEOUT, parseDuration) ?? DEFAULTS.destinationProfileInitialTimeoutMs;
  const dns = {
    minTtlMs: r.parse(ENV.DNS_MIN_TTL, parseDuration),
    maxTtlMs: r.parse(ENV.DNS_MAX_TTL, parseDuration),
  };
  if (dst.state !== 'ok' || policy.state !== 'ok' || workload === undefined) return undefined;
  return {
    destination: controlClient(dst, ctx, { limits: streamLimits }),
    destinationContext: r.raw(ENV.DESTINATION_CONTEXT) ?? DEFAULTS.destinationContext,
    profileSuffixes,
    profileNetworks,
    profileInitialTimeoutMs,
    policy: controlClient(policy, ctx, { limits: streamLimits, failfastTimeoutMs: DEFAULTS.policyFailfastTimeoutMs }),
    policyWorkload: workload,
    streamLimits,
    dns,
  };
}

const WORKLOAD_EXPECTED = 'the workload, e.g. {"ns":"default","pod":"web-123"} or default:web-123';

/** Opaque and sent verbatim (the chart's value ends with a newline, which must survive). */
function readWorkload(r: EnvReader): string | undefined {
  const raw = r.raw(ENV.POLICY_WORKLOAD);
  if (raw === undefined) {
    r.rule(ENV.POLICY_WORKLOAD, undefined, WORKLOAD_EXPECTED, `${ENV.POLICY_WORKLOAD} must be set with ${ENV.POLICY_SVC_ADDR}`);
    return undefined;
  }
  // Stricter than Rust, which would start and then have every policy lookup rejected.
  if (raw.trim() === '') {
    r.invalid(ENV.POLICY_WORKLOAD, raw, WORKLOAD_EXPECTED, 'empty');
    return undefined;
  }
  return raw;
}

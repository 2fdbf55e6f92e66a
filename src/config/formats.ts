// Pure parsers, one per value format of spec §1.1; each returns the value or what was expected.
import { isValidDnsName } from './dns-name.js';
import { parseIp } from './ip.js';
import { portSetFromRanges } from './port-set.js';
import type { ControlAddr, IpNetwork, PortSet, SocketAddr, TlsId } from './types.js';

export type Parsed<T> = { readonly ok: true; readonly value: T } | Invalid;

export interface Invalid {
  readonly ok: false;
  /** The accepted form, phrased to follow "expected …". */
  readonly expected: string;
  /** What exactly is wrong, when more specific than the expected form. */
  readonly detail?: string;
}

export type Parser<T> = (text: string) => Parsed<T>;

export const EXPECTED = {
  duration: 'a duration like 300ms, 10s, 2m (a bare number only for 0)',
  optionalDuration: 'a duration like 300ms, 10s, 2m (a bare number only for 0), or empty for no limit',
  bool: 'true or false',
  socketAddr: 'IP:PORT, e.g. 0.0.0.0:4143 or [::]:4143 (names are not allowed)',
  socketAddrs: 'one or two comma-separated IP:PORT addresses, e.g. 127.0.0.1:4140,[::1]:4140',
  controlAddr: 'HOST:PORT where HOST is a DNS name (trailing dot allowed) or an IP, IPv6 in brackets',
  portSet: 'comma-separated ports or LOW-HIGH ranges within 0-65535, e.g. 25,587,3306,4444-4450',
  networks: 'comma-separated CIDR networks, e.g. 10.0.0.0/8,fd00::/8',
  ipSet: 'comma-separated IP addresses (no CIDR), e.g. 10.0.0.5,fd00::5',
  dnsSuffixes: 'comma-separated DNS suffixes, e.g. svc.cluster.local. (`.` = all names, empty = none)',
  dnsName: 'a DNS name, e.g. linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  tlsId: 'a DNS-like identity without a trailing dot, or a URI such as spiffe://trust.domain/workload',
  jitter: 'a number from 0 to 100, e.g. 0.1',
} as const;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (expected: string, detail?: string): Invalid =>
  detail === undefined ? { ok: false, expected } : { ok: false, expected, detail };

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `^\s*(\d+)(ms|s|m|h|d)?\s*$`; a bare number only if it is 0. Milliseconds. */
export function parseDuration(text: string): Parsed<number> {
  const m = /^\s*(\d+)(ms|s|m|h|d)?\s*$/.exec(text);
  if (m === null) return bad(EXPECTED.duration);
  const magnitude = Number(m[1]);
  const unit = m[2] as keyof typeof UNIT_MS | undefined;
  if (unit === undefined) return magnitude === 0 ? ok(0) : bad(EXPECTED.duration);
  const ms = magnitude * UNIT_MS[unit];
  if (!Number.isSafeInteger(ms)) return bad(EXPECTED.duration, 'too large');
  return ok(ms);
}

/** A duration, where the empty string means "unset". */
export function parseOptionalDuration(text: string): Parsed<number | undefined> {
  if (text === '') return ok(undefined);
  const d = parseDuration(text);
  return d.ok ? d : bad(EXPECTED.optionalDuration, d.detail);
}

/** Exactly `true` or `false` (case-sensitive, no whitespace), as Rust's `bool::from_str`. */
export function parseBool(text: string): Parsed<boolean> {
  if (text === 'true') return ok(true);
  if (text === 'false') return ok(false);
  return bad(EXPECTED.bool);
}

/** Rust unsigned-integer syntax (digits, optional leading `+`) within [min, max]. */
export function uintParser(max: number, min = 0): Parser<number> {
  const expected =
    max >= Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  return (text) => {
    if (!/^\+?[0-9]+$/.test(text)) return bad(expected);
    const n = Number(text);
    if (n < min || n > max) return bad(expected, 'out of range');
    return ok(n);
  };
}

/** A backoff jitter: a decimal number, finite, 0 ≤ j ≤ 100 (the exp-backoff crate's bounds). */
export function parseJitter(text: string): Parsed<number> {
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(text)) return bad(EXPECTED.jitter);
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 100) return bad(EXPECTED.jitter, 'out of range');
  return ok(n);
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** `IP:PORT` with IPv6 in brackets; names are rejected. */
export function parseSocketAddr(text: string): Parsed<SocketAddr> {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(text) ?? /^([^:[\]]*):([^:]*)$/.exec(text);
  if (m === null) return bad(EXPECTED.socketAddr);
  const bracketed = text.startsWith('[');
  const ip = parseIp(m[1] ?? '');
  const port = parsePort(m[2] ?? '');
  if (ip === undefined || (ip.family === 6) !== bracketed) {
    return bad(EXPECTED.socketAddr, 'host is not an IP address');
  }
  if (port === undefined) return bad(EXPECTED.socketAddr, 'not a valid port');
  return ok({ host: ip.addr, port, family: ip.family });
}

/** One or two comma-separated socket addresses (more is an error). */
export function parseSocketAddrs(text: string): Parsed<readonly [SocketAddr] | readonly [SocketAddr, SocketAddr]> {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length > 2) return bad(EXPECTED.socketAddrs, 'only two addresses are supported');
  const addrs: SocketAddr[] = [];
  for (const p of parts) {
    const a = parseSocketAddr(p);
    if (!a.ok) return bad(EXPECTED.socketAddrs, `${JSON.stringify(p)}: ${a.detail ?? 'not IP:PORT'}`);
    addrs.push(a.value);
  }
  const [first, second] = addrs;
  if (first === undefined) return bad(EXPECTED.socketAddrs);
  return ok(second === undefined ? [first] : [first, second]);
}

/** `HOST:PORT` for a control-plane service: an IP socket address, else a DNS name and port. */
export function parseControlAddr(text: string): Parsed<ControlAddr> {
  const sock = parseSocketAddr(text);
  if (sock.ok) return ok({ host: sock.value.host, port: sock.value.port, hostKind: 'ip' });
  const colon = text.lastIndexOf(':');
  const port = colon < 0 ? undefined : parsePort(text.slice(colon + 1));
  if (port === undefined) return bad(EXPECTED.controlAddr, 'address is missing a port');
  const host = text.slice(0, colon);
  if (!isValidDnsName(host)) return bad(EXPECTED.controlAddr, 'address contains an invalid host');
  return ok({ host: host.toLowerCase(), port, hostKind: 'name' });
}

/** Comma-separated `N` / `LOW-HIGH`; whitespace and empty entries tolerated. */
export function parsePortSet(text: string): Parsed<PortSet> {
  const ranges: [number, number][] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const dash = part.indexOf('-');
    const lowText = (dash < 0 ? part : part.slice(0, dash)).trim();
    const highText = dash < 0 ? lowText : part.slice(dash + 1).trim();
    const low = parsePort(lowText);
    const high = parsePort(highText);
    if (low === undefined || high === undefined) {
      return bad(EXPECTED.portSet, `${JSON.stringify(part)} is not a port or port range`);
    }
    if (high < low) return bad(EXPECTED.portSet, `in ${JSON.stringify(part)} ${high} is less than ${low}`);
    ranges.push([low, high]);
  }
  return ok(portSetFromRanges(ranges));
}

/** Comma-separated CIDRs; whitespace and empty entries tolerated; a prefix length is required. */
export function parseNetworks(text: string): Parsed<readonly IpNetwork[]> {
  const nets: IpNetwork[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^([^/]+)\/([0-9]{1,3})$/.exec(part);
    const ip = m === null ? undefined : parseIp(m[1] ?? '');
    const prefixLen = Number(m?.[2]);
    if (ip === undefined || prefixLen > (ip.family === 4 ? 32 : 128)) {
      return bad(EXPECTED.networks, `${JSON.stringify(part)} is not a valid network`);
    }
    const key = `${ip.addr}/${prefixLen}`;
    if (seen.has(key)) continue;
    seen.add(key);
    nets.push({ family: ip.family, addr: ip.addr, prefixLen });
  }
  return ok(nets);
}

/** Comma-separated bare IPs, canonicalised and de-duplicated; whitespace and empty entries tolerated. */
export function parseIpSet(text: string): Parsed<readonly string[]> {
  const ips = new Set<string>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const ip = parseIp(part);
    if (ip === undefined) return bad(EXPECTED.ipSet, `${JSON.stringify(part)} is not an IP address`);
    ips.add(ip.addr);
  }
  return ok([...ips]);
}

/** Comma-separated suffixes, lower-cased and de-duplicated; `.` = all names; empty = none. */
export function parseDnsSuffixes(text: string): Parsed<readonly string[]> {
  const out = new Set<string>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    if (part !== '.' && !isValidDnsName(part)) {
      return bad(EXPECTED.dnsSuffixes, `${JSON.stringify(part)} is not a valid DNS domain suffix`);
    }
    out.add(part.toLowerCase());
  }
  return ok([...out]);
}

/** A DNS name (trailing dot allowed), lower-cased. */
export function parseDnsName(text: string): Parsed<string> {
  return isValidDnsName(text) ? ok(text.toLowerCase()) : bad(EXPECTED.dnsName);
}

/** A TLS id: tried as a DNS name (no trailing dot) first, then as a URI. */
export function parseTlsId(text: string): Parsed<TlsId> {
  if (isValidDnsName(text) && !text.endsWith('.')) return ok({ kind: 'dns', value: text.toLowerCase() });
  if (URL.canParse(text)) return ok({ kind: 'uri', value: new URL(text).href });
  return bad(EXPECTED.tlsId);
}

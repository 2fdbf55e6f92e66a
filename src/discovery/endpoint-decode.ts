// Decodes a WeightedAddr (one endpoint and how to reach it), dropping unusable parts as the Rust proxy does.
import { formatAddr } from '../transport/addr.js';
import { isValidDnsName } from '../tls/dns-name.js';
import type { DestinationEndpoint, EndpointHttp2Params, EndpointProtocolHint, EndpointTlsIdentity } from './destination-types.js';
import { decodePolicyMeta } from './meta-decode.js';
import { decodeTcpAddress } from './net-decode.js';
import { bool, child, durationMs, msg, oneofArm, optMsg, reqMsg, str, stringRecord, u32, type Obj } from './wire.js';

/** Receives what was ignored and why (the caller logs it). */
export type DecodeWarn = (message: string) => void;

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * One endpoint. Throws DecodeError when the address is missing or invalid (the caller skips
 * the endpoint); an unusable identity, hint port or authority override is dropped with a warning.
 */
export function decodeEndpoint(
  v: unknown,
  setLabels: Readonly<Record<string, string>>,
  path: string,
  warn: DecodeWarn,
): DestinationEndpoint {
  const w = msg(v, path);
  const addr = decodeTcpAddress(reqMsg(w, 'addr', path), child(path, 'addr'));
  const own = stringRecord(w, 'metricLabels', path);
  const metricLabels = Object.keys(setLabels).length === 0 ? own : Object.freeze({ ...setLabels, ...own });
  const locality = own.zone_locality?.toLowerCase();
  const hint = decodeHint(optMsg(w, 'protocolHint', path));
  const tls = optMsg(w, 'tlsIdentity', path);
  const override = optMsg(w, 'authorityOverride', path);
  const resourceRef = optMsg(w, 'resourceRef', path);
  const http2 = optMsg(w, 'http2', path);
  return Object.freeze({
    key: formatAddr(addr),
    addr: Object.freeze(addr),
    weight: u32(w, 'weight', path),
    metricLabels: Object.keys(metricLabels).length === 0 ? NO_LABELS : metricLabels,
    tlsIdentity: tls === undefined ? undefined : decodeTlsIdentity(tls, child(path, 'tlsIdentity'), warn),
    protocolHint: hint.protocol,
    opaqueTransportPort: hint.opaqueTransportPort,
    authorityOverride: override === undefined ? undefined : decodeAuthority(str(override, 'authorityOverride', path), warn),
    http2: http2 === undefined ? undefined : decodeHttp2(http2, child(path, 'http2')),
    zoneLocal: locality === 'local' ? true : locality === 'remote' ? false : undefined,
    resourceRef: resourceRef === undefined ? undefined : tryMeta(resourceRef, child(path, 'resourceRef'), warn),
  });
}

function decodeTlsIdentity(t: Obj, path: string, warn: DecodeWarn): EndpointTlsIdentity | undefined {
  const arm = oneofArm(t, 'strategy', ['dnsLikeIdentity', 'uriLikeIdentity'], path);
  if (arm === undefined) {
    warn(`${path}: no identity strategy set; treating the endpoint as unmeshed`);
    return undefined;
  }
  const s = msg(arm.value, arm.path);
  let identity: { kind: 'dns' | 'uri'; name: string };
  if (arm.name === 'dnsLikeIdentity') {
    const name = str(s, 'name', arm.path);
    if (!isValidDnsName(name) || name.endsWith('.')) {
      warn(`ignoring invalid DNS identity ${JSON.stringify(name)}`);
      return undefined;
    }
    identity = { kind: 'dns', name: name.toLowerCase() };
  } else {
    const uri = str(s, 'uri', arm.path);
    if (!isUri(uri)) {
      warn(`ignoring invalid URI identity ${JSON.stringify(uri)}`);
      return undefined;
    }
    identity = { kind: 'uri', name: uri };
  }
  const sn = optMsg(t, 'serverName', path);
  if (sn === undefined) {
    if (identity.kind === 'dns') return Object.freeze({ ...identity, serverName: identity.name });
    warn(`server name missing for URI identity ${identity.name}; treating the endpoint as unmeshed`);
    return undefined;
  }
  const serverName = str(sn, 'name', child(path, 'serverName'));
  if (!isValidDnsName(serverName)) {
    warn(`ignoring identity ${identity.name}: invalid server name ${JSON.stringify(serverName)}`);
    return undefined;
  }
  return Object.freeze({ ...identity, serverName: serverName.toLowerCase() });
}

/** A URI as an identity: a scheme and something `URL` parses (SPIFFE ids, for instance). */
export function isUri(text: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

function decodeHint(h: Obj | undefined): { protocol: EndpointProtocolHint | undefined; opaqueTransportPort: number | undefined } {
  if (h === undefined) return { protocol: undefined, opaqueTransportPort: undefined };
  const arm = oneofArm(h, 'protocol', ['h2', 'opaque'], 'protocolHint');
  const ot = optMsg(h, 'opaqueTransport', 'protocolHint');
  const port = ot === undefined ? 0 : u32(ot, 'inboundPort', 'protocolHint.opaqueTransport');
  return {
    protocol: arm === undefined ? undefined : arm.name === 'h2' ? 'h2' : 'opaque',
    // As upstream: 0 and 65535 are not usable inbound ports.
    opaqueTransportPort: port > 0 && port < 65535 ? port : undefined,
  };
}

/** `host:port` or a bare host; anything with spaces, a path or userinfo is ignored. */
function decodeAuthority(text: string, warn: DecodeWarn): string | undefined {
  if (text !== '' && /^[^\s/?#@\\]+$/.test(text)) return text;
  warn(`ignoring invalid authority override ${JSON.stringify(text)}`);
  return undefined;
}

function decodeHttp2(p: Obj, path: string): EndpointHttp2Params | undefined {
  const fc = optMsg(p, 'flowControl', path);
  const ka = optMsg(p, 'keepAlive', path);
  const internals = optMsg(p, 'internals', path);
  const positive = (n: number): number | undefined => (n > 0 ? n : undefined);
  let flowControl: EndpointHttp2Params['flowControl'];
  if (fc !== undefined) {
    const fp = child(path, 'flowControl');
    const conn = u32(fc, 'initialConnectionWindowSize', fp);
    const stream = u32(fc, 'initialStreamWindowSize', fp);
    if (bool(fc, 'adaptiveFlowControl', fp)) flowControl = { kind: 'adaptive' };
    else if (conn > 0 && stream > 0) flowControl = { kind: 'fixed', initialConnectionWindowSize: conn, initialStreamWindowSize: stream };
  }
  let keepAlive: EndpointHttp2Params['keepAlive'];
  if (ka !== undefined) {
    const kp = child(path, 'keepAlive');
    const interval = optMsg(ka, 'interval', kp);
    const timeout = optMsg(ka, 'timeout', kp);
    // Both are needed, as upstream; an invalid one drops keep-alive rather than the endpoint.
    const ms = (d: Obj | undefined, name: string): number | undefined => {
      if (d === undefined) return undefined;
      try {
        return durationMs(d, child(kp, name));
      } catch {
        return undefined;
      }
    };
    const intervalMs = ms(interval, 'interval');
    const timeoutMs = ms(timeout, 'timeout');
    if (intervalMs !== undefined && timeoutMs !== undefined) keepAlive = { intervalMs, timeoutMs, whileIdle: bool(ka, 'whileIdle', kp) };
  }
  const ip = child(path, 'internals');
  return Object.freeze({
    flowControl,
    keepAlive,
    maxConcurrentResetStreams: internals === undefined ? undefined : positive(u32(internals, 'maxConcurrentResetStreams', ip)),
    maxFrameSize: internals === undefined ? undefined : positive(u32(internals, 'maxFrameSize', ip)),
    maxSendBufSize: internals === undefined ? undefined : positive(u32(internals, 'maxSendBufSize', ip)),
  });
}

function tryMeta(v: Obj, path: string, warn: DecodeWarn): DestinationEndpoint['resourceRef'] {
  try {
    return decodePolicyMeta(v, path, false);
  } catch (err) {
    warn(`ignoring resource_ref: ${(err as Error).message}`);
    return undefined;
  }
}

// Listen addresses: inbound, outbound (1–2, `_ADDRS` over the deprecated `_ADDR`), admin and tap.
import { DEFAULTS } from '../defaults.js';
import { ENV } from '../env-names.js';
import type { EnvReader } from '../env-reader.js';
import { parseSocketAddr, parseSocketAddrs, parseTlsId } from '../formats.js';
import type { ListenersConfig, SocketAddr } from '../types.js';

function builtIn(text: string): SocketAddr {
  const p = parseSocketAddr(text);
  if (!p.ok) throw new Error(`built-in default ${text} does not parse`);
  return p.value;
}

export function readListeners(r: EnvReader): ListenersConfig {
  const control = r.parse(ENV.CONTROL_LISTEN_ADDR, parseSocketAddr) ?? builtIn(DEFAULTS.controlListenAddr);
  const tapId = r.parse(ENV.TAP_SVC_NAME, parseTlsId);
  return {
    inbound: r.parse(ENV.INBOUND_LISTEN_ADDR, parseSocketAddr) ?? builtIn(DEFAULTS.inboundListenAddr),
    outbound: readOutboundAddrs(r),
    admin: r.parse(ENV.ADMIN_LISTEN_ADDR, parseSocketAddr) ?? builtIn(DEFAULTS.adminListenAddr),
    tap: tapId === undefined ? undefined : { addr: control, permittedClientId: tapId },
  };
}

function readOutboundAddrs(r: EnvReader): ListenersConfig['outbound'] {
  const single = r.raw(ENV.OUTBOUND_LISTEN_ADDR);
  if (r.isSet(ENV.OUTBOUND_LISTEN_ADDRS)) {
    const addrs = r.parse(ENV.OUTBOUND_LISTEN_ADDRS, parseSocketAddrs);
    // The Helm chart sets both names; the old one is then ignored, even if it is malformed.
    if (single !== undefined && !parseSocketAddr(single).ok) {
      r.warn(`${ENV.OUTBOUND_LISTEN_ADDR}=${JSON.stringify(single)} is not valid and is ignored (${ENV.OUTBOUND_LISTEN_ADDRS} is set)`);
    }
    return addrs ?? [builtIn(DEFAULTS.outboundListenAddr)];
  }
  if (single !== undefined) r.warn(`${ENV.OUTBOUND_LISTEN_ADDR} is deprecated; use ${ENV.OUTBOUND_LISTEN_ADDRS}`);
  return [r.parse(ENV.OUTBOUND_LISTEN_ADDR, parseSocketAddr) ?? builtIn(DEFAULTS.outboundListenAddr)];
}

// Looks at the SPIRE agent's Workload API socket before the proxy is pointed at it.
import { statSync } from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../core/errors.js';

export interface SpireSocketCheck {
  /** The filesystem path the proxy will connect to. */
  readonly path: string;
  /** Set when the socket is not (yet) usable; init goes on, since the agent may start later. */
  readonly warning?: string;
}

/** The socket path of a `unix:` address, stripped as the proxy's configuration does. */
export function spireSocketPath(addr: string): string {
  if (addr.startsWith('unix://')) return addr.slice('unix://'.length);
  return addr.startsWith('unix:') ? addr.slice('unix:'.length) : addr;
}

export function checkSpireSocket(addr: string): SpireSocketCheck {
  const p = spireSocketPath(addr);
  if (!path.isAbsolute(p)) return { path: p, warning: `${addr} is not an absolute unix socket path` };
  try {
    const st = statSync(p);
    if (!st.isSocket()) return { path: p, warning: `${p} exists but is not a socket (is this the SPIRE agent's socket_path?)` };
    return { path: p };
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT') return { path: p, warning: `${p} does not exist yet: is the SPIRE agent running? The proxy waits for it, but serves nothing until it has an identity` };
    if (code === 'EACCES') return { path: p, warning: `${p} cannot be reached by this user (${code}); make sure the proxy's user can` };
    return { path: p, warning: `cannot check ${p}: ${code ?? String(err)}` };
  }
}

// What both ways of running this proxy share: node flags for CPU profiles, and reading whether the peer hop was TLS.
import { httpGet } from '../support/net.js';
import type { BenchContext } from './types.js';

/** Node flags for one of our proxy processes: a V8 CPU profile per process when profiling. */
export function nodeFlags(ctx: BenchContext, role: string): string[] {
  return ctx.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=this-proxy-${role}-${process.pid}.cpuprofile`];
}

/**
 * Whether an inbound proxy accepted its peers' connections over TLS, from its own transport
 * metrics (the admin port's own connections excluded); undefined when there is nothing to read.
 */
export async function inboundSawTls(host: string, adminPort: number): Promise<boolean | undefined> {
  try {
    const { body } = await httpGet(`http://${host}:${adminPort}/metrics`);
    const opens = body.split('\n').filter((l) => l.startsWith('tcp_open_total{') && l.includes('direction="inbound"') && l.includes('peer="src"') && !l.includes(`:${adminPort}"`));
    if (opens.length === 0) return undefined;
    return opens.some((l) => l.includes('tls="true"'));
  } catch {
    return undefined;
  }
}

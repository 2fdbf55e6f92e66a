// Opaque TCP bulk throughput with iperf3 (client → path → iperf3 server), one stream.
import { runToEnd } from '../support/children.js';
import type { Endpoint } from '../configs/types.js';

export interface IperfResult {
  readonly gbps: number;
  readonly bytes: number;
  readonly seconds: number;
}

export interface IperfOptions {
  readonly iperf3: string;
  readonly seconds: number;
  readonly prefix?: readonly string[];
}

interface IperfJson {
  readonly error?: string;
  readonly end?: { readonly sum_received?: { readonly bytes: number; readonly seconds: number; readonly bits_per_second: number } };
}

export async function runIperf(ep: Endpoint, o: IperfOptions): Promise<IperfResult> {
  let lastError = '';
  // The server takes a moment to be ready for the next test after one ends ("server is busy").
  for (let attempt = 0; attempt < 5; attempt++) {
    const [cmd, ...rest] = [...(o.prefix ?? []), o.iperf3, '-4', '-c', ep.host, '-p', String(ep.port), '-t', String(Math.max(1, Math.round(o.seconds))), '-J'];
    let stdout: string;
    try {
      ({ stdout } = await runToEnd('iperf3', cmd, rest, { timeoutMs: (o.seconds + 20) * 1000 }));
    } catch (err) {
      // iperf3 -J prints its JSON (with the error) to stdout and exits 1.
      lastError = err instanceof Error ? err.message : String(err);
      await new Promise((r) => setTimeout(r, 300));
      continue;
    }
    const j = JSON.parse(stdout) as IperfJson;
    const sum = j.end?.sum_received;
    if (j.error !== undefined || sum === undefined) {
      lastError = j.error ?? 'no summary';
      await new Promise((r) => setTimeout(r, 300));
      continue;
    }
    return { gbps: sum.bits_per_second / 1e9, bytes: sum.bytes, seconds: sum.seconds };
  }
  throw new Error(`iperf3 through ${ep.host}:${ep.port}: ${lastError}`);
}

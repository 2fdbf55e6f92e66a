// The loads every configuration gets, what each measures, and how a run of one becomes a sample.
import type { Endpoint } from '../configs/types.js';
import type { ProcSample } from '../support/proc-stats.js';
import type { Tool, Tools } from '../support/tools.js';
import { runFixedRate, connectionsFor } from './fixed-rate.js';
import { runIperf } from './iperf.js';
import { BODY_BYTES, runWrk, type WrkMode } from './wrk.js';

export interface LatencyUs {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/** What one load run measured (before the proxies' CPU and memory are added). */
export interface LoadMeasure {
  /** req/s for HTTP loads, Gbit/s for TCP. */
  readonly value: number;
  /** Requests completed (HTTP) while the proxies' CPU was measured, for CPU per request. */
  readonly requests: number | undefined;
  /** Bytes moved (TCP), for CPU per GiB. */
  readonly bytes: number | undefined;
  readonly latencyUs: LatencyUs | undefined;
  /** Failed requests (connect/read/write errors, timeouts, non-2xx, unanswered). */
  readonly errors: number;
  readonly generatorCpuShare?: number;
}

export interface Sample extends LoadMeasure {
  readonly round: number;
  readonly procs: readonly ProcSample[];
}

export interface LoadEnv {
  readonly tools: Tools;
  readonly dir: string;
  readonly root: string;
  readonly seconds: number;
  /** Fixed-rate loads: seconds sent before measuring starts. */
  readonly rateWarmupSeconds: number;
}

export interface LoadSpec {
  readonly name: string;
  readonly title: string;
  readonly unit: 'req/s' | 'Gbit/s';
  readonly path: 'http' | 'tcp';
  /** Fixed-rate loads: the offered rate (the interesting numbers are latency and CPU, not req/s). */
  readonly rate?: number;
  needs(tools: Tools): readonly Tool[];
  run(ep: Endpoint, env: LoadEnv): Promise<LoadMeasure>;
}

const WRK_CONNECTIONS: Record<WrkMode, number> = { keepalive: 32, 'new-conn': 16, body: 8 };

function wrkLoad(name: string, title: string, mode: WrkMode): LoadSpec {
  return {
    name,
    title,
    unit: 'req/s',
    path: 'http',
    needs: (t) => [t.wrk],
    async run(ep, env) {
      const r = await runWrk(ep, { wrk: env.tools.wrk.path!, dir: env.dir, mode, connections: WRK_CONNECTIONS[mode], seconds: env.seconds });
      return { value: r.requests / r.seconds, requests: r.requests, bytes: mode === 'body' ? r.requests * 2 * BODY_BYTES : undefined, latencyUs: r.latencyUs, errors: r.errors + r.non2xx };
    },
  };
}

function rateLoad(rate: number): LoadSpec {
  return {
    name: `rate-${rate / 1000}k`,
    title: `fixed rate ${rate} req/s, open loop, ${connectionsFor(rate)} keep-alive connections (latency from intended send time)`,
    unit: 'req/s',
    path: 'http',
    rate,
    needs: () => [],
    async run(ep, env) {
      const r = await runFixedRate(ep, { root: env.root, rate, seconds: env.seconds, warmupSeconds: env.rateWarmupSeconds });
      return { value: r.achievedRps, requests: r.completedAll, bytes: undefined, latencyUs: r.latencyUs, errors: r.errors, generatorCpuShare: r.generatorCpuShare };
    },
  };
}

export const LOADS: readonly LoadSpec[] = [
  wrkLoad('throughput', `max throughput, wrk closed loop, ${WRK_CONNECTIONS.keepalive} keep-alive connections, GET / (small body)`, 'keepalive'),
  rateLoad(1000),
  rateLoad(5000),
  wrkLoad('new-conn', `a new connection per request, wrk closed loop (Connection: close), ${WRK_CONNECTIONS['new-conn']} connections`, 'new-conn'),
  wrkLoad('body-1mib', `1 MiB request and 1 MiB response bodies, wrk closed loop, ${WRK_CONNECTIONS.body} connections`, 'body'),
  {
    name: 'tcp-bulk',
    title: 'opaque TCP bulk, iperf3, one stream',
    unit: 'Gbit/s',
    path: 'tcp',
    needs: (t) => [t.iperf3],
    async run(ep, env) {
      const r = await runIperf(ep, { iperf3: env.tools.iperf3.path!, seconds: env.seconds });
      return { value: r.gbps, requests: undefined, bytes: r.bytes, latencyUs: undefined, errors: 0 };
    },
  },
];

// Command-line options of `npm run bench -- …`.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly quick: boolean;
  readonly rounds: number;
  /** Seconds per measured load run. */
  readonly seconds: number;
  /** Seconds per load in the unmeasured warm-up pass (whole seconds: wrk and iperf3 take no fractions). */
  readonly warmupSeconds: number;
  /** Loads in the warm-up pass: all, or (quick) only max throughput. */
  readonly warmupLoads: 'all' | 'throughput';
  /** Pause between load runs (lets sockets in TIME_WAIT and CPU settle). */
  readonly settleMs: number;
  readonly rateWarmupSeconds: number;
  readonly configs: readonly string[] | undefined;
  readonly loads: readonly string[] | undefined;
  readonly rustProxy: string | undefined;
  readonly micro: boolean;
  readonly profile: boolean;
  readonly nodeOrigin: boolean;
  readonly save: boolean;
  /** Stay in the current network namespace even as root (no dev control plane, no iptables). */
  readonly noNetns: boolean;
}

export const USAGE = `npm run bench -- [options]
  --quick              2 rounds of 1 s per load, short warm-up (under two minutes)
  --rounds N           interleaved rounds (default 3)
  --seconds S          whole seconds per measured load run (default 3)
  --configs a,b        only these configurations (direct,this-proxy,haproxy,nginx,naive-node,rust-proxy)
  --loads a,b          only these loads (throughput,rate-1k,rate-5k,new-conn,body-1mib,tcp-bulk)
  --rust-proxy PATH    also run the Rust linkerd2-proxy binary at PATH
  --node-origin        use the node:http origin even when nginx is installed
  --no-save            print the report, write nothing to bench/results
  --no-netns           as root, still run on this namespace's loopback (this proxy then runs without
                       the dev control plane, with injected original destinations and no mTLS)
  --micro              run the microbenchmarks (bench/micro) instead; JSON lines
  --profile            CPU-profile this proxy's processes under one load (the first of --loads,
                       default throughput) and summarise
  --help`;

export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      configs: { type: 'string' },
      loads: { type: 'string' },
      'rust-proxy': { type: 'string' },
      'node-origin': { type: 'boolean', default: false },
      'no-save': { type: 'boolean', default: false },
      'no-netns': { type: 'boolean', default: false },
      micro: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  const quick = values.quick === true;
  const num = (v: string | undefined, dflt: number, what: string): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${what} wants a positive number, got ${v}`);
    return n;
  };
  const list = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  return {
    quick,
    rounds: Math.round(num(values.rounds, quick ? 2 : 3, 'rounds')),
    seconds: Math.max(1, Math.round(num(values.seconds, quick ? 1 : 3, 'seconds'))),
    warmupSeconds: 1,
    warmupLoads: quick ? 'throughput' : 'all',
    settleMs: quick ? 50 : 200,
    rateWarmupSeconds: quick ? 0.1 : 0.5,
    configs: list(values.configs),
    loads: list(values.loads),
    rustProxy: values['rust-proxy'],
    micro: values.micro === true,
    profile: values.profile === true,
    nodeOrigin: values['node-origin'] === true,
    save: values['no-save'] !== true,
    noNetns: values['no-netns'] === true,
  };
}

// Open-loop fixed-rate HTTP/1 load generator (wrk2-style): latency counted from each request's intended send time.
// Runs in a process of its own; argv[2] is a JSON FixedRateArgs; prints one JSON FixedRateOutput line.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface FixedRateArgs {
  readonly host: string;
  readonly port: number;
  readonly rate: number;
  readonly durationMs: number;
  /** Requests intended in the first warmupMs are sent but not measured. */
  readonly warmupMs: number;
  readonly connections: number;
  /** Time given to the connections to open before the clock starts. */
  readonly connectMs: number;
}

export interface FixedRateOutput {
  readonly intended: number;
  readonly completed: number;
  /** Completed including the warm-up: the work the proxies' CPU time was spent on. */
  readonly completedAll: number;
  readonly errors: number;
  /** Measured requests still unanswered when the run ended (counted as errors too). */
  readonly unfinished: number;
  readonly achievedRps: number;
  readonly latencyUs: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** This generator's own CPU time as a share of its run time (1 = one core): shows it was not the bottleneck. */
  readonly generatorCpuShare: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as FixedRateArgs;
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: ${args.host}:${args.port}\r\nUser-Agent: bench-fixed-rate\r\n\r\n`);
const HEADER_END = Buffer.from('\r\n\r\n');
const CL = /\r\ncontent-length:[ \t]*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:[ \t]*chunked/i;
const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n');

const intervalMs = 1000 / args.rate;
const samples = new Float64Array(Math.ceil((args.rate * (args.durationMs + 1000)) / 1000));
let sampleCount = 0;
let errors = 0;
let completed = 0;
let completedAll = 0;

/** Intended send times waiting for an idle connection (a ring would be leaner; a JS array's shift is fine at these rates). */
const queue: number[] = [];
const idle: Conn[] = [];

class Conn {
  private sock: net.Socket;
  private head: Buffer | undefined;
  /** Body bytes still expected; -1 while reading the head; -2 for chunked. */
  private remaining = -1;
  private tail: Buffer | undefined;
  intended = 0;
  busy = false;

  constructor() {
    this.sock = this.open();
  }

  private open(): net.Socket {
    const s = net.connect({ host: args.host, port: args.port, noDelay: true });
    s.on('connect', () => this.ready());
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', () => undefined);
    s.on('close', () => this.onClose());
    return s;
  }

  private ready(): void {
    idle.push(this);
    dispatch();
  }

  send(intended: number): void {
    this.busy = true;
    this.intended = intended;
    this.remaining = -1;
    this.head = undefined;
    this.tail = undefined;
    this.sock.write(REQUEST);
  }

  private onData(d: Buffer): void {
    if (!this.busy) return;
    if (this.remaining === -1) {
      const buf = this.head === undefined ? d : Buffer.concat([this.head, d]);
      const end = buf.indexOf(HEADER_END);
      if (end < 0) {
        this.head = buf;
        return;
      }
      const head = buf.toString('latin1', 0, end + 2);
      const rest = buf.subarray(end + 4);
      const cl = CL.exec(head);
      if (cl !== null) {
        this.remaining = Number(cl[1]) - rest.length;
      } else if (CHUNKED.test(head)) {
        this.remaining = -2;
        this.chunked(rest);
        return;
      } else {
        this.remaining = 0;
      }
    } else if (this.remaining === -2) {
      this.chunked(d);
      return;
    } else {
      this.remaining -= d.length;
    }
    if (this.remaining <= 0) this.done();
  }

  private chunked(d: Buffer): void {
    const buf = this.tail === undefined ? d : Buffer.concat([this.tail, d]);
    if (buf.indexOf(LAST_CHUNK) >= 0 || (buf.length >= 5 && buf.subarray(0, 5).toString() === '0\r\n\r\n')) {
      this.done();
      return;
    }
    this.tail = buf.subarray(Math.max(0, buf.length - LAST_CHUNK.length));
  }

  private done(): void {
    const now = performance.now();
    this.busy = false;
    completedAll++;
    if (this.intended >= measureFrom) {
      completed++;
      if (sampleCount < samples.length) samples[sampleCount++] = (now - this.intended) * 1000;
    }
    idle.push(this);
    dispatch();
  }

  private onClose(): void {
    if (this.busy) {
      this.busy = false;
      if (this.intended >= measureFrom) errors++;
    }
    const at = idle.indexOf(this);
    if (at >= 0) idle.splice(at, 1);
    if (!stopping) this.sock = this.open();
  }

  close(): void {
    this.sock.destroy();
  }
}

function dispatch(): void {
  while (queue.length > 0 && idle.length > 0) idle.pop()!.send(queue.shift()!);
}

const conns: Conn[] = [];
let stopping = false;
let start = 0;
let measureFrom = 0;
let end = 0;
let next = 0;
const cpuBefore = process.cpuUsage();

function tick(): void {
  const now = performance.now();
  while (next <= now && next < end) {
    queue.push(next);
    next += intervalMs;
  }
  dispatch();
  if (next < end) setTimeout(tick, Math.max(0, Math.min(1, next - now)));
  else setTimeout(finish, 0);
}

function finish(): void {
  // Let the last requests land (up to half the run, at most 2 s); whatever is still out then counts as unfinished.
  const deadline = performance.now() + Math.min(2000, Math.max(500, args.durationMs / 2));
  const check = (): void => {
    const outstanding = queue.length + conns.filter((c) => c.busy).length;
    if (outstanding > 0 && performance.now() < deadline) {
      setTimeout(check, 5);
      return;
    }
    stopping = true;
    const unfinished = queue.filter((t) => t >= measureFrom).length + conns.filter((c) => c.busy && c.intended >= measureFrom).length;
    for (const c of conns) c.close();
    const sorted = samples.subarray(0, sampleCount).sort();
    const pct = (p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
    const measuredMs = end - measureFrom;
    const cpu = process.cpuUsage(cpuBefore);
    const out: FixedRateOutput = {
      intended: Math.round((measuredMs / 1000) * args.rate),
      completed,
      completedAll,
      errors: errors + unfinished,
      unfinished,
      achievedRps: completed / (measuredMs / 1000),
      latencyUs: { p50: pct(50), p99: pct(99), p999: pct(99.9), max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]! },
      generatorCpuShare: (cpu.user + cpu.system) / 1e6 / process.uptime(),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(0);
  };
  check();
}

for (let i = 0; i < args.connections; i++) conns.push(new Conn());
setTimeout(() => {
  start = performance.now();
  measureFrom = start + args.warmupMs;
  end = measureFrom + args.durationMs;
  next = start;
  tick();
}, args.connectMs);

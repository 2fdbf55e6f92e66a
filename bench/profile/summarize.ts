// Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions and files by self time.
// Also runnable on its own: node dist/bench/profile/summarize.js FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface Ranked {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the profile's non-idle time. */
  readonly selfPct: number;
  /** Functions: the call paths (nearest project frame first) this self time was spent under, biggest first. */
  readonly via?: readonly string[];
}

export interface ProfileSummary {
  readonly file: string;
  readonly wallMs: number;
  /** Sampled time outside `(idle)`: what the process spent working. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly gcMs: number;
  readonly functions: readonly Ranked[];
  readonly files: readonly Ranked[];
}

/** Project files by their path from the repository root (dist/ removed); Node internals as `node:…`. */
export function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const u = url.replace(/^file:\/\//, '');
  const dist = u.lastIndexOf('/dist/');
  if (dist >= 0) return u.slice(dist + 6).replace(/\.js$/, '.ts');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 1);
  return u;
}

/** A span of the monotonic clock in µs (process.hrtime / 1000, the clock V8 stamps samples with). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/** `window`: count only samples taken inside it (e.g. while the load ran, not start-up or shutdown). */
export function summarizeProfile(file: string, top = 25, window?: Window): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample: charge it to sample i's node.
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window !== undefined && (t < window.fromUs || t > window.toUs)) continue;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
  }
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fn = new Map<string, number>();
  const via = new Map<string, Map<string, number>>();
  const files = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (cf.functionName === '(garbage collector)') gc += us;
    const where = shortUrl(cf.url);
    const key = cf.url === '' ? cf.functionName || '(anonymous)' : `${cf.functionName || '(anonymous)'} ${where}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const route = callPath(id, byId, parent);
    let v = via.get(key);
    if (v === undefined) via.set(key, (v = new Map()));
    v.set(route, (v.get(route) ?? 0) + us);
    const fileKey = cf.url === '' ? cf.functionName : where;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, withVia: boolean): Ranked[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        selfMs: us / 1000,
        selfPct: busy === 0 ? 0 : (100 * us) / busy,
        ...(withVia ? { via: [...(via.get(name) ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([p]) => p) } : {}),
      }));
  const wallUs = window === undefined ? p.endTime - p.startTime : Math.min(p.endTime, window.toUs) - Math.max(p.startTime, window.fromUs);
  return { file: path.basename(file), wallMs: wallUs / 1000, busyMs: busy / 1000, idleMs: idle / 1000, gcMs: gc / 1000, functions: rank(fn, true), files: rank(files, false) };
}

/** Up to three callers of a sample's function, nearest first, stopping at the first of the project's own frames. */
function callPath(id: number, byId: ReadonlyMap<number, ProfileNode>, parent: ReadonlyMap<number, number>): string {
  const names: string[] = [];
  let at = parent.get(id);
  while (at !== undefined && names.length < 3) {
    const cf = byId.get(at)!.callFrame;
    if (cf.functionName === '(root)') break;
    const where = shortUrl(cf.url);
    const own = where.startsWith('src/');
    names.push(`${cf.functionName || '(anonymous)'}${own ? ` ${where}:${cf.lineNumber + 1}` : ''}`);
    if (own) break;
    at = parent.get(at);
  }
  return names.length === 0 ? '(top)' : names.join(' ← ');
}

export function profileMarkdown(s: ProfileSummary, topFiles = 12): string {
  const lines = [
    `#### ${s.file}`,
    '',
    `Busy ${(s.busyMs / 1000).toFixed(2)} s of ${(s.wallMs / 1000).toFixed(2)} s sampled (${((100 * s.busyMs) / s.wallMs).toFixed(0)}%); garbage collection ${((100 * s.gcMs) / Math.max(1, s.busyMs)).toFixed(1)}% of busy time.`,
    '',
    '| self % | self ms | function | called from (nearest first, up to our own code) |',
    '|---:|---:|---|---|',
    ...s.functions.map((f) => `| ${f.selfPct.toFixed(1)} | ${f.selfMs.toFixed(0)} | \`${f.name}\` | ${(f.via ?? []).map((v) => `\`${v}\``).join('<br>')} |`),
    '',
    '| self % | file |',
    '|---:|---|',
    ...s.files.slice(0, topFiles).map((f) => `| ${f.selfPct.toFixed(1)} | \`${f.name}\` |`),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node dist/bench/profile/summarize.js FILE.cpuprofile [TOP]');
    process.exit(64);
  }
  process.stdout.write(profileMarkdown(summarizeProfile(file, Number(process.argv[3] ?? 25))));
}

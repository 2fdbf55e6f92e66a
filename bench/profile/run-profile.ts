// `npm run bench -- --profile [--loads L]`: this proxy's pair under one load (default max throughput) with node --cpu-prof, then a self-time summary per process.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { thisProxy } from '../configs/this-proxy.js';
import { benchContext } from '../harness/context.js';
import { LOADS } from '../load/loads.js';
import { stopAll } from '../support/children.js';
import type { BenchOptions } from '../support/cli.js';
import { machine, revision } from '../support/machine.js';
import { waitForHttp200 } from '../support/net.js';
import { endProgress, log, progress } from '../support/progress.js';
import { installHint } from '../support/tools.js';
import { profileMarkdown, summarizeProfile, type ProfileSummary } from './summarize.js';

export async function runProfile(root: string, opts: BenchOptions): Promise<void> {
  const results = path.join(root, 'bench/results');
  const profileDir = path.join(results, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  // Raw profiles are large and machine-specific: kept for DevTools, never committed.
  writeFileSync(path.join(profileDir, '.gitignore'), '*\n');
  for (const f of readdirSync(profileDir)) if (f.endsWith('.cpuprofile')) rmSync(path.join(profileDir, f));
  const { ctx, stopShared } = await benchContext(root, opts, profileDir);
  // The first of --loads, or max throughput.
  const wanted = opts.loads?.[0] ?? 'throughput';
  const load = LOADS.find((l) => l.name === wanted);
  if (load === undefined) throw new Error(`--profile: no load named ${wanted}`);
  const missing = load.needs(ctx.tools).filter((t) => t.path === undefined);
  if (missing.length > 0) throw new Error(`--profile ${load.name} needs ${installHint(missing)}`);
  progress('starting this proxy with --cpu-prof…');
  const running = await thisProxy.start(ctx);
  if (running.http !== undefined) await waitForHttp200(`http://${running.http.host}:${running.http.port}/`);
  const ep = load.path === 'http' ? running.http : running.tcp;
  if (ep === undefined) throw new Error(`this proxy has no ${load.path} path here`);
  const seconds = opts.quick ? 3 : Math.max(10, opts.seconds);
  const env = { tools: ctx.tools, dir: ctx.dir, root, seconds, rateWarmupSeconds: 0 };
  progress('warm-up…');
  await load.run(ep, { ...env, seconds: 1 });
  progress(`profiling: ${load.name} for ${seconds} s…`);
  const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
  const fromUs = nowUs();
  const m = await load.run(ep, env);
  const window = { fromUs, toUs: nowUs() };
  progress('stopping (profiles are written at exit)…');
  await running.stop();
  await stopShared();
  await stopAll();
  endProgress();
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  // Processes that carried none of this load (the other pair, without the namespace) were idle: left out.
  const summaries: ProfileSummary[] = files.sort().map((f) => summarizeProfile(path.join(profileDir, f), 30, window)).filter((s) => s.busyMs > 0.02 * s.wallMs);
  if (summaries.length === 0) log(`no profiles found in ${profileDir}`);
  const rev = revision(root);
  const mach = machine();
  const md = [
    `### CPU profile of this proxy under ${load.name}, ${new Date().toISOString().slice(0, 10)}, commit ${rev.commit}${rev.dirty ? ' (with uncommitted changes)' : ''}`,
    '',
    `${mach.cpuModel}, ${mach.cores} cores, Node ${mach.node}. ${load.title}, ${seconds} s: ${m.value.toFixed(load.unit === 'Gbit/s' ? 2 : 0)} ${load.unit} while profiling (the profiler itself slows the proxies). Only samples taken while the load ran are counted.`,
    ...running.notes.map((n) => `- ${n}`),
    '',
    '',
    ...summaries.map((s) => profileMarkdown(s)),
  ].join('\n');
  process.stdout.write(md + '\n');
  if (!opts.save) return;
  const base = path.join(results, `${new Date().toISOString().slice(0, 10)}-${rev.commit}-profile${load.name === 'throughput' ? '' : `-${load.name}`}`);
  writeFileSync(`${base}.md`, md + '\n');
  writeFileSync(`${base}.json`, JSON.stringify({ bench: 'profile', commit: rev.commit, machine: mach, load: load.name, seconds, reqPerSec: m.value, summaries }, null, 2) + '\n');
  console.log(`\nprofile summary: ${path.relative(process.cwd(), base)}.{md,json}; raw profiles in ${path.relative(process.cwd(), profileDir)}/`);
}

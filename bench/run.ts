// `npm run bench`: direct vs. the two-hop mesh path through this proxy, HAProxy, NGINX, a naive Node pair (and the Rust proxy when given),
// under every load, interleaved in rounds; prints a Markdown report and writes JSON, Markdown and an SVG chart to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { direct } from './configs/direct.js';
import { rustProxy } from './configs/rust-proxy.js';
import { haproxy } from './configs/haproxy.js';
import { naiveNode } from './configs/naive-node.js';
import { nginx } from './configs/nginx.js';
import { thisProxy } from './configs/this-proxy.js';
import type { MeshConfig } from './configs/types.js';
import { benchContext } from './harness/context.js';
import { runRounds, type Started } from './harness/rounds.js';
import { LOADS } from './load/loads.js';
import { markdownReport, type ConfigStatus } from './report/markdown.js';
import { summarize } from './report/summary.js';
import { svgChart } from './report/svg.js';
import { stopAll } from './support/children.js';
import { parseBenchArgs, USAGE, type BenchOptions } from './support/cli.js';
import { machine, revision, toolVersion } from './support/machine.js';
import { waitForHttp200 } from './support/net.js';
import { endProgress, log, progress } from './support/progress.js';
import { createNetns, deleteNetns, NETNS_ENV, rerunInNetns } from './support/netns.js';
import { findTools, installHint } from './support/tools.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(): Promise<void> {
  const parsed = parseBenchArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  if (parsed.micro) {
    const { runMicro } = await import('./micro/run.js');
    const rev = revision(ROOT);
    const file = path.join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 10)}-${rev.commit}-micro${parsed.quick ? '-quick' : ''}.jsonl`);
    await runMicro(parsed.quick, parsed.save ? file : undefined);
    return;
  }
  if (wantsNetns(parsed)) {
    process.exitCode = await inNetns();
    return;
  }
  if (parsed.profile) {
    const { runProfile } = await import('./profile/run-profile.js');
    await runProfile(ROOT, parsed);
    return;
  }
  await runMesh(parsed);
}

/** As root (and not already inside it), the bench runs in a network namespace of its own, where iptables may capture. */
function wantsNetns(opts: BenchOptions): boolean {
  if (process.env[NETNS_ENV] !== undefined || opts.noNetns || process.getuid?.() !== 0) return false;
  const tools = findTools();
  if (tools.ip.path !== undefined && tools.iptables.path !== undefined) return true;
  log(`root, but no network namespace without ip and iptables (${installHint([tools.ip, tools.iptables])}): running on this namespace's loopback`);
  return false;
}

async function inNetns(): Promise<number> {
  const ns = `l5dts-bench-${process.pid}`;
  log(`running in network namespace ${ns} (iptables capture for the mesh pairs)`);
  // Until the inner run takes over signals, a Ctrl-C only cancels: the namespace is deleted either way.
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.on(sig, onSignal);
  try {
    await createNetns(ns);
    if (interrupted) return 130;
    return await rerunInNetns(ns, fileURLToPath(import.meta.url), process.argv.slice(2));
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
    await deleteNetns(ns);
  }
}

async function runMesh(opts: BenchOptions): Promise<void> {
  const loadAtStart = Number(os.loadavg()[0]!.toFixed(2));
  const { ctx, stopShared } = await benchContext(ROOT, opts, undefined);
  const all: MeshConfig[] = [direct, thisProxy, haproxy, nginx, naiveNode, ...(opts.rustProxy !== undefined ? [rustProxy] : [])];
  const chosen = opts.configs === undefined ? all : all.filter((c) => opts.configs!.includes(c.name));
  const statuses: ConfigStatus[] = [];
  const started: Started[] = [];
  for (const c of chosen) {
    const reason = c.unavailable(ctx);
    if (reason !== undefined) {
      log(`skipping ${c.label}: ${reason}`);
      statuses.push({ name: c.name, label: c.label, status: 'skipped', reason, notes: [], skippedLoads: [] });
      continue;
    }
    progress(`starting ${c.label}…`);
    try {
      const running = await c.start(ctx);
      if (running.http !== undefined) await waitForHttp200(`http://${running.http.host}:${running.http.port}/`);
      started.push({ name: c.name, running });
      statuses.push({ name: c.name, label: c.label, status: 'ran', notes: running.notes, skippedLoads: [] });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log(`${c.label} failed to start: ${reason}`);
      statuses.push({ name: c.name, label: c.label, status: 'failed', reason, notes: [], skippedLoads: [] });
    }
  }

  const loads = LOADS.filter((l) => opts.loads === undefined || opts.loads.includes(l.name)).filter((l) => {
    const missing = l.needs(ctx.tools).filter((t) => t.path === undefined);
    if (missing.length === 0) return true;
    log(`skipping load ${l.name}: ${missing.map((t) => t.name).join(', ')} missing (${installHint(missing)})`);
    for (const s of statuses) s.skippedLoads.push({ load: l.name, reason: `needs ${installHint(missing)}` });
    return false;
  });
  for (const c of started) {
    if (c.running.tcp === undefined && loads.some((l) => l.path === 'tcp')) {
      statuses.find((s) => s.name === c.name)!.skippedLoads.push({ load: 'tcp-bulk', reason: 'no opaque TCP path in this configuration (see notes)' });
    }
  }

  const env = { tools: ctx.tools, dir: ctx.dir, root: ROOT, seconds: opts.seconds, rateWarmupSeconds: opts.rateWarmupSeconds };
  const { results, failures } = await runRounds({ configs: started, loads, rounds: opts.rounds, env, warmupSeconds: opts.warmupSeconds, warmupLoads: opts.warmupLoads, settleMs: opts.settleMs });
  for (const c of started) {
    const more = (await c.running.checks?.()) ?? [];
    statuses.find((s) => s.name === c.name)!.notes.push(...more);
  }
  progress('stopping…');
  await Promise.all(started.map((c) => c.running.stop()));
  await stopShared();
  await stopAll();
  endProgress();

  const summaries = summarize(loads, results);
  const m = machine();
  const rev = revision(ROOT);
  const date = new Date().toISOString();
  const machineLine = `${m.cpuModel}, ${m.cores} cores, Linux ${m.kernel}, ${m.os}, Node ${m.node}; 1-minute load average ${loadAtStart} at the start, ${m.loadAvg1} at the end (other work shares this machine)`;
  const md = markdownReport({ date, commit: rev.commit, dirty: rev.dirty, machine: machineLine, rounds: opts.rounds, seconds: opts.seconds, origin: ctx.origin.kind }, loads, summaries, statuses);
  const failuresMd = failures.length === 0 ? '' : `\n### Failed runs\n\n${failures.map((f) => `- ${f}`).join('\n')}\n`;
  process.stdout.write(md + failuresMd);
  if (!opts.save) return;
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${date.slice(0, 10)}-${rev.commit}${opts.quick ? '-quick' : ''}`);
  const json = {
    bench: 'mesh',
    date,
    commit: rev.commit,
    dirty: rev.dirty,
    machine: m,
    tools: {
      wrk: ctx.tools.wrk.path && toolVersion(ctx.tools.wrk.path, ['--version']),
      haproxy: ctx.tools.haproxy.path && toolVersion(ctx.tools.haproxy.path, ['-v']),
      nginx: ctx.tools.nginx.path && toolVersion(ctx.tools.nginx.path, ['-v']),
      iperf3: ctx.tools.iperf3.path && toolVersion(ctx.tools.iperf3.path, ['--version']),
    },
    options: { quick: opts.quick, rounds: opts.rounds, seconds: opts.seconds },
    loadAvg1AtStart: loadAtStart,
    origin: ctx.origin.kind,
    loads: loads.map((l) => ({ name: l.name, title: l.title, unit: l.unit, path: l.path, rate: l.rate })),
    configs: statuses,
    summaries,
    failures,
  };
  writeFileSync(`${base}.json`, JSON.stringify(json, null, 2) + '\n');
  writeFileSync(`${base}.md`, md + failuresMd);
  const labels = new Map(statuses.map((s) => [s.name, s.label]));
  writeFileSync(`${base}.svg`, svgChart(`linkerd2-proxy-ts mesh benchmark · ${date.slice(0, 10)} · ${rev.commit} · ${m.cores} cores`, loads, summaries, labels));
  console.log(`\nresults: ${path.relative(process.cwd(), base)}.{json,md,svg}`);
}

await main();

// `linkerd2-proxy-ts demo` (= npm start): the mesh-expansion walkthrough on this machine, step by step, cleaned up on exit.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { messageOf } from '../core/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { createRootLogger } from '../log/root-logger.js';
import { CleanupStack } from './cleanup.js';
import { startLocalMesh, type LocalMesh } from './local-mesh.js';
import { adminOf, outboundOf, serviceUrl, startLoopbackMesh, type LoopbackMesh } from './loopback-mesh.js';
import { Progress, type Output, type StepOutcome } from './progress.js';
import { LAYOUT, LOOPBACK_CONTROL_PLANE_IP, ROLES } from './topology.js';
import { LEGACY_APP, LEGACY_APP_CLUSTER, SERVICE_FQDN, runWalkthrough } from './walkthrough.js';

export interface DemoOptions {
  readonly out: Output;
  /** PATH for everything started in the namespaces. */
  readonly path: string;
  readonly isRoot: boolean;
  /** Use the loopback layout even as root (without root it is the only one). */
  readonly loopback?: boolean;
  /** Leave everything running after the steps, until SIGINT/SIGTERM. */
  readonly keep?: boolean;
  readonly examplesDir?: string;
  readonly logger?: Logger;
  /** LINKERD2_PROXY_LOG of the proxies. */
  readonly proxyLog?: string;
  /** Called with the running mesh after the steps (tests inspect it before cleanup); root layout only. */
  readonly inspect?: (mesh: LocalMesh) => Promise<void>;
}

export interface DemoResult {
  readonly ok: boolean;
  readonly outcomes: readonly StepOutcome[];
  /** Undo steps that failed (should be empty). */
  readonly cleanupFailures: readonly string[];
}

/** examples/mesh-expansion next to the package (from src/demo or dist/src/demo). */
export function defaultExamplesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = path.resolve(here, up, 'examples/mesh-expansion');
    if (existsSync(path.join(dir, '20-external-workload.yaml'))) return dir;
  }
  throw new Error('examples/mesh-expansion not found; pass --manifests DIR');
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const progress = new Progress(opts.out);
  const cleanup = new CleanupStack();
  const onSignal = (): void => {
    progress.info('interrupted: removing everything the demo created');
    void cleanup.runAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workDir = mkdtempSync(path.join(tmpdir(), 'l5dts-demo-'));
  cleanup.push(`remove ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  try {
    if (opts.loopback === true || !opts.isRoot) {
      opts.out.write(
        opts.isRoot
          ? 'Using the loopback layout (--loopback): every machine on its own 127.18.x.y address, no namespaces or iptables.\n'
          : 'Not running as root: using the loopback layout, every machine on its own 127.18.x.y address (no namespaces or iptables; as root, sudo npm start builds them).\n',
      );
      progress.heading(`0. The mesh on loopback: a control plane on ${LOOPBACK_CONTROL_PLANE_IP} from examples/mesh-expansion, a VM, a legacy-app pod and a client pod`);
      const mesh = await startLoopbackMesh({
        cleanup,
        progress,
        examplesDir: opts.examplesDir ?? defaultExamplesDir(),
        workDir,
        logger: opts.logger ?? silentLogger,
        path: opts.path,
        ...(opts.proxyLog !== undefined ? { proxyLog: opts.proxyLog } : {}),
      });
      progress.record(
        'everything is up',
        true,
        ROLES.map((r) => `${LAYOUT[r].title} at ${LAYOUT[r].loopbackIp}: our proxy is ready (inbound :4143, outbound :4140, admin :4191)`).join('\n'),
      );
      await runWalkthrough(mesh, progress);
      const ok = progress.summary();
      for (const c of mesh.casualties()) progress.info(`✘ ${c.split('\n').join('\n      ')}`);
      if (opts.keep === true) await keepRunningLoopback(mesh, progress);
      return { ok, outcomes: progress.outcomes, cleanupFailures: await cleanup.runAll() };
    }
    progress.heading('0. The mesh: a control plane from examples/mesh-expansion, a VM, a legacy-app pod and a client pod');
    const mesh = await startLocalMesh({
      cleanup,
      progress,
      examplesDir: opts.examplesDir ?? defaultExamplesDir(),
      workDir,
      tag: String(process.pid),
      logger: opts.logger ?? silentLogger,
      path: opts.path,
      ...(opts.proxyLog !== undefined ? { proxyLog: opts.proxyLog } : {}),
    });
    progress.record('everything is up', true, ROLES.map((r) => `${LAYOUT[r].title} at ${LAYOUT[r].ip}: our proxy is ready`).join('\n'));
    await runWalkthrough(mesh, progress);
    if (opts.inspect !== undefined) await opts.inspect(mesh);
    const ok = progress.summary();
    if (opts.keep === true) await keepRunning(mesh, progress);
    return { ok, outcomes: progress.outcomes, cleanupFailures: await cleanup.runAll() };
  } catch (err) {
    progress.record('the demo could not continue', false, messageOf(err));
    progress.summary();
    return { ok: false, outcomes: progress.outcomes, cleanupFailures: await cleanup.runAll() };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function keepRunning(mesh: LocalMesh, progress: Progress): Promise<void> {
  progress.heading('Left running (--keep). Try, in another terminal:');
  progress.info(`ip netns exec ${mesh.topology.ns.client} curl -s ${LEGACY_APP}`);
  progress.info(`ip netns exec ${mesh.topology.ns.vm} curl -s ${LEGACY_APP_CLUSTER}`);
  progress.info(`ip netns exec ${mesh.topology.ns.vm} curl -s http://127.0.0.1:4191/metrics`);
  progress.info(`edit the manifests in ${mesh.manifestsDir}: the control plane pushes changes to every proxy`);
  progress.info('Ctrl-C removes everything.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

async function keepRunningLoopback(mesh: LoopbackMesh, progress: Progress): Promise<void> {
  progress.heading('Left running (--keep). Try, in another terminal:');
  progress.info(`curl -s -H 'l5d-dst-override: ${SERVICE_FQDN['legacy-app']}:80' http://${outboundOf('client')}/`);
  progress.info(`curl -s -H 'l5d-dst-override: ${SERVICE_FQDN['legacy-app-cluster']}:80' http://${outboundOf('vm')}/`);
  progress.info(`(or: linkerd2-proxy-ts demo-app get ${serviceUrl('legacy-app')} --via ${outboundOf('client')})`);
  progress.info(`curl -s http://${adminOf('vm')}/metrics`);
  progress.info(`edit the manifests in ${mesh.manifestsDir}: the control plane pushes changes to every proxy`);
  progress.info('Ctrl-C removes everything.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

const USAGE = `usage: linkerd2-proxy-ts demo [--keep] [--loopback] [--manifests DIR] [--verbose]
  Replays the Linkerd mesh-expansion walkthrough on this machine. As root it builds network
  namespaces, veth pairs and the walkthrough's iptables rules; without root (or with --loopback)
  every machine gets its own 127.18.x.y address, the proxies run without iptables and the apps
  send through them (ingress mode).
  --keep            leave the mesh running after the steps, until Ctrl-C
  --loopback        use the loopback layout even as root
  --manifests DIR   the walkthrough's YAML (default: examples/mesh-expansion)
  --verbose         log what the control plane does (to stderr)
  --proxy-log F     LINKERD2_PROXY_LOG of the proxies (default warn,linkerd=info)
`;

export async function runDemoCli(args: readonly string[], env: { readonly path: string; readonly isRoot: boolean }, out: Output, err: (s: string) => void): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: { keep: { type: 'boolean' }, loopback: { type: 'boolean' }, manifests: { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, 'proxy-log': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    err(`${messageOf(e)}\n${USAGE}`);
    return 64;
  }
  if (values.help === true) {
    out.write(USAGE);
    return 0;
  }
  const result = await runDemo({
    out,
    path: env.path,
    isRoot: env.isRoot,
    keep: values.keep === true,
    loopback: values.loopback === true,
    ...(values['proxy-log'] !== undefined ? { proxyLog: values['proxy-log'] } : {}),
    ...(values.verbose === true ? { logger: createRootLogger({ filter: 'debug', format: 'plain', write: err }) } : {}),
    ...(values.manifests !== undefined ? { examplesDir: path.resolve(values.manifests) } : {}),
  });
  for (const f of result.cleanupFailures) err(`cleanup: ${f}\n`);
  return result.ok ? 0 : 1;
}

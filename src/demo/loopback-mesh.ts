// Brings the walkthrough's mesh up without root: every machine on its own 127.18.x.y address, proxies without iptables, apps sending through them.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startDevControlPlane, type DevControlPlane } from '../devmesh/index.js';
import type { Logger } from '../log/logger.js';
import type { CleanupStack } from './cleanup.js';
import { INITIAL_MANIFESTS } from './local-mesh.js';
import { writeLoopbackManifests } from './loopback-manifests.js';
import { run } from './netns.js';
import { unavailableBindings, type Binding } from './port-check.js';
import { spawnTracked, type DemoProcess } from './process.js';
import { meshWorkloads } from './mesh-workloads.js';
import type { Progress } from './progress.js';
import { selfCommand } from './self-command.js';
import type { GetResult } from './terminus.js';
import { CONTROL_PLANE_PORTS, LAYOUT, LOOPBACK_APP_PORT, LOOPBACK_CONTROL_PLANE_IP, PROXY_PORTS, ROLES, type Role } from './topology.js';
import { SERVICE_FQDN, type ServiceName, type WalkthroughMesh } from './walkthrough.js';

export interface LoopbackMeshOptions {
  readonly cleanup: CleanupStack;
  readonly progress: Progress;
  /** examples/mesh-expansion (read only: the rewritten copies go to `workDir`). */
  readonly examplesDir: string;
  /** A fresh private directory: rewritten manifests, the ones being applied, control-plane state, the SPIRE socket. */
  readonly workDir: string;
  readonly logger: Logger;
  /** LINKERD2_PROXY_LOG of every proxy. */
  readonly proxyLog?: string;
  /** PATH of the processes it starts. */
  readonly path: string;
}

export interface LoopbackMesh extends WalkthroughMesh {
  readonly controlPlane: DevControlPlane;
  readonly proxies: Readonly<Record<Role, DemoProcess>>;
  readonly apps: readonly DemoProcess[];
  /** The directory the control plane watches. */
  readonly manifestsDir: string;
  /** The loopback copies of the walkthrough's files, which `apply` copies from. */
  readonly rewrittenDir: string;
  /** `count` GETs of `url` by `role`'s app, sent through its proxy's outbound listener. */
  get(role: Role, url: string, count?: number, concurrency?: number): Promise<GetResult[]>;
  /** Each proxy or app that has exited, with the end of its output (to explain failed steps). */
  casualties(): string[];
}

/** The apps that serve: the VM's terminus and the legacy-app pod's, on their machines' addresses. */
const SERVING: readonly Role[] = ['vm', 'pod'];
/** Whose apps call Services: they send to their proxy, which runs in ingress mode. */
const CALLING: ReadonlySet<Role> = new Set(['vm', 'client']);

const ip = (role: Role): string => LAYOUT[role].loopbackIp;
const hostPort = (role: Role, port: number): string => `${ip(role)}:${port}`;

/** Every address the loopback layout binds, with what for. */
export function loopbackBindings(): Binding[] {
  const out: Binding[] = Object.entries(CONTROL_PLANE_PORTS).map(([service, port]) => ({ host: LOOPBACK_CONTROL_PLANE_IP, port, what: `the control plane (${service})` }));
  for (const role of ROLES) {
    for (const [side, port] of Object.entries(PROXY_PORTS)) out.push({ host: ip(role), port, what: `the proxy of ${LAYOUT[role].title} (${side})` });
  }
  for (const role of SERVING) out.push({ host: ip(role), port: LOOPBACK_APP_PORT, what: `the app of ${LAYOUT[role].title}` });
  return out;
}

/** The app's view of a Service: its name, sent through the proxy (no ClusterIP is reachable without iptables). */
export function serviceUrl(service: ServiceName): string {
  return `http://${SERVICE_FQDN[service]}/`;
}

export function outboundOf(role: Role): string {
  return hostPort(role, PROXY_PORTS.outbound);
}

export function adminOf(role: Role): string {
  return hostPort(role, PROXY_PORTS.admin);
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    const why = failed();
    if (why !== undefined) throw new Error(`${what}: ${why}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const exitedWith = (p: DemoProcess): string | undefined => (p.child.exitCode !== null || p.child.signalCode !== null ? `exited (${p.child.exitCode ?? p.child.signalCode})\n${p.output().slice(-3000)}` : undefined);

export async function startLoopbackMesh(opts: LoopbackMeshOptions): Promise<LoopbackMesh> {
  const { cleanup, progress } = opts;
  const self = await selfCommand();
  const rewrittenDir = path.join(opts.workDir, 'examples');
  const changes = writeLoopbackManifests(opts.examplesDir, rewrittenDir);
  progress.info(
    `on loopback there is no 198.18.x.y and no port 80 without root: ${changes.length} fields of ${new Set(changes.map((c) => c.file)).size} manifests rewritten (198.18.a.b → 127.18.a.b, workload port 80 → 8080; Service ports stay 80); the copies are in ${rewrittenDir}`,
  );

  const taken = await unavailableBindings(loopbackBindings());
  if (taken.length > 0) throw new Error(`the loopback layout's addresses are not free:\n${taken.join('\n')}`);

  const manifestsDir = path.join(opts.workDir, 'manifests');
  mkdirSync(manifestsDir, { recursive: true });
  for (const f of INITIAL_MANIFESTS) copyFileSync(path.join(rewrittenDir, f), path.join(manifestsDir, f));

  let done = progress.waiting(`starting the control plane on ${LOOPBACK_CONTROL_PLANE_IP} (destination, policy, identity, SPIFFE Workload API)`);
  const spireDir = path.join(opts.workDir, 'spire-agent');
  mkdirSync(spireDir, { recursive: true });
  const socket = path.join(spireDir, 'api.sock');
  const cp = (service: keyof typeof CONTROL_PLANE_PORTS): string => `${LOOPBACK_CONTROL_PLANE_IP}:${CONTROL_PLANE_PORTS[service]}`;
  const controlPlane = await startDevControlPlane({
    manifests: [manifestsDir],
    stateDir: path.join(opts.workDir, 'control-plane'),
    listen: { destination: cp('destination'), policy: cp('policy'), identity: cp('identity') },
    workloadApis: [{ socket, externalWorkload: LAYOUT.vm.workload }],
    // No redirection: clients must dial each proxy's inbound port themselves.
    directEndpoints: true,
    watchDebounceMs: 100,
    logger: opts.logger,
  });
  cleanup.push('stop the control plane', () => controlPlane.close());
  done();
  const { podName, workloadOf } = meshWorkloads(controlPlane, progress);

  const base = { PATH: opts.path };
  const apps = SERVING.map((role) => {
    const text = role === 'vm' ? 'hello-from-external-workload' : `hello-from-${podName}`;
    return spawnTracked(cleanup, `the app of ${LAYOUT[role].title}`, self[0]!, [...self.slice(1), 'demo-app', 'serve', '--host', ip(role), '--port', String(LOOPBACK_APP_PORT), '--text', text], base);
  });
  const proxies = {} as Record<Role, DemoProcess>;
  for (const role of ROLES) {
    const env = controlPlane.proxyEnv(workloadOf[role], {
      LINKERD2_PROXY_LOG: opts.proxyLog ?? 'warn,linkerd=info',
      LINKERD2_PROXY_INBOUND_LISTEN_ADDR: hostPort(role, PROXY_PORTS.inbound),
      LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS: outboundOf(role),
      LINKERD2_PROXY_ADMIN_LISTEN_ADDR: adminOf(role),
      LINKERD2_PROXY_INBOUND_IPS: ip(role),
      ...(CALLING.has(role) ? { LINKERD2_PROXY_INGRESS_MODE: 'true' } : {}),
    });
    proxies[role] = spawnTracked(cleanup, `the proxy of ${LAYOUT[role].title}`, self[0]!, [...self.slice(1), 'run', '--no-iptables'], { ...base, ...env });
  }

  done = progress.waiting('waiting for the apps to listen and the three proxies to get their identities and become ready');
  try {
    for (const app of apps) await waitFor(app.name, 15_000, () => Promise.resolve(app.output().includes('listening on')), () => exitedWith(app));
    for (const role of ROLES) {
      const ready = (): Promise<boolean> =>
        fetch(`http://${adminOf(role)}/ready`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.status === 200,
          () => false,
        );
      await waitFor(`the proxy of ${LAYOUT[role].title}`, 30_000, ready, () => exitedWith(proxies[role]));
    }
  } finally {
    done();
  }

  const get = async (role: Role, url: string, count = 1, concurrency = 1): Promise<GetResult[]> => {
    const args = ['demo-app', 'get', url, '--via', outboundOf(role), '--count', String(count), '--concurrency', String(concurrency), '--timeout-ms', '5000'];
    const r = await run(self[0]!, [...self.slice(1), ...args], 10_000 + count * 6000, base);
    return r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as GetResult);
  };

  return {
    controlPlane,
    proxies,
    apps,
    manifestsDir,
    rewrittenDir,
    podName,
    async apply(file) {
      copyFileSync(path.join(rewrittenDir, file), path.join(manifestsDir, file));
      await controlPlane.reload();
    },
    get,
    casualties: () =>
      [...apps, ...Object.values(proxies)].flatMap((p) => {
        const why = exitedWith(p);
        return why === undefined ? [] : [`${p.name} ${why}`];
      }),
    route: (role, service) => `${serviceUrl(service)} via ${outboundOf(role)}`,
    call: (role, service, count, concurrency) => get(role, serviceUrl(service), count, concurrency),
    async metrics(role) {
      const res = await fetch(`http://${adminOf(role)}/metrics`, { signal: AbortSignal.timeout(5000) });
      return res.text();
    },
  };
}

// Brings the walkthrough's mesh up on one machine (root): control plane, capture rules, apps and our proxy in every namespace.
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startDevControlPlane, type DevControlPlane } from '../devmesh/index.js';
import type { Logger } from '../log/logger.js';
import type { CleanupStack } from './cleanup.js';
import { nsRun, nsSpawn, type NsProcess } from './netns.js';
import { meshWorkloads } from './mesh-workloads.js';
import type { Progress } from './progress.js';
import { selfCommand } from './self-command.js';
import { sweepStaleDemos } from './stale.js';
import type { GetResult } from './terminus.js';
import { CONTROL_PLANE_IP, LAYOUT, ROLES, buildTopology, type Role, type Topology } from './topology.js';
import { LEGACY_APP, LEGACY_APP_CLUSTER, type ServiceName, type WalkthroughMesh } from './walkthrough.js';

/** The root layout calls Services by ClusterIP: the namespace's iptables rules hand them to the proxy. */
const CLUSTER_IP_URL: Readonly<Record<ServiceName, string>> = { 'legacy-app': LEGACY_APP, 'legacy-app-cluster': LEGACY_APP_CLUSTER };

/** The proxy's uid, as in the walkthrough's iptables rules (its own traffic is not captured). */
export const PROXY_UID = 2102;

export interface LocalMeshOptions {
  readonly cleanup: CleanupStack;
  readonly progress: Progress;
  /** examples/mesh-expansion. */
  readonly examplesDir: string;
  /** A fresh private directory (manifests being applied, control-plane state, the SPIRE socket). */
  readonly workDir: string;
  /** Distinguishes concurrent runs in namespace and interface names. */
  readonly tag: string;
  readonly logger: Logger;
  /** LINKERD2_PROXY_LOG of every proxy. */
  readonly proxyLog?: string;
  /** PATH for the processes started in the namespaces (ip, iptables, setpriv). */
  readonly path: string;
}

export interface LocalMesh extends WalkthroughMesh {
  readonly topology: Topology;
  readonly controlPlane: DevControlPlane;
  readonly proxies: Readonly<Record<Role, NsProcess>>;
  readonly apps: readonly NsProcess[];
  /** The directory the control plane watches; `apply` copies a manifest there. */
  readonly manifestsDir: string;
  apply(exampleFile: string): Promise<void>;
  /** `count` GETs from inside `role`'s namespace (through its proxy when captured). */
  get(role: Role, url: string, count?: number, concurrency?: number): Promise<GetResult[]>;
}

/** Manifests applied before the first step; the policy files are applied by the steps. */
export const INITIAL_MANIFESTS = ['00-namespace.yaml', '10-legacy-app.yaml', '20-external-workload.yaml', '30-client.yaml'];

export async function startLocalMesh(opts: LocalMeshOptions): Promise<LocalMesh> {
  const { cleanup, progress } = opts;
  const self = await selfCommand();
  const manifestsDir = path.join(opts.workDir, 'manifests');
  mkdirSync(manifestsDir, { recursive: true });
  for (const f of INITIAL_MANIFESTS) copyFileSync(path.join(opts.examplesDir, f), path.join(manifestsDir, f));

  const stale = await sweepStaleDemos();
  if (stale.removed.length > 0) progress.info(`removed what a killed demo left behind: ${stale.removed.join(', ')}`);
  if (stale.running.length > 0) throw new Error(`another demo is running (pid ${stale.running.join(', ')}); they would share addresses — stop it first`);
  let done = progress.waiting('creating namespaces, a bridge and veth pairs');
  const topology = await buildTopology(cleanup, opts.tag);
  done();

  done = progress.waiting('starting the control plane (destination, policy, identity, SPIFFE Workload API)');
  const spireDir = path.join(opts.workDir, 'spire-agent');
  mkdirSync(spireDir, { recursive: true });
  const socket = path.join(spireDir, 'api.sock');
  const controlPlane = await startDevControlPlane({
    manifests: [manifestsDir],
    stateDir: path.join(opts.workDir, 'control-plane'),
    listen: { destination: `${CONTROL_PLANE_IP}:8086`, policy: `${CONTROL_PLANE_IP}:8090`, identity: `${CONTROL_PLANE_IP}:8080` },
    workloadApis: [{ socket, externalWorkload: LAYOUT.vm.workload }],
    watchDebounceMs: 100,
    logger: opts.logger,
  });
  cleanup.push('stop the control plane', () => controlPlane.close());
  done();
  const { podName, workloadOf } = meshWorkloads(controlPlane, progress);

  const envs = {} as Record<Role, Record<string, string>>;
  for (const role of ROLES) {
    envs[role] = controlPlane.proxyEnv(workloadOf[role], { LINKERD2_PROXY_LOG: opts.proxyLog ?? 'warn,linkerd=info' });
  }
  // The proxies run under their own uid: let it read its identity documents, token and socket.
  shareWith(PROXY_UID, path.join(opts.workDir, 'control-plane'));
  shareWith(PROXY_UID, spireDir);
  chmodSync(opts.workDir, 0o755);

  done = progress.waiting('applying the walkthrough iptables rules in every namespace');
  for (const role of ROLES) {
    const r = await nsRun(topology.ns[role], self[0]!, [...self.slice(1), 'iptables', 'apply', '--proxy-uid', String(PROXY_UID)]);
    if (r.code !== 0) throw new Error(`iptables apply in ${LAYOUT[role].title} failed: ${r.stderr.trim()}`);
  }
  done();

  const base = { PATH: opts.path };
  const apps = [
    nsSpawn(cleanup, 'the VM app', topology.ns.vm, [...self, 'demo-app', 'serve', '--port', '80', '--text', 'hello-from-external-workload'], { env: base }),
    nsSpawn(cleanup, 'the legacy-app', topology.ns.pod, [...self, 'demo-app', 'serve', '--port', '80', '--text', `hello-from-${podName}`], { env: base }),
  ];
  const proxies = {} as Record<Role, NsProcess>;
  for (const role of ROLES) {
    proxies[role] = nsSpawn(cleanup, `the proxy of ${LAYOUT[role].title}`, topology.ns[role], self, { uid: PROXY_UID, env: { ...base, ...envs[role] } });
  }

  const get = async (role: Role, url: string, count = 1, concurrency = 1): Promise<GetResult[]> => {
    const args = ['demo-app', 'get', url, '--count', String(count), '--concurrency', String(concurrency), '--timeout-ms', '5000'];
    const r = await nsRun(topology.ns[role], self[0]!, [...self.slice(1), ...args], 10_000 + count * 6000);
    return r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as GetResult);
  };

  done = progress.waiting('waiting for the three proxies to get their identities and become ready');
  const deadline = Date.now() + 30_000;
  for (const role of ROLES) {
    for (;;) {
      const [r] = await get(role, 'http://127.0.0.1:4191/ready');
      if (r?.status === 200) break;
      const exited = proxies[role].child.exitCode;
      if (exited !== null || Date.now() > deadline) {
        done();
        throw new Error(`the proxy of ${LAYOUT[role].title} ${exited !== null ? `exited (${exited})` : 'did not become ready in 30s'}:\n${proxies[role].output().slice(-3000)}`);
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  done();

  return {
    topology,
    controlPlane,
    proxies,
    apps,
    manifestsDir,
    podName,
    async apply(file) {
      copyFileSync(path.join(opts.examplesDir, file), path.join(manifestsDir, file));
      await controlPlane.reload();
    },
    get,
    route: (_role, service) => CLUSTER_IP_URL[service],
    call: (role, service, count, concurrency) => get(role, CLUSTER_IP_URL[service], count, concurrency),
    async metrics(role) {
      const r = await nsRun(topology.ns[role], self[0]!, [...self.slice(1), 'demo-app', 'get', 'http://127.0.0.1:4191/metrics', '--raw']);
      return r.stdout;
    },
  };
}

/** Gives `uid` ownership of a tree this process created (root makes it; the proxy reads it). */
function shareWith(uid: number, dir: string): void {
  chownSync(dir, uid, uid);
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) shareWith(uid, p);
    else chownSync(p, uid, uid);
  }
}

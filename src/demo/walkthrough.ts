// The walkthrough's steps against a running local mesh: load balancing over the VM and the pod, the VM calling the cluster, and the two policy steps.
import type { Progress } from './progress.js';
import type { GetResult } from './terminus.js';
import type { Role } from './topology.js';

/** The walkthrough's Services by ClusterIP (the root layout: iptables hands these to the proxy). */
export const LEGACY_APP = 'http://10.43.0.10/';
export const LEGACY_APP_CLUSTER = 'http://10.43.0.11/';

/** The Services the steps call. */
export type ServiceName = 'legacy-app' | 'legacy-app-cluster';
export const SERVICE_FQDN: Readonly<Record<ServiceName, string>> = Object.freeze({
  'legacy-app': 'legacy-app.mixed-env.svc.cluster.local',
  'legacy-app-cluster': 'legacy-app-cluster.mixed-env.svc.cluster.local',
});

/** What the steps need from a running mesh, whichever layout it uses. */
export interface WalkthroughMesh {
  /** The legacy-app pod's name (its terminus answers hello-from-<name>). */
  readonly podName: string;
  /** Applies one of the walkthrough's files (as the layout needs it) and reloads the control plane. */
  apply(file: string): Promise<void>;
  /** How `role`'s app calls `service`, shown in the step (a URL, and the proxy it goes through). */
  route(role: Role, service: ServiceName): string;
  /** `count` GETs of `service` from `role`'s app, through its proxy. */
  call(role: Role, service: ServiceName, count?: number, concurrency?: number): Promise<GetResult[]>;
  /** The admin /metrics text of `role`'s proxy. */
  metrics(role: Role): Promise<string>;
}

const VM_PAYLOAD = 'hello-from-external-workload';
const VM_ID = 'spiffe://root.linkerd.cluster.local/external-workload';
const CLIENT_ID = 'client.mixed-env.serviceaccount.identity.linkerd.cluster.local';

function tally(results: readonly GetResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = r.status === 200 ? r.payload : r.status === 0 ? `error ${r.error ?? ''}` : `HTTP ${r.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(', ');
}

/** Repeats `probe` until `done` holds or `ms` pass; returns the last result. */
async function until(ms: number, probe: () => Promise<GetResult[]>, done: (r: GetResult[]) => boolean): Promise<GetResult[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await probe();
    if (done(r) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}

export async function runWalkthrough(mesh: WalkthroughMesh, progress: Progress): Promise<void> {
  const podPayload = `hello-from-${mesh.podName}`;

  progress.heading('1. A client pod calls legacy-app, a Service selecting both the VM and the pod');
  let stop = progress.waiting(`40 requests, 4 at a time, from the client pod to legacy-app (${mesh.route('client', 'legacy-app')})`);
  const spread = await mesh.call('client', 'legacy-app', 40, 4);
  stop();
  const fromVm = spread.filter((r) => r.status === 200 && r.payload === VM_PAYLOAD).length;
  const fromPod = spread.filter((r) => r.status === 200 && r.payload === podPayload).length;
  progress.record(
    'client → legacy-app is answered by both the VM and the pod',
    fromVm > 0 && fromPod > 0 && fromVm + fromPod === spread.length,
    `${spread.length} requests: ${tally(spread)}`,
  );
  const vmMetrics = await mesh.metrics('vm');
  const vmSawClient = new RegExp(`^request_total\\{direction="inbound",[^}]*tls="true",client_id="${CLIENT_ID.replace(/\./g, '\\.')}"[^}]*\\} ([1-9]\\d*)$`, 'm').exec(vmMetrics);
  progress.record(
    "the VM's proxy served them over mTLS, knowing the client's identity",
    vmSawClient !== null,
    vmSawClient !== null ? `request_total{direction="inbound",tls="true",client_id="${CLIENT_ID}"} = ${vmSawClient[1]}` : 'no inbound request_total with tls="true" and the client id on the VM',
  );

  progress.heading('2. The VM calls legacy-app-cluster (only the pod)');
  stop = progress.waiting(`5 requests from the VM to legacy-app-cluster (${mesh.route('vm', 'legacy-app-cluster')})`);
  const toCluster = await mesh.call('vm', 'legacy-app-cluster', 5);
  stop();
  progress.record('VM → legacy-app-cluster reaches the pod', toCluster.every((r) => r.status === 200 && r.payload === podPayload), tally(toCluster));

  progress.heading('3. A Server for the pod port, with no authorizations: the VM is refused');
  await mesh.apply('40-server-deny.yaml');
  stop = progress.waiting('applied 40-server-deny.yaml; waiting for the pod proxy to enforce it');
  const denied = await until(15_000, () => mesh.call('vm', 'legacy-app-cluster', 1), (r) => r[0]?.status === 403);
  stop();
  progress.record('Server in-cluster-endpoint refuses the VM', denied[0]?.status === 403, `${tally(denied)} (expected HTTP 403 from the pod's proxy)`);

  progress.heading('4. An AuthorizationPolicy with a MeshTLSAuthentication naming the VM lets it back in');
  await mesh.apply('50-authz-policy.yaml');
  stop = progress.waiting('applied 50-authz-policy.yaml; waiting for the pod proxy to allow the VM');
  const allowed = await until(15_000, () => mesh.call('vm', 'legacy-app-cluster', 1), (r) => r[0]?.status === 200);
  stop();
  progress.record(`${VM_ID} is authorized again`, allowed[0]?.status === 200 && allowed[0].payload === podPayload, tally(allowed));
}

// The demo's machines as network namespaces on one bridge (root): the VM, the legacy-app pod, the client pod, and this process as the control plane's host.
import type { CleanupStack } from './cleanup.js';
import { attach, createBridge, createNetns, must } from './netns.js';

/** The walkthrough's roles; addresses match examples/mesh-expansion (EW workloadIPs, devmesh.l5d.io/ips). */
export const LAYOUT = Object.freeze({
  vm: { ip: '198.18.0.2', workload: 'mixed-env/external-workload', title: 'the VM (external workload)' },
  pod: { ip: '198.18.1.2', workload: 'mixed-env/legacy-app', title: 'the legacy-app pod' },
  client: { ip: '198.18.2.2', workload: 'mixed-env/client', title: 'the client pod' },
});
export type Role = keyof typeof LAYOUT;
export const ROLES: readonly Role[] = ['vm', 'pod', 'client'];

/** Where the control plane listens: this process's namespace, on the same segment. */
export const CONTROL_PLANE_IP = '198.18.3.1';
const PREFIX = 16;
/** Service ClusterIPs: routed onto the segment so connects start; iptables hands them to the proxy first. */
export const CLUSTER_IP_RANGE = '10.43.0.0/16';

export interface Topology {
  readonly hub: string;
  readonly ns: Readonly<Record<Role, string>>;
}

/**
 * Builds the hub namespace with a bridge, one namespace per role attached to it, and a veth from
 * this namespace for the control plane. Everything is undone by `cleanup` (deleting the hub
 * removes the control plane's veth too).
 */
export async function buildTopology(cleanup: CleanupStack, tag: string): Promise<Topology> {
  const hub = await createNetns(cleanup, `l5d-demo-hub-${tag}`);
  await createBridge(hub);
  const ns = {} as Record<Role, string>;
  for (const role of ROLES) {
    ns[role] = await createNetns(cleanup, `l5d-demo-${role}-${tag}`);
    const ifname = `l5${role.slice(0, 2)}${tag}`.slice(0, 15);
    await attach(hub, { ns: ns[role], ifname, hubIfname: `h5${role.slice(0, 2)}${tag}`.slice(0, 15), cidr: `${LAYOUT[role].ip}/${PREFIX}` });
    await must('ip', ['netns', 'exec', ns[role], 'ip', 'route', 'add', CLUSTER_IP_RANGE, 'dev', ifname]);
  }
  const cpIf = `l5cp${tag}`.slice(0, 15);
  await attach(hub, { ns: undefined, ifname: cpIf, hubIfname: `h5cp${tag}`.slice(0, 15), cidr: `${CONTROL_PLANE_IP}/${PREFIX}` });
  // Normally gone with the hub; this covers a hub that could not be deleted.
  cleanup.push(`delete ${cpIf}`, () => must('ip', ['link', 'del', cpIf]).catch(() => undefined));
  return { hub, ns };
}

// The demo's machines as network namespaces on one bridge (root): the VM, the legacy-app pod, the client pod, and this process as the control plane's host.
import type { CleanupStack } from './cleanup.js';
import { attach, createBridge, createNetns, must } from './netns.js';

/**
 * The walkthrough's roles; `ip` matches examples/mesh-expansion (EW workloadIPs,
 * devmesh.l5d.io/ips) and is used in namespaces (root); `loopbackIp` is the same machine in the
 * loopback layout (Linux routes all of 127/8 to lo, so binding these needs no root).
 */
export const LAYOUT = Object.freeze({
  vm: { ip: '198.18.0.2', loopbackIp: '127.18.0.2', workload: 'mixed-env/external-workload', title: 'the VM (external workload)' },
  pod: { ip: '198.18.1.2', loopbackIp: '127.18.1.2', workload: 'mixed-env/legacy-app', title: 'the legacy-app pod' },
  client: { ip: '198.18.2.2', loopbackIp: '127.18.2.2', workload: 'mixed-env/client', title: 'the client pod' },
});
export type Role = keyof typeof LAYOUT;
export const ROLES: readonly Role[] = ['vm', 'pod', 'client'];

/** Where the control plane listens: this process's namespace, on the same segment. */
export const CONTROL_PLANE_IP = '198.18.3.1';
/** The control plane's address in the loopback layout. */
export const LOOPBACK_CONTROL_PLANE_IP = '127.18.3.1';
/** The control plane's ports (both layouts). */
export const CONTROL_PLANE_PORTS = Object.freeze({ destination: 8086, policy: 8090, identity: 8080 });
/** Every proxy's ports (both layouts; on loopback each on its machine's own address). */
export const PROXY_PORTS = Object.freeze({ inbound: 4143, outbound: 4140, admin: 4191 });
/** The walkthrough's app port 80 needs root to bind; the loopback layout's manifests use this instead. */
export const LOOPBACK_APP_PORT = 8080;

/** The loopback layout's address for one of the walkthrough's (198.18.0.0/16); others are kept. */
export function loopbackIpOf(ip: string): string {
  return ip.startsWith('198.18.') ? `127.18.${ip.slice('198.18.'.length)}` : ip;
}
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

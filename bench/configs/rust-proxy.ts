// The Rust linkerd2-proxy as the pair (--rust-proxy PATH): same LINKERD2_PROXY_* variables, same dev control plane as ours.
import { existsSync } from 'node:fs';
import { startDevmeshPair } from './devmesh-pair.js';
import type { MeshConfig } from './types.js';

export const rustProxy: MeshConfig = {
  name: 'rust-proxy',
  label: 'Rust linkerd2-proxy pair',
  unavailable(ctx) {
    if (ctx.rustProxy === undefined) return 'no --rust-proxy PATH given';
    if (!existsSync(ctx.rustProxy)) return `${ctx.rustProxy} does not exist`;
    // The Rust proxy reads original destinations with SO_ORIGINAL_DST only: iptables in a namespace.
    if (ctx.mesh === undefined) return 'needs root and the bench network namespace (iptables capture for SO_ORIGINAL_DST); run as root without --no-netns';
    return undefined;
  },
  start: (ctx) => startDevmeshPair(ctx, { kind: 'rust', binary: ctx.rustProxy! }),
};

// The shared set-up of a bench run: tools, scratch folder, certificates and the origin.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchContext } from '../configs/types.js';
import { startOrigin } from '../origin/origin.js';
import { scratchDir, stopChild } from '../support/children.js';
import type { BenchOptions } from '../support/cli.js';
import { startDevControlPlane } from '../../src/devmesh/index.js';
import { MESH, NETNS_ENV } from '../support/netns.js';
import { makeBenchPki } from '../support/pki.js';
import { log, progress } from '../support/progress.js';
import { findTools, installHint, type Tool } from '../support/tools.js';

/** Sets up certificates, the origin and the tools' context shared by the mesh run and the profile run. */
export async function benchContext(root: string, opts: BenchOptions, profileDir: string | undefined): Promise<{ ctx: BenchContext; stopShared: () => Promise<void> }> {
  const tools = findTools();
  const missing = (Object.values(tools) as Tool[]).filter((t) => t.path === undefined);
  if (missing.length > 0) log(`missing: ${missing.map((t) => t.name).join(', ')} — install with: ${installHint(missing)}`);
  if (tools.openssl.path === undefined) throw new Error(`openssl is needed for the certificates (${installHint([tools.openssl])})`);
  const dir = scratchDir(mkdtempSync(path.join(tmpdir(), 'l5dts-bench-')));
  progress('making certificates (openssl, P-256)…');
  const pki = makeBenchPki();
  scratchDir(pki.dir);
  progress('starting the origin…');
  const ns = process.env[NETNS_ENV];
  const origin = await startOrigin(tools, dir, root, opts.nodeOrigin, ns === undefined ? undefined : { http: MESH.originHttpPort, tcp: MESH.originTcpPort });
  let mesh: BenchContext['mesh'];
  if (ns !== undefined) {
    progress('starting the dev control plane…');
    const at = (port: number): string => `${MESH.controlPlaneIp}:${port}`;
    // On a non-loopback address every proxy speaks mTLS to it, as to a real control plane. Its state
    // (trust anchor, tokens, pod keys) lives in the scratch folder, removed however the run ends.
    const controlPlane = await startDevControlPlane({ manifests: [path.join(root, 'bench/manifests')], listen: { destination: at(8086), policy: at(8090), identity: at(8080) }, watch: false, stateDir: path.join(dir, 'devmesh') });
    const problems = controlPlane.snapshot().problems;
    if (problems.length > 0) log(`bench manifests: ${problems.map((p) => p.message).join('; ')}`);
    mesh = { ns, controlPlane };
  }
  const ctx: BenchContext = { tools, pki, dir, origin: origin.origin, root, profileDir, rustProxy: opts.rustProxy, mesh, log };
  return {
    ctx,
    stopShared: async () => {
      await Promise.all(origin.children.map((c) => stopChild(c)));
      await mesh?.controlPlane.close();
    },
  };
}


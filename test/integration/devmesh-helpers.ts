// Shared by the devmesh integration tests: walkthrough manifests in a scratch dir, and the proxy's own clients built from proxyEnv.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/index.js';
import type { Config, ControlPlaneClient } from '../../src/config/index.js';
import { startDevControlPlane } from '../../src/devmesh/index.js';
import type { DevControlPlane, DevControlPlaneOptions } from '../../src/devmesh/index.js';
import { startLinkerdIdentity } from '../../src/identity/linkerd-identity.js';
import { startSpireIdentity } from '../../src/identity/spire-client.js';
import type { IdentitySource } from '../../src/identity/types.js';
import type { Logger } from '../../src/log/logger.js';
import { silentLogger } from '../../src/log/logger.js';

export const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/mesh-expansion');
export const SERVICE = 'legacy-app.mixed-env.svc.cluster.local:80';
export const EW = 'mixed-env/external-workload';

/** A scratch dir holding copies of the named walkthrough files (removed at teardown). */
export function walkthroughDir(t: Test, files: readonly string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-devmesh-manifests-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of files) copyFileSync(path.join(EXAMPLES, f), path.join(dir, f));
  return dir;
}

/** A dev control plane on 127.0.0.1 ephemeral ports, closed at teardown. */
export async function devControlPlane(t: Test, opts: Omit<DevControlPlaneOptions, 'listen'> & { listenHost?: string }): Promise<DevControlPlane> {
  const host = opts.listenHost ?? '127.0.0.1';
  const cp = await startDevControlPlane({
    watchDebounceMs: 50,
    ...opts,
    listen: { destination: `${host}:0`, policy: `${host}:0`, identity: `${host}:0` },
  });
  t.teardown(() => cp.close());
  return cp;
}

/** The proxy configuration its proxyEnv gives, with ephemeral listeners. */
export function proxyConfig(cp: DevControlPlane, workload: string, overrides: Record<string, string> = {}): Config {
  const env = cp.proxyEnv(workload, {
    LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
    ...overrides,
  });
  return loadConfig(env).config;
}

function mtls(client: ControlPlaneClient, name: string): ControlPlaneClient {
  return { ...client, tls: { kind: 'mtls', serverName: name, serverId: name } };
}

/**
 * The proxy dials a loopback control plane in plaintext, so to exercise TLS on 127.0.0.1 the
 * config's destination and policy clients are switched to mTLS (what a non-loopback ADDR gives),
 * to be used with `plaintextOnLoopback: false`.
 */
export function withControlPlaneTls(config: Config, cp: DevControlPlane): Config {
  const c = config.controlPlane;
  return { ...config, controlPlane: { ...c, destination: mtls(c.destination, cp.names.destination), policy: mtls(c.policy, cp.names.policy) } };
}

/** The proxy's own identity source for `config` (SPIRE or Linkerd mode), closed at teardown. */
/** `tlsName`: dial the identity service over TLS expecting that identity (even on loopback). */
export function proxyIdentity(t: Test, config: Config, opts: { tlsName?: string; logger?: Logger } = {}): IdentitySource {
  const id = config.identity;
  const common = { serverId: id.serverId.value, serverName: id.serverName, trustAnchorsPem: id.trustAnchorsPem, logger: opts.logger ?? silentLogger, registry: new Registry() };
  const mode = id.mode;
  const source = mode.kind === 'spire'
    ? startSpireIdentity({ ...common, socketPath: mode.workloadApiAddress, backoff: mode.backoff })
    : startLinkerdIdentity({
        ...common,
        svcAddr: mode.svc.addr,
        svcTls: opts.tlsName ? { kind: 'mtls', serverName: opts.tlsName, serverId: opts.tlsName } : mode.svc.tls,
        dir: mode.dir,
        tokenFile: mode.tokenFile,
        minRefreshMs: 100,
        maxRefreshMs: mode.maxRefreshMs,
        plaintextOnLoopback: opts.tlsName === undefined,
      });
  t.teardown(() => source.close());
  return source;
}

export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

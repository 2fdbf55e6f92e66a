// The dev control plane: CA, snapshot, gRPC servers, Workload APIs and manifest watching, started and stopped as one.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { formatSocketAddr } from '../config/addrs.js';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { ProxyError, messageOf } from '../core/errors.js';
import { silentLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import { DevCa } from './ca/dev-ca.js';
import { loadOrCreateTrustAnchor, trustAnchorFromFiles, trustAnchorFromPem } from './ca/trust-anchor.js';
import type { TrustAnchor, TrustAnchorSource } from './ca/trust-anchor.js';
import { SERVICES, startServers } from './control-plane-servers.js';
import type { ControlPlaneService } from './control-plane-servers.js';
import { ensureIdentityDocs } from './identity/pod-identity-docs.js';
import { TokenStore } from './identity/tokens.js';
import type { MeshSnapshot } from './model/types.js';
import { proxyEnvFor } from './proxy-env.js';
import { findWorkload } from './workload-lookup.js';
import { watchManifests } from './snapshot/manifest-watcher.js';
import { SnapshotHolder } from './snapshot/snapshot-holder.js';
import type { SnapshotLoader } from './snapshot/snapshot-holder.js';
import { SvidPool } from './workload-api/svid-pool.js';
import { WorkloadApiServer } from './workload-api/workload-api-server.js';

export interface DevControlPlaneOptions {
  /** Manifest files and directories. */
  readonly manifests: readonly string[];
  /** Trust anchor (if generated), tokens and pod identity keys; default: a temporary dir removed by close(). */
  readonly stateDir?: string;
  /** Default: `<stateDir>/ca.crt` + `ca.key`, generated on first use. */
  readonly trustAnchor?: TrustAnchorSource | { readonly certFile: string; readonly keyFile: string };
  /** `host:port` each (port 0 = any free port). */
  readonly listen: { readonly destination: string; readonly policy: string; readonly identity: string };
  /** true: plaintext everywhere; false: TLS everywhere; default: plaintext exactly on loopback addresses. */
  readonly plaintext?: boolean;
  /** SPIFFE Workload API sockets, each serving one ExternalWorkload's identity (`ns/name`). */
  readonly workloadApis?: readonly { readonly socket: string; readonly externalWorkload: string }[];
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** The host proxies dial when a server listens on a wildcard address (default: the first non-internal IPv4). */
  readonly advertiseHost?: string;
  /** DESTINATION_CONTEXT's nodeName (default: this machine's hostname). */
  readonly nodeName?: string;
  /** Watch the manifests and reload on change (default true). */
  readonly watch?: boolean;
  readonly watchDebounceMs?: number;
  /** Describe every meshed endpoint for a mesh without traffic redirection (MeshSettings.directEndpoints); default false. */
  readonly directEndpoints?: boolean;
}

export interface DevControlPlane {
  /** The bound `host:port` of each server (actual ports when 0 was asked for). */
  readonly addrs: Readonly<Record<ControlPlaneService, string>>;
  /** Which servers speak TLS (the others are plaintext). */
  readonly tls: Readonly<Record<ControlPlaneService, boolean>>;
  /** The DNS-like identity each server's certificate names (the proxy's `*_SVC_NAME`). */
  readonly names: Readonly<Record<ControlPlaneService, string>>;
  readonly trustAnchorPem: string;
  readonly stateDir: string;
  snapshot(): MeshSnapshot;
  /** Rebuilds the snapshot from the manifests now and pushes changed answers to every open watch. */
  reload(): Promise<void>;
  /**
   * Every LINKERD2_PROXY_* variable the proxy of `ns/name` (a Pod or ExternalWorkload, or the only
   * Pod of Deployment `name`) needs; `overrides` win.
   */
  proxyEnv(workload: string, overrides?: Readonly<Record<string, string>>): Record<string, string>;
  /** The token file of ServiceAccount `ns/sa` (created if needed). */
  tokenFile(ns: string, sa: string): string;
  close(): Promise<void>;
}

function firstExternalIpv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

async function resolveAnchor(opts: DevControlPlaneOptions, stateDir: string, nowMs: number, logger: Logger): Promise<TrustAnchor> {
  const t = opts.trustAnchor;
  if (t === undefined) {
    const { anchor, created } = await loadOrCreateTrustAnchor(stateDir, nowMs);
    if (created) logger.info(`generated a trust anchor in ${stateDir}`);
    return anchor;
  }
  return 'certPem' in t ? trustAnchorFromPem(t, nowMs) : trustAnchorFromFiles(t.certFile, t.keyFile, nowMs);
}

/** Starts everything; `load` turns the manifests into a snapshot. */
export async function startWithLoader(opts: DevControlPlaneOptions, load: SnapshotLoader): Promise<DevControlPlane> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const ownStateDir = opts.stateDir === undefined;
  const stateDir = path.resolve(opts.stateDir ?? mkdtempSync(path.join(tmpdir(), 'l5dts-devmesh-')));
  const cleanups: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  if (ownStateDir) cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  try {
    const ca = await DevCa.create(await resolveAnchor(opts, stateDir, clock.now(), logger), clock.now());
    const holder = new SnapshotHolder(load, opts.manifests, logger.child('manifests'));
    const tokens = new TokenStore(path.join(stateDir, 'tokens'), () => holder.current().settings);
    const identityDir = (ns: string, pod: string): string => path.join(stateDir, 'identity', ns, pod);

    const prepare = async (s: MeshSnapshot): Promise<void> => {
      for (const w of s.workloads) {
        if (w.kind !== 'pod') continue;
        try {
          tokens.ensure(w.namespace, w.serviceAccount ?? 'default');
          if (await ensureIdentityDocs(identityDir(w.namespace, w.name), w.identity)) logger.debug('wrote identity key and CSR', { pod: `${w.namespace}/${w.name}` });
        } catch (err) {
          logger.error(`cannot prepare the identity of Pod ${w.namespace}/${w.name}`, { error: messageOf(err) });
        }
      }
    };
    await prepare(holder.current());

    const servers = await startServers({ listen: opts.listen, ...(opts.plaintext === undefined ? {} : { plaintext: opts.plaintext }), ca, snapshots: holder, tokens, clock, logger });
    cleanups.push(() => servers.close());

    const svids = new SvidPool(ca, clock, logger.child('workload-api'));
    cleanups.push(() => svids.close());
    const sockets = new Map<string, string>();
    for (const w of opts.workloadApis ?? []) {
      if (!/^[^/]+\/[^/]+$/.test(w.externalWorkload)) throw new ProxyError(`workload API for '${w.externalWorkload}': expected namespace/name`, 'devmesh_workload_api');
      const api = await WorkloadApiServer.start({ socketPath: w.socket, externalWorkload: w.externalWorkload, anchorDer: ca.anchor.certDer, snapshots: holder, svids, logger: logger.child('workload-api') });
      cleanups.push(() => api.close());
      sockets.set(w.externalWorkload, path.resolve(w.socket));
      logger.info(`SPIFFE Workload API for ExternalWorkload ${w.externalWorkload} on ${w.socket}`);
    }

    let queue: Promise<void> = Promise.resolve();
    const reload = (): Promise<void> => {
      const run = queue.then(async () => {
        let next: MeshSnapshot;
        try {
          next = holder.build();
        } catch (err) {
          logger.error('could not rebuild the mesh from the manifests; keeping the previous state', { error: messageOf(err) });
          return;
        }
        await prepare(next);
        holder.publish(next);
        logger.info('manifests reloaded', { problems: next.problems.length, workloads: next.workloads.length });
      });
      queue = run.catch(() => undefined);
      return run;
    };
    if (opts.watch ?? true) {
      const watcher = watchManifests(opts.manifests, () => void reload(), { clock, logger, ...(opts.watchDebounceMs === undefined ? {} : { debounceMs: opts.watchDebounceMs }) });
      cleanups.push(() => watcher.close());
    }

    const listeners = servers.listeners;
    const advertised = (s: ControlPlaneService): string => {
      const { host, port } = listeners[s].addr;
      const wildcard = host === '0.0.0.0' || host === '::';
      return formatSocketAddr({ host: wildcard ? (opts.advertiseHost ?? firstExternalIpv4() ?? hostname()) : host, port });
    };
    const envContext = () => ({
      trustAnchorPem: ca.trustAnchorPem,
      settings: holder.current().settings,
      destination: { addr: advertised('destination'), name: servers.names.destination },
      policy: { addr: advertised('policy'), name: servers.names.policy },
      identity: { addr: advertised('identity'), name: servers.names.identity },
      nodeName: opts.nodeName ?? hostname(),
      tokenFile: (ns: string, sa: string) => tokens.ensure(ns, sa),
      identityDir,
      workloadApiSocket: (ns: string, name: string) => sockets.get(`${ns}/${name}`),
    });

    let closing: Promise<void> | undefined;
    return {
      addrs: Object.fromEntries(SERVICES.map((s) => [s, formatSocketAddr(listeners[s].addr)])) as Record<ControlPlaneService, string>,
      tls: Object.fromEntries(SERVICES.map((s) => [s, listeners[s].tls])) as Record<ControlPlaneService, boolean>,
      names: servers.names,
      trustAnchorPem: ca.trustAnchorPem,
      stateDir,
      snapshot: () => holder.current(),
      reload,
      proxyEnv: (workload, overrides = {}) => {
        const w = findWorkload(holder.current(), workload);
        if (w === undefined) throw new ProxyError(`no Pod or ExternalWorkload ${workload} in the manifests`, 'devmesh_unknown_workload');
        return { ...proxyEnvFor(w, envContext()), ...overrides };
      },
      tokenFile: (ns, sa) => tokens.ensure(ns, sa),
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

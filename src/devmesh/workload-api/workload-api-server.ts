// A SPIFFE Workload API on a unix socket for one ExternalWorkload, like a SPIRE agent with its registration entry.
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ProxyError, errnoOf, messageOf } from '../../core/errors.js';
import type { Logger } from '../../log/logger.js';
import type { KeyedCertificate } from '../ca/dev-ca.js';
import type { RotatingCertificate } from '../ca/rotating.js';
import { OpenCalls } from '../grpc/open-calls.js';
import { serviceDefinition } from '../grpc/service-definition.js';
import { endWithStatus } from '../grpc/status.js';
import type { MeshSnapshot, Wire } from '../model/types.js';
import type { SnapshotHolder } from '../snapshot/snapshot-holder.js';
import type { SvidPool } from './svid-pool.js';

/** The header every Workload API call must carry (value exactly `true`). */
export const WORKLOAD_API_HEADER = 'workload.spiffe.io';

/** Why a call's metadata is refused (InvalidArgument, as SPIRE's agent answers), or undefined when fine. */
export function workloadHeaderProblem(metadata: grpc.Metadata): string | undefined {
  const values = metadata.get(WORKLOAD_API_HEADER);
  if (values.length === 1 && values[0] === 'true') return undefined;
  return 'security header missing from request';
}

export interface WorkloadApiOptions {
  readonly socketPath: string;
  /** `namespace/name` of the ExternalWorkload whose meshTLS.identity this socket hands out. */
  readonly externalWorkload: string;
  readonly anchorDer: Buffer;
  readonly snapshots: SnapshotHolder;
  readonly svids: SvidPool;
  readonly logger: Logger;
}

/** The EW's SPIFFE id in `snapshot`, or why there is none. */
export function spiffeIdOf(snapshot: MeshSnapshot, externalWorkload: string): { id: string } | { problem: string } {
  const [ns, name] = externalWorkload.split('/');
  const w = snapshot.workloads.find((x) => x.kind === 'external-workload' && x.namespace === ns && x.name === name);
  if (w === undefined) return { problem: `no identity issued: ExternalWorkload ${externalWorkload} is not in the manifests` };
  if (!/^spiffe:\/\/[^/]+/.test(w.identity)) return { problem: `no identity issued: ExternalWorkload ${externalWorkload} has meshTLS.identity '${w.identity}', not a spiffe:// id` };
  return { id: w.identity };
}

/** `spiffe://root.linkerd.cluster.local` for `spiffe://root.linkerd.cluster.local/external-workload`. */
function trustDomainOf(spiffeId: string): string {
  return `spiffe://${new URL(spiffeId).host}`;
}

type Call = grpc.ServerWritableStream<Wire, Wire>;

export class WorkloadApiServer {
  private readonly calls = new OpenCalls();
  private closing: Promise<void> | undefined;

  private constructor(private readonly server: grpc.Server, private readonly opts: WorkloadApiOptions) {}

  static async start(opts: WorkloadApiOptions): Promise<WorkloadApiServer> {
    const server = new grpc.Server();
    const api = new WorkloadApiServer(server, opts);
    server.addService(serviceDefinition('SpiffeWorkloadAPI'), {
      FetchX509SVID: (call: Call) => api.serve(call, (id, svid) => api.svidResponse(id, svid.current())),
      FetchX509Bundles: (call: Call) => api.serve(call, (id) => ({ bundles: { [trustDomainOf(id)]: opts.anchorDer } })),
    });
    removeStaleSocket(opts.socketPath);
    mkdirSync(path.dirname(opts.socketPath), { recursive: true });
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix://${path.resolve(opts.socketPath)}`, grpc.ServerCredentials.createInsecure(), (err) => {
        if (err) reject(new ProxyError(`cannot listen on ${opts.socketPath}: ${err.message}`, 'devmesh_listen', 'internal', { cause: err }));
        else resolve();
      });
    });
    return api;
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.calls.endAll('workload API shutting down');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 500);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    removeStaleSocket(this.opts.socketPath);
  }

  /**
   * A stream for the EW's current identity: the first message as soon as the SVID exists, then one
   * per rotation and per identity change; the EW disappearing ends it PERMISSION_DENIED.
   */
  private serve(call: Call, message: (id: string, svid: RotatingCertificate<KeyedCertificate>) => Wire): void {
    const problem = workloadHeaderProblem(call.metadata);
    if (problem !== undefined) {
      endWithStatus(call, grpc.status.INVALID_ARGUMENT, problem);
      return;
    }
    const { snapshots, svids, externalWorkload, logger } = this.opts;
    let current: { id: string; stopRotation: () => void } | undefined;
    let ended = false;
    let unsubscribe = (): void => undefined;
    const stopAll = (): void => {
      ended = true;
      current?.stopRotation();
      unsubscribe();
    };
    const follow = (snapshot: MeshSnapshot): void => {
      if (ended) return;
      const who = spiffeIdOf(snapshot, externalWorkload);
      if ('problem' in who) {
        this.calls.end(call, grpc.status.PERMISSION_DENIED, who.problem);
        return;
      }
      if (current?.id === who.id) return;
      current?.stopRotation();
      const id = who.id;
      const entry = { id, stopRotation: (): void => undefined };
      current = entry;
      svids.get(id).then((svid) => {
        if (ended || current !== entry) return;
        call.write(message(id, svid));
        entry.stopRotation = svid.onRotate(() => {
          if (!ended) call.write(message(id, svid));
        });
      }, (err: unknown) => {
        logger.error('could not mint an SVID', { spiffe_id: id, error: messageOf(err) });
        this.calls.end(call, grpc.status.UNAVAILABLE, `could not mint an SVID for ${id}: ${messageOf(err)}`);
      });
    };
    this.calls.add(call, stopAll);
    unsubscribe = snapshots.subscribe(follow);
    follow(snapshots.current());
  }

  private svidResponse(id: string, svid: KeyedCertificate): Wire {
    return {
      svids: [{ spiffeId: id, x509Svid: Buffer.concat(svid.chainDer), x509SvidKey: svid.keyDer, bundle: this.opts.anchorDer }],
    };
  }
}

/** A socket file left by an earlier run would make bind fail; anything else at that path is not ours to remove. */
function removeStaleSocket(socketPath: string): void {
  try {
    if (lstatSync(socketPath).isSocket()) rmSync(socketPath);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
  }
}

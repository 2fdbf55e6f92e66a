// SPIRE mode: streams X.509-SVIDs from the Workload API over a unix socket into the credential store.
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { ExpBackoff } from '../core/backoff.js';
import type { BackoffConfig } from '../core/backoff.js';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { protoType } from '../proto/load.js';
import type { IdentitySource } from './types.js';
import { CredentialStore } from './credential-store.js';
import type { CandidateCredentials } from './credential-store.js';
import { splitDerCertificates } from './x509.js';

export const FETCH_X509_SVID_PATH = '/SpiffeWorkloadAPI/FetchX509SVID';
/** Every Workload API call must carry this header, or the agent answers InvalidArgument. */
export const WORKLOAD_HEADER = 'workload.spiffe.io';

export const DEFAULT_SPIRE_BACKOFF: BackoffConfig = { minMs: 100, maxMs: 1000, jitter: 0.1 };

export interface SpireIdentityOptions {
  /** `unix:///path`, `unix:/path` or a plain path to the agent's socket. */
  readonly socketPath: string;
  /** Our spiffe:// id; the SVID with exactly this id is installed. */
  readonly serverId: string;
  readonly serverName: string;
  readonly trustAnchorsPem: string;
  readonly backoff?: BackoffConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock?: Clock;
}

/** One decoded X509SVID (protobufjs camelCase); absent bytes fields decode as empty arrays. */
export interface WireSvid {
  spiffeId: string;
  x509Svid: Uint8Array | number[];
  x509SvidKey: Uint8Array | number[];
}

interface WireSvidResponse {
  svids: WireSvid[];
}

/** gRPC target for the agent socket. */
export function spireTarget(socketPath: string): string {
  const p = socketPath.replace(/^unix:(\/\/)?/, '');
  return p.startsWith('/') ? `unix://${p}` : `unix:${p}`;
}

/** Starts watching the Workload API; the returned source is ready after the first good SVID. */
export function startSpireIdentity(opts: SpireIdentityOptions): IdentitySource {
  const store = new CredentialStore({
    serverId: opts.serverId,
    serverName: opts.serverName,
    trustAnchorsPem: opts.trustAnchorsPem,
    logger: opts.logger,
    registry: opts.registry,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const watcher = new SvidWatcher(opts, store);
  store.onClose(() => watcher.stop());
  watcher.connect();
  return store;
}

class SvidWatcher {
  private readonly client: grpc.Client;
  private readonly backoff: ExpBackoff;
  private readonly clock: Clock;
  private readonly log: Logger;
  private call: grpc.ClientReadableStream<WireSvidResponse> | undefined;
  private cancelRetry: (() => void) | undefined;
  private stopped = false;
  private readonly requestBytes = Buffer.from(protoType('X509SVIDRequest').encode({}).finish());

  constructor(private readonly opts: SpireIdentityOptions, private readonly store: CredentialStore) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new ExpBackoff(opts.backoff ?? DEFAULT_SPIRE_BACKOFF);
    this.log = opts.logger;
    this.client = new grpc.Client(spireTarget(opts.socketPath), grpc.credentials.createInsecure());
  }

  connect(): void {
    if (this.stopped) return;
    const metadata = new grpc.Metadata();
    metadata.set(WORKLOAD_HEADER, 'true');
    const responseType = protoType('X509SVIDResponse');
    const call = this.client.makeServerStreamRequest<Buffer, WireSvidResponse>(
      FETCH_X509_SVID_PATH,
      () => this.requestBytes,
      (bytes) => responseType.toObject(responseType.decode(bytes), { defaults: true, arrays: true }) as unknown as WireSvidResponse,
      Buffer.alloc(0),
      metadata,
    );
    this.call = call;
    call.on('data', (msg: WireSvidResponse) => {
      this.backoff.reset();
      void this.onMessage(msg);
    });
    // Status carries the outcome; an 'error' listener only keeps the emitter from throwing.
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => this.onStatus(call, status));
  }

  private onStatus(call: grpc.ClientReadableStream<WireSvidResponse>, status: grpc.StatusObject): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.stopped) return;
    if (status.code === grpc.status.INVALID_ARGUMENT) {
      this.log.error('SPIRE Workload API rejected the request as invalid; not retrying', { details: status.details });
      this.store.giveUp(`SPIRE Workload API rejected the request: ${status.details}`);
      return;
    }
    const delay = this.backoff.next();
    if (status.code === grpc.status.OK) {
      this.log.info('SPIRE Workload API stream ended; reconnecting', { delay_ms: Math.round(delay) });
    } else {
      this.log.warn('SPIRE Workload API stream failed; reconnecting', {
        code: grpc.status[status.code],
        details: status.details,
        delay_ms: Math.round(delay),
      });
    }
    this.cancelRetry = this.clock.setTimer(delay, () => {
      this.cancelRetry = undefined;
      this.connect();
    });
  }

  private async onMessage(msg: WireSvidResponse): Promise<void> {
    const { serverId } = this.opts;
    let match: CandidateCredentials | undefined;
    const offered: string[] = [];
    for (const svid of msg.svids) {
      offered.push(svid.spiffeId);
      let parsed: CandidateCredentials;
      try {
        parsed = parseSvid(svid);
      } catch (err) {
        this.log.error('Skipping an SVID that could not be parsed', { spiffe_id: svid.spiffeId, error: messageOf(err) });
        continue;
      }
      if (match === undefined && svid.spiffeId === serverId) match = parsed;
    }
    if (match === undefined) {
      this.store.recordFailure();
      this.log.error('no matching SVID found', { server_id: serverId, offered: offered.join(', ') || 'none' });
      return;
    }
    await this.store.install(match);
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.client.close();
  }
}

/** An SVID as the store wants it; throws when the id, chain or key is unusable. */
export function parseSvid(svid: WireSvid): CandidateCredentials {
  if (!/^spiffe:\/\/[^/]+/i.test(svid.spiffeId)) throw new Error(`'${svid.spiffeId}' is not a spiffe:// id`);
  if (svid.x509SvidKey.length === 0) throw new Error('the SVID has no private key');
  if (svid.x509Svid.length === 0) throw new Error('the SVID has no certificates');
  return { chainDer: splitDerCertificates(Buffer.from(svid.x509Svid)), keyDer: Buffer.from(svid.x509SvidKey) };
}

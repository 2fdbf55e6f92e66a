// Starts the destination, policy and identity gRPC servers, each plaintext or TLS with its own rotating certificate.
import * as grpc from '@grpc/grpc-js';
import { formatSocketAddr, isLoopbackHost } from '../config/addrs.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../log/logger.js';
import type { DevCa, KeyedCertificate } from './ca/dev-ca.js';
import { RotatingCertificate } from './ca/rotating.js';
import { listenPlaintext, listenTls, parseListenAddr } from './grpc/listener.js';
import type { GrpcListener, HostPort } from './grpc/listener.js';
import { OpenCalls } from './grpc/open-calls.js';
import { addIdentityService } from './identity/certify-service.js';
import type { TokenStore } from './identity/tokens.js';
import type { MeshSettings } from './model/types.js';
import { addDestinationService } from './servers/destination-service.js';
import { addPolicyServices } from './servers/policy-service.js';
import type { SnapshotHolder } from './snapshot/snapshot-holder.js';

export type ControlPlaneService = 'destination' | 'policy' | 'identity';
export const SERVICES: readonly ControlPlaneService[] = ['destination', 'policy', 'identity'];

/** The DNS-like identities the proxy expects: destination and policy share the destination pod's. */
export function serviceIdentities(s: Pick<MeshSettings, 'controlPlaneNamespace' | 'identityTrustDomain'>): Record<ControlPlaneService, string> {
  const sa = (name: string): string => `${name}.${s.controlPlaneNamespace}.serviceaccount.identity.${s.controlPlaneNamespace}.${s.identityTrustDomain}`;
  return { destination: sa('linkerd-destination'), policy: sa('linkerd-destination'), identity: sa('linkerd-identity') };
}

export interface ServersOptions {
  readonly listen: Readonly<Record<ControlPlaneService, string>>;
  /** Forces plaintext (true) or TLS (false) everywhere; by default loopback addresses are plaintext, as the proxy dials them. */
  readonly plaintext?: boolean;
  readonly ca: DevCa;
  readonly snapshots: SnapshotHolder;
  readonly tokens: TokenStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface RunningServers {
  readonly listeners: Readonly<Record<ControlPlaneService, GrpcListener>>;
  readonly names: Readonly<Record<ControlPlaneService, string>>;
  close(): Promise<void>;
}

export async function startServers(opts: ServersOptions): Promise<RunningServers> {
  const names = serviceIdentities(opts.snapshots.current().settings);
  const addrs = Object.fromEntries(SERVICES.map((s) => [s, parseListenAddr(opts.listen[s], `--listen-${s}`)])) as Record<ControlPlaneService, HostPort>;
  const plaintext = (s: ControlPlaneService): boolean => opts.plaintext ?? isLoopbackHost(addrs[s].host);
  const certs = new Map<string, RotatingCertificate<KeyedCertificate>>();
  const certFor = async (name: string): Promise<RotatingCertificate<KeyedCertificate>> => {
    let cert = certs.get(name);
    if (!cert) {
      cert = await RotatingCertificate.start(() => opts.ca.serverCertificate(name, opts.clock.now()), opts.clock, opts.logger, name);
      certs.set(name, cert);
    }
    return cert;
  };

  const started: Partial<Record<ControlPlaneService, GrpcListener>> = {};
  const closeAll = async (): Promise<void> => {
    await Promise.all(Object.values(started).map((l) => l.close()));
    for (const c of certs.values()) c.stop();
  };
  try {
    for (const service of SERVICES) {
      const server = new grpc.Server();
      const calls = new OpenCalls();
      const log = opts.logger.child(service);
      if (service === 'destination') addDestinationService(server, opts.snapshots, calls, log);
      else if (service === 'policy') addPolicyServices(server, opts.snapshots, calls, log);
      else addIdentityService(server, { ca: opts.ca, tokens: opts.tokens, clock: opts.clock, logger: log });
      const beforeClose = (): void => calls.endAll('control plane shutting down');
      const listener = plaintext(service)
        ? await listenPlaintext(server, addrs[service], beforeClose)
        : await listenTls(server, addrs[service], await certFor(names[service]), opts.ca.trustAnchorPem, beforeClose);
      started[service] = listener;
      log.info(`${service} serving on ${formatSocketAddr(listener.addr)} (${listener.tls ? `TLS as ${names[service]}` : 'plaintext'})`);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { listeners: started as Record<ControlPlaneService, GrpcListener>, names, close: closeAll };
}

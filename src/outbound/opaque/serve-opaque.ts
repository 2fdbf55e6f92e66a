// Outbound opaque TCP: the policy's opaque route picks a backend, its dispatcher an endpoint; bytes are spliced to it.
import type net from 'node:net';
import { Endpoint } from '../../balance/index.js';
import { ExpBackoff } from '../../core/backoff.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { Backend, OpaqueRoute, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import { formatAddr } from '../../transport/addr.js';
import { abortSocket, forwardDuplex } from '../../transport/duplex-forward.js';
import { ConnectError } from '../../transport/connect.js';
import type { EndpointConnection, EndpointConnector, OutboundRuntime, OutboundTarget } from '../context.js';
import { connectMetricsFor } from '../endpoint/connect-metrics.js';
import { LoopbackRefusedError } from '../endpoint/errors.js';
import { chooseBackend } from '../target/distribution.js';

export interface ServeOpaqueOptions {
  readonly clock?: Clock;
  /** Distribution draws and backoff jitter (tests). */
  readonly random?: () => number;
  /** The route under a policy; default: its opaque route (TLS passthrough passes an SNI-based choice). */
  readonly routeOf?: (policy: OutboundPolicy) => OpaqueRoute | undefined;
}

/**
 * Serves one outbound connection as opaque TCP and resolves when it is over (never rejects).
 *
 * The route is the policy's opaque route (Detect or Opaque protocol; a synthesized forward
 * policy has one to its single backend). Its `forbidden`/`invalid` filters, an empty
 * distribution, a `fail` backend, fail-fast and load shedding each close the client with a
 * logged reason. TCP-level connect failures are retried, re-picking the endpoint, with the
 * connect backoff for as long as the backend's failfast timeout allows — a connection waits
 * there as it would in upstream's queue; TLS failures (e.g. an identity mismatch) are not.
 *
 * Endpoint load is connection-level peak-EWMA, as upstream's TCP balancer measures it: the
 * request starts at the pick and completes when the connection (TCP, TLS, header) is
 * established or has failed, so slow-to-accept endpoints lose P2C comparisons while the bytes
 * of long-lived streams do not skew anything.
 */
export async function serveOutboundOpaque(
  client: net.Socket,
  target: OutboundTarget,
  connector: EndpointConnector,
  rt: OutboundRuntime,
  opts: ServeOpaqueOptions = {},
): Promise<void> {
  const release = target.hold();
  try {
    await serve(client, target, connector, rt, opts);
  } finally {
    release();
  }
}

async function serve(client: net.Socket, target: OutboundTarget, connector: EndpointConnector, rt: OutboundRuntime, opts: ServeOpaqueOptions): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const signal = closedSignal(client);
  const refuse = (reason: string): void => {
    if (!signal.aborted) rt.log.info('Connection closed', { error: reason, client: client.remoteAddress, target: formatAddr(target.origDst) });
    abortSocket(client);
  };

  let policy: OutboundPolicy;
  try {
    policy = await target.ready();
  } catch (err) {
    refuse(messageOf(err));
    return;
  }
  const backoff = new ExpBackoff(rt.config.connect.backoff, random);
  const started = clock.monotonic();
  for (;;) {
    // Read per attempt, so a policy update between connect retries applies.
    const current = target.current() ?? policy;
    const route = (opts.routeOf ?? opaqueRoute)(current);
    if (route === undefined) return refuse(`no opaque route for ${current.protocol.kind} traffic`);
    const filter = route.rule.filters[0];
    if (filter !== undefined) return refuse(filter.kind === 'forbidden' ? 'opaque route forbids the connection' : filter.message);
    const chosen = chooseBackend(route.rule.distribution, (b) => target.backend(b), random);
    if (chosen === undefined) return refuse('opaque route has no backends');
    const backend = chosen.routeBackend.backend;
    let ep: Endpoint<DestinationEndpoint>;
    try {
      const picked = chosen.dispatcher.pick(signal);
      ep = picked instanceof Endpoint ? picked : await picked;
    } catch (err) {
      return refuse(messageOf(err));
    }
    if (signal.aborted) return;
    const load = ep.start();
    let conn: EndpointConnection;
    try {
      conn = await connector.connect(ep.metadata, { kind: 'opaque', origPort: target.origDst.port }, signal);
    } catch (err) {
      load.complete();
      const waitMs = retryable(err) ? backend.queue.failfastTimeoutMs - (clock.monotonic() - started) : 0;
      if (waitMs <= 0 || signal.aborted) return refuse(describe(err));
      rt.log.debug('connect failed; retrying', { error: describe(err), endpoint: ep.addr });
      await clock.sleep(Math.min(backoff.next(), waitMs), signal);
      if (signal.aborted) return;
      if (clock.monotonic() - started >= backend.queue.failfastTimeoutMs) return refuse(describe(err));
      continue;
    }
    load.complete();
    await splice(client, conn, ep.metadata, backend, rt);
    return;
  }
}

async function splice(client: net.Socket, conn: EndpointConnection, ep: DestinationEndpoint, backend: Backend, rt: OutboundRuntime): Promise<void> {
  const authority = backend.dispatch.kind === 'balancer' ? backend.dispatch.path : undefined;
  connectMetricsFor(rt.metrics).handle(ep, conn.tls, authority).track(conn.tcp);
  rt.track(conn.tcp);
  const result = await forwardDuplex(client, conn.socket);
  if (result.error !== undefined) {
    rt.log.info('Connection closed', {
      error: `${result.errorSide === 'a' ? 'client' : 'server'}: ${messageOf(result.error)}`,
      client: client.remoteAddress,
      endpoint: ep.key,
    });
  }
}

/** The route opaque connections take under `policy`, if its protocol has one. */
export function opaqueRoute(policy: OutboundPolicy): OpaqueRoute | undefined {
  const p = policy.protocol;
  switch (p.kind) {
    case 'detect':
      return p.opaque.route;
    case 'opaque':
      return p.route;
    case 'http1':
    case 'http2':
    case 'grpc':
    case 'tls':
      return undefined;
  }
}

/** A TCP-level failure worth another attempt; refusals by policy, loopback and TLS failures are final. */
function retryable(err: unknown): boolean {
  return err instanceof ConnectError && !(err instanceof LoopbackRefusedError) && err.code !== 'connect-aborted';
}

function describe(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  return err instanceof ConnectError && cause !== undefined ? `${messageOf(err)}: ${messageOf(cause)}` : messageOf(err);
}

/** Aborts when the client goes away, so nothing is picked or dialled for nobody. */
function closedSignal(socket: net.Socket): AbortSignal {
  const ac = new AbortController();
  if (socket.destroyed) ac.abort();
  else socket.once('close', () => ac.abort());
  return ac.signal;
}

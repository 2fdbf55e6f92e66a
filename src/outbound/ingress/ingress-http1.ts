// One app connection to an ingress-mode outbound proxy speaking HTTP/1: per request, the
// l5d-dst-override header (or the original destination) picks the target, and that target's
// own OutboundHttp1Connection for this app connection serves the request.
import type net from 'node:net';
import { messageOf } from '../../core/errors.js';
import { FALLBACK_META } from '../../discovery/outbound-fallback.js';
import type { OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import type { Http1Handler, Http1Outcome, Http1Session, RequestHead, RouteDecision } from '../../http/h1/index.js';
import type { Logger } from '../../log/logger.js';
import { formatAddr } from '../../transport/addr.js';
import type { OutboundTarget } from '../context.js';
import { OutboundHttp1Connection, type ConnectionDeps } from '../http/connection.js';
import { DiscoveryRequiredError } from '../target/errors.js';
import type { TargetName } from '../target/outbound-target.js';
import { DST_OVERRIDE_HEADER, defaultAuthority, parseDstOverride } from './dst-override.js';
import { InvalidOverrideHeaderError, PolicyRequiredError } from './errors.js';
import { stripOverride } from './strip-override.js';

export interface IngressHttp1Deps {
  readonly connection: ConnectionDeps;
  /** The shared target for a name (OutboundTargets.getNamed). */
  readonly named: (name: TargetName) => OutboundTarget;
  readonly log: Logger;
}

/** Targets one app connection keeps (and holds) at once; the least recently added beyond it is let go. */
export const TARGETS_PER_CONNECTION = 64;

interface Selected {
  readonly id: string;
  readonly named: boolean;
  readonly target: OutboundTarget;
  readonly conn: OutboundHttp1Connection;
  readonly release: () => void;
}

/** The answer to a request whose connection was closed instead (what the engine sees is the close). */
const CLOSED: RouteDecision = Object.freeze({ kind: 'respond', response: Object.freeze({ status: 502, message: 'connection closed', close: true }) });

export class IngressHttp1Connection implements Http1Handler {
  private readonly targets = new Map<string, Selected>();
  /** The current request's target; undefined when its override header was invalid. */
  private selected: Selected | undefined;
  private closed = false;

  constructor(
    private readonly deps: IngressHttp1Deps,
    /** The connection's original destination (held by the caller for the connection's life). */
    private readonly orig: OutboundTarget,
    private readonly client: net.Socket,
  ) {}

  /** The client connection closed: waiting requests give up and every target is released. */
  readonly clientClosed = (): void => {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.targets.values()) {
      s.conn.clientClosed();
      s.release();
    }
    this.targets.clear();
    this.selected = undefined;
  };

  onRequestStart(req: RequestHead): void {
    const o = req.indexOfHeader(DST_OVERRIDE_HEADER) === -1 ? undefined : parseDstOverride(req.headerValues(DST_OVERRIDE_HEADER)[0]);
    if (o === undefined || o.kind === 'absent') this.selected = this.select(formatAddr(this.orig.origDst), false, () => this.orig);
    else if (o.kind === 'named') this.selected = this.select(o.authority, true, () => this.deps.named(o), defaultAuthority(o.name, o.port));
    else this.selected = undefined;
    this.selected?.conn.onRequestStart(req);
  }

  route(req: RequestHead, session: Http1Session): RouteDecision | Promise<RouteDecision> {
    const s = this.selected;
    if (s === undefined) return this.refuse(session.socket, new InvalidOverrideHeaderError());
    const policy = s.target.current();
    if (policy !== undefined) return this.routeWith(s, policy, req, session);
    return s.target.ready().then(
      (p) => this.routeWith(s, p, req, session),
      (err: unknown) => this.refuse(session.socket, err),
    );
  }

  onResponseHead(req: RequestHead, status: number): void {
    this.selected?.conn.onResponseHead(req, status);
  }

  onRequestEnd(req: RequestHead, status: number, durationMs: number, outcome: Http1Outcome): void {
    this.selected?.conn.onRequestEnd(req, status, durationMs, outcome);
  }

  private routeWith(s: Selected, policy: OutboundPolicy, req: RequestHead, session: Http1Session): RouteDecision | Promise<RouteDecision> {
    const k = policy.protocol.kind;
    if (k === 'opaque' || k === 'tls') return this.refuse(session.socket, s.named ? new DiscoveryRequiredError(s.id) : new PolicyRequiredError(s.id));
    // The policy the proxy made up for an address the controller does not know is no discovery
    // at all: upstream's ingress resolver fails such a request rather than forward it.
    if (!s.named && policy.meta === FALLBACK_META) return this.refuse(session.socket, new PolicyRequiredError(s.id));
    return stripOverride(s.conn.route(req));
  }

  private select(id: string, named: boolean, target: () => OutboundTarget, authority = id): Selected {
    const known = this.targets.get(id);
    if (known !== undefined) return known;
    if (this.targets.size >= TARGETS_PER_CONNECTION) this.evictOldest();
    const t = target();
    const s: Selected = { id, named, target: t, conn: new OutboundHttp1Connection(this.deps.connection, t, authority), release: t.hold() };
    // A connection that closed meanwhile keeps nothing.
    if (this.closed) s.release();
    else this.targets.set(id, s);
    return s;
  }

  private evictOldest(): void {
    for (const [id, s] of this.targets) {
      if (s === this.selected) continue;
      this.targets.delete(id);
      s.conn.clientClosed();
      s.release();
      return;
    }
  }

  /**
   * Upstream's ingress stack has no error responses for these: the failure reaches the HTTP
   * server, which closes the client connection without answering.
   */
  private refuse(socket: net.Socket, err: unknown): Promise<RouteDecision> {
    if (!socket.destroyed) this.deps.log.info('Connection closed', { error: messageOf(err), client: this.client.remoteAddress });
    return new Promise((resolve) => {
      if (socket.closed) return resolve(CLOSED);
      socket.once('close', () => resolve(CLOSED));
      socket.destroy();
    });
  }
}

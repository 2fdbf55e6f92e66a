// One HTTP/2 app connection to an ingress-mode outbound proxy: per stream, the l5d-dst-override
// header (or the original destination) picks the target, as upstream's SelectTarget does for
// every HTTP version; the header is stripped, and a stream that cannot be routed is reset.
import type http2 from 'node:http2';
import { FALLBACK_META } from '../../discovery/outbound-fallback.js';
import type { OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import { formatAddr } from '../../transport/addr.js';
import type { OutboundTarget } from '../context.js';
import type { H2StreamSelector, H2StreamTarget } from '../h2/serve-h2.js';
import { DiscoveryRequiredError } from '../target/errors.js';
import type { TargetName } from '../target/outbound-target.js';
import { DST_OVERRIDE_HEADER, defaultAuthority, parseDstOverride } from './dst-override.js';
import { InvalidOverrideHeaderError, PolicyRequiredError } from './errors.js';
import { TARGETS_PER_CONNECTION } from './ingress-http1.js';

interface Selected extends H2StreamTarget {
  readonly id: string;
  readonly named: boolean;
  readonly release: () => void;
}

type Choice = H2StreamTarget | Error;

export class IngressHttp2Streams implements H2StreamSelector {
  readonly strip = DST_OVERRIDE_HEADER;
  private readonly targets = new Map<string, Selected>();
  private closed = false;

  constructor(
    /** The shared target for a name (OutboundTargets.getNamed). */
    private readonly named: (name: TargetName) => OutboundTarget,
    /** The connection's original destination (held by the caller for the connection's life). */
    private readonly orig: OutboundTarget,
  ) {}

  /** The connection is over: every target it selected is released. */
  readonly clientClosed = (): void => {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.targets.values()) s.release();
    this.targets.clear();
  };

  select(headers: http2.IncomingHttpHeaders): Choice | Promise<Choice> {
    const value = headers[DST_OVERRIDE_HEADER];
    const o = value === undefined ? undefined : parseDstOverride(Array.isArray(value) ? value[0] : value);
    let s: Selected;
    if (o === undefined || o.kind === 'absent') s = this.select1(formatAddr(this.orig.origDst), false, () => this.orig);
    else if (o.kind === 'named') s = this.select1(o.authority, true, () => this.named(o), defaultAuthority(o.name, o.port));
    else return new InvalidOverrideHeaderError();
    const policy = s.target.current();
    if (policy !== undefined) return routable(s, policy);
    return s.target.ready().then(
      (p) => routable(s, p),
      (err: unknown) => (err instanceof Error ? err : new DiscoveryRequiredError(s.id)),
    );
  }

  private select1(id: string, named: boolean, target: () => OutboundTarget, authority = id): Selected {
    const known = this.targets.get(id);
    if (known !== undefined) return known;
    if (this.targets.size >= TARGETS_PER_CONNECTION) this.evictOldest();
    const t = target();
    const s: Selected = { id, named, target: t, authority, release: t.hold() };
    if (this.closed) s.release();
    else this.targets.set(id, s);
    return s;
  }

  /** Streams still served by an evicted target hold it themselves (serve-h2). */
  private evictOldest(): void {
    for (const [id, s] of this.targets) {
      this.targets.delete(id);
      s.release();
      return;
    }
  }
}

/** As the HTTP/1 side: only an HTTP policy routes; an original destination needs a discovered one. */
function routable(s: Selected, policy: OutboundPolicy): Choice {
  const k = policy.protocol.kind;
  if (k === 'opaque' || k === 'tls') return s.named ? new DiscoveryRequiredError(s.id) : new PolicyRequiredError(s.id);
  if (!s.named && policy.meta === FALLBACK_META) return new PolicyRequiredError(s.id);
  return s;
}

// `outbound_http_errors_total{error}` (spec §8.2): outbound HTTP requests the proxy answered itself
// because of an error, by upstream's error kinds.
import { LegacyCounterFamily, type LegacyCounter, type Metrics } from '../../metrics/index.js';

export type OutboundHttpErrorKind = 'i/o' | 'identity required' | 'failfast' | 'response timeout' | 'loadshed' | 'unexpected';

export class OutboundHttpErrors {
  private readonly family: LegacyCounterFamily;
  private readonly byKind = new Map<OutboundHttpErrorKind, LegacyCounter>();

  constructor(metrics: Metrics) {
    this.family = new LegacyCounterFamily({
      name: 'outbound_http_errors_total',
      // Upstream's help text, "inbound" included.
      help: 'The total number of inbound HTTP requests that could not be processed due to a proxy error.',
      retainIdleMs: metrics.retainIdleMs,
    });
    metrics.legacy.register(this.family, { before: metrics.tcp });
  }

  count(kind: OutboundHttpErrorKind): void {
    let c = this.byKind.get(kind);
    if (c === undefined) {
      c = this.family.get(`error="${kind}"`);
      this.byKind.set(kind, c);
    }
    c.inc();
  }
}

const bundles = new WeakMap<Metrics, OutboundHttpErrors>();

/** One per metrics bundle (a legacy family is rendered once per scrape). */
export function outboundHttpErrors(metrics: Metrics): OutboundHttpErrors {
  let e = bundles.get(metrics);
  if (e === undefined) {
    e = new OutboundHttpErrors(metrics);
    bundles.set(metrics, e);
  }
  return e;
}

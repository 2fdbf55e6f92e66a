// One rotating X.509-SVID per SPIFFE id, shared by every Workload API stream that serves that id.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log/logger.js';
import type { DevCa, KeyedCertificate } from '../ca/dev-ca.js';
import { SVID_LIFETIME_MS } from '../ca/dev-ca.js';
import { RotatingCertificate } from '../ca/rotating.js';

export class SvidPool {
  private readonly svids = new Map<string, Promise<RotatingCertificate<KeyedCertificate>>>();
  private closed = false;

  constructor(
    private readonly ca: DevCa,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly lifetimeMs = SVID_LIFETIME_MS,
  ) {}

  /** The SVID for `spiffeId`, minted on first use and renewed halfway through each lifetime. */
  get(spiffeId: string): Promise<RotatingCertificate<KeyedCertificate>> {
    let entry = this.svids.get(spiffeId);
    if (entry === undefined) {
      entry = RotatingCertificate.start(() => this.ca.svid(spiffeId, this.clock.now(), this.lifetimeMs), this.clock, this.logger, `SVID ${spiffeId}`);
      // A failed mint is not cached: the next stream tries again.
      entry.catch(() => this.svids.delete(spiffeId));
      this.svids.set(spiffeId, entry);
      void entry.then((r) => {
        if (this.closed) r.stop();
      }, () => undefined);
    }
    return entry;
  }

  close(): void {
    this.closed = true;
    for (const entry of this.svids.values()) void entry.then((r) => r.stop(), () => undefined);
    this.svids.clear();
  }
}

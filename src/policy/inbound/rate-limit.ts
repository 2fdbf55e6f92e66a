// Enforces a server's HTTP local rate limit (GCRA, burst = one second's worth), with an injectable clock.
import type { Clock } from '../../core/clock.js';
import type { LocalRateLimit } from './types.js';

export type RateLimitScope = 'total' | 'identity' | 'override';

export type RateLimitDecision =
  | { readonly limited: false }
  | {
      readonly limited: true;
      readonly scope: RateLimitScope;
      readonly rps: number;
      /** As the upstream error reads, e.g. `total rate limit exceeded: 10rps`. */
      readonly message: string;
    };

const PASS: RateLimitDecision = Object.freeze({ limited: false });

/**
 * One GCRA cell, like the `governor` crate's `Quota::per_second(rps)`: up to `rps` requests at
 * once, refilled one every 1/rps s. `tat` is the theoretical arrival time in clock ms.
 */
class Cell {
  private tat = Number.NEGATIVE_INFINITY;
  private readonly interval: number;
  private readonly tolerance: number;

  constructor(readonly rps: number) {
    this.interval = 1000 / rps;
    this.tolerance = this.interval * (rps - 1);
  }

  take(now: number): boolean {
    const tat = Math.max(this.tat, now);
    if (tat - now > this.tolerance) return false;
    this.tat = tat + this.interval;
    return true;
  }

  /** True when the cell is back to a full burst (so forgetting it changes nothing). */
  idle(now: number): boolean {
    return this.tat <= now;
  }
}

/** Per-identity cells are pruned of full-burst entries once the map grows past this. */
const PRUNE_AT = 4096;

export interface RateLimiter {
  /**
   * Checks (and consumes) one request. Order as upstream `LocalRateLimit::check`: the total limit,
   * then an override for the client's identity (which replaces the per-identity limit), then the
   * per-identity limit, where clients without an identity share one bucket.
   */
  check(clientId: string | undefined): RateLimitDecision;
}

function limited(scope: RateLimitScope, rps: number): RateLimitDecision {
  const what = scope === 'total' ? 'total' : scope === 'identity' ? 'per-identity' : 'override';
  return { limited: true, scope, rps, message: `${what} rate limit exceeded: ${rps}rps` };
}

export function createRateLimiter(limit: LocalRateLimit | undefined, clock: Clock): RateLimiter {
  if (limit === undefined || (limit.totalRps === undefined && limit.identityRps === undefined && limit.overrides.length === 0)) {
    return { check: () => PASS };
  }
  const total = limit.totalRps === undefined ? undefined : new Cell(limit.totalRps);
  const overrides = new Map<string, Cell>();
  for (const o of limit.overrides) {
    // Identities listed in one override share that override's cell.
    const cell = new Cell(o.rps);
    for (const id of o.identities) overrides.set(id, cell);
  }
  const identityRps = limit.identityRps;
  const perIdentity = new Map<string | undefined, Cell>();

  return {
    check(clientId) {
      const now = clock.monotonic();
      if (total !== undefined && !total.take(now)) return limited('total', total.rps);
      if (clientId !== undefined) {
        const o = overrides.get(clientId);
        if (o !== undefined) return o.take(now) ? PASS : limited('override', o.rps);
      }
      if (identityRps === undefined) return PASS;
      let cell = perIdentity.get(clientId);
      if (cell === undefined) {
        if (perIdentity.size >= PRUNE_AT) {
          for (const [k, c] of perIdentity) if (c.idle(now)) perIdentity.delete(k);
        }
        cell = new Cell(identityRps);
        perIdentity.set(clientId, cell);
      }
      return cell.take(now) ? PASS : limited('identity', identityRps);
    },
  };
}

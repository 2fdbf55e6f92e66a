// Exponential backoff with jitter, as the Rust proxy's exp-backoff crate computes it (pure).

export interface BackoffConfig {
  readonly minMs: number;
  readonly maxMs: number;
  /** Fraction of the base delay added at random, 0 ⇒ none. */
  readonly jitter: number;
}

/**
 * Yields successive delays: min·2^n capped at max, each plus a random jitter
 * of up to `jitter` × the base delay (also capped at max). `random` is injectable for tests.
 */
export class ExpBackoff {
  private attempt = 0;
  constructor(
    private readonly config: BackoffConfig,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const { minMs, maxMs, jitter } = this.config;
    const base = Math.min(maxMs, minMs * 2 ** Math.min(this.attempt, 52));
    this.attempt += 1;
    const extra = jitter > 0 ? base * jitter * this.random() : 0;
    return Math.min(maxMs, base + extra);
  }

  reset(): void {
    this.attempt = 0;
  }
}

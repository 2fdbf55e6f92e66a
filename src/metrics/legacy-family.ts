// Reusable legacy families (counter, gauge, histogram) whose series are bound once per target.
//
// A series is a small object updated with a method call and no label work on the hot path. At
// scrape time each series is compared with what the previous scrape saw; one unchanged for longer
// than the retention period is dropped (after being rendered one last time), like the Rust proxy's
// `retain_since`. Gauges that are non-zero describe live state and are never dropped. A holder that
// keeps updating a dropped series brings it back (or feeds whichever series took its labels).

import type { LegacyReport } from './legacy-registry.js';
import {
  formatBound,
  joinLabels,
  renderLabels,
  writeHelp,
  writeSample,
  type LabelSet,
  type LegacyKind,
} from './legacy-format.js';

/** LINKERD2_PROXY_METRICS_RETAIN_IDLE's default. */
export const DEFAULT_RETAIN_IDLE_MS = 10 * 60_000;

/** Linkerd's `response_latency_ms` bucket bounds (ms); `+Inf` is implied after the last. */
export const RESPONSE_LATENCY_MS_BUCKETS: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000,
  20000, 30000, 40000, 50000,
]);

export interface LegacyFamilyOptions {
  readonly name: string;
  readonly help: string;
  /** Unchanged series older than this are dropped at scrape time. Default 10 minutes. */
  readonly retainIdleMs?: number;
}

interface SeriesOwner {
  reclaim(series: LegacySeries): LegacySeries;
}

export abstract class LegacySeries {
  /** @internal set when the family dropped this series. */
  evicted = false;
  /** @internal the idle version seen at the last scrape. */
  seenVersion = NaN;
  /** @internal monotonic ms of the scrape that first saw the current version. */
  changedAt = NaN;

  constructor(
    private readonly owner: SeriesOwner,
    /** Pre-rendered `k="v",…` labels. */
    readonly labels: string,
  ) {}

  /** Changes whenever the series is updated; drives idle detection. */
  abstract idleVersion(): number;

  /** A pinned series is never dropped. */
  isPinned(): boolean {
    return false;
  }

  /** The series updates go to: this one unless it was dropped (rare, slow path). */
  protected current(): this {
    return this.evicted ? (this.owner.reclaim(this) as this) : this;
  }
}

export class LegacyCounter extends LegacySeries {
  value = 0;

  inc(n = 1): void {
    this.current().value += n;
  }

  idleVersion(): number {
    return this.value;
  }
}

export class LegacyGauge extends LegacySeries {
  value = 0;

  inc(n = 1): void {
    this.current().value += n;
  }

  dec(n = 1): void {
    this.current().value -= n;
  }

  set(v: number): void {
    this.current().value = v;
  }

  idleVersion(): number {
    return this.value;
  }

  override isPinned(): boolean {
    return this.value !== 0;
  }
}

export class LegacyHistogram extends LegacySeries {
  /** Per-bucket (non-cumulative) counts; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    owner: SeriesOwner,
    labels: string,
    readonly bounds: readonly number[],
  ) {
    super(owner, labels);
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const h = this.current();
    const bounds = h.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    h.counts[i] = (h.counts[i] as number) + 1;
    h.sum += value;
    h.count++;
  }

  idleVersion(): number {
    return this.count;
  }
}

export abstract class LegacyFamily<S extends LegacySeries> implements LegacyReport, SeriesOwner {
  readonly name: string;
  readonly help: string;
  private readonly retainIdleMs: number;
  private readonly series = new Map<string, S>();

  protected constructor(
    opts: LegacyFamilyOptions,
    readonly kind: LegacyKind,
  ) {
    this.name = opts.name;
    this.help = opts.help;
    this.retainIdleMs = opts.retainIdleMs ?? DEFAULT_RETAIN_IDLE_MS;
  }

  /** The series for a label set (a record, or an already rendered string); call once per target. */
  get(labels: LabelSet | string): S {
    const key = typeof labels === 'string' ? labels : renderLabels(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = this.create(key);
      this.series.set(key, s);
    }
    return s;
  }

  get size(): number {
    return this.series.size;
  }

  render(out: string[], nowMs: number): void {
    if (this.series.size === 0) return;
    writeHelp(out, this.name, this.help, this.kind);
    for (const s of this.series.values()) this.writeSeries(out, s);
    for (const [key, s] of this.series) {
      const v = s.idleVersion();
      if (v !== s.seenVersion || Number.isNaN(s.changedAt)) {
        s.seenVersion = v;
        s.changedAt = nowMs;
      } else if (nowMs - s.changedAt > this.retainIdleMs && !s.isPinned()) {
        s.evicted = true;
        this.series.delete(key);
      }
    }
  }

  /** @internal */
  reclaim(s: LegacySeries): LegacySeries {
    const existing = this.series.get(s.labels);
    if (existing !== undefined) return existing;
    s.evicted = false;
    s.changedAt = NaN;
    this.series.set(s.labels, s as S);
    return s;
  }

  protected abstract create(labels: string): S;
  protected abstract writeSeries(out: string[], s: S): void;
}

export class LegacyCounterFamily extends LegacyFamily<LegacyCounter> {
  constructor(opts: LegacyFamilyOptions) {
    super(opts, 'counter');
  }
  protected create(labels: string): LegacyCounter {
    return new LegacyCounter(this, labels);
  }
  protected writeSeries(out: string[], s: LegacyCounter): void {
    writeSample(out, this.name, s.labels, s.value);
  }
}

export class LegacyGaugeFamily extends LegacyFamily<LegacyGauge> {
  constructor(opts: LegacyFamilyOptions) {
    super(opts, 'gauge');
  }
  protected create(labels: string): LegacyGauge {
    return new LegacyGauge(this, labels);
  }
  protected writeSeries(out: string[], s: LegacyGauge): void {
    writeSample(out, this.name, s.labels, s.value);
  }
}

export class LegacyHistogramFamily extends LegacyFamily<LegacyHistogram> {
  private readonly bounds: readonly number[];
  private readonly les: readonly string[];

  constructor(opts: LegacyFamilyOptions & { readonly buckets?: readonly number[] }) {
    super(opts, 'histogram');
    const bounds = opts.buckets ?? RESPONSE_LATENCY_MS_BUCKETS;
    for (let i = 1; i < bounds.length; i++) {
      if (!((bounds[i] as number) > (bounds[i - 1] as number))) {
        throw new Error(`${opts.name}: bucket bounds must increase`);
      }
    }
    this.bounds = bounds;
    this.les = [...bounds.map(formatBound), '+Inf'].map((b) => `le="${b}"`);
  }

  protected create(labels: string): LegacyHistogram {
    return new LegacyHistogram(this, labels, this.bounds);
  }

  protected writeSeries(out: string[], s: LegacyHistogram): void {
    let total = 0;
    for (let i = 0; i < s.counts.length; i++) {
      total += s.counts[i] as number;
      writeSample(out, `${this.name}_bucket`, joinLabels(s.labels, this.les[i] as string), total);
    }
    writeSample(out, `${this.name}_count`, s.labels, total);
    writeSample(out, `${this.name}_sum`, s.labels, s.sum);
  }
}

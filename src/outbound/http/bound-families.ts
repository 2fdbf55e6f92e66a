// prom-client-rendered families whose series are plain objects bound once per label set: updates
// are a field increment (prom-client's own metrics hash their labels on every inc/observe).
import type { Metric, Registry, RegistryContentType } from 'prom-client';

export class BoundCounter {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }
}

export class BoundHistogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

interface Sample {
  readonly metricName?: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

interface Entry<S> {
  readonly labels: Record<string, string>;
  readonly series: S;
}

/** The surface prom-client's Registry reads from a metric. */
abstract class BoundFamily<S> {
  readonly aggregator = 'sum';
  private readonly entries = new Map<string, Entry<S>>();

  constructor(
    registry: Registry<RegistryContentType>,
    /** Counters are named with `_total`; prom-client's OpenMetrics output moves the suffix to samples. */
    public name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly labelNames: readonly string[],
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series for these label values (in labelNames order); call once per target and keep it. */
  bind(values: readonly string[]): S {
    const key = values.join('\u0000');
    let e = this.entries.get(key);
    if (e === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      e = { labels, series: this.create() };
      this.entries.set(key, e);
    }
    return e.series;
  }

  protected abstract create(): S;
  protected abstract samples(e: Entry<S>, out: Sample[]): void;

  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    const values: Sample[] = [];
    for (const e of this.entries.values()) this.samples(e, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client's resetMetrics(): every series back to zero (bound holders keep their objects). */
  abstract reset(): void;

  protected each(fn: (s: S) => void): void {
    for (const e of this.entries.values()) fn(e.series);
  }
}

export class BoundCounterFamily extends BoundFamily<BoundCounter> {
  constructor(registry: Registry<RegistryContentType>, name: string, help: string, labelNames: readonly string[]) {
    super(registry, name, help, 'counter', labelNames);
  }

  protected create(): BoundCounter {
    return new BoundCounter();
  }

  protected samples(e: Entry<BoundCounter>, out: Sample[]): void {
    out.push({ labels: e.labels, value: e.series.value });
  }

  reset(): void {
    this.each((s) => (s.value = 0));
  }
}

export class BoundHistogramFamily extends BoundFamily<BoundHistogram> {
  constructor(
    registry: Registry<RegistryContentType>,
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    super(registry, name, help, 'histogram', labelNames);
  }

  protected create(): BoundHistogram {
    return new BoundHistogram(this.bounds);
  }

  protected samples(e: Entry<BoundHistogram>, out: Sample[]): void {
    const h = e.series;
    let acc = 0;
    // `le` last, as the Rust prometheus-client writes it.
    for (let i = 0; i < this.bounds.length; i++) {
      acc += h.counts[i]!;
      out.push({ metricName: `${this.name}_bucket`, labels: { ...e.labels, le: this.bounds[i]! }, value: acc });
    }
    out.push({ metricName: `${this.name}_bucket`, labels: { ...e.labels, le: '+Inf' }, value: h.count });
    out.push({ metricName: `${this.name}_sum`, labels: e.labels, value: h.sum });
    out.push({ metricName: `${this.name}_count`, labels: e.labels, value: h.count });
  }

  reset(): void {
    this.each((s) => {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    });
  }
}

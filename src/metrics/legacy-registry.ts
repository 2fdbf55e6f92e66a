// The ordered list of legacy reports rendered, in order, before the prom-client registry.

/** Anything that writes legacy text families; also where idle series are dropped. */
export interface LegacyReport {
  /**
   * Appends this report's text to `out` (nothing at all while it has no series) and then drops
   * series idle longer than the retention period. `nowMs` is monotonic milliseconds.
   */
  render(out: string[], nowMs: number): void;
}

export class LegacyRegistry {
  private readonly reports: LegacyReport[] = [];

  /** Adds a report at the end, or just before `before` (which must already be registered). */
  register(report: LegacyReport, opts?: { readonly before?: LegacyReport }): void {
    if (this.reports.includes(report)) throw new Error('legacy report registered twice');
    const at = opts?.before === undefined ? -1 : this.reports.indexOf(opts.before);
    if (opts?.before !== undefined && at < 0) throw new Error('`before` report is not registered');
    if (at < 0) this.reports.push(report);
    else this.reports.splice(at, 0, report);
  }

  render(nowMs: number): string {
    const out: string[] = [];
    for (const report of this.reports) report.render(out, nowMs);
    return out.join('');
  }
}

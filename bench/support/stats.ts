// Medians and small numeric helpers for summarising rounds.

/** The median (mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function max(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : Math.max(...xs);
}

export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

/** Fixed decimals, or '–' for a missing value. */
export function fmt(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

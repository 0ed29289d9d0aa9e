// Small statistics over samples: percentiles by nearest rank, rounded for reports.

/** p50/p95/max of a set of samples (NaN when there are none). */
export interface Spread {
  p50: number;
  p95: number;
  max: number;
  count: number;
}

/** The `p`th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Rounds to `digits` decimals, keeping NaN. */
export function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** p50, p95 and max of `values`, rounded to `digits` decimals. */
export function spread(values: readonly number[], digits = 0): Spread {
  return {
    p50: round(percentile(values, 50), digits),
    p95: round(percentile(values, 95), digits),
    max: round(values.length ? Math.max(...values) : NaN, digits),
    count: values.length,
  };
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export function mean(values: readonly number[]): number {
  return values.length ? sum(values) / values.length : NaN;
}

/** mulberry32: the same drops and absences for the same seed (the machine's timing still varies). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

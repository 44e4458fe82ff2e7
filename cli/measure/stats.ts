// Summary statistics for raw samples. Sample (n-1) standard deviation, as llama-bench reports it.

export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function stddev(values: readonly number[]): number | undefined {
  const m = mean(values);
  if (m === undefined || values.length < 2) return undefined;
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1));
}

/** Linear-interpolated percentile (p in 0..100) of the samples, as numpy's default computes it. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  const highValue = sorted[high] as number;
  return lowValue + (highValue - lowValue) * (rank - low);
}

/** Least-squares slope of y over x (per unit of x); undefined with fewer than two distinct x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number | undefined {
  if (points.length < 2) return undefined;
  const mx = mean(points.map((p) => p[0])) as number;
  const my = mean(points.map((p) => p[1])) as number;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

/** Rounds for storage: enough digits to keep what a timer can resolve, no float noise. */
export function round(value: number, digits = 4): number {
  return Number(value.toPrecision(digits + 2));
}

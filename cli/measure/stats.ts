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

export function median(values: readonly number[]): number | undefined {
  return percentile(values, 50);
}

/** Median absolute deviation from the median: a spread that one wild sample cannot inflate. */
export function mad(values: readonly number[]): number | undefined {
  const m = median(values);
  return m === undefined ? undefined : median(values.map((v) => Math.abs(v - m)));
}

/** 1.4826 × MAD estimates the standard deviation of normally distributed samples. */
const MAD_TO_SIGMA = 1.4826;

/**
 * Indexes of the repetitions far from the median, which are kept in the samples and marked. A sample
 * is far when it is more than 50 % away from the median (a GPU compiling its pipelines in the first
 * run reads 100× slower), or when it is both more than 3 robust standard deviations (3 × 1.4826 × MAD)
 * and more than 5 % away from it: the 5 % keeps benign jitter unmarked when the other repetitions agree
 * so well that the MAD is nearly zero. With fewer than 3 samples the median cannot tell which one is
 * off, so none is marked.
 */
export function outlierIndexes(values: readonly number[]): number[] {
  if (values.length < 3) return [];
  const m = median(values) as number;
  const sigma = MAD_TO_SIGMA * (mad(values) as number);
  const scale = Math.abs(m);
  const out: number[] = [];
  values.forEach((v, i) => {
    const off = Math.abs(v - m);
    if (off > 0.5 * scale || (off > 3 * sigma && off > 0.05 * scale)) out.push(i);
  });
  return out;
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

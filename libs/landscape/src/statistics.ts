/**
 * The statistics behind the claims (docs/architecture.md, "Claims"): rank correlations, intervals over
 * seeds, and the three-valued verdict. Small loops by hand, each tested against scipy's values; the t
 * quantile comes from @stdlib.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { createRng } from '@lrscape/linalg';

export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'not-run';

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
  /** Independent units the interval is over (seeds, runs). */
  n: number;
  confidence: number;
  method: string;
}

/** The arithmetic mean (NaN for no values). */
export const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;

/** Student-t interval for the mean of independent values (e.g. one per seed); null with fewer than 2. */
export function tInterval(values: readonly number[], confidence = 0.95): Interval | null {
  const n = values.length;
  if (n < 2 || values.some((v) => !Number.isFinite(v))) return null;
  const m = mean(values);
  const variance = values.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1);
  const half = tQuantile(1 - (1 - confidence) / 2, n - 1) * Math.sqrt(variance / n);
  return { estimate: m, lower: m - half, upper: m + half, n, confidence, method: `t-interval over ${n}` };
}

/**
 * Percentile bootstrap of `statistic` over groups (e.g. seeds) resampled with replacement: each resample
 * draws as many groups as there are and pools their values. With few groups a percentile bootstrap covers
 * poorly; prefer tInterval over per-group values when the statistic is a mean.
 */
export function groupBootstrap<T>(
  groups: readonly (readonly T[])[],
  statistic: (values: readonly T[]) => number | null,
  options: { resamples?: number; confidence?: number; seed?: number } = {},
): Interval | null {
  const { resamples = 2000, confidence = 0.95, seed = 0 } = options;
  const estimate = statistic(groups.flat());
  if (estimate === null || groups.length < 2) return null;
  const rng = createRng(seed);
  const draws: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const pooled: T[] = [];
    for (let g = 0; g < groups.length; g++) pooled.push(...groups[rng.int(groups.length)]);
    const value = statistic(pooled);
    if (value !== null && Number.isFinite(value)) draws.push(value);
  }
  if (draws.length < resamples / 2) return null;
  draws.sort((a, b) => a - b);
  const at = (q: number) => draws[Math.min(draws.length - 1, Math.max(0, Math.floor(q * draws.length)))];
  const alpha = (1 - confidence) / 2;
  return { estimate, lower: at(alpha), upper: at(1 - alpha), n: groups.length, confidence, method: `percentile bootstrap over ${groups.length} groups` };
}

/** Kendall's τ-b (ties in either variable handled as scipy.stats.kendalltau); null with < 2 points or no spread. */
export function kendallTau(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n !== y.length || n < 2) return null;
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denominator > 0 ? (concordant - discordant) / denominator : null;
}

/**
 * Kendall's partial τ of x and y controlling for z: (τ_xy − τ_xz τ_yz) / √((1 − τ_xz²)(1 − τ_yz²)).
 * Null where a τ is undefined or z determines x or y.
 */
export function partialKendallTau(x: readonly number[], y: readonly number[], z: readonly number[]): number | null {
  const xy = kendallTau(x, y);
  const xz = kendallTau(x, z);
  const yz = kendallTau(y, z);
  if (xy === null || xz === null || yz === null) return null;
  const denominator = Math.sqrt((1 - xz * xz) * (1 - yz * yz));
  return denominator > 1e-12 ? (xy - xz * yz) / denominator : null;
}

/**
 * The verdict on a predicted sign: `pass` when the interval excludes 0 on the predicted side, `fail` when
 * it excludes 0 on the other side, `inconclusive` otherwise; `not-run` without an interval.
 */
export function signVerdict(interval: Interval | null, predicted: 'negative' | 'positive'): Verdict {
  if (!interval) return 'not-run';
  if (predicted === 'negative' ? interval.upper < 0 : interval.lower > 0) return 'pass';
  if (predicted === 'negative' ? interval.lower > 0 : interval.upper < 0) return 'fail';
  return 'inconclusive';
}

/**
 * The verdict on a control's null: `pass` when the whole interval lies within ±margin of 0 (the control
 * shows its null), `fail` when it lies wholly outside that band, `inconclusive` otherwise (never a success).
 */
export function nullVerdict(interval: Interval | null, margin: number): Verdict {
  if (!interval) return 'not-run';
  if (interval.lower >= -margin && interval.upper <= margin) return 'pass';
  if (interval.lower > margin || interval.upper < -margin) return 'fail';
  return 'inconclusive';
}

/** "estimate [lower, upper] (95% t-interval over 3)" for a claim's text. */
export function formatInterval(interval: Interval | null, digits = 3): string {
  if (!interval) return 'no interval';
  const f = (v: number) => v.toPrecision(digits);
  return `${f(interval.estimate)} [${f(interval.lower)}, ${f(interval.upper)}] (${Math.round(interval.confidence * 100)}% ${interval.method})`;
}

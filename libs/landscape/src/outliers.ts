/**
 * The outlier–bulk split of a Hessian spectrum and the effective number of parameters (docs/architecture.md, "Science definitions as implemented").
 */

export interface OutlierSplit {
  /** Number of outliers: eigenvalues ranked 1..m are the sharp directions. */
  m: number;
  rule: 'ratio-gap' | 'fixed';
}

export interface OutlierOptions {
  /** Use this m instead of the gap rule (clipped to the number of values). */
  fixed?: number | null;
  /** Only gaps λ_i/λ_{i+1} with λ_{i+1} above floorRatio·λmax count (default 1e-3). */
  floorRatio?: number;
}

/**
 * m = argmax_i λ_i/λ_{i+1} over i ≤ M/2, among pairs with λ_{i+1} > floorRatio·λmax.
 * `values` are the top-M Ritz values in descending order. With no eligible gap (flat or non-positive top), m = 1.
 */
export function splitOutliers(values: readonly number[], options: OutlierOptions = {}): OutlierSplit {
  if (values.length === 0) return { m: 0, rule: options.fixed != null ? 'fixed' : 'ratio-gap' };
  if (options.fixed != null) return { m: Math.max(0, Math.min(options.fixed, values.length)), rule: 'fixed' };
  const floor = (options.floorRatio ?? 1e-3) * values[0];
  const lastIndex = Math.max(1, Math.floor(values.length / 2));
  let best = 1;
  let bestRatio = -Infinity;
  for (let i = 1; i <= lastIndex && i < values.length; i++) {
    const [upper, lower] = [values[i - 1], values[i]];
    if (!(lower > floor) || !(upper > 0)) continue;
    const ratio = upper / lower;
    if (ratio > bestRatio) {
      bestRatio = ratio;
      best = i;
    }
  }
  return { m: best, rule: 'ratio-gap' };
}

/** N_eff = Σ_i λ_i/(λ_i + α) over the given Ritz values, negatives clipped at 0; α defaults to 0.5·λmax. */
export function effectiveParameters(values: readonly number[], alpha?: number): number {
  if (values.length === 0) return 0;
  const lambdaMax = Math.max(...values);
  const a = alpha ?? 0.5 * lambdaMax;
  if (!(a > 0)) return 0;
  return values.reduce((sum, v) => sum + Math.max(v, 0) / (Math.max(v, 0) + a), 0);
}

/**
 * Synthetic operators shaped like the benchmark MLP's Hessian (tools/bench, issue 5), whose matvec is cheap, so
 * that a run's time is Lanczos's own work: H = diag(λ) with 9 outliers in [10, 22] above a bulk 0.33·u^2000
 * (u uniform): most of it near 0, a sparse tail whose top 11 lie in 0.31–0.33. Calibrated so that unrestarted
 * Lanczos needs about as many steps for the top 20 at relative residual 1e-4 as on the bench's Hessian (figures
 * in tools/bench/README.md). A Krylov method from a random normal start sees diag(λ) and Q diag(λ) Qᵀ alike
 * (the start's distribution is rotation invariant), so the diagonal loses nothing.
 * `float32` rounds the input and output to float32, like the engine's HVPs.
 * The perturbed operator H' = diag(λ') + low-rank symmetric kick stands for the next checkpoint.
 */
import type { LinearOperator } from '../src/operator';
import { createRng } from '../src/random';

export interface SyntheticOperator {
  op: LinearOperator;
  calls: () => number;
  reset: () => void;
}

/** 9 outliers spread over [10, 22], then the bulk 0.33·u^2000. */
export function benchLikeSpectrum(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const lambda = new Float64Array(n);
  const outliers = [22, 19.5, 17, 15.8, 14.1, 13, 11.9, 10.9, 10];
  for (let i = 0; i < n; i++) lambda[i] = i < outliers.length ? outliers[i] : 0.33 * rng.uniform() ** 2000;
  return lambda;
}

/** Diagonal plus Σ_l s_l z_l z_lᵀ (unit z_l), applied in O(n·rank). */
export function syntheticOperator(
  diagonal: Float64Array,
  options: { float32?: boolean; lowRank?: { vectors: Float64Array[]; weights: number[] } } = {},
): SyntheticOperator {
  const n = diagonal.length;
  let calls = 0;
  const { float32 = false, lowRank } = options;
  const op: LinearOperator = async (input) => {
    calls++;
    const v = float32 ? Float64Array.from(Float32Array.from(input)) : input;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = diagonal[i] * v[i];
    if (lowRank) {
      lowRank.vectors.forEach((z, l) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += z[i] * v[i];
        s *= lowRank.weights[l];
        for (let i = 0; i < n; i++) out[i] += s * z[i];
      });
    }
    return float32 ? Float64Array.from(Float32Array.from(out)) : out;
  };
  return { op, calls: () => calls, reset: () => (calls = 0) };
}

/** H' for H = diag(λ): λ scaled by 1 + relative·N(0,1) per entry, plus a rank-`rank` symmetric kick of size `kick`. */
export function perturbation(
  lambda: Float64Array,
  seed: number,
  { relative = 1e-3, rank = 4, kick = 0.05 }: { relative?: number; rank?: number; kick?: number } = {},
): { diagonal: Float64Array; lowRank: { vectors: Float64Array[]; weights: number[] } } {
  const rng = createRng(seed);
  const diagonal = Float64Array.from(lambda, (x) => x * (1 + relative * rng.normal()));
  const vectors: Float64Array[] = [];
  const weights: number[] = [];
  for (let l = 0; l < rank; l++) {
    const z = Float64Array.from({ length: lambda.length }, () => rng.normal());
    let s = 0;
    for (const x of z) s += x * x;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < z.length; i++) z[i] *= inv;
    vectors.push(z);
    weights.push(kick * (l % 2 === 0 ? 1 : -1));
  }
  return { diagonal, lowRank: { vectors, weights } };
}

/** max over pairs of ‖Hu − λu‖/|λ| (its own matvecs, not counted by the caller's counter after reset). */
export async function worstRelativeResidual(op: LinearOperator, pairs: { value: number; vector: Float64Array }[]): Promise<number> {
  let worst = 0;
  for (const { value, vector } of pairs) {
    const hu = await op(Float64Array.from(vector));
    let s = 0;
    for (let i = 0; i < hu.length; i++) s += (hu[i] - value * vector[i]) ** 2;
    worst = Math.max(worst, Math.sqrt(s) / Math.abs(value));
  }
  return worst;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

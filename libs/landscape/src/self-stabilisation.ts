/**
 * The self-stabilisation terms of the cooling diagnostics (docs/architecture.md, "Cooling"): with S = λ₁ the
 * top Hessian eigenvalue and u₁ its unit eigenvector, ∇S = ∇³L[u₁, u₁] (first-order perturbation theory of
 * a simple eigenvalue), taken by central second differences of the gradient along u₁:
 *     ∇³L[u, u] ≈ [∇L(θ + εu) + ∇L(θ − εu) − 2∇L(θ)] / ε²,
 * whose truncation error is ε²/12 · ∇⁵L[u, u, u, u] and whose rounding error is ~ u_f64 · ‖∇L‖ / ε² (float64
 * only: in float32 the cancellation leaves nothing at any ε). The error is estimated from the same
 * difference at 2ε (two more gradients): T(2ε) − T(ε) ≈ 3 · (T(ε) − T).
 *
 * Where λ₁ has a near-copy the single-eigenvalue formula fails (λ₁ is not differentiable where eigenvalues
 * cross, and u₁ turns by O(1) under small perturbations); the trace of the top cluster — the eigenvalues
 * within the gap ratio of λ₁ — is smooth there, and ∇ tr = Σ_i ∇³L[u_i, u_i] for any orthonormal basis u_i
 * of the cluster's eigenspace.
 */
import { lanczosTopEigenpairs } from '@lrscape/linalg';

/** ∇L at a float64 θ. */
export type GradientFunction = (theta: Float64Array) => Float64Array;

function along(theta: Float64Array, u: Float64Array, step: number): Float64Array {
  const out = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) out[i] = theta[i] + step * u[i];
  return out;
}

/** ∇³L[u, u] by the central second difference of the gradient at step ε (`gradientAtTheta` saves one call). */
export function thirdDerivativeAlong(gradient: GradientFunction, theta: Float64Array, u: Float64Array, epsilon: number, gradientAtTheta?: Float64Array): Float64Array {
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be positive, got ${epsilon}`);
  const g0 = gradientAtTheta ?? gradient(theta);
  const plus = gradient(along(theta, u, epsilon));
  const minus = gradient(along(theta, u, -epsilon));
  const out = new Float64Array(theta.length);
  for (let i = 0; i < out.length; i++) out[i] = (plus[i] + minus[i] - 2 * g0[i]) / (epsilon * epsilon);
  return out;
}

export interface ClusterGradient {
  /** Σ_i ∇³L[u_i, u_i] over the given vectors (∇λ₁ for one vector, ∇ of the cluster's trace for several). */
  gradient: Float64Array;
  /** Estimated relative error ‖T(2ε) − T(ε)‖ / (3‖T(ε)‖) of `gradient` (0 where both vanish). */
  relativeError: number;
}

/** ∇ of the sum of the eigenvalues whose unit eigenvectors are `vectors`, with its error estimate. */
export function clusterGradient(gradient: GradientFunction, theta: Float64Array, vectors: readonly Float64Array[], epsilon: number, gradientAtTheta?: Float64Array): ClusterGradient {
  const g0 = gradientAtTheta ?? gradient(theta);
  const at = new Float64Array(theta.length);
  const wide = new Float64Array(theta.length);
  for (const u of vectors) {
    const t1 = thirdDerivativeAlong(gradient, theta, u, epsilon, g0);
    const t2 = thirdDerivativeAlong(gradient, theta, u, 2 * epsilon, g0);
    for (let i = 0; i < at.length; i++) {
      at[i] += t1[i];
      wide[i] += t2[i];
    }
  }
  let diff = 0;
  let size = 0;
  for (let i = 0; i < at.length; i++) {
    diff += (wide[i] - at[i]) ** 2;
    size += at[i] ** 2;
  }
  return { gradient: at, relativeError: size > 0 ? Math.sqrt(diff) / (3 * Math.sqrt(size)) : diff > 0 ? Infinity : 0 };
}

/**
 * How many leading eigenvalues (sorted descending) form λ₁'s cluster: λ_i > 0 with λ₁/λ_i < gapRatio. 1
 * means λ₁ is separated enough for S = λ₁; a cluster as long as `values` may go on beyond them.
 */
export function topClusterSize(values: readonly number[], gapRatio: number): number {
  if (!(gapRatio > 1)) throw new RangeError(`the gap ratio must exceed 1, got ${gapRatio}`);
  if (!values.length) return 0;
  const top = values[0];
  let k = 1;
  while (k < values.length && top > 0 && values[k] > 0 && top / values[k] < gapRatio) k++;
  return k;
}

export interface TopEigenpairs {
  values: number[];
  vectors: Float64Array[];
  /** max_i of Lanczos's residual estimate |β s_last| of pair i over |λ_1| (true residuals would cost one HVP per pair). */
  residual: number;
  hvps: number;
  converged: boolean;
}

/**
 * The top `count` eigenpairs of a float64 H·v by Lanczos, started from the sum of the previous step's vectors
 * (the 'sum' warm start: one GD step on, none of them is an eigenvector to within the tolerance, so a block
 * start spends its HVPs for nothing; measured on W-reg: ~26 HVPs per step for the top four to 1e-5).
 */
export async function topEigenpairs(
  hvp: (v: Float64Array) => Float64Array,
  size: number,
  options: { count: number; tolerance: number; maxIterations: number; warm?: readonly Float64Array[] | null },
): Promise<TopEigenpairs> {
  const warm = options.warm ?? [];
  const result = await lanczosTopEigenpairs((v) => Promise.resolve(hvp(v)), size, {
    count: options.count,
    tolerance: options.tolerance,
    maxIterations: Math.min(size, options.maxIterations),
    ...(warm.length ? { startVector: warm[0], warmVectors: warm.slice(1) } : {}),
    trueResiduals: false,
  });
  const values = result.pairs.map((p) => p.value);
  const scale = Math.max(Math.abs(values[0] ?? 0), Number.MIN_VALUE);
  return {
    values,
    vectors: result.pairs.map((p) => p.vector),
    residual: Math.max(0, ...result.pairs.map((p) => p.residual / scale)),
    hvps: result.operatorCalls,
    converged: result.converged,
  };
}

/**
 * Small float64 vector kernels (BLAS level 1) shared by the solvers.
 * Conventions: `axpy` and `scale` work in place (like BLAS) and return their target for chaining;
 * everything else allocates only what it returns.
 */
import type { Rng } from './random';

function sameLength(a: Float64Array, b: Float64Array): void {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
}

/** aᵀb. */
export function dot(a: Float64Array, b: Float64Array): number {
  sameLength(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Euclidean norm ‖a‖₂. */
export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + a·x, in place; returns y. */
export function axpy(a: number, x: Float64Array, y: Float64Array): Float64Array {
  sameLength(x, y);
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
  return y;
}

/** x ← a·x, in place; returns x. */
export function scale(a: number, x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] *= a;
  return x;
}

/** cos∠(a, b) = aᵀb / (‖a‖‖b‖); NaN when either vector is zero (the angle is undefined). */
export function cosine(a: Float64Array, b: Float64Array): number {
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 || nb === 0) return NaN;
  return Math.max(-1, Math.min(1, dot(a, b) / (na * nb)));
}

/**
 * Modified Gram–Schmidt of a list, with one re-orthogonalisation pass per vector ("twice is enough",
 * so the result is orthonormal to working precision even for nearly dependent inputs).
 * Returns fresh orthonormal vectors spanning the same space as the inputs; a vector whose remainder after
 * projection is below `dropTolerance` times its own norm is linearly dependent on the earlier ones and is
 * dropped, so the result may be shorter than the input (its length is the numerical rank).
 */
export function orthonormalize(vectors: Float64Array[], dropTolerance = 1e-10): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const v of vectors) {
    const w = Float64Array.from(v);
    const original = norm(w);
    if (original === 0) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) axpy(-dot(q, w), q, w);
    }
    const remainder = norm(w);
    if (remainder <= dropTolerance * original) continue;
    basis.push(scale(1 / remainder, w));
  }
  return basis;
}

/**
 * w ← (I − QQᵀ)w for orthonormal Q = [q_0 … q_{k−1}], by classical Gram–Schmidt applied twice (CGS2):
 * all coefficients of a pass are taken from the same w, then subtracted. One CGS pass loses orthogonality
 * in proportion to the condition of [Q w]; the second pass restores it to working precision.
 */
export function orthogonalizeAgainst(w: Float64Array, basis: readonly Float64Array[], passes = 2): Float64Array {
  const coefficients = new Float64Array(basis.length);
  for (let pass = 0; pass < passes; pass++) {
    for (let i = 0; i < basis.length; i++) coefficients[i] = dot(basis[i], w);
    for (let i = 0; i < basis.length; i++) axpy(-coefficients[i], basis[i], w);
  }
  return w;
}

/** Vector of n independent standard normals. */
export function randomNormalVector(n: number, rng: Rng): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

/** Vector of n independent Rademacher (±1) entries. */
export function rademacherVector(n: number, rng: Rng): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.sign();
  return v;
}

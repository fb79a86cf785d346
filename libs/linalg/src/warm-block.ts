/**
 * The block warm start of the Lanczos process: lanczosTopEigenpairs' warmStart 'block', or 'auto' when the
 * first warm vector has already converged.
 *
 * Rayleigh–Ritz of H on span(warmVectors), one operator application each, gives H Y = Y Θ + R with R ⟂ Y. A
 * Krylov sequence grown from one vector cannot correct a residual block of full rank (started from Σ r_i it
 * stalled on the bench's Hessian), so only the Ritz pairs that have converged are kept, locked at the front of
 * the basis as a block Y with their residual block R; the sum of the other wanted Ritz vectors starts the
 * Krylov sequence V ⟂ Y. Then T = [[Θ, C], [Cᵀ, tridiagonal]] with C = Rᵀ V, and the residual of a Ritz vector
 * Y a + V b is E a + w b_last with E = (I − V Vᵀ) R, so that
 *     ‖H u − θ u‖² = aᵀ(RᵀR − C Cᵀ)a + 2 b_last aᵀRᵀw + b_last² ‖w‖²,
 * from small matrices (O(k³) per test instead of O(k²)). A thick restart of this process keeps Y ← the kept
 * Ritz vectors and R ← their residual block E A + w zᵀ (nearly rank one: E is below the tolerance), and
 * continues from w.
 */
import { LanczosProcess, type RitzDecomposition } from './lanczos-process';
import { applyOperator, type LinearOperator } from './operator';
import type { Rng } from './random';
import { symmetricEigen } from './symmetric-eigen';
import { axpy, combineInto, crossProducts, dot, norm, orthogonaliseAgainst, orthonormalise, projectInto, randomNormalVector, scale } from './vector';

/** A Ritz pair (value, residual norm) has converged, at the scale normEstimate of ‖H‖. */
export type ConvergenceTest = (value: number, residual: number, normEstimate: number) => boolean;

/**
 * The residual block of a warm (or warm-restarted) process: H Y = Y Θ + R with Y = basis[0 .. size), and what
 * the residual estimates need of R as the Krylov vectors V after it are added.
 */
export class ResidualBlock {
  /** RᵀR − C Cᵀ over the Krylov vectors so far (row-major size × size): the Gram matrix of E = (I − VVᵀ)R. */
  readonly gram: Float64Array;
  /** C's columns: Rᵀq_j for every basis vector j ≥ size, in order. */
  readonly coupling: Float64Array[] = [];
  /** Rᵀw for the pending residual w. */
  readonly pending: Float64Array;

  /** `residuals`: R, one vector per block vector, R ⟂ Y. */
  constructor(readonly residuals: Float64Array[]) {
    this.gram = crossProducts(residuals, residuals);
    this.pending = new Float64Array(residuals.length);
  }

  get size(): number {
    return this.residuals.length;
  }

  /** A Krylov vector q joins the basis: its column Rᵀq of C, and RᵀR − CCᵀ loses c cᵀ. */
  recordBasisVector(q: Float64Array): void {
    const c = projectInto(new Float64Array(this.size), this.residuals, q);
    this.coupling.push(c);
    const k = this.size;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) this.gram[a * k + b] -= c[a] * c[b];
  }

  /** A step left the residual w: Rᵀw, for the cross term of the residual estimates. */
  recordResidual(w: Float64Array): void {
    projectInto(this.pending, this.residuals, w);
  }

  /**
   * Eigen-decomposition of T = [[Θ, C], [Cᵀ, tridiagonal]] (alpha, offDiagonal: T's tridiagonal part, Θ's
   * off-diagonal zero), descending, with the residuals of the file comment. `residualNorm` = ‖w‖, and
   * `hasPending`: w is there (after a step) rather than already a basis vector.
   */
  ritzDecomposition(alpha: readonly number[], offDiagonal: readonly number[], residualNorm: number, hasPending: boolean): RitzDecomposition {
    const k = alpha.length;
    const t = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      t[i * k + i] = alpha[i];
      if (i + 1 < k) t[i * k + i + 1] = t[(i + 1) * k + i] = offDiagonal[i];
    }
    const y = this.size;
    this.coupling.forEach((c, v) => {
      const j = y + v;
      for (let a = 0; a < y; a++) t[a * k + j] = t[j * k + a] = c[a];
    });
    const { values, vectors } = symmetricEigen(t, k);
    const residuals = new Float64Array(k);
    const lastIsKrylov = k > y && hasPending;
    for (let c = 0; c < k; c++) {
      const s = vectors[c];
      let quadratic = 0;
      let cross = 0;
      for (let a = 0; a < y; a++) {
        let ga = 0;
        for (let b = 0; b < y; b++) ga += this.gram[a * y + b] * s[b];
        quadratic += s[a] * ga;
        cross += s[a] * this.pending[a];
      }
      const last = lastIsKrylov ? s[k - 1] : 0;
      const squared = quadratic + 2 * last * cross + last * last * residualNorm * residualNorm;
      residuals[c] = Math.sqrt(Math.max(squared, 0));
    }
    return { values, residuals, vectors };
  }
}

/**
 * Whether two or more warm vectors (top eigenvector first) start as a block. 'auto' asks H once: is the first
 * vector an eigenvector to within the tolerance? Then the previous eigenvectors are close, and their
 * Rayleigh–Ritz (which reuses this product, `firstProduct`) locks the converged ones; else their sum starts the
 * run, as 'sum' does, and the probe's one application is the price of asking.
 */
export async function chooseBlockStart(
  op: LinearOperator,
  vectors: readonly Float64Array[],
  mode: 'auto' | 'sum' | 'block',
  isConverged: ConvergenceTest,
): Promise<{ block: boolean; firstProduct?: Float64Array }> {
  const firstNorm = norm(vectors[0]);
  if (mode !== 'auto' || !(firstNorm > 0 && Number.isFinite(firstNorm))) return { block: mode === 'block' };
  const first = scale(1 / firstNorm, Float64Array.from(vectors[0]));
  const firstProduct = await applyOperator(op, first);
  const rho = dot(first, firstProduct);
  const residual = norm(axpy(-rho, first, Float64Array.from(firstProduct)));
  return { block: isConverged(rho, residual, Math.abs(rho) + residual), firstProduct };
}

/**
 * Warm block start: Rayleigh–Ritz of H on span(vectors), one operator application per independent vector
 * (`firstProduct`, when given, is H applied to the first vector normalised: the probe, not spent twice and not
 * counted in the process's operatorCalls). Ritz pairs among the top `keep` that have already converged are locked as the block Y, with their
 * residual block R; the Krylov sequence starts from the sum of the other wanted Ritz vectors (⟂ Y), or from a
 * random direction when every wanted pair is locked. Null when the vectors span nothing.
 */
export async function warmBlockProcess(
  op: LinearOperator,
  n: number,
  vectors: readonly Float64Array[],
  rng: Rng,
  options: { keep: number; wanted: number; isConverged: ConvergenceTest; firstProduct?: Float64Array },
): Promise<LanczosProcess | null> {
  const { keep, wanted, isConverged, firstProduct } = options;
  const w = orthonormalise([...vectors]);
  if (w.length === 0) return null;
  const hw: Float64Array[] = [];
  for (const [i, v] of w.entries()) hw.push(i === 0 && firstProduct ? firstProduct : await applyOperator(op, v));
  const m = w.length;
  const g = crossProducts(w, hw);
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) g[i * m + j] = g[j * m + i] = 0.5 * (g[i * m + j] + g[j * m + i]);
  const { values, vectors: z } = symmetricEigen(g, m);
  // Y = W Z and R = H W Z − W Z Θ, from [W, HW] with the coefficients [−Z Θ; Z].
  const yCoefficients = new Float64Array(m * m);
  const rCoefficients = new Float64Array(2 * m * m);
  for (let j = 0; j < m; j++) {
    for (let c = 0; c < m; c++) {
      yCoefficients[j * m + c] = z[c][j];
      rCoefficients[j * m + c] = -values[c] * z[c][j];
      rCoefficients[(m + j) * m + c] = z[c][j];
    }
  }
  const y = Array.from({ length: m }, () => new Float64Array(n));
  const r = Array.from({ length: m }, () => new Float64Array(n));
  combineInto(y, w, yCoefficients);
  combineInto(r, [...w, ...hw], rCoefficients);
  // R ⟂ span(W) up to rounding and the operator's asymmetry; make it exact, as T's symmetric Θ assumes.
  for (const ri of r) orthogonaliseAgainst(ri, w, 1);
  const residualNorms = r.map((ri) => norm(ri));
  const normEstimate = Math.max(Math.abs(values[0]), Math.abs(values[m - 1])) + Math.max(...residualNorms);
  const top = Array.from({ length: Math.min(m, keep) }, (_, c) => c);
  const locked = top.filter((c) => isConverged(values[c], residualNorms[c], normEstimate));
  const start = new Float64Array(n);
  for (const c of top.slice(0, wanted)) if (!locked.includes(c)) axpy(1, y[c], start);
  let process: LanczosProcess;
  if (locked.length > 0) {
    process = new LanczosProcess(op, n, null, rng);
    process.normEstimate = normEstimate;
    const blockValues = locked.map((c) => values[c]);
    process.rebase(locked.map((c) => y[c]), blockValues, Array<number>(locked.length - 1).fill(0), new ResidualBlock(locked.map((c) => r[c])));
    process.pushDirection(start, 0);
  } else {
    // Nothing locked: a plain Krylov process from the sum of the wanted Ritz vectors.
    process = new LanczosProcess(op, n, norm(start) > 0 ? start : randomNormalVector(n, rng), rng);
    process.normEstimate = normEstimate;
  }
  // The probe's application is the caller's to count.
  process.operatorCalls = firstProduct ? m - 1 : m;
  return process;
}

/** Thick restart with a warm block: Y ← kept Ritz vectors, R ← their residual block E A + w zᵀ (file comment). */
export function restartWithBlock(process: LanczosProcess, keep: number, w: Float64Array): void {
  const block = process.warmBlock;
  if (block === null) throw new Error('restartWithBlock: the process has no warm block');
  const k = process.size;
  const y = block.size;
  const small = process.ritzDecomposition();
  const vCount = k - y;
  // Y' = Q Z_kept.
  const yCoefficients = new Float64Array(k * keep);
  for (let j = 0; j < k; j++) for (let i = 0; i < keep; i++) yCoefficients[j * keep + i] = small.vectors[i][j];
  // R' = R A − V Cᵀ A + w zᵀ over the inputs [R, V, w], A = Z_kept's block rows, z its last row.
  const rCoefficients = new Float64Array((y + vCount + 1) * keep);
  for (let i = 0; i < keep; i++) {
    const s = small.vectors[i];
    for (let a = 0; a < y; a++) rCoefficients[a * keep + i] = s[a];
    for (let v = 0; v < vCount; v++) {
      const c = block.coupling[v];
      let sum = 0;
      for (let a = 0; a < y; a++) sum += c[a] * s[a];
      rCoefficients[(y + v) * keep + i] = -sum;
    }
    rCoefficients[(y + vCount) * keep + i] = s[k - 1];
  }
  const kept = Array.from({ length: keep }, () => process.takeVector());
  const residuals = Array.from({ length: keep }, () => process.takeVector());
  combineInto(kept, process.basis, yCoefficients);
  combineInto(residuals, [...block.residuals, ...process.basis.slice(y), w], rCoefficients);
  for (const r of residuals) orthogonaliseAgainst(r, kept, 1);
  process.rebase(kept, Array.from(small.values.subarray(0, keep)), Array<number>(keep - 1).fill(0), new ResidualBlock(residuals));
  process.pushDirection(process.brokeDown ? new Float64Array(0) : w, 0);
}

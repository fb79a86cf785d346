/**
 * Lanczos for the top (largest algebraic) eigenpairs of a symmetric operator, with full
 * reorthogonalisation (Golub & Van Loan §10.1–10.3; Parlett, "The Symmetric Eigenvalue Problem", ch. 13).
 *
 * Three-term recurrence, for orthonormal q_0 … q_{k−1}:
 *     H q_j = β_{j−1} q_{j−1} + α_j q_j + β_j q_{j+1},   i.e.   H Q_k = Q_k T_k + β_{k−1} q_k e_kᵀ.
 * Ritz pairs (θ, Q_k s) from the eigenpairs (θ, s) of T_k have residual ‖H Q s − θ Q s‖ = |β_{k−1} s_{k−1}|,
 * which is the convergence test, computed from T alone.
 *
 * Full reorthogonalisation (CGS2 against the whole basis at every step) keeps Q orthonormal to working
 * precision, so there are no spurious "ghost" copies, and the rounding noise it leaves is what lets a
 * repeated eigenvalue show up again. When β_j ≈ 0 the Krylov space is invariant (breakdown): its Ritz pairs
 * are exact, and we restart with a fresh random direction orthogonal to the basis, setting β_j = 0 so that T
 * becomes block diagonal. This is what finds the further copies of a degenerate eigenvalue, which a single
 * Krylov sequence cannot see in exact arithmetic.
 *
 * Restarts also decide when the run may stop. After a breakdown the rest of the space is unexplored, so
 * besides "every wanted Ritz pair has converged" we require the newest block to be heard out: its own top
 * Ritz pair must have converged (as a fresh random start's would) and, if that block broke down too, its top
 * value must not exceed the M-th wanted value; otherwise a further copy may hide behind it, and we restart
 * again. (From a random start the invariant Krylov space contains the top eigenvalue of the space it explores,
 * with probability one.) The one exception is the breakdown of a warm start: the caller vouched for those
 * directions, so their exact Ritz pairs may end the run at once.
 *
 * Limitation (of any single-vector Krylov method): without a breakdown, further copies of a repeated
 * eigenvalue grow only out of rounding noise, each taking about as many steps as the first copy did. They
 * are found given enough steps (maxIterations), but if the M-th wanted pair converges first the run can stop,
 * `converged` true, with a copy missing. On tiny nets, symmetricEigen of the assembled H is the exact check.
 */
import { applyOperator, type LinearOperator } from './operator';
import { createRng, type Rng } from './random';
import { descendingOrder, identityRows, implicitQL } from './tridiagonal';
import { axpy, dot, norm, orthogonalizeAgainst, randomNormalVector, scale } from './vector';

export interface RitzPair {
  value: number;
  /** Unit vector. */
  vector: Float64Array;
  /** ‖H u − value·u‖₂ (absolute): true when `trueResiduals`, else the Lanczos estimate |β s_last|. */
  residual: number;
}

export interface LanczosOptions {
  /** M: number of top (largest algebraic) eigenpairs wanted. */
  count: number;
  /** Krylov dimension cap; default min(n, max(2M + 20, 3M)). */
  maxIterations?: number;
  /**
   * Stop when every wanted pair has |β s_last| ≤ tolerance · max(|θ|, tiny); default 1e-6. Tested after every
   * step: it costs O(k²) flops on T, nothing next to an operator application.
   */
  tolerance?: number;
  /** Warm start (e.g. the previous checkpoint's top eigenvector); else a seeded random normal vector. */
  startVector?: Float64Array;
  /** Previous eigenvectors: the start is their sum (plus startVector, when both are given). */
  warmVectors?: Float64Array[];
  /** Seed for the random start and for breakdown restarts; default 0. */
  seed?: number;
  /** Default true: one extra operator application per returned pair for its true residual. */
  trueResiduals?: boolean;
}

export interface LanczosResult {
  /** Sorted by value, descending. min(count, iterations) pairs. */
  pairs: RitzPair[];
  /** Krylov dimension k reached (= operator applications spent on the recurrence). */
  iterations: number;
  /** Every operator application: k for the recurrence + one per pair when trueResiduals. */
  operatorCalls: number;
  /** Every wanted pair met the tolerance (by the Lanczos estimate) before the cap. */
  converged: boolean;
}

/** β_j below this times ‖T‖ means the Krylov space is invariant to working precision. */
const BREAKDOWN_TOLERANCE = 1e-12;

/**
 * The Lanczos recurrence with full reorthogonalisation, one step at a time, so that callers decide when to
 * test convergence (lanczosTopEigenpairs) or when to stop (slqDensity, which must not restart).
 *
 * Invariants after `step()`: basis = [q_0 … q_{k−1}] orthonormal, alpha.length = k,
 * offDiagonal.length = k − 1 (zero where a restart began a new block), and the pending residual
 * w_{k−1} ⟂ basis with ‖w_{k−1}‖ = residualNorm, so that H Q_k = Q_k T_k + w_{k−1} e_kᵀ.
 */
export class LanczosProcess {
  readonly basis: Float64Array[] = [];
  readonly alpha: number[] = [];
  readonly offDiagonal: number[] = [];
  /** Basis indices where the blocks of T begin: [0, then one per restart]. */
  readonly blockStarts: number[] = [0];
  residualNorm = 0;
  /** Gershgorin bound on ‖T‖ (≤ ‖H‖): the scale for breakdown and "tiny". */
  normEstimate = 0;
  operatorCalls = 0;
  private residual: Float64Array | null = null;

  constructor(
    private readonly op: LinearOperator,
    readonly n: number,
    start: Float64Array,
    private readonly rng: Rng,
  ) {
    const s = norm(start);
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError('Lanczos start vector must be finite and nonzero');
    this.basis.push(scale(1 / s, Float64Array.from(start)));
  }

  get size(): number {
    return this.basis.length;
  }

  /** True when the last step found an invariant subspace (β ≈ 0). */
  get brokeDown(): boolean {
    return this.residualNorm <= BREAKDOWN_TOLERANCE * this.normEstimate;
  }

  /** Applies H to the newest basis vector q_j: α_j, and the residual w_j = H q_j − α_j q_j − β_{j−1} q_{j−1}. */
  async step(): Promise<void> {
    const j = this.basis.length - 1;
    if (this.alpha.length !== j) throw new Error('LanczosProcess.step: call extend() first');
    const q = this.basis[j];
    const w = await applyOperator(this.op, q);
    this.operatorCalls++;
    const a = dot(q, w);
    axpy(-a, q, w);
    const previousBeta = j > 0 ? this.offDiagonal[j - 1] : 0;
    if (previousBeta !== 0) axpy(-previousBeta, this.basis[j - 1], w);
    // Full reorthogonalisation: in exact arithmetic w ⟂ q_0..q_j already; in floating point it is not.
    orthogonalizeAgainst(w, this.basis);
    this.alpha.push(a);
    this.residual = w;
    this.residualNorm = norm(w);
    this.normEstimate = Math.max(this.normEstimate, Math.abs(a) + Math.abs(previousBeta) + this.residualNorm);
  }

  /**
   * Appends q_k = w/β, or after a breakdown a random unit vector orthogonal to the basis (β recorded as 0,
   * starting a new block of T). Returns false when the basis already spans the whole space.
   */
  extend(): boolean {
    if (this.residual === null || this.alpha.length !== this.basis.length) {
      throw new Error('LanczosProcess.extend: call step() first');
    }
    if (this.basis.length >= this.n) return false;
    if (!this.brokeDown) {
      this.offDiagonal.push(this.residualNorm);
      this.basis.push(scale(1 / this.residualNorm, this.residual));
    } else {
      this.offDiagonal.push(0);
      this.blockStarts.push(this.basis.length);
      this.basis.push(this.randomOrthogonalDirection());
    }
    this.residual = null;
    return true;
  }

  private randomOrthogonalDirection(): Float64Array {
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = randomNormalVector(this.n, this.rng);
      const before = norm(r);
      orthogonalizeAgainst(r, this.basis);
      const after = norm(r);
      // A random vector keeps ~√((n−k)/n) of its norm; much less means it fell into span(Q) numerically.
      if (after > 1e-8 * before) return orthogonalizeAgainst(scale(1 / after, r), this.basis, 1);
    }
    throw new Error('Lanczos restart: could not find a direction orthogonal to the basis');
  }

  /** The rows from..k−1 of T_k as (diagonal, off-diagonal padded to its length) copies, ready for implicitQL. */
  tridiagonal(from = 0): { d: Float64Array; e: Float64Array } {
    const k = this.alpha.length;
    const d = Float64Array.from(this.alpha.slice(from));
    const e = new Float64Array(k - from);
    for (let i = from; i < k - 1; i++) e[i - from] = this.offDiagonal[i];
    return { d, e };
  }

  /**
   * Ritz values of the trailing block of T from row `from` (default: all of T), descending, with their
   * residual estimates |β_{k−1} s_{k−1}|. Only the last row of the eigenvector matrix is tracked: O(k²).
   */
  ritzEstimates(from = 0): { values: Float64Array; residuals: Float64Array } {
    const { d, e } = this.tridiagonal(from);
    const lastRow = new Float64Array(d.length);
    lastRow[d.length - 1] = 1;
    implicitQL(d, e, [lastRow]);
    const order = descendingOrder(d);
    return {
      values: Float64Array.from(order, (i) => d[i]),
      residuals: Float64Array.from(order, (i) => Math.abs(this.residualNorm * lastRow[i])),
    };
  }
}

/** The warm start: startVector + Σ warmVectors; null when none is given or they cancel. */
function warmStart(n: number, options: LanczosOptions): Float64Array | null {
  const given = [...(options.startVector ? [options.startVector] : []), ...(options.warmVectors ?? [])];
  if (given.length === 0) return null;
  const start = new Float64Array(n);
  for (const v of given) {
    if (v.length !== n) throw new RangeError(`warm start vector has length ${v.length}, expected ${n}`);
    axpy(1, v, start);
  }
  const s = norm(start);
  return s > 0 && Number.isFinite(s) ? start : null;
}

/**
 * Top `count` eigenpairs (largest algebraic) of the symmetric operator `op` on Rⁿ.
 * When n ≤ count the Krylov space is all of Rⁿ and all n pairs are returned, exact to rounding.
 */
export async function lanczosTopEigenpairs(
  op: LinearOperator,
  n: number,
  options: LanczosOptions,
): Promise<LanczosResult> {
  const { count, tolerance = 1e-6, seed = 0, trueResiduals = true } = options;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const maxIterations = Math.min(n, options.maxIterations ?? Math.max(2 * count + 20, 3 * count));
  if (!(maxIterations >= 1)) throw new RangeError(`maxIterations must be ≥ 1, got ${options.maxIterations}`);
  const wanted = Math.min(count, n);

  const rng = createRng(seed);
  const warm = warmStart(n, options);
  const process = new LanczosProcess(op, n, warm ?? randomNormalVector(n, rng), rng);

  // A Ritz pair (θ, estimate) has converged when estimate ≤ tol·max(|θ|, tiny); tiny (ARPACK's ε^{2/3},
  // scaled by ‖T‖) keeps the test meaningful for θ ≈ 0. An estimate below the breakdown level is rounding
  // noise and counts as exact whatever θ (else a zero eigenvalue could never converge).
  const slack = (value: number): number =>
    Math.max(
      tolerance * Math.max(Math.abs(value), Number.EPSILON ** (2 / 3) * process.normEstimate),
      BREAKDOWN_TOLERANCE * process.normEstimate,
    );
  const isConverged = (value: number, estimate: number): boolean => estimate <= slack(value);

  const topPairsConverged = (): boolean => {
    if (process.size < wanted) return false;
    const all = process.ritzEstimates();
    for (let i = 0; i < wanted; i++) if (!isConverged(all.values[i], all.residuals[i])) return false;
    return process.size === n || newestBlockHeardOut(all.values[wanted - 1]);
  };

  // See the file comment: after a breakdown, the newest block must have found the top of what it explores.
  const newestBlockHeardOut = (thetaM: number): boolean => {
    const blocks = process.blockStarts.length;
    const newestBrokeDown = process.brokeDown;
    if (blocks === 1 && !newestBrokeDown) return true; // no breakdown yet: plain Lanczos
    if (warm !== null && (blocks === 1 || (blocks === 2 && !newestBrokeDown))) return true; // warm start trusted
    const newest = process.ritzEstimates(process.blockStarts[blocks - 1]);
    if (!isConverged(newest.values[0], newest.residuals[0])) return false;
    return !newestBrokeDown || newest.values[0] <= thetaM + slack(thetaM);
  };

  let converged = false;
  for (;;) {
    await process.step();
    if (topPairsConverged()) {
      converged = true;
      break;
    }
    if (process.size >= maxIterations || !process.extend()) break;
  }

  // Ritz pairs: eigenvectors s of T_k, u = Q_k s.
  const k = process.size;
  const { d, e } = process.tridiagonal();
  const z = identityRows(k);
  implicitQL(d, e, z);
  const order = descendingOrder(d);
  const pairs: RitzPair[] = [];
  for (let i = 0; i < Math.min(wanted, k); i++) {
    const c = order[i];
    const u = new Float64Array(n);
    for (let j = 0; j < k; j++) axpy(z[j][c], process.basis[j], u);
    scale(1 / norm(u), u);
    const value = d[c];
    let residual = Math.abs(process.residualNorm * z[k - 1][c]);
    if (trueResiduals) {
      const hu = await applyOperator(op, u);
      process.operatorCalls++;
      residual = norm(axpy(-value, u, hu));
    }
    pairs.push({ value, vector: u, residual });
  }
  return { pairs, iterations: k, operatorCalls: process.operatorCalls, converged };
}

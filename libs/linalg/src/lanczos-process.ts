/**
 * The Lanczos process for a symmetric operator, with full reorthogonalisation (Golub & Van Loan §10.1–10.3;
 * Parlett, "The Symmetric Eigenvalue Problem", ch. 13). lanczos.ts drives it to the top eigenpairs, slq.ts to
 * quadrature nodes; thick-restart.ts and warm-block.ts reshape its basis.
 *
 * Three-term recurrence, for orthonormal q_0 … q_{k−1}:
 *     H q_j = β_{j−1} q_{j−1} + α_j q_j + β_j q_{j+1},   i.e.   H Q_k = Q_k T_k + β_{k−1} q_k e_kᵀ.
 * Ritz pairs (θ, Q_k s) from the eigenpairs (θ, s) of T_k have residual ‖H Q s − θ Q s‖ = |β_{k−1} s_{k−1}|,
 * which is the convergence test, computed from T alone.
 *
 * Full reorthogonalisation keeps Q orthonormal to working precision, so there are no spurious "ghost" copies,
 * and the rounding noise it leaves is what lets a repeated eigenvalue show up again. Each step subtracts the
 * three-term part first, then one classical Gram–Schmidt pass against the whole basis, and a second pass only
 * when the first removed more than 1 − 1/√2 of the norm (the DGKS / Kahan–Parlett criterion, as in ARPACK):
 * after the recurrence the remaining components along the basis are rounding-sized, so one pass nearly always
 * suffices, and the test catches the steps where it does not.
 *
 * When β_j ≈ 0 the Krylov space is invariant (breakdown): its Ritz pairs
 * are exact, and we restart with a fresh random direction orthogonal to the basis, setting β_j = 0 so that T
 * becomes block diagonal. This is what finds the further copies of a degenerate eigenvalue, which a single
 * Krylov sequence cannot see in exact arithmetic.
 */
import { applyOperator, type LinearOperator } from './operator';
import type { Rng } from './random';
import { descendingOrder, identityRows, implicitQL } from './tridiagonal';
import { combineInto, dot, norm, orthogonaliseAgainst, projectInto, randomNormalVector, scale, subtractCombination } from './vector';
import type { ResidualBlock } from './warm-block';

/** β_j below this times ‖T‖ means the Krylov space is invariant to working precision. */
export const BREAKDOWN_TOLERANCE = 1e-12;
/** DGKS: a second Gram–Schmidt pass when one pass leaves less than this fraction of the norm. */
const REORTHOGONALISE_BELOW = Math.SQRT1_2;

/** Ritz values of the whole projected matrix (descending), its eigenvectors and the residual estimates. */
export interface RitzDecomposition {
  values: Float64Array;
  residuals: Float64Array;
  /** vectors[c][j]: component j of the eigenvector of the projected matrix for values[c]. */
  vectors: Float64Array[];
}

/**
 * The Lanczos recurrence with full reorthogonalisation, one step at a time, so that callers decide when to
 * test convergence (lanczosTopEigenpairs) or when to stop (slqDensity, which must not restart).
 *
 * Invariants after `step()`: basis = [q_0 … q_{k−1}] orthonormal, alpha.length = k,
 * offDiagonal.length = k − 1 (zero where a restart began a new block), and the pending residual
 * w_{k−1} ⟂ basis with ‖w_{k−1}‖ = residualNorm, so that H Q_k = Q_k T_k + w_{k−1} e_kᵀ
 * (plus, with a warm block, the coupling C and the block's residual outside the basis: see warm-block.ts).
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
  /** ‖w‖ after the last reorthogonalisation. */
  private lastNorm = 0;
  private block: ResidualBlock | null = null;
  private coefficients = new Float64Array(64);
  /** Vectors given back by restarts, reused before allocating. */
  private readonly spare: Float64Array[] = [];

  /** `start` null: an empty basis, for a warm block to fill (warm-block.ts). */
  constructor(
    private readonly op: LinearOperator,
    readonly n: number,
    start: Float64Array | null,
    private readonly rng: Rng,
  ) {
    if (start === null) return;
    const s = norm(start);
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError('Lanczos start vector must be finite and nonzero');
    this.basis.push(scale(1 / s, Float64Array.from(start)));
  }

  get size(): number {
    return this.basis.length;
  }

  /** The warm block at the front of the basis; null for a plain Krylov process. */
  get warmBlock(): ResidualBlock | null {
    return this.block;
  }

  /** Size of the warm block at the front of the basis (0 for a plain Krylov process). */
  get blockSize(): number {
    return this.block?.size ?? 0;
  }

  /** The residual w_{k−1} after step() (⟂ basis, norm residualNorm); null once extend() has used it. */
  get pendingResidual(): Float64Array | null {
    return this.residual;
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
    const w = await applyOperator(this.op, q, this.spare.pop());
    this.operatorCalls++;
    const a = dot(q, w);
    const previousBeta = j > 0 ? this.offDiagonal[j - 1] : 0;
    const previous = previousBeta !== 0 ? this.basis[j - 1] : q;
    const n = w.length;
    let squares = 0;
    for (let t = 0; t < n; t++) {
      const x = w[t] - a * q[t] - previousBeta * previous[t];
      w[t] = x;
      squares += x * x;
    }
    // Full reorthogonalisation: in exact arithmetic w ⟂ q_0..q_j already (but for the warm block's coupling
    // C, which this pass removes); in floating point it is not.
    const blockPart = this.reorthogonalise(w, Math.sqrt(squares), this.blockSize);
    this.alpha.push(a);
    this.residual = w;
    this.residualNorm = this.lastNorm;
    this.block?.recordResidual(w);
    this.normEstimate = Math.max(this.normEstimate, Math.abs(a) + Math.abs(previousBeta) + this.residualNorm + blockPart);
  }

  /**
   * w ← (I − QQᵀ)w: one CGS pass, and a second when the first left less than 1/√2 of ‖w‖ (DGKS). The first
   * `expected` coefficients (the warm block's coupling) are genuine projections, not rounding: the test compares
   * against the norm without them. Sets lastNorm = ‖w‖; returns Σ|coupling| for the norm estimate.
   */
  private reorthogonalise(w: Float64Array, before: number, expected: number): number {
    const k = this.basis.length;
    if (this.coefficients.length < k) this.coefficients = new Float64Array(2 * k);
    const c = this.coefficients;
    projectInto(c, this.basis, w, 0, k);
    let coupling = 0;
    let coupling2 = 0;
    for (let i = 0; i < expected; i++) {
      coupling += Math.abs(c[i]);
      coupling2 += c[i] * c[i];
    }
    let after = Math.sqrt(subtractCombination(w, this.basis, c, 0, k));
    const reference = Math.sqrt(Math.max(before * before - coupling2, 0));
    if (after < REORTHOGONALISE_BELOW * reference) {
      projectInto(c, this.basis, w, 0, k);
      after = Math.sqrt(subtractCombination(w, this.basis, c, 0, k));
    }
    this.lastNorm = after;
    return coupling;
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
      this.appendToBasis(scale(1 / this.residualNorm, this.residual));
    } else {
      this.offDiagonal.push(0);
      this.blockStarts.push(this.basis.length);
      this.appendToBasis(this.randomOrthogonalDirection());
    }
    this.residual = null;
    return true;
  }

  /** Pushes a unit vector ⟂ basis, recording its coupling to the warm block. */
  private appendToBasis(q: Float64Array): void {
    this.block?.recordBasisVector(q);
    this.basis.push(q);
  }

  /**
   * For restarts (thick-restart.ts, warm-block.ts): replaces the basis by `kept` (orthonormal, one block of T
   * with these `alpha` and `offDiagonal`) and the warm block by `block`. The old basis and the old block's
   * residuals go back to the spare vectors. Leaves the process to be continued by appendUnitVector or
   * pushDirection.
   */
  rebase(kept: Float64Array[], alpha: readonly number[], offDiagonal: readonly number[], block: ResidualBlock | null): void {
    this.spare.push(...this.basis, ...(this.block?.residuals ?? []));
    this.basis.length = 0;
    this.basis.push(...kept);
    this.alpha.length = 0;
    this.alpha.push(...alpha);
    this.offDiagonal.length = 0;
    this.offDiagonal.push(...offDiagonal);
    this.blockStarts.length = 1;
    this.block = block;
  }

  /** A recycled vector of length n (contents arbitrary), or a new one. */
  takeVector(): Float64Array {
    return this.spare.pop() ?? new Float64Array(this.n);
  }

  /** Appends the unit vector q (⟂ basis) with coupling `beta` to the previous one; ready to step(). */
  appendUnitVector(q: Float64Array, beta: number): void {
    this.offDiagonal.push(beta);
    this.appendToBasis(q);
    this.residual = null;
  }

  /**
   * Appends `direction` (⟂ basis up to rounding; it is reorthogonalised) normalised, with coupling `beta` to the
   * previous vector; a random direction (new block) when it is negligible. Leaves the process ready to step().
   */
  pushDirection(direction: Float64Array, beta: number): void {
    const before = norm(direction);
    if (before > 0) {
      orthogonaliseAgainst(direction, this.basis, 1);
      const after = norm(direction);
      if (after > 1e-8 * before && after > BREAKDOWN_TOLERANCE * this.normEstimate) {
        this.appendUnitVector(scale(1 / after, direction), beta);
        return;
      }
    }
    this.offDiagonal.push(0);
    this.blockStarts.push(this.basis.length);
    this.appendToBasis(this.randomOrthogonalDirection());
    this.residual = null;
  }

  private randomOrthogonalDirection(): Float64Array {
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = randomNormalVector(this.n, this.rng);
      const before = norm(r);
      orthogonaliseAgainst(r, this.basis);
      const after = norm(r);
      // A random vector keeps ~√((n−k)/n) of its norm; much less means it fell into span(Q) numerically.
      if (after > 1e-8 * before) return orthogonaliseAgainst(scale(1 / after, r), this.basis, 1);
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
   * With a warm block and from = 0, the whole projected matrix and the block's residual enter (O(k³)).
   */
  ritzEstimates(from = 0): { values: Float64Array; residuals: Float64Array } {
    if (this.block && from < this.block.size) return this.ritzDecomposition();
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

  /** Eigen-decomposition of the whole projected matrix (after step()), descending, with residual estimates. */
  ritzDecomposition(): RitzDecomposition {
    if (this.block) return this.block.ritzDecomposition(this.alpha, this.offDiagonal, this.residualNorm, this.residual !== null);
    const k = this.alpha.length;
    const { d, e } = this.tridiagonal();
    const z = identityRows(k);
    implicitQL(d, e, z);
    const order = descendingOrder(d);
    return {
      values: Float64Array.from(order, (i) => d[i]),
      residuals: Float64Array.from(order, (i) => Math.abs(this.residualNorm * z[k - 1][i])),
      vectors: Array.from(order, (c) => Float64Array.from(z, (row) => row[c])),
    };
  }

  /**
   * The top `count` Ritz pairs of the whole basis (after step()): values, unit vectors Q s formed in one pass
   * over the basis, and residual estimates.
   */
  ritzPairs(count: number): { value: number; vector: Float64Array; estimate: number }[] {
    const small = this.ritzDecomposition();
    const k = this.basis.length;
    const m = Math.min(count, small.values.length);
    const coefficients = new Float64Array(k * m);
    for (let c = 0; c < m; c++) for (let j = 0; j < k; j++) coefficients[j * m + c] = small.vectors[c][j];
    const vectors = Array.from({ length: m }, () => new Float64Array(this.n));
    combineInto(vectors, this.basis, coefficients);
    return vectors.map((u, c) => ({ value: small.values[c], vector: scale(1 / norm(u), u), estimate: small.residuals[c] }));
  }
}

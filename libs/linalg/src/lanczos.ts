/**
 * Lanczos for the top (largest algebraic) eigenpairs of a symmetric operator, with full
 * reorthogonalisation (Golub & Van Loan §10.1–10.3; Parlett, "The Symmetric Eigenvalue Problem", ch. 13),
 * optionally thick-restarted (Wu & Simon 2000) and optionally started from a block of warm vectors.
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
 *
 * Restarts also decide when the run may stop. After a breakdown the rest of the space is unexplored, so
 * besides "every wanted Ritz pair has converged" we require the newest block to be heard out: its own top
 * Ritz pair must have converged (as a fresh random start's would) and, if that block broke down too, its top
 * value must not exceed the M-th wanted value; otherwise a further copy may hide behind it, and we restart
 * again. (From a random start the invariant Krylov space contains the top eigenvalue of the space it explores,
 * with probability one.) The one exception is the breakdown of a warm start: the caller vouched for those
 * directions, so their exact Ritz pairs may end the run at once.
 *
 * Thick restart (option maxBasis): when the basis holds maxBasis vectors, keep the top `keep` Ritz vectors
 * Y = Q Z and continue from the residual direction q̂ = w/‖w‖. Since H Y = Y Θ + q̂ sᵀ with one vector q̂, the
 * kept space is again a Krylov space, and an orthogonal P with P e_1 ∝ s that tridiagonalises Θ (Householder)
 * writes it as one: with the kept vectors in the order Y P e_keep … Y P e_1, T stays tridiagonal, coupled to q̂
 * by ‖s‖ in its last row, and everything below (recurrence, convergence test, breakdowns) is unchanged. Memory
 * and the cost of a step stay O(maxBasis·n).
 *
 * Warm block (warmStart 'block', or 'auto' when the first warm vector has already converged): Rayleigh–Ritz of H
 * on span(warmVectors), one operator application each, gives H Y = Y Θ + R with R ⟂ Y. A Krylov sequence grown
 * from one vector cannot correct a residual block of full rank (started from Σ r_i it stalled on the bench's
 * Hessian), so only the Ritz pairs that have converged are kept, locked at the front of the basis as a block Y
 * with their residual block R; the sum of the other wanted Ritz vectors starts the Krylov sequence V ⟂ Y. Then
 * T = [[Θ, C], [Cᵀ, tridiagonal]] with C = Rᵀ V, and the residual of a Ritz vector Y a + V b is E a + w b_last with
 * E = (I − V Vᵀ) R, so that ‖H u − θ u‖² = aᵀ(RᵀR − C Cᵀ)a + 2 b_last aᵀRᵀw + b_last² ‖w‖², from small matrices
 * (O(k³) per test instead of O(k²)). A thick restart of this process keeps Y ← the kept Ritz vectors and
 * R ← their residual block E A + w zᵀ (nearly rank one: E is below the tolerance), and continues from w.
 *
 * Limitation (of any single-vector Krylov method): without a breakdown, further copies of a repeated
 * eigenvalue grow only out of rounding noise, each taking about as many steps as the first copy did. They
 * are found given enough steps (maxIterations), but if the M-th wanted pair converges first the run can stop,
 * `converged` true, with a copy missing. On tiny nets, symmetricEigen of the assembled H is the exact check.
 */
import { applyOperator, type LinearOperator } from './operator';
import { createRng, type Rng } from './random';
import { householderTridiagonalize, symmetricEigen } from './symmetric-eigen';
import { descendingOrder, identityRows, implicitQL } from './tridiagonal';
import {
  axpy,
  combineInto,
  crossProducts,
  dot,
  norm,
  orthogonalizeAgainst,
  orthonormalize,
  projectInto,
  randomNormalVector,
  scale,
  subtractCombination,
} from './vector';

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
  /**
   * Cap on operator applications before the Ritz vectors are formed (the recurrence, plus one per warm block
   * vector); unrestarted, this is the Krylov dimension. Default min(n, max(2M + 20, 3M)) + the warm block's size.
   */
  maxIterations?: number;
  /**
   * Stop when every wanted pair has |β s_last| ≤ tolerance · max(|θ|, tiny); default 1e-6. Tested after every
   * step: it costs O(k²) flops on T, nothing next to an operator application.
   */
  tolerance?: number;
  /** Warm start (e.g. the previous checkpoint's top eigenvector); else a seeded random normal vector. */
  startVector?: Float64Array;
  /**
   * Previous eigenvectors. Two or more (counting startVector) start from the Rayleigh–Ritz of H on their span,
   * one operator application each (see the file comment); a single one is the start vector.
   */
  warmVectors?: Float64Array[];
  /** Seed for the random start and for breakdown restarts; default 0. */
  seed?: number;
  /** Default true: one extra operator application per returned pair for its true residual. */
  trueResiduals?: boolean;
  /**
   * Thick restart: the basis never exceeds this many vectors (memory and reorthogonalisation O(maxBasis·n)).
   * At least M + 2; max(2M + 10, 40) is a good choice. Absent (default): no restarts, the basis grows to the
   * Krylov dimension, which costs fewer operator applications (bench's Hessian, top 20 to 1e-4: 113 unrestarted,
   * 117–121 with maxBasis 60–40) for about the same time of Lanczos's own work.
   */
  maxBasis?: number;
  /** Ritz vectors kept at a thick restart; default M + ⌊(maxBasis − M)/2⌋ (at most maxBasis − 2). */
  restartKeep?: number;
  /**
   * How two or more warm vectors (startVector first, then warmVectors, top eigenvector first) start the run:
   * 'sum': their sum is the start vector; 'block': Rayleigh–Ritz of H on their span (one operator application
   * each), converged Ritz pairs locked, the sum of the others the start; 'auto': 'block' when the first vector is
   * already an eigenvector to within the tolerance (one application to ask), else 'sum'. Default 'sum': on the
   * bench's Hessian one GD step on, no previous eigenvector is within 1e-4 (outliers 5e-3, bulk edge 7e-2), so
   * 'block' spends its applications for nothing there (117 vs 99); with close checkpoints 'block' and 'auto' win
   * by far (21 vs 69 on a synthetic one; see libs/linalg/bench).
   */
  warmStart?: 'auto' | 'sum' | 'block';
}

export interface LanczosResult {
  /** Sorted by value, descending. min(count, iterations) pairs. */
  pairs: RitzPair[];
  /** Operator applications before the Ritz vectors: the recurrence (the Krylov dimension, unrestarted) + warm block. */
  iterations: number;
  /** Every operator application: iterations + one per pair when trueResiduals. */
  operatorCalls: number;
  /** Every wanted pair met the tolerance (by the Lanczos estimate) before the cap. */
  converged: boolean;
}

/** β_j below this times ‖T‖ means the Krylov space is invariant to working precision. */
const BREAKDOWN_TOLERANCE = 1e-12;
/** DGKS: a second Gram–Schmidt pass when one pass leaves less than this fraction of the norm. */
const REORTHOGONALISE_BELOW = Math.SQRT1_2;

/** The residual block of a warm (or warm-restarted) process: H Y = Y Θ + R with Y = basis[0 .. size). */
interface ResidualBlock {
  size: number;
  /** R: one vector per block vector, R ⟂ Y. */
  residuals: Float64Array[];
  /** RᵀR − C Cᵀ over the Krylov vectors so far (row-major size × size): the Gram matrix of E = (I − VVᵀ)R. */
  gram: Float64Array;
  /** C's columns: Rᵀq_j for every basis vector j ≥ size, in order. */
  coupling: Float64Array[];
  /** Rᵀw for the pending residual w. */
  pending: Float64Array;
}

/** Ritz values (descending), the eigenvectors of T as columns (when asked for) and residual estimates. */
interface SmallRitz {
  values: Float64Array;
  residuals: Float64Array;
  /** vectors[c][j]: component j of the eigenvector of T for values[c]. */
  vectors: Float64Array[] | null;
}

/**
 * The Lanczos recurrence with full reorthogonalisation, one step at a time, so that callers decide when to
 * test convergence (lanczosTopEigenpairs) or when to stop (slqDensity, which must not restart).
 *
 * Invariants after `step()`: basis = [q_0 … q_{k−1}] orthonormal, alpha.length = k,
 * offDiagonal.length = k − 1 (zero where a restart began a new block), and the pending residual
 * w_{k−1} ⟂ basis with ‖w_{k−1}‖ = residualNorm, so that H Q_k = Q_k T_k + w_{k−1} e_kᵀ
 * (plus, with a warm block, the coupling C and the block's residual outside the basis, see the file comment).
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
  /** Second Gram–Schmidt passes taken (DGKS); for the record. */
  secondPasses = 0;
  /** Thick restarts taken. */
  restarts = 0;
  private residual: Float64Array | null = null;
  /** ‖w‖ after the last reorthogonalisation. */
  private lastNorm = 0;
  private block: ResidualBlock | null = null;
  private coefficients = new Float64Array(64);
  /** Vectors given back by thick restarts, reused before allocating. */
  private readonly spare: Float64Array[] = [];

  /** `start` null: empty, for a warm block (LanczosProcess.fromWarmBlock). */
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

  /**
   * Warm block start: Rayleigh–Ritz of H on span(vectors), one operator application per independent vector
   * (`firstProduct`, when given, is H applied to the first vector normalised: the probe, not spent twice). Ritz
   * pairs among the top `keep` that have already converged (`isConverged`) are locked as the block Y, with
   * their residual block R; the Krylov sequence starts from the sum of the other wanted Ritz vectors (⟂ Y), or
   * from a random direction when every wanted pair is locked. Null when the vectors span nothing.
   */
  static async fromWarmBlock(
    op: LinearOperator,
    n: number,
    vectors: readonly Float64Array[],
    rng: Rng,
    options: {
      keep: number;
      wanted: number;
      isConverged: (value: number, residual: number, normEstimate: number) => boolean;
      firstProduct?: Float64Array;
    },
  ): Promise<LanczosProcess | null> {
    const { keep, wanted, isConverged, firstProduct } = options;
    const w = orthonormalize([...vectors]);
    if (w.length === 0) return null;
    const process = new LanczosProcess(op, n, null, rng);
    const hw: Float64Array[] = [];
    for (const [i, v] of w.entries()) {
      if (i === 0 && firstProduct) {
        hw.push(firstProduct);
        continue;
      }
      hw.push(await applyOperator(op, v));
      process.operatorCalls++;
    }
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
    for (const ri of r) orthogonalizeAgainst(ri, w, 1);
    const residualNorms = r.map((ri) => norm(ri));
    process.normEstimate = Math.max(Math.abs(values[0]), Math.abs(values[m - 1])) + Math.max(...residualNorms);
    const top = Array.from({ length: Math.min(m, keep) }, (_, c) => c);
    const locked = top.filter((c) => isConverged(values[c], residualNorms[c], process.normEstimate));
    const size = locked.length;
    for (const c of locked) {
      process.basis.push(y[c]);
      process.alpha.push(values[c]);
    }
    for (let c = 1; c < size; c++) process.offDiagonal.push(0);
    const start = new Float64Array(n);
    for (const c of top.slice(0, wanted)) if (!locked.includes(c)) axpy(1, y[c], start);
    if (size > 0) {
      const residuals = locked.map((c) => r[c]);
      process.block = { size, residuals, gram: crossProducts(residuals, residuals), coupling: [], pending: new Float64Array(size) };
      process.pushDirection(start, 0);
    } else {
      const s = norm(start);
      process.basis.push(s > 0 ? scale(1 / s, start) : process.randomOrthogonalDirection());
    }
    return process;
  }

  get size(): number {
    return this.basis.length;
  }

  /** Size of the warm block at the front of the basis (0 for a plain Krylov process). */
  get blockSize(): number {
    return this.block?.size ?? 0;
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
    if (this.block) projectInto(this.block.pending, this.block.residuals, w);
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
      this.secondPasses++;
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
    const block = this.block;
    if (block) {
      const c = projectInto(new Float64Array(block.size), block.residuals, q);
      block.coupling.push(c);
      const k = block.size;
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) block.gram[a * k + b] -= c[a] * c[b];
    }
    this.basis.push(q);
  }

  /**
   * Appends `direction` (⟂ basis up to rounding; it is reorthogonalised) normalised, with coupling `beta` to the
   * previous vector; a random direction (new block) when it is negligible. Leaves the process ready to step().
   */
  private pushDirection(direction: Float64Array, beta: number): void {
    const before = norm(direction);
    if (before > 0) {
      orthogonalizeAgainst(direction, this.basis, 1);
      const after = norm(direction);
      if (after > 1e-8 * before && after > BREAKDOWN_TOLERANCE * this.normEstimate) {
        this.offDiagonal.push(beta);
        this.appendToBasis(scale(1 / after, direction));
        this.residual = null;
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
   * With a warm block and from = 0, the whole projected matrix and the block's residual enter (O(k³)).
   */
  ritzEstimates(from = 0): { values: Float64Array; residuals: Float64Array } {
    if (this.block && from < this.block.size) return this.smallRitz(false);
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
  private smallRitz(withVectors: true): SmallRitz & { vectors: Float64Array[] };
  private smallRitz(withVectors: boolean): SmallRitz;
  private smallRitz(withVectors: boolean): SmallRitz {
    const k = this.alpha.length;
    const block = this.block;
    if (!block) {
      const { d, e } = this.tridiagonal();
      if (!withVectors) return { ...this.ritzEstimates(), vectors: null };
      const z = identityRows(k);
      implicitQL(d, e, z);
      const order = descendingOrder(d);
      return {
        values: Float64Array.from(order, (i) => d[i]),
        residuals: Float64Array.from(order, (i) => Math.abs(this.residualNorm * z[k - 1][i])),
        vectors: Array.from(order, (c) => Float64Array.from(z, (row) => row[c])),
      };
    }
    const t = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      t[i * k + i] = this.alpha[i];
      if (i + 1 < k) t[i * k + i + 1] = t[(i + 1) * k + i] = this.offDiagonal[i];
    }
    const y = block.size;
    block.coupling.forEach((c, v) => {
      const j = y + v;
      for (let a = 0; a < y; a++) t[a * k + j] = t[j * k + a] = c[a];
    });
    const { values, vectors } = symmetricEigen(t, k);
    const residuals = new Float64Array(k);
    const lastIsKrylov = k > y && this.residual !== null;
    for (let c = 0; c < k; c++) {
      const s = vectors[c];
      let quadratic = 0;
      let cross = 0;
      for (let a = 0; a < y; a++) {
        let ga = 0;
        for (let b = 0; b < y; b++) ga += block.gram[a * y + b] * s[b];
        quadratic += s[a] * ga;
        cross += s[a] * block.pending[a];
      }
      const last = lastIsKrylov ? s[k - 1] : 0;
      const squared = quadratic + 2 * last * cross + last * last * this.residualNorm * this.residualNorm;
      residuals[c] = Math.sqrt(Math.max(squared, 0));
    }
    return { values, residuals, vectors: withVectors ? vectors : null };
  }

  /**
   * The top `count` Ritz pairs of the whole basis (after step()): values, unit vectors Q s formed in one pass
   * over the basis, and residual estimates.
   */
  ritzPairs(count: number): { value: number; vector: Float64Array; estimate: number }[] {
    const small = this.smallRitz(true);
    const k = this.basis.length;
    const m = Math.min(count, small.values.length);
    const coefficients = new Float64Array(k * m);
    for (let c = 0; c < m; c++) for (let j = 0; j < k; j++) coefficients[j * m + c] = small.vectors[c][j];
    const vectors = Array.from({ length: m }, () => new Float64Array(this.n));
    combineInto(vectors, this.basis, coefficients);
    return vectors.map((u, c) => ({ value: small.values[c], vector: scale(1 / norm(u), u), estimate: small.residuals[c] }));
  }

  /**
   * Thick restart (after step(), before extend()): keeps the top `keep` Ritz vectors, continues from the pending
   * residual's direction, and leaves the process ready to step(). See the file comment.
   */
  thickRestart(keep: number): void {
    const w = this.residual;
    const k = this.basis.length;
    if (w === null || this.alpha.length !== k) throw new Error('LanczosProcess.thickRestart: call step() first');
    if (!(keep >= 1 && keep < k)) throw new RangeError(`thickRestart: keep ${keep} of ${k}`);
    this.restarts++;
    if (this.block) {
      this.restartWithBlock(keep, w);
      return;
    }
    const small = this.smallRitz(true);
    const beta = this.residualNorm;
    // Kept Ritz vectors y_i = Q z_i with H Y = Y Θ + q̂ sᵀ, s_i = β (z_i)_last.
    const theta = small.values.subarray(0, keep);
    const s = Float64Array.from({ length: keep }, (_, i) => beta * small.vectors[i][k - 1]);
    const { d, e, p, coupling } = tridiagonaliseFrom(theta, s);
    // New basis vector r = Y P e_{keep−1−r}: coefficients over the old basis, M = Z_kept P, reversed.
    const coefficients = new Float64Array(k * keep);
    for (let j = 0; j < k; j++) {
      for (let r = 0; r < keep; r++) {
        const l = keep - 1 - r;
        let sum = 0;
        for (let i = 0; i < keep; i++) sum += small.vectors[i][j] * p[i * keep + l];
        coefficients[j * keep + r] = sum;
      }
    }
    const kept = Array.from({ length: keep }, () => this.spare.pop() ?? new Float64Array(this.n));
    combineInto(kept, this.basis, coefficients);
    this.spare.push(...this.basis);
    this.basis.length = 0;
    this.basis.push(...kept);
    this.alpha.length = 0;
    this.offDiagonal.length = 0;
    for (let r = 0; r < keep; r++) {
      this.alpha.push(d[keep - 1 - r]);
      if (r + 1 < keep) this.offDiagonal.push(e[keep - 2 - r]);
    }
    this.blockStarts.length = 1;
    // q̂ = ±w/β, the sign making the coupling +‖s‖ (see tridiagonaliseFrom).
    if (!this.brokeDown) {
      this.offDiagonal.push(Math.abs(coupling));
      this.basis.push(scale((coupling < 0 ? -1 : 1) / beta, w));
      this.residual = null;
    } else {
      this.pushDirection(new Float64Array(0), 0);
    }
  }

  /** Thick restart with a warm block: Y ← kept Ritz vectors, R ← their residual block E A + w zᵀ (file comment). */
  private restartWithBlock(keep: number, w: Float64Array): void {
    const block = this.block!;
    const k = this.basis.length;
    const y = block.size;
    const small = this.smallRitz(true);
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
    const take = () => this.spare.pop() ?? new Float64Array(this.n);
    const kept = Array.from({ length: keep }, take);
    const residuals = Array.from({ length: keep }, take);
    combineInto(kept, this.basis, yCoefficients);
    combineInto(residuals, [...block.residuals, ...this.basis.slice(y), w], rCoefficients);
    for (const r of residuals) orthogonalizeAgainst(r, kept, 1);
    this.spare.push(...this.basis, ...block.residuals);
    this.basis.length = 0;
    this.basis.push(...kept);
    this.alpha.length = 0;
    this.offDiagonal.length = 0;
    for (let i = 0; i < keep; i++) {
      this.alpha.push(small.values[i]);
      if (i > 0) this.offDiagonal.push(0);
    }
    this.blockStarts.length = 1;
    this.block = { size: keep, residuals, gram: crossProducts(residuals, residuals), coupling: [], pending: new Float64Array(keep) };
    this.pushDirection(this.brokeDown ? new Float64Array(0) : w, 0);
  }
}

/**
 * For Θ = diag(theta) and a coupling vector s: an orthogonal P (row-major keep × keep) whose first column is
 * ±s/‖s‖ and with PᵀΘP = tridiag(e, d, e) (e[i] couples i, i+1). Returns `coupling` = sᵀP e_1 = ±‖s‖.
 * Householder: H maps e_1 to ±s/‖s‖; H Θ H is then tridiagonalised by reflectors that leave e_1 alone.
 */
export function tridiagonaliseFrom(
  theta: Float64Array,
  s: Float64Array,
): { d: Float64Array; e: Float64Array; p: Float64Array; coupling: number } {
  const m = theta.length;
  const sNorm = norm(s);
  // u = ŝ + sign(ŝ_0) e_1, H = I − 2uuᵀ/‖u‖²: H e_1 = −sign(ŝ_0) ŝ.
  const u = new Float64Array(m);
  let hasReflector = false;
  if (sNorm > 0) {
    for (let i = 0; i < m; i++) u[i] = s[i] / sNorm;
    u[0] += u[0] >= 0 ? 1 : -1;
    hasReflector = true;
  }
  const uu = hasReflector ? dot(u, u) : 1;
  const f = hasReflector ? 2 / uu : 0;
  // A = H Θ H = Θ − f(u vᵀ + v uᵀ) + f²(uᵀv) u uᵀ with v = Θu.
  const v = Float64Array.from(u, (x, i) => theta[i] * x);
  const uv = dot(u, v);
  const rows = Array.from({ length: m }, (_, i) => {
    const row = new Float64Array(m);
    for (let j = 0; j < m; j++) row[j] = (i === j ? theta[i] : 0) - f * (u[i] * v[j] + v[i] * u[j]) + f * f * uv * u[i] * u[j];
    return row;
  });
  const { d, e, q } = householderTridiagonalize(rows);
  // P = H Q, with Q e_1 = e_1.
  const uq = new Float64Array(m);
  for (let l = 0; l < m; l++) {
    const row = q[l];
    for (let j = 0; j < m; j++) uq[j] += u[l] * row[j];
  }
  const p = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) p[i * m + j] = q[i][j] - f * u[i] * uq[j];
  let coupling = 0;
  for (let i = 0; i < m; i++) coupling += s[i] * p[i * m];
  return { d, e, p, coupling };
}

/** The warm start vectors: startVector, then warmVectors; each checked for length. */
function warmVectorsOf(n: number, options: LanczosOptions): Float64Array[] {
  const given = [...(options.startVector ? [options.startVector] : []), ...(options.warmVectors ?? [])];
  for (const v of given) {
    if (v.length !== n) throw new RangeError(`warm start vector has length ${v.length}, expected ${n}`);
  }
  return given;
}

/** Default number of Ritz vectors kept at a thick restart: the wanted ones and half the rest of the room. */
export function defaultRestartKeep(count: number, maxBasis: number): number {
  return Math.min(maxBasis - 2, count + Math.floor((maxBasis - count) / 2));
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
  const wanted = Math.min(count, n);
  // A basis of n vectors spans everything: no restart needed (nor possible).
  const maxBasis = options.maxBasis !== undefined && options.maxBasis < n ? options.maxBasis : undefined;
  if (maxBasis !== undefined && !(Number.isInteger(maxBasis) && maxBasis >= wanted + 2)) {
    throw new RangeError(`maxBasis must be an integer ≥ count + 2 = ${wanted + 2}, got ${options.maxBasis}`);
  }
  const keep = maxBasis === undefined ? 0 : (options.restartKeep ?? defaultRestartKeep(wanted, maxBasis));
  if (maxBasis !== undefined && !(Number.isInteger(keep) && keep >= wanted && keep <= maxBasis - 2)) {
    throw new RangeError(`restartKeep must be an integer in [count, maxBasis − 2], got ${options.restartKeep}`);
  }

  // A Ritz pair (θ, estimate) has converged when estimate ≤ tol·max(|θ|, tiny); tiny (ARPACK's ε^{2/3},
  // scaled by ‖T‖) keeps the test meaningful for θ ≈ 0. An estimate below the breakdown level is rounding
  // noise and counts as exact whatever θ (else a zero eigenvalue could never converge).
  const slackAt = (value: number, normEstimate: number): number =>
    Math.max(tolerance * Math.max(Math.abs(value), Number.EPSILON ** (2 / 3) * normEstimate), BREAKDOWN_TOLERANCE * normEstimate);
  const convergedAt = (value: number, estimate: number, normEstimate: number): boolean => estimate <= slackAt(value, normEstimate);

  const rng = createRng(seed);
  const given = warmVectorsOf(n, options);
  let process: LanczosProcess | null = null;
  let probeCalls = 0;
  if (given.length >= 2) {
    // 'auto' probes: is the first warm vector an eigenvector of H to within the tolerance? Then the previous
    // eigenvectors are close, and their Rayleigh–Ritz (which reuses the probe) locks the converged ones; else
    // their sum starts the run, as 'sum' does, and the probe's one application is the price of asking.
    const mode = options.warmStart ?? 'sum';
    let block = mode === 'block';
    let firstProduct: Float64Array | undefined;
    const firstNorm = norm(given[0]);
    if (mode === 'auto' && firstNorm > 0 && Number.isFinite(firstNorm)) {
      const first = scale(1 / firstNorm, Float64Array.from(given[0]));
      firstProduct = await applyOperator(op, first);
      probeCalls = 1;
      const rho = dot(first, firstProduct);
      const residual = norm(axpy(-rho, first, Float64Array.from(firstProduct)));
      block = convergedAt(rho, residual, Math.abs(rho) + residual);
    }
    if (block) {
      process = await LanczosProcess.fromWarmBlock(op, n, given, rng, {
        keep: maxBasis === undefined ? n : maxBasis - 2,
        wanted,
        isConverged: convergedAt,
        firstProduct,
      });
      if (process && firstProduct) process.operatorCalls += probeCalls;
    } else {
      const start = new Float64Array(n);
      for (const v of given) axpy(1, v, start);
      const s = norm(start);
      if (s > 0 && Number.isFinite(s)) process = new LanczosProcess(op, n, start, rng);
    }
  } else if (given.length === 1 && norm(given[0]) > 0 && Number.isFinite(norm(given[0]))) {
    process = new LanczosProcess(op, n, given[0], rng);
  }
  const warm = process !== null;
  process ??= new LanczosProcess(op, n, randomNormalVector(n, rng), rng);
  if (process.operatorCalls === 0) process.operatorCalls = probeCalls;
  // Unrestarted, the basis stops at n by itself (extend); the cap counts the warm start's applications too.
  const maxIterations = options.maxIterations ?? Math.min(n, Math.max(2 * count + 20, 3 * count)) + process.operatorCalls;
  if (!(maxIterations >= 1)) throw new RangeError(`maxIterations must be ≥ 1, got ${options.maxIterations}`);
  const lanczos = process;
  const slack = (value: number): number => slackAt(value, lanczos.normEstimate);
  const isConverged = (value: number, estimate: number): boolean => estimate <= slack(value);

  const topPairsConverged = (): boolean => {
    if (lanczos.size < wanted) return false;
    const all = lanczos.ritzEstimates();
    for (let i = 0; i < wanted; i++) if (!isConverged(all.values[i], all.residuals[i])) return false;
    return lanczos.size === n || newestBlockHeardOut(all.values[wanted - 1]);
  };

  // See the file comment: after a breakdown, the newest block must have found the top of what it explores.
  const newestBlockHeardOut = (thetaM: number): boolean => {
    const blocks = lanczos.blockStarts.length;
    const newestBrokeDown = lanczos.brokeDown;
    if (blocks === 1 && !newestBrokeDown) return true; // no breakdown yet: plain Lanczos
    if (warm && (blocks === 1 || (blocks === 2 && !newestBrokeDown))) return true; // warm start trusted
    const newest = lanczos.ritzEstimates(lanczos.blockStarts[blocks - 1]);
    if (!isConverged(newest.values[0], newest.residuals[0])) return false;
    return !newestBrokeDown || newest.values[0] <= thetaM + slack(thetaM);
  };

  let converged = false;
  for (;;) {
    await lanczos.step();
    if (topPairsConverged()) {
      converged = true;
      break;
    }
    if (lanczos.operatorCalls >= maxIterations) break;
    if (maxBasis !== undefined && lanczos.size >= maxBasis) lanczos.thickRestart(keep);
    else if (!lanczos.extend()) break;
  }

  const iterations = lanczos.operatorCalls;
  const pairs: RitzPair[] = [];
  for (const { value, vector, estimate } of lanczos.ritzPairs(wanted)) {
    let residual = estimate;
    if (trueResiduals) {
      const hu = await applyOperator(op, vector);
      lanczos.operatorCalls++;
      residual = norm(axpy(-value, vector, hu));
    }
    pairs.push({ value, vector, residual });
  }
  return { pairs, iterations, operatorCalls: lanczos.operatorCalls, converged };
}

/**
 * Lanczos for the top (largest algebraic) eigenpairs of a symmetric operator: the driver of the Lanczos process
 * (lanczos-process.ts: full reorthogonalisation, breakdown restarts), optionally thick-restarted
 * (thick-restart.ts) and optionally started from a block of warm vectors (warm-block.ts).
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
import { BREAKDOWN_TOLERANCE, LanczosProcess } from './lanczos-process';
import { applyOperator, type LinearOperator } from './operator';
import { createRng, type Rng } from './random';
import { thickRestart, thickRestartSettings } from './thick-restart';
import { axpy, norm, randomNormalVector } from './vector';
import { chooseBlockStart, warmBlockProcess } from './warm-block';

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
   * Cap on basisOperatorCalls (the operator applications before the Ritz vectors are formed: the recurrence,
   * plus one per warm block vector); unrestarted, this is the Krylov dimension.
   * Default min(n, max(2M + 20, 3M)) + the warm block's size.
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
   * Previous eigenvectors. Two or more (counting startVector) start as `warmStart` says; a single one is the
   * start vector.
   */
  warmVectors?: Float64Array[];
  /** Seed for the random start and for breakdown restarts; default 0. */
  seed?: number;
  /** Default true: one extra operator application per returned pair for its true residual. */
  trueResiduals?: boolean;
  /**
   * Thick restart (thick-restart.ts): the basis never exceeds this many vectors (memory and reorthogonalisation
   * O(maxBasis·n)). At least M + 2; max(2M + 10, 40) is a good choice. Absent (default): no restarts, the basis
   * grows to the Krylov dimension, which on the bench's Hessian took a few fewer operator applications for
   * about the same time of Lanczos's own work (figures in tools/bench/README.md).
   */
  maxBasis?: number;
  /** Ritz vectors kept at a thick restart; default M + ⌊(maxBasis − M)/2⌋ (at most maxBasis − 2). */
  restartKeep?: number;
  /**
   * How two or more warm vectors (startVector first, then warmVectors, top eigenvector first) start the run:
   * 'sum': their sum is the start vector; 'block': Rayleigh–Ritz of H on their span (one operator application
   * each), converged Ritz pairs locked, the sum of the others the start (warm-block.ts); 'auto': 'block' when the
   * first vector is already an eigenvector to within the tolerance (one application to ask), else 'sum'.
   * Default 'sum': on the bench's Hessian one GD step on, no previous eigenvector is within 1e-4, so 'block'
   * spends its applications for nothing there; with close checkpoints 'block' and 'auto' win by far (figures
   * in tools/bench/README.md).
   */
  warmStart?: 'auto' | 'sum' | 'block';
}

export interface LanczosResult {
  /** Sorted by value, descending. min(count, basisOperatorCalls) pairs. */
  pairs: RitzPair[];
  /**
   * Operator applications that built the basis — the Lanczos recurrence (the Krylov dimension, unrestarted)
   * plus the warm block and the 'auto' probe — before the Ritz vectors.
   */
  basisOperatorCalls: number;
  /** Every operator application: basisOperatorCalls + one per pair when trueResiduals. */
  operatorCalls: number;
  /** Every wanted pair met the tolerance (by the Lanczos estimate) before the cap. */
  converged: boolean;
}

/** The warm start vectors: startVector, then warmVectors; each checked for length. */
function warmVectorsOf(n: number, options: LanczosOptions): Float64Array[] {
  const given = [...(options.startVector ? [options.startVector] : []), ...(options.warmVectors ?? [])];
  for (const v of given) {
    if (v.length !== n) throw new RangeError(`warm start vector has length ${v.length}, expected ${n}`);
  }
  return given;
}

/** A process started from the sum of the warm vectors; null when the sum is zero or not finite. */
function sumStartProcess(op: LinearOperator, n: number, vectors: readonly Float64Array[], rng: Rng): LanczosProcess | null {
  const start = new Float64Array(n);
  for (const v of vectors) axpy(1, v, start);
  const s = norm(start);
  return s > 0 && Number.isFinite(s) ? new LanczosProcess(op, n, start, rng) : null;
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
  const restart = thickRestartSettings(options, n, wanted);

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
    const choice = await chooseBlockStart(op, given, options.warmStart ?? 'sum', convergedAt);
    if (choice.firstProduct) probeCalls = 1;
    if (choice.block) {
      // The block may fill at most maxBasis − 2 vectors: room for the Krylov start and its step.
      const keep = restart === null ? n : restart.maxBasis - 2;
      process = await warmBlockProcess(op, n, given, rng, { keep, wanted, isConverged: convergedAt, firstProduct: choice.firstProduct });
    } else {
      process = sumStartProcess(op, n, given, rng);
    }
  } else if (given.length === 1) {
    process = sumStartProcess(op, n, given, rng);
  }
  const warm = process !== null;
  process ??= new LanczosProcess(op, n, randomNormalVector(n, rng), rng);
  process.operatorCalls += probeCalls;
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
    if (restart !== null && lanczos.size >= restart.maxBasis) thickRestart(lanczos, restart.keep);
    else if (!lanczos.extend()) break;
  }

  const basisOperatorCalls = lanczos.operatorCalls;
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
  return { pairs, basisOperatorCalls, operatorCalls: lanczos.operatorCalls, converged };
}

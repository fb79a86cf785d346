/**
 * Thick restart of the Lanczos process (Wu & Simon 2000), lanczosTopEigenpairs' option maxBasis.
 *
 * When the basis holds maxBasis vectors, keep the top `keep` Ritz vectors Y = Q Z and continue from the
 * residual direction q̂ = w/‖w‖. Since H Y = Y Θ + q̂ sᵀ with one vector q̂, the kept space is again a Krylov
 * space, and an orthogonal P with P e_1 ∝ s that tridiagonalises Θ (Householder) writes it as one: with the
 * kept vectors in the order Y P e_keep … Y P e_1, T stays tridiagonal, coupled to q̂ by ‖s‖ in its last row,
 * and everything after (recurrence, convergence test, breakdowns) is unchanged. Memory and the cost of a step
 * stay O(maxBasis·n). A process with a warm block restarts its own way (warm-block.ts).
 */
import type { LanczosProcess } from './lanczos-process';
import { householderTridiagonalise } from './symmetric-eigen';
import { combineInto, dot, norm, scale } from './vector';
import { restartWithBlock } from './warm-block';

/** The validated thick-restart options of one run. */
export interface ThickRestartSettings {
  /** The basis never exceeds this many vectors. */
  maxBasis: number;
  /** Ritz vectors kept at each restart. */
  keep: number;
}

/** Default number of Ritz vectors kept at a thick restart: the wanted ones and half the rest of the room. */
export function defaultRestartKeep(count: number, maxBasis: number): number {
  return Math.min(maxBasis - 2, count + Math.floor((maxBasis - count) / 2));
}

/**
 * The options maxBasis and restartKeep for `wanted` pairs of an operator on Rⁿ, checked; null when the run
 * does not restart (no maxBasis, or maxBasis ≥ n: a basis of n vectors spans everything, nothing to restart).
 */
export function thickRestartSettings(
  options: { maxBasis?: number; restartKeep?: number },
  n: number,
  wanted: number,
): ThickRestartSettings | null {
  if (options.maxBasis === undefined || !(options.maxBasis < n)) return null;
  const maxBasis = options.maxBasis;
  if (!(Number.isInteger(maxBasis) && maxBasis >= wanted + 2)) {
    throw new RangeError(`maxBasis must be an integer ≥ count + 2 = ${wanted + 2}, got ${maxBasis}`);
  }
  const keep = options.restartKeep ?? defaultRestartKeep(wanted, maxBasis);
  if (!(Number.isInteger(keep) && keep >= wanted && keep <= maxBasis - 2)) {
    throw new RangeError(`restartKeep must be an integer in [count, maxBasis − 2], got ${options.restartKeep}`);
  }
  return { maxBasis, keep };
}

/**
 * Thick restart (after step(), before extend()): keeps the top `keep` Ritz vectors, continues from the pending
 * residual's direction, and leaves the process ready to step(). See the file comment.
 */
export function thickRestart(process: LanczosProcess, keep: number): void {
  const w = process.pendingResidual;
  const k = process.size;
  if (w === null) throw new Error('thickRestart: call step() first');
  if (!(keep >= 1 && keep < k)) throw new RangeError(`thickRestart: keep ${keep} of ${k}`);
  if (process.blockSize > 0) {
    restartWithBlock(process, keep, w);
    return;
  }
  const small = process.ritzDecomposition();
  const beta = process.residualNorm;
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
  const kept = Array.from({ length: keep }, () => process.takeVector());
  combineInto(kept, process.basis, coefficients);
  const alpha = Array.from({ length: keep }, (_, r) => d[keep - 1 - r]);
  const offDiagonal = Array.from({ length: keep - 1 }, (_, r) => e[keep - 2 - r]);
  process.rebase(kept, alpha, offDiagonal, null);
  // q̂ = ±w/β, the sign making the coupling +‖s‖ (see tridiagonaliseFrom).
  if (!process.brokeDown) process.appendUnitVector(scale((coupling < 0 ? -1 : 1) / beta, w), Math.abs(coupling));
  else process.pushDirection(new Float64Array(0), 0);
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
  const { d, e, q } = householderTridiagonalise(rows);
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

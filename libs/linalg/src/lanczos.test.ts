import { describe, expect, it } from 'vitest';
import { lanczosTopEigenpairs, type LanczosResult } from './lanczos';
import { LanczosProcess } from './lanczos-process';
import { createRng } from './random';
import { subspaceOverlap } from './subspace';
import { symmetricEigen } from './symmetric-eigen';
import {
  denseOperator,
  descending,
  diagonalMatrix,
  fromSpectrum,
  matVec,
  orthonormalityError,
  randomOrthogonal,
} from './testing/matrices';
import { defaultRestartKeep, thickRestart, thickRestartSettings, tridiagonaliseFrom } from './thick-restart';
import { warmBlockProcess } from './warm-block';
import { axpy, dot, norm, randomNormalVector } from './vector';

/** λ_head followed by n − head.length values drawn uniformly from [lo, hi]. */
function spectrum(head: number[], n: number, [lo, hi]: [number, number], seed: number): number[] {
  const rng = createRng(seed);
  return [...head, ...Array.from({ length: n - head.length }, () => lo + (hi - lo) * rng.uniform())];
}

/** The properties every result must have against a matrix with known spectrum. */
function expectExactTopPairs(result: LanczosResult, h: Float64Array, lambda: number[], count: number): void {
  const top = descending(lambda).slice(0, count);
  expect(result.pairs).toHaveLength(top.length);
  result.pairs.forEach((pair, i) => {
    expect(Math.abs(pair.value - top[i])).toBeLessThanOrEqual(1e-8 * Math.abs(top[i]));
    expect(norm(pair.vector)).toBeCloseTo(1, 12);
    // The reported residual is the true one: recompute it.
    const r = axpy(-pair.value, pair.vector, matVec(h, pair.vector));
    expect(pair.residual).toBeCloseTo(norm(r), 12);
    expect(pair.residual).toBeLessThanOrEqual(1e-5 * Math.abs(pair.value));
  });
  expect(orthonormalityError(result.pairs.map((p) => p.vector))).toBeLessThan(1e-10);
}

describe('lanczosTopEigenpairs', () => {
  it('finds the top pairs of a diagonal matrix and counts operator calls honestly', async () => {
    const n = 100;
    const lambda = spectrum([10, 9, 8, 7, 6], n, [0, 4], 1);
    const h = diagonalMatrix(lambda);
    const { op, calls } = denseOperator(h, n);
    const result = await lanczosTopEigenpairs(op, n, { count: 5 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 5);
    expect(result.operatorCalls).toBe(calls());
    expect(result.operatorCalls).toBe(result.basisOperatorCalls + 5); // one extra call per true residual
    expect(result.basisOperatorCalls).toBeLessThanOrEqual(30); // default cap max(2M + 20, 3M)
  });

  it('finds the top pairs of Q diag(λ) Qᵀ with a spread bulk, negatives included', async () => {
    const n = 200;
    const lambda = spectrum([20, 15, 12, 10, 9, 8], n, [-2, 5], 2);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 102));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, seed: 3 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 6);
  });

  it('resolves a tight cluster 1.0, 0.999, … at the top', async () => {
    const n = 150;
    const lambda = spectrum([1, 0.999, 0.998, 0.997, 0.996], n, [0, 0.5], 4);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 104));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 5 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 5);
  });

  it('returns every copy of a repeated top eigenvalue when the Krylov space breaks down (restarts)', async () => {
    // Three distinct eigenvalues: a Krylov sequence is invariant after 3 steps and sees each value once,
    // so the further copies of 5 come only from restarts orthogonal to the basis.
    const n = 100;
    const lambda = [5, 5, 5, ...Array<number>(20).fill(2), ...Array<number>(77).fill(1)];
    const q = randomOrthogonal(n, 105);
    const h = fromSpectrum(lambda, q);
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 4 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 4);
    expect(subspaceOverlap(result.pairs.slice(0, 3).map((p) => p.vector), q.slice(0, 3)).overlap).toBeCloseTo(1, 10);
  });

  it('returns every copy of a repeated top eigenvalue above a continuous bulk (full reorthogonalisation)', async () => {
    // No breakdown here: the copies grow out of rounding noise that full reorthogonalisation keeps out of the
    // found directions, each copy taking about as many steps as the first, hence the larger Krylov cap.
    const n = 150;
    const lambda = spectrum([10, 10, 10], n, [0, 3], 6);
    const q = randomOrthogonal(n, 106);
    const h = fromSpectrum(lambda, q);
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 3, maxIterations: 60 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 3);
    expect(subspaceOverlap(result.pairs.map((p) => p.vector), q.slice(0, 3)).overlap).toBeCloseTo(1, 10);
  });

  it('converges exact zero eigenvalues of a rank-deficient H (as on tiny nets) through restarts', async () => {
    const n = 40;
    const lambda = [5, 4, 3, 2, 1, ...Array<number>(n - 5).fill(0)];
    const h = fromSpectrum(lambda, randomOrthogonal(n, 109));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 8 });
    expect(result.converged).toBe(true);
    expect(result.basisOperatorCalls).toBeLessThan(12);
    result.pairs.forEach((pair, i) => expect(pair.value).toBeCloseTo(descending(lambda)[i], 12));
    for (const pair of result.pairs) expect(pair.residual).toBeLessThan(1e-12);
    expect(orthonormalityError(result.pairs.map((p) => p.vector))).toBeLessThan(1e-10);
  });

  it('orders by algebraic value: a large negative eigenvalue is not "top"', async () => {
    const n = 120;
    const lambda = spectrum([3, 2.5, 2, -10, -12], n, [-1, 1], 7);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 107));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 3 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 3);
    // An entirely negative spectrum: the top is the least negative.
    const negative = spectrum([-1, -1.5, -2], n, [-10, -3], 8);
    const hn = fromSpectrum(negative, randomOrthogonal(n, 108));
    const resultNegative = await lanczosTopEigenpairs(denseOperator(hn, n).op, n, { count: 3 });
    expectExactTopPairs(resultNegative, hn, negative, 3);
  });

  it('returns all n pairs, exact, when n ≤ count', async () => {
    const n = 4;
    const rng = createRng(9);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) h[i * n + j] = h[j * n + i] = rng.normal();
    const exact = symmetricEigen(h, n);
    const { op, calls } = denseOperator(h, n);
    const result = await lanczosTopEigenpairs(op, n, { count: 6 });
    expect(result.pairs).toHaveLength(n);
    expect(result.basisOperatorCalls).toBe(n);
    expect(result.operatorCalls).toBe(calls());
    result.pairs.forEach((pair, i) => {
      expect(pair.value).toBeCloseTo(exact.values[i], 12);
      expect(pair.residual).toBeLessThan(1e-12);
    });
    const one = await lanczosTopEigenpairs(async (v) => Float64Array.from(v, (x) => -2 * x), 1, { count: 3 });
    expect(one.pairs.map((p) => p.value)).toEqual([-2]);
  });

  it('converges the top pair in very few iterations from a warm start at the exact top vector', async () => {
    const n = 200;
    const lambda = spectrum([4, 3.9, 3.8], n, [0, 3.5], 10);
    const q = randomOrthogonal(n, 110);
    const h = fromSpectrum(lambda, q);
    const cold = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 1 });
    const warm = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 1, startVector: q[0] });
    expect(warm.converged).toBe(true);
    expectExactTopPairs(warm, h, lambda, 1);
    expect(warm.basisOperatorCalls).toBeLessThanOrEqual(3);
    expect(cold.basisOperatorCalls).toBeGreaterThan(warm.basisOperatorCalls);
  });

  it('warm vectors from a nearby matrix (a previous checkpoint) save iterations', async () => {
    const n = 200;
    const lambda = spectrum([6, 5, 4.5, 4.2], n, [0, 4], 11);
    const q = randomOrthogonal(n, 111);
    const h = fromSpectrum(lambda, q);
    // The "previous checkpoint": same eigenvectors, a slightly different spectrum, plus a small symmetric kick.
    const previous = fromSpectrum(lambda.map((x) => x * 1.01), q);
    const rng = createRng(12);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const kick = 1e-3 * rng.normal();
        previous[i * n + j] += kick;
        if (i !== j) previous[j * n + i] += kick;
      }
    }
    const before = await lanczosTopEigenpairs(denseOperator(previous, n).op, n, { count: 4 });
    const cold = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 4, seed: 1 });
    const warm = await lanczosTopEigenpairs(denseOperator(h, n).op, n, {
      count: 4,
      warmVectors: before.pairs.map((p) => p.vector),
    });
    expectExactTopPairs(warm, h, lambda, 4);
    expect(warm.basisOperatorCalls).toBeLessThan(cold.basisOperatorCalls);
  });

  it('with trueResiduals: false reports the Lanczos estimates and spends no extra calls', async () => {
    const n = 100;
    const lambda = spectrum([10, 9, 8], n, [0, 5], 13);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 113));
    const { op, calls } = denseOperator(h, n);
    const result = await lanczosTopEigenpairs(op, n, { count: 3, trueResiduals: false, tolerance: 1e-8 });
    expect(result.operatorCalls).toBe(result.basisOperatorCalls);
    expect(calls()).toBe(result.basisOperatorCalls);
    for (const pair of result.pairs) {
      expect(pair.residual).toBeLessThanOrEqual(1e-8 * pair.value);
      // With an orthonormal basis the estimate |β s_k| equals the true residual up to rounding.
      const trueResidual = norm(axpy(-pair.value, pair.vector, matVec(h, pair.vector)));
      expect(Math.abs(trueResidual - pair.residual)).toBeLessThan(1e-12 * pair.value);
    }
  });

  it('reports converged: false when the Krylov cap is too small, and is deterministic per seed', async () => {
    const n = 150;
    const lambda = spectrum([1, 0.99, 0.98], n, [0, 0.97], 14);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 114));
    const { op, calls } = denseOperator(h, n);
    const capped = await lanczosTopEigenpairs(op, n, { count: 3, maxIterations: 6, seed: 5 });
    expect(capped.converged).toBe(false);
    expect(capped.basisOperatorCalls).toBe(6);
    expect(capped.pairs).toHaveLength(3);
    expect(capped.operatorCalls).toBe(calls());
    const again = await lanczosTopEigenpairs(op, n, { count: 3, maxIterations: 6, seed: 5 });
    expect(again.pairs.map((p) => p.value)).toEqual(capped.pairs.map((p) => p.value));
  });

  it('validates its arguments', async () => {
    const op = async (v: Float64Array) => v;
    await expect(lanczosTopEigenpairs(op, 0, { count: 1 })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(op, 5, { count: 0 })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(op, 5, { count: 1, startVector: new Float64Array(4) })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(async () => new Float64Array(3), 5, { count: 1 })).rejects.toThrow(RangeError);
  });
});

/** A symmetric kick of size ~scale·‖·‖ added in place: the "next checkpoint" of a matrix. */
function kick(h: Float64Array, n: number, scale: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = Float64Array.from(h);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = scale * rng.normal();
      out[i * n + j] += x;
      if (i !== j) out[j * n + i] += x;
    }
  }
  return out;
}

describe('thick restart (maxBasis)', () => {
  it('tridiagonaliseFrom: orthogonal P, first column ∝ s, PᵀΘP tridiagonal, coupling ±‖s‖', () => {
    const theta = Float64Array.from([5, 4, 3, 2.5, 1, 0.5]);
    for (const s of [Float64Array.from([0.3, -0.1, 0.02, 0, 0.2, -0.05]), Float64Array.from([0, 0, 1e-3, 0, 0, 0]), new Float64Array(6)]) {
      const m = theta.length;
      const { d, e, p, coupling } = tridiagonaliseFrom(theta, s);
      const col = (l: number) => Float64Array.from({ length: m }, (_, i) => p[i * m + l]);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) expect(dot(col(a), col(b))).toBeCloseTo(a === b ? 1 : 0, 13);
      for (let a = 0; a < m; a++) {
        for (let b = 0; b < m; b++) {
          let t = 0;
          for (let i = 0; i < m; i++) t += p[i * m + a] * theta[i] * p[i * m + b];
          const expected = a === b ? d[a] : Math.abs(a - b) === 1 ? e[Math.min(a, b)] : 0;
          expect(t).toBeCloseTo(expected, 13);
        }
      }
      expect(Math.abs(coupling)).toBeCloseTo(norm(s), 14);
      if (norm(s) > 0) expect(Math.abs(dot(col(0), s))).toBeCloseTo(norm(s), 14);
    }
  });

  it('keeps the Lanczos relation H Q = Q T + coupling after a restart, Q orthonormal', async () => {
    const n = 120;
    const lambda = spectrum([9, 8, 7], n, [0, 5], 30);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 130));
    const rng = createRng(31);
    const process = new LanczosProcess(denseOperator(h, n).op, n, randomNormalVector(n, rng), rng);
    for (let i = 0; i < 15; i++) {
      await process.step();
      if (i < 14) process.extend();
    }
    thickRestart(process, 6);
    // Now: 6 kept vectors + q̂, ready to step; H q_j = Σ_i T_ij q_i for j < 6, with T_{6,5} = the coupling.
    expect(process.size).toBe(7);
    expect(orthonormalityError(process.basis)).toBeLessThan(1e-13);
    for (let j = 0; j < 6; j++) {
      const r = matVec(h, process.basis[j]);
      axpy(-process.alpha[j], process.basis[j], r);
      if (j > 0) axpy(-process.offDiagonal[j - 1], process.basis[j - 1], r);
      axpy(-process.offDiagonal[j], process.basis[j + 1], r);
      expect(norm(r)).toBeLessThan(1e-12);
    }
    // And it goes on as plain Lanczos: the top pair converges.
    for (let i = 0; i < 20; i++) {
      await process.step();
      process.extend();
    }
    await process.step();
    const top = process.ritzEstimates();
    expect(top.values[0]).toBeCloseTo(9, 10);
  });

  it('finds the same top 20 as the dense solver with a basis of 44 (restarts taken)', async () => {
    const n = 300;
    const lambda = spectrum([22, 19.5, 17, 15.8, 14.1, 13, 11.9, 10.9, 10], n, [0, 0.33], 15).map((x, i) => (i < 9 ? x : x ** 4 / 0.33 ** 3));
    const h = fromSpectrum(lambda, randomOrthogonal(n, 115));
    const exact = symmetricEigen(h, n);
    const { op, calls } = denseOperator(h, n);
    const result = await lanczosTopEigenpairs(op, n, { count: 20, maxBasis: 44, maxIterations: 600, tolerance: 1e-9 });
    expect(result.converged).toBe(true);
    expect(result.basisOperatorCalls).toBeGreaterThan(44); // the basis was full at least once
    expect(result.operatorCalls).toBe(calls());
    expectExactTopPairs(result, h, lambda, 20);
    result.pairs.forEach((pair, i) => expect(Math.abs(dot(pair.vector, exact.vectors[i]))).toBeCloseTo(1, 6));
  });

  it('resolves a tight cluster and returns every copy of a repeated value through breakdowns', async () => {
    const n = 150;
    const cluster = spectrum([1, 0.999, 0.998, 0.997, 0.996], n, [0, 0.5], 4);
    const hc = fromSpectrum(cluster, randomOrthogonal(n, 104));
    const clustered = await lanczosTopEigenpairs(denseOperator(hc, n).op, n, { count: 5, maxBasis: 12, maxIterations: 400 });
    expect(clustered.converged).toBe(true);
    expect(clustered.basisOperatorCalls).toBeGreaterThan(12);
    expectExactTopPairs(clustered, hc, cluster, 5);

    const repeated = [5, 5, 5, ...Array<number>(20).fill(2), ...Array<number>(77).fill(1)];
    const q = randomOrthogonal(100, 105);
    const hr = fromSpectrum(repeated, q);
    const result = await lanczosTopEigenpairs(denseOperator(hr, 100).op, 100, { count: 4, maxBasis: 7 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, hr, repeated, 4);
    expect(subspaceOverlap(result.pairs.slice(0, 3).map((p) => p.vector), q.slice(0, 3)).overlap).toBeCloseTo(1, 10);
  });

  it('keeps the wanted pairs and half the rest of the room by default; no restart when maxBasis ≥ n', () => {
    expect(defaultRestartKeep(20, 60)).toBe(40);
    expect(defaultRestartKeep(5, 10)).toBe(7);
    expect(defaultRestartKeep(5, 7)).toBe(5); // capped at maxBasis − 2
    expect(thickRestartSettings({ maxBasis: 10 }, 50, 5)).toEqual({ maxBasis: 10, keep: 7 });
    expect(thickRestartSettings({ maxBasis: 10, restartKeep: 6 }, 50, 5)).toEqual({ maxBasis: 10, keep: 6 });
    expect(thickRestartSettings({ maxBasis: 50 }, 50, 5)).toBeNull();
    expect(thickRestartSettings({}, 50, 5)).toBeNull();
  });

  it('validates maxBasis and restartKeep', async () => {
    const op = async (v: Float64Array) => v;
    await expect(lanczosTopEigenpairs(op, 50, { count: 5, maxBasis: 6 })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(op, 50, { count: 5, maxBasis: 10, restartKeep: 9 })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(op, 50, { count: 5, maxBasis: 10, restartKeep: 4 })).rejects.toThrow(RangeError);
  });
});

describe('warm block start (warmStart)', () => {
  const n = 200;
  const lambda = spectrum([6, 5, 4.5, 4.2, 4.1, 4.05], n, [0, 4], 16);
  const q = randomOrthogonal(n, 116);
  const previous = fromSpectrum(lambda, q);
  // The top eigenvectors of the previous checkpoint, to working precision.
  const warmVectors = q.slice(0, 6);

  it('converges in fewer calls than cold and than their sum when the checkpoints are close', async () => {
    const h = kick(previous, n, 1e-9, 17);
    const cold = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, tolerance: 1e-6 });
    const sum = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, tolerance: 1e-6, warmVectors });
    const { op, calls } = denseOperator(h, n);
    const block = await lanczosTopEigenpairs(op, n, { count: 6, tolerance: 1e-6, warmVectors, warmStart: 'block' });
    const exact = symmetricEigen(h, n);
    expect(block.converged).toBe(true);
    expect(block.operatorCalls).toBe(calls());
    block.pairs.forEach((pair, i) => {
      expect(pair.value).toBeCloseTo(exact.values[i], 9);
      expect(pair.residual).toBeLessThanOrEqual(1e-6 * pair.value);
    });
    expect(orthonormalityError(block.pairs.map((p) => p.vector))).toBeLessThan(1e-10);
    // 6 Rayleigh–Ritz applications, all six pairs locked, one Krylov step: 7.
    expect(block.basisOperatorCalls).toBe(7);
    expect(block.basisOperatorCalls).toBeLessThan(sum.basisOperatorCalls);
    expect(sum.basisOperatorCalls).toBeLessThan(cold.basisOperatorCalls);
    // 'auto' asks one application of the first vector, then takes the block (reusing it).
    const auto = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, tolerance: 1e-6, warmVectors, warmStart: 'auto' });
    expect(auto.basisOperatorCalls).toBe(block.basisOperatorCalls);
  });

  it('locks the converged pairs and finds the rest when only some are close; estimates are the true residuals', async () => {
    // Couple the clustered 4.2, 4.1, 4.05 eigenvectors to bulk ones: the top three stay eigenvectors.
    const h = Float64Array.from(previous);
    for (const [i, b] of [[3, 50], [4, 60], [5, 70]]) {
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) h[r * n + c] += 1e-3 * (q[i][r] * q[b][c] + q[b][r] * q[i][c]);
      }
    }
    const exact = symmetricEigen(h, n);
    const options = { count: 6, tolerance: 1e-6, warmVectors, warmStart: 'block' as const, trueResiduals: false };
    const block = await lanczosTopEigenpairs(denseOperator(h, n).op, n, options);
    const cold = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, tolerance: 1e-6 });
    expect(block.converged).toBe(true);
    expect(block.basisOperatorCalls).toBeLessThan(cold.basisOperatorCalls);
    block.pairs.forEach((pair, i) => {
      expect(pair.value).toBeCloseTo(exact.values[i], 9);
      const trueResidual = norm(axpy(-pair.value, pair.vector, matVec(h, pair.vector)));
      expect(Math.abs(trueResidual - pair.residual)).toBeLessThan(1e-10);
      expect(trueResidual).toBeLessThanOrEqual(1e-6 * pair.value);
    });
  });

  it("'auto' falls back to the sum when the first vector is far from an eigenvector (one call to ask)", async () => {
    const h = kick(previous, n, 1e-3, 19);
    const sum = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, warmVectors, warmStart: 'sum' });
    const auto = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, warmVectors, warmStart: 'auto' });
    expect(auto.basisOperatorCalls).toBe(sum.basisOperatorCalls + 1);
    expect(auto.pairs.map((p) => p.value)).toEqual(sum.pairs.map((p) => p.value));
  });

  it('locks nothing when no warm vector has converged, and still finds the exact top pairs', async () => {
    const h = kick(previous, n, 1e-2, 21);
    const exact = symmetricEigen(h, n);
    const { op, calls } = denseOperator(h, n);
    // Bulk eigenvectors of the previous matrix: far from converged on H's top.
    const far = [q[100], q[101], q[102]];
    const isConverged = (value: number, residual: number) => residual <= 1e-8 * Math.abs(value);
    const started = await warmBlockProcess(op, n, far, createRng(0), { keep: n, wanted: 3, isConverged });
    expect(started?.blockSize).toBe(0);
    expect(started?.size).toBe(1);
    expect(calls()).toBe(3); // one application per warm vector
    const result = await lanczosTopEigenpairs(op, n, { count: 3, warmVectors: far, warmStart: 'block', tolerance: 1e-8, maxIterations: 100 });
    expect(result.converged).toBe(true);
    expect(result.operatorCalls).toBe(calls() - 3);
    result.pairs.forEach((pair, i) => {
      expect(pair.value).toBeCloseTo(exact.values[i], 9);
      expect(pair.residual).toBeLessThanOrEqual(1e-7 * pair.value);
    });
  });

  it('with thick restarts too: a block start, then restarts that carry the block residual', async () => {
    const h = kick(previous, n, 2e-6, 20);
    const exact = symmetricEigen(h, n);
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, {
      count: 6, tolerance: 1e-8, warmVectors, warmStart: 'block', maxBasis: 10, maxIterations: 400, trueResiduals: false,
    });
    expect(result.converged).toBe(true);
    result.pairs.forEach((pair, i) => {
      expect(pair.value).toBeCloseTo(exact.values[i], 10);
      const trueResidual = norm(axpy(-pair.value, pair.vector, matVec(h, pair.vector)));
      expect(Math.abs(trueResidual - pair.residual)).toBeLessThan(1e-10);
    });
    expect(orthonormalityError(result.pairs.map((p) => p.vector))).toBeLessThan(1e-10);
  });
});

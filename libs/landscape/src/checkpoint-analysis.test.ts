import { describe, expect, it } from 'vitest';
import { symmetricEigenvalues } from '@lrscape/linalg';
import { knownHessian } from './testing/known-hessian';
import { analyzeCheckpoint, evenGrid, type CheckpointAnalysisSettings } from './checkpoint-analysis';
import { splitOutliers } from './outliers';

const settings: CheckpointAnalysisSettings = {
  topK: 4,
  bottomK: 2,
  maxIterations: 12,
  tolerance: 1e-10,
  storeVectors: 2,
  seed: 1,
  density: { probes: 2, steps: 8, gridSize: 50 },
  traceProbes: 200,
  perturbationEpsilon: 1e-2,
};

describe('analyzeCheckpoint', () => {
  const lambdas = [10, 9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, -0.01, -0.02];
  // P = 12; the last layer's block is the trailing 4×4 submatrix.
  const { dense, scopes, curvature, n } = knownHessian(lambdas, { seed: 3, blocks: [1] });
  // A linear "network" of 3 examples × 2 classes: outputs = A θ, so the central difference is exact: Δ = A u.
  const A = Array.from({ length: 6 }, (_, r) => Float64Array.from({ length: n }, (_, c) => Math.sin(r + 2 * c)));
  const outputs = async (theta: Float32Array) => Float32Array.from(A, (row) => row.reduce((s, a, c) => s + a * theta[c], 0));
  const theta = new Float32Array(n);

  it('gives the known top eigenvalues, the outlier split, the stored vectors and the k-layer rows of each scope', async () => {
    const result = await analyzeCheckpoint(curvature, { run: 'r', step: 40, theta, scopes, outputs, response: { kind: 'classes', classes: 2 } }, settings);
    const full = result.rows.spectra.filter((r) => r.scope === 'full' && r.end === 'top');
    expect(full.map((r) => r.eigenvalue)).toEqual([10, 9, 0.5, 0.4].map((v) => expect.closeTo(v, 9)));
    expect(full.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
    // Two outliers (10, 9) above a bulk: the ratio-gap rule splits after rank 2.
    expect(splitOutliers([10, 9, 0.5, 0.4]).m).toBe(2);
    expect(full.map((r) => r.is_outlier)).toEqual([true, true, false, false]);
    expect(result.scopes.map((s) => [s.scope, s.m, s.converged])).toEqual([['full', 2, true], ['k1', expect.any(Number), true]]);
    expect(result.vectors.map((v) => [v.scope.kind, v.rank, v.vector.length])).toEqual([['full', 1, 12], ['full', 2, 12], ['block', 1, 4], ['block', 2, 4]]);
    expect(result.rows.klayer.map((r) => [r.k, r.rank])).toEqual([[1, 1], [1, 2], [1, 3], [1, 4]]);
  });

  it('finds the most negative eigenvalues of each scope, ascending, with residuals relative to λmax', async () => {
    const result = await analyzeCheckpoint(curvature, { run: 'r', step: 0, theta, scopes, outputs, response: { kind: 'classes', classes: 2 } }, settings);
    const bottom = result.rows.spectra.filter((r) => r.scope === 'full' && r.end === 'bottom');
    expect(bottom.map((r) => r.eigenvalue)).toEqual([-0.02, -0.01].map((v) => expect.closeTo(v, 8)));
    bottom.forEach((r) => expect(r.residual).toBeLessThan(1e-6 * 10));
    expect(bottom.every((r) => !r.is_outlier)).toBe(true);
    // The k1 block's bottom: the smallest eigenvalues of the trailing 4×4 submatrix.
    const sub = new Float64Array(16);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) sub[r * 4 + c] = dense[(8 + r) * n + 8 + c];
    const exact = [...symmetricEigenvalues(sub, 4)].reverse().slice(0, 2);
    const k1 = result.rows.spectra.filter((r) => r.scope === 'k1' && r.end === 'bottom').map((r) => r.eigenvalue);
    expect(k1).toEqual(exact.map((v) => expect.closeTo(v, 8)));
    expect([...result.warm.keys()]).toEqual(['full', 'k1', 'full:bottom', 'k1:bottom']);
  });

  it('stores the SLQ quadrature per probe, and the dense spectrum when asked', async () => {
    const result = await analyzeCheckpoint(curvature, { run: 'r', step: 0, theta, scopes, outputs, response: { kind: 'classes', classes: 2 }, exactSpectrum: true }, settings);
    const full = result.rows.quadrature.filter((r) => r.scope === 'full');
    expect(new Set(full.map((r) => r.probe))).toEqual(new Set([0, 1]));
    expect(full.every((r) => r.dimension === 12)).toBe(true);
    for (const probe of [0, 1]) expect(full.filter((r) => r.probe === probe).reduce((s, r) => s + r.weight, 0)).toBeCloseTo(1, 12);
    const exact = result.rows.exact_spectrum.filter((r) => r.scope === 'full').map((r) => r.eigenvalue);
    expect(exact).toEqual([...lambdas].sort((a, b) => b - a).map((v) => expect.closeTo(v, 10)));
    expect(result.rows.exact_spectrum.filter((r) => r.scope === 'k1')).toHaveLength(0);
  });

  it('estimates each scope’s trace within its error bar and a density that integrates to one', async () => {
    const result = await analyzeCheckpoint(curvature, { run: 'r', step: 0, theta, scopes, outputs, response: { kind: 'classes', classes: 2 } }, settings);
    const exactTrace = { full: lambdas.reduce((s, v) => s + v, 0), k1: [8, 9, 10, 11].reduce((s, i) => s + dense[i * n + i], 0) };
    for (const row of result.rows.trace) {
      const exact = exactTrace[row.scope as 'full' | 'k1'];
      expect(Math.abs(row.estimate - exact)).toBeLessThan(4 * row.stderr);
    }
    const fullDensity = result.rows.density.filter((r) => r.scope === 'full');
    const dx = fullDensity[1].lambda - fullDensity[0].lambda;
    expect(fullDensity.reduce((s, r) => s + r.density, 0) * dx).toBeCloseTo(1, 1);
  });

  it('reads each stored direction’s response per class as the mean over examples of A·u', async () => {
    const result = await analyzeCheckpoint(curvature, { run: 'r', step: 0, theta, scopes, outputs, response: { kind: 'classes', classes: 2 } }, settings);
    const u = result.spectra[0].pairs[0].vector;
    const au = A.map((row) => row.reduce((s, a, c) => s + a * Math.fround(1e-2 * u[c]), 0) / 1e-2);
    const rows = result.rows.perturbations.filter((r) => r.direction === 1);
    expect(rows.map((r) => r.class_or_x)).toEqual([0, 1]);
    // float32 θ ± εu: the difference carries float32 rounding of ε·u (relative ~1e-7 of ε).
    expect(rows[0].delta).toBeCloseTo((au[0] + au[2] + au[4]) / 3, 4);
    expect(rows[1].delta).toBeCloseTo((au[1] + au[3] + au[5]) / 3, 4);
    expect(result.rows.perturbations).toHaveLength(2 * settings.storeVectors);
  });

  it('refuses scopes that do not start with the full Hessian', async () => {
    await expect(analyzeCheckpoint(curvature, { run: 'r', step: 0, theta, scopes: scopes.slice(1), outputs, response: { kind: 'classes', classes: 2 } }, settings)).rejects.toThrow(/first scope must be the full Hessian/);
  });
});

describe('evenGrid', () => {
  it('spans the range of x in equal steps', () => {
    expect([...evenGrid(Float32Array.from([3, -1, 1]), 5)]).toEqual([-1, 0, 1, 2, 3]);
  });
});

import { describe, expect, it } from 'vitest';
import { effectiveRows, klayerComparison, quadratureTrace } from './summaries';

const row = (step: number, scope: string, rank: number, eigenvalue: number, is_outlier: boolean) => ({ run: 'r', step, scope, end: 'top' as const, rank, eigenvalue, residual: 0, is_outlier });

describe('effectiveRows', () => {
  it('counts outliers and sums λ/(λ+λmax/2) per (run, step, scope)', () => {
    const bottom = { run: 'r', step: 0, scope: 'full', end: 'bottom' as const, rank: 1, eigenvalue: -9, residual: 0, is_outlier: false };
    const rows = effectiveRows([row(0, 'full', 1, 4, true), row(0, 'full', 2, 2, false), bottom, row(0, 'k1', 1, 1, true), row(5, 'full', 1, 3, true)]);
    // The bottom end does not enter the top-M sum (nor λmax).
    expect(rows).toEqual([
      { run: 'r', step: 0, scope: 'full', m: 1, n_eff: expect.closeTo(4 / 6 + 2 / 4, 12), n_eff_full: null, n_eff_exact: null },
      { run: 'r', step: 0, scope: 'k1', m: 1, n_eff: expect.closeTo(0.5 / 1.5 + 0 + 1 - 1 / 1.5, 12), n_eff_full: null, n_eff_exact: null },
      { run: 'r', step: 5, scope: 'full', m: 1, n_eff: expect.closeTo(3 / 4.5, 12), n_eff_full: null, n_eff_exact: null },
    ]);
  });

  it('sums |λ|/(|λ|+α) over the whole spectrum of a diagonal matrix: exactly from its eigenvalues, and from a quadrature that is exact for it', () => {
    // H = diag(4, 1, 0.5, −0.5, −2): α = 0.5·4 = 2.
    const lambdas = [4, 1, 0.5, -0.5, -2];
    const expected = lambdas.reduce((s, l) => s + Math.abs(l) / (Math.abs(l) + 2), 0);
    const top = [row(0, 'full', 1, 4, true), row(0, 'full', 2, 1, false)];
    const exact = lambdas.map((eigenvalue) => ({ run: 'r', step: 0, scope: 'full', eigenvalue }));
    // The probe (1, …, 1)/√5 run to 5 Lanczos steps has the eigenvalues as nodes and weights 1/5 each.
    const quadrature = lambdas.map((node) => ({ run: 'r', step: 0, scope: 'full', dimension: 5, probe: 0, node, weight: 1 / 5 }));
    const [effective] = effectiveRows(top, 0.5, quadrature, exact);
    expect(effective.n_eff_exact).toBeCloseTo(expected, 12);
    expect(effective.n_eff_full).toBeCloseTo(expected, 12);
    // Top-M alone misses the bulk and clips negatives: 4/6 + 1/3.
    expect(effective.n_eff).toBeCloseTo(4 / 6 + 1 / 3, 12);
  });

  it('averages the quadrature over probes', () => {
    const q = (probe: number, node: number) => ({ run: 'r', step: 0, scope: 'full', dimension: 10, probe, node, weight: 1 });
    expect(quadratureTrace([q(0, 1), q(1, 3)], (x) => x)).toBeCloseTo(20, 12);
  });
});

describe('klayerComparison', () => {
  // P = 4; the last layer's block is parameters 2 and 3.
  const fullScope = { kind: 'full', offset: 0, size: 4 } as const;
  const block = { kind: 'block', k: 1, offset: 2, size: 2, layers: ['dense1'] } as const;
  const e = (n: number, i: number) => Float64Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));
  it('is exact (error 0, overlap 1) when the full top eigenvectors live in the block', () => {
    const full = { scope: fullScope, basisOperatorCalls: 0, operatorCalls: 0, converged: true, pairs: [{ value: 5, vector: e(4, 2), residual: 0 }, { value: 3, vector: e(4, 3), residual: 0 }] };
    const k1 = { scope: block, basisOperatorCalls: 0, operatorCalls: 0, converged: true, pairs: [{ value: 5, vector: e(2, 0), residual: 0 }, { value: 3, vector: e(2, 1), residual: 0 }] };
    const rows = klayerComparison('r', 7, [full, k1]);
    expect(rows).toEqual([
      { run: 'r', step: 7, k: 1, rank: 1, rel_error: 0, overlap_to_full: expect.closeTo(1, 12) },
      { run: 'r', step: 7, k: 1, rank: 2, rel_error: 0, overlap_to_full: expect.closeTo(1, 12) },
    ]);
  });
  it('measures the error and the misalignment of a block that misses the top direction', () => {
    const c = Math.SQRT1_2;
    const full = { scope: fullScope, basisOperatorCalls: 0, operatorCalls: 0, converged: true, pairs: [{ value: 4, vector: Float64Array.from([c, 0, c, 0]), residual: 0 }] };
    const k1 = { scope: block, basisOperatorCalls: 0, operatorCalls: 0, converged: true, pairs: [{ value: 3, vector: e(2, 0), residual: 0 }] };
    const [row] = klayerComparison('r', 0, [full, k1]);
    expect(row.rel_error).toBeCloseTo(0.25, 12);
    expect(row.overlap_to_full).toBeCloseTo(0.5, 12);
  });
  it('embeds the block where its scope says (offset 0 here, so the same vectors now miss)', () => {
    const full = { scope: fullScope, basisOperatorCalls: 0, operatorCalls: 0, converged: true, pairs: [{ value: 5, vector: e(4, 2), residual: 0 }] };
    const k1 = { scope: { ...block, offset: 0 }, basisOperatorCalls: 0, operatorCalls: 0, converged: true, pairs: [{ value: 5, vector: e(2, 0), residual: 0 }] };
    expect(klayerComparison('r', 0, [full, k1])[0].overlap_to_full).toBeCloseTo(0, 12);
  });
});

describe('effectiveRows α', () => {
  it('takes α as a fraction of each checkpoint’s λmax', () => {
    const rows = effectiveRows([row(0, 'full', 1, 4, true), row(0, 'full', 2, 1, false)], 0.25);
    expect(rows[0].n_eff).toBeCloseTo(4 / 5 + 1 / 2, 12); // α = 1
  });
});

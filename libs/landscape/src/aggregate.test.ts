import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { aggregateExperiment, baselineOf, eigenspacesByScope, topEigenvalues, type RunInput } from './aggregate';

const P = 3;
const unit = (angle: number) => Float64Array.from([Math.cos(angle), Math.sin(angle), 0]);
const spectraRow = (run: string, step: number, scope: string, rank: number, isOutlier: boolean): TableRow<'spectra'> => ({
  run, step, scope, end: 'top', rank, eigenvalue: 10 / rank, residual: 0, is_outlier: isOutlier,
});
const stepRow = (run: string, step: number, lr: number): TableRow<'steps'> => ({
  run, step, lr, loss: 1 / (1 + step), accuracy: null, test_loss: null, test_accuracy: null, grad_norm: 1, sharpness: 1, sharpness_check: null,
});

/** A run with checkpoints at steps 0 and 10: top eigenvector of the full Hessian at angle[step], θ given. */
function runInput(slug: string, schedule: RunInput['schedule'], seed: number, angles: [number, number], thetas: [number[], number[]]): RunInput {
  const eta = schedule.kind === 'constant' ? schedule.eta : schedule.kind === 'drop' ? schedule.etaHigh : schedule.etaHigh;
  return {
    slug,
    schedule,
    seed,
    summary: { steps: 10, diverged: false, finalLoss: 0.1, finalSharpness: 1, seconds: 2, backend: 'wasm' },
    steps: [0, 5, 10].map((s) => stepRow(slug, s, eta)),
    hessian: {
      spectra: [0, 10].flatMap((step) => [spectraRow(slug, step, 'full', 1, true), spectraRow(slug, step, 'full', 2, false), spectraRow(slug, step, 'k1', 1, true)]),
      klayer: [], density: [], trace: [], perturbations: [], quadrature: [], exact_spectrum: [], light_spectra: [],
    },
    checkpoints: [0, 10].map((step, i) => ({
      step,
      // Stored out of rank order on purpose: the aggregate orders by rank.
      eigenvectors: [
        { scope: { kind: 'full' as const }, rank: 2, vector: Float64Array.from([0, 0, 1]) },
        { scope: { kind: 'full' as const }, rank: 1, vector: unit(angles[i]) },
        { scope: { kind: 'block' as const, k: 1 }, rank: 1, vector: Float64Array.from([1]) },
      ],
      theta: Float32Array.from(thetas[i]),
    })),
    checkpointReasons: [{ step: 0, reason: 'cadence' }, { step: 10, reason: 'final' }],
  };
}

const small = runInput('eta-0.01', { kind: 'constant', eta: 0.01 }, 0, [0, 0], [[0, 0, 0], [1, 0, 0]]);
const large = runInput('eta-0.1', { kind: 'constant', eta: 0.1 }, 0, [0, Math.PI / 3], [[0, 0, 0], [1, 1, 0]]);
const drop = runInput('drop-0.1-0.01-t5', { kind: 'drop', etaHigh: 0.1, etaLow: 0.01, switchStep: 5 }, 0, [0, Math.PI / 2], [[0, 0, 0], [0, 2, 0]]);
const otherSeed = runInput('eta-0.1-s1', { kind: 'constant', eta: 0.1 }, 1, [0, 0], [[0, 0, 0], [1, 0, 0]]);

describe('baselineOf', () => {
  it('is the smallest constant η of the same seed; a drop run compares with it too; a lone seed is its own', () => {
    const runs = [large, drop, small, otherSeed];
    expect(baselineOf(large, runs)?.slug).toBe('eta-0.01');
    expect(baselineOf(drop, runs)?.slug).toBe('eta-0.01');
    expect(baselineOf(small, runs)?.slug).toBe('eta-0.01');
    expect(baselineOf(otherSeed, runs)?.slug).toBe('eta-0.1-s1');
    expect(baselineOf(drop, [drop])).toBeUndefined();
  });
});

describe('eigenvalues and eigenspaces', () => {
  it('gathers the top eigenvalues per (run, step, scope) in rank order and orders stored vectors by rank', () => {
    const values = topEigenvalues(large.hessian.spectra);
    expect(values.get('eta-0.1\u000010\u0000full')).toEqual([10, 5]);
    expect(values.get('eta-0.1\u000010\u0000k1')).toEqual([10]);
    const spaces = eigenspacesByScope(large, values);
    expect([...spaces.keys()]).toEqual(['full', 'k1']);
    const [at0, at10] = spaces.get('full')!;
    expect(at0.step).toBe(0);
    expect(at10.values).toEqual([10, 5]);
    expect([...at10.vectors[0]]).toEqual([...unit(Math.PI / 3)]);
    expect([...at10.vectors[1]]).toEqual([0, 0, 1]);
    // Without spectra rows the eigenvalues are empty (the comparison then flags the subspace as not known to be well defined).
    expect(eigenspacesByScope(large, new Map()).get('k1')![0].values).toEqual([]);
  });
});

describe('aggregateExperiment', () => {
  const tables = aggregateExperiment([small, large, drop, otherSeed], { instabilities: { primary: { kind: 'relative', threshold: 0.1 }, sweep: { relative: [0.1], absolute: [0.1] }, peakFollowsSharpness: false }, longHorizon: null, alphaFraction: 0.5, cyclic: null, shift: { m: 1, minGap: 1.5, matchedTime: null, windows: { instabilities: 12, minStep: 0 } } });

  it('writes one runs row per run with the peak η and the summary’s values', () => {
    // Step-0 sharpness 1 (the fixture's): η·λ0/2.
    expect(tables.runs.map((r) => r.initial_regime)).toEqual([0.005, 0.05, 0.05, 0.05].map((v) => expect.closeTo(v, 12)));
    expect(tables.runs.map((r) => [r.run, r.eta, r.schedule, r.seed, r.backend])).toEqual([
      ['eta-0.01', 0.01, 'constant', 0, 'wasm'],
      ['eta-0.1', 0.1, 'constant', 0, 'wasm'],
      ['drop-0.1-0.01-t5', 0.1, 'drop', 0, 'wasm'],
      ['eta-0.1-s1', 0.1, 'constant', 1, 'wasm'],
    ]);
    expect(tables.steps).toHaveLength(12);
    expect(tables.spectra).toHaveLength(24);
  });

  it('compares each run’s fixed-m eigenspace with its baseline at shared steps: overlap cos²φ for a rotation by φ', () => {
    const baseline = tables.overlaps.filter((o) => o.kind === 'baseline' && o.scope === 'full');
    expect(baseline.map((o) => [o.run_a, o.run_b, o.step_a])).toEqual([
      ['eta-0.1', 'eta-0.01', 0], ['eta-0.1', 'eta-0.01', 10],
      ['drop-0.1-0.01-t5', 'eta-0.01', 0], ['drop-0.1-0.01-t5', 'eta-0.01', 10],
    ]);
    expect(baseline.map((o) => o.overlap)).toEqual([1, 0.25, 1, 0].map((v) => expect.closeTo(v, 12)));
    // The baseline itself and a seed alone with its own baseline get no baseline rows.
    expect(tables.overlaps.some((o) => o.kind === 'baseline' && (o.run_a === 'eta-0.01' || o.run_a === 'eta-0.1-s1'))).toBe(false);
    const consecutive = tables.overlaps.find((o) => o.kind === 'consecutive' && o.run_a === 'eta-0.1' && o.scope === 'full')!;
    expect(consecutive.overlap).toBeCloseTo(0.25, 12);
  });

  it('measures the displacement cosine against the baseline’s at shared steps (undefined at θ_0)', () => {
    expect(tables.displacement.filter((d) => d.run === 'eta-0.1')).toEqual([
      { run: 'eta-0.1', step: 0, cos_to_baseline: null },
      { run: 'eta-0.1', step: 10, cos_to_baseline: expect.closeTo(Math.SQRT1_2, 6) },
    ]);
    expect(tables.displacement.find((d) => d.run === 'drop-0.1-0.01-t5' && d.step === 10)!.cos_to_baseline).toBeCloseTo(0, 12);
  });

  it('gives effective rows per checkpoint and scope, and no flattening rows without drop families', () => {
    expect(tables.effective).toHaveLength(4 * 2 * 2);
    expect(tables.flattening).toEqual([]);
    expect(tables.drop_families).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { StoredEigenvector } from '@lrscape/artifacts';
import { knownHessian } from './testing/known-hessian';
import { analysisSteps, analyzeRun, type AnalysisStep, type RunAnalysisSettings } from './run-analysis';

const settings: RunAnalysisSettings = {
  topK: 4, bottomK: 1, maxIterations: 12, tolerance: 1e-10, storeVectors: 2, seed: 1,
  density: { probes: 1, steps: 6, gridSize: 20 }, traceProbes: 0, perturbationEpsilon: 1e-2,
  light: { topK: 3, minQuietStep: 5, maxWindows: 12 },
};
// Training's checkpoints: an instability from 30 (event-before) to 40 (event-after), light ones every 10.
const checkpoints = [
  { step: 0, reason: 'cadence' as const }, { step: 10, reason: 'light' as const }, { step: 30, reason: 'event-before' as const },
  { step: 40, reason: 'event-after' as const }, { step: 50, reason: 'light' as const }, { step: 60, reason: 'final' as const },
];

describe('analysisSteps', () => {
  it('adds the quiet-window start of each paired instability that is no checkpoint, in step order', () => {
    // The 10-step instability 30 → 40 pairs with the quiet window 20 → 30; step 20 is no checkpoint.
    expect(analysisSteps(checkpoints, settings.light).map((s) => [s.step, s.reason])).toEqual([
      [0, 'cadence'], [10, 'light'], [20, 'quiet-start'], [30, 'event-before'], [40, 'event-after'], [50, 'light'], [60, 'final'],
    ]);
    // A quiet start that is a checkpoint already is not added again; minQuietStep and maxWindows = 0 leave none.
    expect(analysisSteps(checkpoints.map((c) => (c.step === 10 ? { ...c, step: 20 } : c)), settings.light).filter((s) => s.reason === 'quiet-start')).toEqual([]);
    expect(analysisSteps(checkpoints, { ...settings.light, minQuietStep: 25 }).some((s) => s.reason === 'quiet-start')).toBe(false);
    expect(analysisSteps(checkpoints, { ...settings.light, maxWindows: 0 }).some((s) => s.reason === 'quiet-start')).toBe(false);
  });
});

describe('analyzeRun', () => {
  const lambdas = [10, 9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, -0.01, -0.02];
  const { curvature, scopes, n } = knownHessian(lambdas, { seed: 3, blocks: [1] });
  it('runs the full analysis at full checkpoints and the light one elsewhere, with the known eigenvalues', async () => {
    const asked: AnalysisStep[] = [];
    const written = new Map<number, StoredEigenvector[]>();
    let disposed = 0;
    const result = await analyzeRun(
      {
        run: 'r', checkpoints, scopes, exactSpectrum: true, response: { kind: 'classes', classes: 2 },
        outputs: async () => new Float32Array(4),
        theta: async (at) => (asked.push(at), new Float32Array(n)),
        curvatureAt: async () => ({ ...curvature, dispose: () => void disposed++ }),
        writeVectors: async (step, vectors) => void written.set(step, vectors),
      },
      settings,
    );
    expect(asked.map((a) => a.reason)).toEqual(['cadence', 'light', 'quiet-start', 'event-before', 'event-after', 'light', 'final']);
    expect(disposed).toBe(7);
    // Full analysis: spectra (top and bottom) at 0, 30, 40, 60 only; light rows (top 3 of the full Hessian) at 10, 20, 50.
    expect([...new Set(result.rows.spectra.map((r) => r.step))]).toEqual([0, 30, 40, 60]);
    expect(result.rows.light_spectra.map((r) => [r.step, r.kind, r.rank])).toEqual(
      [10, 20, 50].flatMap((step) => [1, 2, 3].map((rank) => [step, step === 20 ? 'quiet-start' : 'light', rank])),
    );
    for (const row of result.rows.light_spectra) expect(row.eigenvalue).toBeCloseTo(lambdas[row.rank - 1], 8);
    // Light steps store all their vectors, of the full scope only; full ones storeVectors per scope.
    expect(written.get(20)!.map((v) => [v.scope.kind, v.rank])).toEqual([['full', 1], ['full', 2], ['full', 3]]);
    expect(written.get(30)!.map((v) => [v.scope.kind, v.rank])).toEqual([['full', 1], ['full', 2], ['block', 1], ['block', 2]]);
    // The dense spectrum at the final checkpoint only; the record lists every step with its reason.
    expect(new Set(result.rows.exact_spectrum.map((r) => r.step))).toEqual(new Set([60]));
    expect(result.checkpoints.map((c) => [c.step, c.reason, c.scopes.length])).toEqual([
      [0, 'cadence', 2], [10, 'light', 1], [20, 'quiet-start', 1], [30, 'event-before', 2], [40, 'event-after', 2], [50, 'light', 1], [60, 'final', 2],
    ]);
    expect(result.totalHvps).toBe(result.checkpoints.reduce((s, c) => s + c.scopes.reduce((t, x) => t + x.hvps, 0), 0));
  });
});

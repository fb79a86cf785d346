/**
 * Per-checkpoint summaries of the spectra, as rows of the `effective` and `klayer` tables
 * (docs/architecture.md, "Tables").
 */
import type { TableRow } from '@lrscape/artifacts';
import { subspaceOverlap } from '@lrscape/linalg';
import { effectiveParameters } from './outliers';
import type { ScopeSpectrum } from './decompose';
import { detectInstabilities, type InstabilityOptions } from './instabilities';

/** N_eff (α = alphaFraction·λmax) and outlier count m for each (run, step, scope) of a spectra table. */
export function effectiveRows(spectra: readonly TableRow<'spectra'>[], alphaFraction = 0.5): TableRow<'effective'>[] {
  const groups = new Map<string, TableRow<'spectra'>[]>();
  for (const row of spectra) {
    const key = `${row.run}\u0000${row.step}\u0000${row.scope}`;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((rows) => {
    const sorted = [...rows].sort((a, b) => a.rank - b.rank);
    return {
      run: sorted[0].run,
      step: sorted[0].step,
      scope: sorted[0].scope,
      m: sorted.filter((r) => r.is_outlier).length,
      n_eff: effectiveParameters(
        sorted.map((r) => r.eigenvalue),
        alphaFraction * Math.max(...sorted.map((r) => r.eigenvalue)),
      ),
    };
  });
}

/**
 * k-layer against full at one checkpoint: for each rank r, the relative error of the r-th eigenvalue and
 * the overlap of the top-r eigenspaces, the k-layer eigenvectors embedded in θ-space (zero outside the
 * block, which sits where the scope says).
 */
export function klayerComparison(run: string, step: number, spectra: readonly ScopeSpectrum[]): TableRow<'klayer'>[] {
  const full = spectra.find((s) => s.scope.kind === 'full');
  if (!full) return [];
  const n = full.scope.size;
  const rows: TableRow<'klayer'>[] = [];
  for (const spectrum of spectra) {
    const { scope } = spectrum;
    if (scope.kind !== 'block') continue;
    const embedded = spectrum.pairs.map((p) => {
      const v = new Float64Array(n);
      v.set(p.vector, scope.offset);
      return v;
    });
    const ranks = Math.min(full.pairs.length, spectrum.pairs.length);
    for (let r = 1; r <= ranks; r++) {
      const exact = full.pairs[r - 1].value;
      rows.push({
        run,
        step,
        k: scope.k,
        rank: r,
        rel_error: Math.abs(spectrum.pairs[r - 1].value - exact) / Math.max(Math.abs(exact), 1e-12),
        overlap_to_full: subspaceOverlap(full.pairs.slice(0, r).map((p) => p.vector), embedded.slice(0, r)).overlap,
      });
    }
  }
  return rows;
}

/** The `instabilities` rows of one run, from its per-step loss and sharpness. */
export function instabilityRows(run: TableRow<'runs'>, steps: readonly TableRow<'steps'>[], options: InstabilityOptions = {}): TableRow<'instabilities'>[] {
  const points = steps
    .filter((s) => s.run === run.run)
    .sort((a, b) => a.step - b.step)
    .map((s) => ({ step: s.step, lr: s.lr, loss: s.loss, sharpness: s.sharpness }));
  return detectInstabilities(points, options).map((e) => ({
    run: run.run,
    eta: run.eta,
    index: e.index,
    start: e.start,
    peak: e.peak,
    end: e.end,
    loss_before: e.lossBefore,
    peak_loss: e.peakLoss,
    sharpness_before: e.sharpnessBefore,
    sharpness_peak: e.sharpnessPeak,
    sharpness_after: e.sharpnessAfter,
    heating_steps: e.heatingSteps,
    cooling_steps: e.coolingSteps,
  }));
}

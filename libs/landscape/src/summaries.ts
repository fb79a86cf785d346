/**
 * Per-checkpoint summaries of the spectra, as rows of the `effective` and `klayer` tables
 * (docs/architecture.md, "Tables").
 */
import type { TableRow } from '@lrscape/artifacts';
import { subspaceOverlap } from '@lrscape/linalg';
import { effectiveParameters } from './outliers';
import type { ScopeSpectrum } from './decompose';

/**
 * N_eff and the outlier count m for each (run, step, scope) of the top end of a spectra table, with
 * α = alphaFraction·λmax: over the top-M Ritz values (negatives clipped, `n_eff`), and over the whole
 * spectrum, Σ |λ|/(|λ| + α) (the first author's definition): estimated from the SLQ quadrature,
 * tr f(H) ≈ P · mean over probes of Σ_j w_j f(θ_j) (`n_eff_full`), and exactly where a dense spectrum is
 * stored (`n_eff_exact`).
 */
export function effectiveRows(
  spectra: readonly TableRow<'spectra'>[],
  alphaFraction = 0.5,
  quadrature: readonly TableRow<'quadrature'>[] = [],
  exact: readonly TableRow<'exact_spectrum'>[] = [],
): TableRow<'effective'>[] {
  const groups = groupBy(spectra.filter((r) => r.end === 'top'), (r) => checkpointKey(r.run, r.step, r.scope));
  const nodes = groupBy(quadrature, (r) => checkpointKey(r.run, r.step, r.scope));
  const dense = groupBy(exact, (r) => checkpointKey(r.run, r.step, r.scope));
  return [...groups.entries()].map(([k, rows]) => {
    const sorted = [...rows].sort((a, b) => a.rank - b.rank);
    const alpha = alphaFraction * Math.max(...sorted.map((r) => r.eigenvalue));
    const f = (lambda: number) => (alpha > 0 ? Math.abs(lambda) / (Math.abs(lambda) + alpha) : 0);
    return {
      run: sorted[0].run,
      step: sorted[0].step,
      scope: sorted[0].scope,
      m: sorted.filter((r) => r.is_outlier).length,
      n_eff: effectiveParameters(sorted.map((r) => r.eigenvalue), alpha),
      n_eff_full: nodes.has(k) ? quadratureTrace(nodes.get(k)!, f) : null,
      n_eff_exact: dense.has(k) ? dense.get(k)!.reduce((sum, r) => sum + f(r.eigenvalue), 0) : null,
    };
  });
}

/** tr f(H) from the Gauss quadrature of SLQ probes: dimension · mean over probes of Σ_j w_j f(θ_j). */
export function quadratureTrace(rows: readonly TableRow<'quadrature'>[], f: (lambda: number) => number): number {
  const probes = new Map<number, number>();
  for (const r of rows) probes.set(r.probe, (probes.get(r.probe) ?? 0) + r.weight * f(r.node));
  const sums = [...probes.values()];
  return (rows[0].dimension * sums.reduce((a, b) => a + b, 0)) / sums.length;
}

/** The key of one (run, step, scope) checkpoint spectrum in the maps the aggregate builds. */
export const checkpointKey = (run: string, step: number, scope: string) => `${run}\u0000${step}\u0000${scope}`;
function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = keyOf(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
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

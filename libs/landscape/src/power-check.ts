/**
 * How far the one-HVP power estimate of λmax is from warm Lanczos (docs/architecture.md, "Science definitions as
 * implemented"): at the steps training checked (steps.sharpness_check), the relative error |power − Lanczos| /
 * |Lanczos|, summarised inside the primary instabilities (start → recovery, or to the run's end) and outside.
 * The power estimate is a Rayleigh quotient of the previous step's vector, so it lags where λmax moves fast —
 * at catapults — which is what the inside/outside split shows.
 */
import type { TableRow } from '@lrscape/artifacts';

export function powerCheckRows(
  runs: readonly TableRow<'runs'>[],
  stepsByRun: ReadonlyMap<string, readonly TableRow<'steps'>[]>,
  instabilities: readonly TableRow<'instabilities'>[],
): TableRow<'power_check'>[] {
  const rows: TableRow<'power_check'>[] = [];
  for (const run of runs) {
    const steps = stepsByRun.get(run.run) ?? [];
    const checked = steps.filter((s) => s.sharpness !== null && s.sharpness_check !== null && s.sharpness_check !== 0);
    if (checked.length === 0) continue;
    const last = steps.reduce((m, s) => Math.max(m, s.step), 0);
    const windows = instabilities.filter((e) => e.run === run.run).map((e) => [e.start, e.end ?? last] as const);
    const errors = { inside: [] as number[], outside: [] as number[] };
    for (const s of checked) {
      const inside = windows.some(([from, to]) => s.step >= from && s.step <= to);
      errors[inside ? 'inside' : 'outside'].push(Math.abs(s.sharpness! - s.sharpness_check!) / Math.abs(s.sharpness_check!));
    }
    for (const phase of ['inside', 'outside'] as const) {
      const values = errors[phase].sort((a, b) => a - b);
      rows.push({ run: run.run, eta: run.eta, phase, checks: values.length, median_rel_error: median(values), max_rel_error: values.at(-1) ?? null });
    }
  }
  return rows;
}

/** Median of sorted values; null when empty. */
export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

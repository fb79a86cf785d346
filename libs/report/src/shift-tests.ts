/**
 * The landscape-shift tests' figures (docs/architecture.md, "Landscape shift"): the primary window test — the
 * top-m eigenspace's turn across each instability against the turn across the equally long quiet window before
 * it — and the comparison with the baseline at matched cumulative learning rate τ = Σ η_s. Each figure is drawn
 * for one metric: overlap s = ‖U_aᵀU_b‖²_F/m, or cos of the root-mean-square principal angle.
 */
import * as Plot from '@observablehq/plot';
import { formatNumber } from './html.ts';
import { colourRuns, drawOrder, etaColour, isFiniteNumber, noData, renderPlot, runColour, runInfos, runLabel, tagged } from './plot.ts';
import type { MatchedTimeRow, RunsRow, ShiftWindowsRow } from './rows.ts';

export type ShiftMetric = 'overlap' | 'cos-rms';
const METRIC_LABEL: Record<ShiftMetric, string> = { overlap: 'overlap s', 'cos-rms': 'cos of the RMS principal angle' };

interface WindowPoint {
  run: string;
  instability: number;
  quiet: number;
  across: number;
  steps: string;
  wellDefined: boolean | null;
}

/**
 * One dot per paired instability: x = the metric across the quiet window, y = across the instability, coloured by
 * η, with the diagonal y = x. Below the diagonal the instability turned the top eigenspace more than the quiet
 * stretch of the same length just before it (the claim's prediction).
 */
export function windowTestFigure(windows: ShiftWindowsRow[], runs: RunsRow[], metric: ShiftMetric): string {
  const points: WindowPoint[] = windows
    .filter((w) => w.status === 'paired')
    .map((w) => ({
      run: w.run,
      instability: w.instability,
      quiet: (metric === 'overlap' ? w.overlap_quiet : w.cos_rms_quiet) ?? NaN,
      across: (metric === 'overlap' ? w.overlap_instability : w.cos_rms_instability) ?? NaN,
      steps: `quiet ${w.quiet_start} → ${w.before}, instability ${w.before} → ${w.after}`,
      wellDefined: w.well_defined,
    }))
    .filter((p) => isFiniteNumber(p.quiet) && isFiniteNumber(p.across));
  if (points.length === 0) return noData('no instability with an equally long quiet window before it (see the shift_windows table for the reasons).');
  const infos = runInfos(runs, points);
  const values = points.flatMap((p) => [p.quiet, p.across]);
  const lo = Math.max(0, Math.min(...values) - 0.05 * (1 - Math.min(...values)));
  const marks: Plot.Markish[] = [Plot.line([[lo, lo], [1, 1]], { stroke: '#999', strokeDasharray: '4 3', ...tagged('diagonal') })];
  for (const info of drawOrder(infos, [...new Set(points.map((p) => p.run))])) {
    const own = points.filter((p) => p.run === info.run);
    marks.push(
      Plot.dot(own, {
        x: 'quiet',
        y: 'across',
        r: 3.5,
        fill: runColour(info),
        title: (p: WindowPoint) =>
          `${runLabel(info)}\ninstability ${p.instability}: ${p.steps}\n${METRIC_LABEL[metric]} across the quiet window ${formatNumber(p.quiet)}, across the instability ${formatNumber(p.across)}${p.wellDefined === false ? '\n(small gap λ_m/λ_m+1 at some end)' : ''}`,
        ...tagged('window-point', info),
      }),
    );
  }
  return renderPlot({
    width: 460,
    height: 420,
    marginLeft: 60,
    x: { domain: [lo, 1], label: `${METRIC_LABEL[metric]} across the quiet window`, grid: true },
    y: { domain: [lo, 1], label: `${METRIC_LABEL[metric]} across the instability`, grid: true },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

/**
 * The metric between each run and its baseline at matched τ (matched_time rows with status ok), against τ, one
 * line per run coloured by η. Comparisons beyond a run or the baseline are not drawn (the table says why).
 */
export function matchedTimeFigure(matched: MatchedTimeRow[], runs: RunsRow[], metric: ShiftMetric): string {
  const ok = matched
    .filter((r) => r.status === 'ok')
    .map((r) => ({ ...r, value: (metric === 'overlap' ? r.overlap : r.cos_rms_angle) ?? NaN }))
    .filter((r) => isFiniteNumber(r.value));
  if (ok.length === 0) return noData('no comparisons with the baseline at matched τ (config matchedTime, or every τ beyond the runs).');
  const infos = runInfos(runs, ok);
  const marks: Plot.Markish[] = [];
  for (const info of drawOrder(infos, [...new Set(ok.map((r) => r.run))])) {
    const own = ok.filter((r) => r.run === info.run).sort((a, b) => a.tau - b.tau);
    const title = (r: (typeof own)[number]) =>
      `${runLabel(info)}\nτ = ${formatNumber(r.tau)}: step ${r.step} (τ ${formatNumber(r.tau_run)}) against ${r.baseline} step ${r.baseline_step} (τ ${formatNumber(r.tau_baseline)})\n${METRIC_LABEL[metric]} ${formatNumber(r.value)} (top ${r.m})${r.well_defined === false ? '\n(small gap λ_m/λ_m+1 at some end)' : ''}`;
    marks.push(Plot.line(own, { x: 'tau', y: 'value', stroke: runColour(info), strokeWidth: 1.5, title: () => runLabel(info), ...tagged('matched-time', info) }));
    marks.push(Plot.dot(own, { x: 'tau', y: 'value', r: 3, fill: runColour(info), title, ...tagged('matched-time-point', info) }));
  }
  return renderPlot({
    width: 960,
    height: 320,
    marginLeft: 60,
    x: { type: 'log', label: 'matched cumulative learning rate τ = Σ η_s (log)' },
    y: { domain: [Math.min(0, ...ok.map((r) => r.value)), 1], label: `${METRIC_LABEL[metric]} to the baseline at matched τ`, grid: true },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

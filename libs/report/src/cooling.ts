/**
 * Open question 2, the cooling phase (docs/architecture.md, "Cooling"): for each replayed instability four
 * small panels over its steps — the loss with the heating and cooling phases, the top four Hessian
 * eigenvalues against 2/η, ∇S·∇L per step, and the change of S predicted to first order (−η Σ ∇S·∇L)
 * against the change measured — then a per-instability summary with both phases side by side, and a
 * per-phase summary pooled over the instabilities. Everything is read off the `cooling` and
 * `cooling_instabilities` tables.
 */
import * as Plot from '@observablehq/plot';
import { escapeHtml, formatNumber, html, raw } from './html.ts';
import { etaColourOf, etaKey, isFiniteNumber, noData, panels, renderPlot, tagged } from './plot.ts';
import type { CoolingInstabilityRow, CoolingRow, RunsRow } from './rows.ts';

const PANEL_WIDTH = 300;
const PANEL_HEIGHT = 190;
export const HEATING_COLOUR = '#c0392b';
export const COOLING_COLOUR = '#2e6fba';
const EIGEN_COLOURS = ['#111', '#777', '#aaa', '#ccc'];

const key = (row: { run: string; instability: number | null }) => `${row.run}#${row.instability}`;

/** The steps of one instability, in step order. */
export function instabilitySteps(rows: readonly CoolingRow[], instability: Pick<CoolingInstabilityRow, 'run' | 'instability'>): CoolingRow[] {
  return rows.filter((r) => key(r) === key(instability)).sort((a, b) => a.step - b.step);
}

/** Cumulative sums of the first-order prediction −η∇S·∇L and of the measured S(t+1) − S(t), from 0 at the first step. */
export function cumulativeChanges(steps: readonly CoolingRow[]): { step: number; predicted: number; measured: number }[] {
  const out: { step: number; predicted: number; measured: number }[] = [];
  let predicted = 0;
  let measured = 0;
  for (const [i, r] of steps.entries()) {
    out.push({ step: r.step, predicted, measured });
    if (r.delta_s === null || i + 1 >= steps.length) break;
    predicted += r.delta_s_first_order;
    measured += r.delta_s;
  }
  return out;
}

/** The four panels of one instability (or a no-data note). */
export function coolingFigure(rows: readonly CoolingRow[], instability: CoolingInstabilityRow): string {
  const steps = instabilitySteps(rows, instability);
  if (!steps.length) return noData(`no replayed steps for ${instability.run} instability ${instability.instability}.`);
  const runKey = { run: instability.run, eta: steps[0].lr };
  const first = steps[0].step;
  const last = steps.at(-1)!.step;
  const peak = instability.peak ?? first;
  // Phase bands over [start, peak) and [peak, end] (the replay's own peak).
  const bands = [
    { phase: 'heating', x1: first, x2: peak, fill: HEATING_COLOUR },
    { phase: 'cooling', x1: peak, x2: last, fill: COOLING_COLOUR },
  ].filter((b) => b.x2 > b.x1);
  const bandMarks = () => [Plot.rectX(bands, { x1: 'x1', x2: 'x2', fill: 'fill', fillOpacity: 0.1, ...tagged('cooling-phase', runKey) })];
  const x = { label: 'step', domain: [first, last] };

  const lossPanel = renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 52,
    x,
    y: { label: 'training loss', type: 'log', grid: true },
    marks: [
      ...bandMarks(),
      Plot.line(steps, { x: 'step', y: 'loss', stroke: '#333', ...tagged('cooling-loss', runKey) }),
      Plot.dot(steps, { x: 'step', y: 'loss', r: 1.5, fill: '#333', title: (r: CoolingRow) => `step ${r.step} (${r.phase})\nloss ${formatNumber(r.loss)}\nlogged ${formatNumber(r.loss_logged)}`, ...tagged('cooling-loss-point', runKey) }),
    ],
  });

  const eigenRows = steps.flatMap((r) =>
    [r.lambda_1, r.lambda_2, r.lambda_3, r.lambda_4].flatMap((value, i) => (isFiniteNumber(value) ? [{ step: r.step, value, rank: i + 1 }] : [])),
  );
  const eigenPanel = renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 52,
    x,
    y: { label: 'λ₁ … λ₄  (dashed: 2/η)', grid: true },
    marks: [
      ...bandMarks(),
      Plot.line(steps, { x: 'step', y: (r: CoolingRow) => 2 / r.lr, stroke: '#333', strokeDasharray: '5 4', ...tagged('cooling-threshold', runKey) }),
      ...[1, 2, 3, 4].map((rank) =>
        Plot.line(
          eigenRows.filter((e) => e.rank === rank),
          { x: 'step', y: 'value', stroke: EIGEN_COLOURS[rank - 1], strokeWidth: rank === 1 ? 1.8 : 1, title: () => `λ${rank}`, ...tagged(`cooling-lambda-${rank}`, runKey) },
        ),
      ),
      // Steps where λ₁ has a near-copy: S is the trace of the top cluster there.
      Plot.dot(steps.filter((r) => r.formula !== 'single'), { x: 'step', y: 'lambda_1', r: 3, stroke: '#e67e22', fill: 'none', title: (r: CoolingRow) => `step ${r.step}: cluster of ${r.cluster_size} (λ₁/λ₂ = ${formatNumber(r.gap_ratio)})`, ...tagged('cooling-cluster', runKey) }),
    ],
  });

  const gradientPanel = renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 52,
    x,
    y: { label: '∇S·∇L', grid: true },
    marks: [
      ...bandMarks(),
      Plot.ruleY([0], { stroke: '#999' }),
      Plot.ruleX(steps, {
        x: 'step',
        y1: 0,
        y2: 'grad_s_dot_grad',
        stroke: (r: CoolingRow) => (r.grad_s_dot_grad > 0 ? COOLING_COLOUR : HEATING_COLOUR),
        strokeWidth: 2,
        title: (r: CoolingRow) => `step ${r.step} (${r.phase})\n∇S·∇L ${formatNumber(r.grad_s_dot_grad)}\n∇S·u₁ ${formatNumber(r.grad_s_dot_u1)}, ‖∇S‖ ${formatNumber(r.grad_s_norm)} (±${formatNumber(r.grad_s_error)} rel.)\ncos(∇L, u₁) ${formatNumber(r.cos_grad_u1)}`,
        ...tagged('cooling-grad-s', runKey),
      }),
    ],
  });

  const cumulative = cumulativeChanges(steps);
  const changePanel = renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 52,
    x,
    y: { label: 'change of S since the start', grid: true },
    marks: [
      ...bandMarks(),
      Plot.ruleY([0], { stroke: '#999' }),
      Plot.line(cumulative, { x: 'step', y: 'measured', stroke: '#111', strokeWidth: 1.8, title: () => 'measured Σ [S(t+1) − S(t)]', ...tagged('cooling-measured', runKey) }),
      Plot.line(cumulative, { x: 'step', y: 'predicted', stroke: '#e67e22', strokeDasharray: '4 3', strokeWidth: 1.5, title: () => 'first order −η Σ ∇S·∇L', ...tagged('cooling-predicted', runKey) }),
    ],
  });

  return panels([
    { key: 'loss', title: 'loss (red: heating, blue: cooling)', html: lossPanel },
    { key: 'eigenvalues', title: 'top four eigenvalues', html: eigenPanel },
    { key: 'grad-s', title: '∇S·∇L per step (> 0: S falls along −∇L)', html: gradientPanel },
    { key: 'change', title: 'S: measured (solid) and first-order −η Σ∇S·∇L (dashed)', html: changePanel },
  ]);
}

/** One row per selected instability: where it is, both phases side by side, the replay check; or why it is not there. */
export function coolingInstabilityTable(instabilities: readonly CoolingInstabilityRow[], runs: readonly RunsRow[] = []): string {
  if (!instabilities.length) return noData('no instability was selected for the cooling diagnostics.');
  const etaOf = (run: string) => runs.find((r) => r.run === run)?.eta ?? null;
  const body = instabilities.map((r) => {
    const eta = etaOf(r.run);
    const swatch = raw(`<span class="lrs-swatch" style="background:${escapeHtml(etaColourOf(runs, eta))}"></span>`);
    if (r.status !== 'computed' && r.status !== 'truncated') {
      return html`<tr data-run="${r.run}" data-eta="${etaKey(eta)}" data-status="${r.status}"><td class="lrs-nowrap">${swatch}<code>${r.run}</code></td><td class="num">${formatNumber(r.instability)}</td><td>${r.status}</td><td colspan="11">${r.reason}</td></tr>`;
    }
    const span = `${r.start}–${r.peak}–${formatNumber(r.end)}`;
    return html`<tr data-run="${r.run}" data-eta="${etaKey(eta)}" data-status="${r.status}"><td class="lrs-nowrap">${swatch}<code>${r.run}</code></td><td class="num">${formatNumber(r.instability)}</td><td>${r.status}</td>
<td class="num lrs-nowrap">${span}</td><td class="num">${formatNumber(r.heating_net)}</td><td class="num">${formatNumber(r.cooling_net)}</td>
<td class="num">${formatNumber(r.heating_positive)}</td><td class="num">${formatNumber(r.cooling_positive)}</td>
<td class="num">${formatNumber(r.lambda_change_heating)}</td><td class="num">${formatNumber(r.lambda_change_cooling)}</td>
<td class="num">${formatNumber(r.first_order_agreement)}</td><td class="num">${r.cluster_steps}</td>
<td class="num">${formatNumber(r.loss_error_max)}</td><td class="num">${formatNumber(r.theta_error_max)}</td></tr>${r.reason ? raw(html`<tr class="lrs-note-row"><td></td><td colspan="13">${r.reason}</td></tr>`) : ''}`;
  });
  return html`<div class="lrs-table-wrap"><table class="lrs-cooling">
<thead><tr><th>run</th><th class="num">#</th><th>status</th><th class="num">start–peak–end</th>
<th class="num">D heating</th><th class="num">D cooling</th><th class="num">share ∇S·∇L &gt; 0, heating</th><th class="num">…, cooling</th>
<th class="num">Δλ₁ heating</th><th class="num">Δλ₁ cooling</th><th class="num">first-order sign agreement</th><th class="num">cluster steps</th>
<th class="num">replay max |Δloss|</th><th class="num">replay max |Δθ|</th></tr></thead>
<tbody>${body.map(raw)}</tbody></table></div>`;
}

const median = (values: number[]): number | null => {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length / 2;
  return s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2;
};
const mean = (values: number[]): number | null => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

export interface PhaseSummary {
  phase: 'heating' | 'cooling';
  instabilities: number;
  steps: number;
  /** Mean over instabilities of the phase's D = Σ∇S·∇L / Σ|∇S·∇L|. */
  meanNet: number | null;
  /** Over the phase's steps pooled. */
  positiveShare: number | null;
  medianSharpnessRatio: number | null;
  medianGapRatio: number | null;
  medianAbsCos: number | null;
  medianRotation: number | null;
  clusterShare: number | null;
}

/** The two phases pooled over the complete (status computed) instabilities. */
export function phaseSummaries(rows: readonly CoolingRow[], instabilities: readonly CoolingInstabilityRow[]): PhaseSummary[] {
  const complete = instabilities.filter((r) => r.status === 'computed');
  return (['heating', 'cooling'] as const).map((phase) => {
    const own = complete.flatMap((i) => instabilitySteps(rows, i).filter((r) => r.phase === phase));
    const nets = complete.map((i) => (phase === 'heating' ? i.heating_net : i.cooling_net)).filter(isFiniteNumber);
    const finite = (values: (number | null)[]) => values.filter(isFiniteNumber);
    return {
      phase,
      instabilities: nets.length,
      steps: own.length,
      meanNet: mean(nets),
      positiveShare: own.length ? own.filter((r) => r.grad_s_dot_grad > 0).length / own.length : null,
      medianSharpnessRatio: median(own.map((r) => r.sharpness_ratio)),
      medianGapRatio: median(finite(own.map((r) => r.gap_ratio))),
      medianAbsCos: median(finite(own.map((r) => r.cos_grad_u1)).map(Math.abs)),
      medianRotation: median(finite(own.map((r) => r.rotation))),
      clusterShare: own.length ? own.filter((r) => r.formula !== 'single').length / own.length : null,
    };
  });
}

export function phaseSummaryTable(rows: readonly CoolingRow[], instabilities: readonly CoolingInstabilityRow[]): string {
  const summaries = phaseSummaries(rows, instabilities);
  if (summaries.every((s) => s.steps === 0)) return noData('no complete instability to summarise.');
  const body = summaries.map(
    (s) => html`<tr data-phase="${s.phase}"><td>${s.phase}</td><td class="num">${s.instabilities}</td><td class="num">${s.steps}</td><td class="num">${formatNumber(s.meanNet)}</td>
<td class="num">${formatNumber(s.positiveShare)}</td><td class="num">${formatNumber(s.medianSharpnessRatio)}</td><td class="num">${formatNumber(s.medianGapRatio)}</td>
<td class="num">${formatNumber(s.medianAbsCos)}</td><td class="num">${formatNumber(s.medianRotation)}</td><td class="num">${formatNumber(s.clusterShare)}</td></tr>`,
  );
  return html`<div class="lrs-table-wrap"><table class="lrs-cooling-phases">
<thead><tr><th>phase</th><th class="num">instabilities</th><th class="num">steps</th><th class="num">mean D</th><th class="num">share ∇S·∇L &gt; 0</th>
<th class="num">median λ₁/(2/η)</th><th class="num">median λ₁/λ₂</th><th class="num">median |cos(∇L, u₁)|</th><th class="num">median |u₁(t)·u₁(t+1)|</th><th class="num">share of cluster steps</th></tr></thead>
<tbody>${body.map(raw)}</tbody></table></div>`;
}

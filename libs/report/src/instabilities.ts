/** The instabilities of every run, and the power-estimate check, as HTML tables (one row per instability / run and phase, tagged with the run). */
import { formatNumber, html, raw } from './html.ts';
import { etaColourOf, etaKey, isColourable, noData } from './plot.ts';
import type { InstabilitiesRow, PowerCheckRow, RunsRow } from './rows.ts';

/** "step (value)" for a value at a step, — where either is missing. */
const atStep = (value: number | null, step: number | null) => (value === null ? '—' : step === null ? formatNumber(value) : `${formatNumber(value)} @ ${step}`);

/**
 * One row per instability, by η, run and index: where it starts (the last loss minimum), where λmax last
 * crossed above 2/η before the loss peak, the peak, where λmax first crossed back under, the loss recovery
 * ('—' if never), the loss before and at the peak, the λmax peak and trough with their steps, the same as
 * λmax/(2/η), and the heating and cooling lengths. Rows carry `data-run`/`data-eta` for the page's η selector;
 * the swatch colours come from `runs` (the page's η scale) when given, else from the rows' own η.
 */
export function instabilityTable(instabilities: InstabilitiesRow[], runs: RunsRow[] = []): string {
  if (instabilities.length === 0) return noData('no instabilities were detected.');
  const colourDomain = runs.length ? runs : instabilities;
  const rows = [...instabilities].sort((a, b) => a.eta - b.eta || a.run.localeCompare(b.run) || a.index - b.index);
  const body = rows.map((r) => {
    const threshold = isColourable(r.eta) ? 2 / r.eta : null;
    return html`<tr data-run="${r.run}" data-eta="${etaKey(r.eta)}">
<td class="lrs-nowrap"><span class="lrs-swatch" style="background:${etaColourOf(colourDomain, r.eta)}"></span><code>${r.run}</code></td>
<td class="num">${formatNumber(r.eta)}</td><td class="num">${formatNumber(threshold)}</td><td class="num">${r.index}</td>
<td class="num">${r.start}</td><td class="num">${formatNumber(r.up_crossing)}</td><td class="num">${r.peak}</td><td class="num">${formatNumber(r.down_crossing)}</td><td class="num">${formatNumber(r.end)}</td>
<td class="num">${formatNumber(r.loss_before)}</td><td class="num">${formatNumber(r.peak_loss)}</td>
<td class="num lrs-nowrap">${atStep(r.sharpness_peak, r.sharpness_peak_step)}</td><td class="num lrs-nowrap">${atStep(r.sharpness_trough, r.sharpness_trough_step)}</td>
<td class="num">${formatNumber(r.ratio_peak)}</td><td class="num">${formatNumber(r.ratio_trough)}</td>
<td class="num">${r.heating_steps}</td><td class="num">${formatNumber(r.cooling_steps)}</td></tr>`;
  });
  const detectors = [...new Set(rows.map((r) => `${r.detector} ${formatNumber(r.threshold)}`))].join(', ');
  return html`<p class="lrs-stated">Detector: <strong>${detectors}</strong> (analysis.instabilities.primary).</p><div class="lrs-table-wrap"><table class="lrs-instabilities">
<thead><tr><th>run</th><th class="num">η</th><th class="num lrs-nowrap">2/η</th><th class="num">#</th><th class="num">start</th><th class="num">λmax ↑ 2/η</th><th class="num">peak</th><th class="num">λmax ↓ 2/η</th><th class="num">recovery</th>
<th class="num">loss before</th><th class="num">peak loss</th><th class="num">λmax peak @ step</th><th class="num">λmax trough @ step</th><th class="num">peak λmax/(2/η)</th><th class="num">trough λmax/(2/η)</th>
<th class="num">heating steps</th><th class="num">cooling steps</th></tr></thead>
<tbody>${body.map(raw)}</tbody></table></div>`;
}

/**
 * The power estimate of λmax against warm Lanczos at the checked steps, one row per run and phase (inside the
 * primary instabilities, start → recovery, or outside): how many checks, the median and the largest relative error.
 */
export function powerCheckTable(rows: PowerCheckRow[], runs: RunsRow[] = []): string {
  if (rows.length === 0) return noData('no Lanczos checks of the power estimate (training.sharpnessCheckEvery is 0).');
  const colourDomain = runs.length ? runs : rows;
  const sorted = [...rows].sort((a, b) => a.eta - b.eta || a.run.localeCompare(b.run) || a.phase.localeCompare(b.phase));
  const body = sorted.map(
    (r) => html`<tr data-run="${r.run}" data-eta="${etaKey(r.eta)}">
<td class="lrs-nowrap"><span class="lrs-swatch" style="background:${etaColourOf(colourDomain, r.eta)}"></span><code>${r.run}</code></td>
<td class="num">${formatNumber(r.eta)}</td><td>${r.phase}</td><td class="num">${r.checks}</td><td class="num">${formatNumber(r.median_rel_error)}</td><td class="num">${formatNumber(r.max_rel_error)}</td></tr>`,
  );
  return html`<div class="lrs-table-wrap"><table class="lrs-power-check">
<thead><tr><th>run</th><th class="num">η</th><th>phase</th><th class="num">checks</th><th class="num">median |power − Lanczos|/Lanczos</th><th class="num">max</th></tr></thead>
<tbody>${body.map(raw)}</tbody></table></div>`;
}

/** Over all runs: the median and max relative error of the power estimate inside and outside instabilities (checks-weighted median of medians is not a median, so only counts and the max are pooled). */
export function powerCheckSummary(rows: PowerCheckRow[]): { phase: 'inside' | 'outside'; checks: number; max: number | null; medianOfRuns: number | null }[] {
  return (['inside', 'outside'] as const).map((phase) => {
    const own = rows.filter((r) => r.phase === phase && r.checks > 0);
    const medians = own.map((r) => r.median_rel_error!).sort((a, b) => a - b);
    return {
      phase,
      checks: own.reduce((s, r) => s + r.checks, 0),
      max: own.length ? Math.max(...own.map((r) => r.max_rel_error!)) : null,
      medianOfRuns: medians.length ? medians[(medians.length - 1) >> 1] : null,
    };
  });
}

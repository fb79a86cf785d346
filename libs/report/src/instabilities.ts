/** The instabilities of every run as an HTML table (one row per instability, tagged with its run). */
import { formatNumber, html, raw } from './html.ts';
import { etaColourOf, etaKey, isColourable, noData } from './plot.ts';
import type { InstabilitiesRow, RunsRow } from './rows.ts';

/**
 * One row per instability, by η, run and index: where it starts, peaks and ends (cooled back under its
 * pre-rise loss; '—' if never), the loss before and at the peak, λmax before, at the peak and after,
 * and how long heating and cooling took. Rows carry `data-run`/`data-eta` for the page's η selector;
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
<td class="num">${r.start}</td><td class="num">${r.peak}</td><td class="num">${formatNumber(r.end)}</td>
<td class="num">${formatNumber(r.loss_before)}</td><td class="num">${formatNumber(r.peak_loss)}</td>
<td class="num">${formatNumber(r.sharpness_before)}</td><td class="num">${formatNumber(r.sharpness_peak)}</td><td class="num">${formatNumber(r.sharpness_after)}</td>
<td class="num">${r.heating_steps}</td><td class="num">${formatNumber(r.cooling_steps)}</td></tr>`;
  });
  return html`<div class="lrs-table-wrap"><table class="lrs-instabilities">
<thead><tr><th>run</th><th class="num">η</th><th class="num lrs-nowrap">2/η</th><th class="num">#</th><th class="num">start</th><th class="num">peak</th><th class="num">end</th>
<th class="num">loss before</th><th class="num">peak loss</th><th class="num">λmax before</th><th class="num">λmax at peak</th><th class="num">λmax after</th>
<th class="num">heating steps</th><th class="num">cooling steps</th></tr></thead>
<tbody>${body.map(raw)}</tbody></table></div>`;
}

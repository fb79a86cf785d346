/**
 * Open question 3, the cyclic ratio (docs/architecture.md, "Cyclic ratio"): each metric of the `cyclic` table
 * against η_hi/η_lo, one panel per metric, one dot per run (seeds side by side: the spread), the mean over seeds
 * as a line and the matched-time baseline as a dashed rule; the finding is the `cyclic_trends` rows in words.
 */
import * as Plot from '@observablehq/plot';
import type { TableRow } from '@lrscape/artifacts';
import { escapeHtml, formatNumber, html, raw } from './html.ts';
import { isFiniteNumber, noData, panels, renderPlot, tagged } from './plot.ts';

/** One run of the cyclic study (`cyclic` table). */
export type CyclicRow = TableRow<'cyclic'>;
/** One trend of a metric against the ratio (`cyclic_trends` table). */
export type CyclicTrendsRow = TableRow<'cyclic_trends'>;
type Metric = CyclicTrendsRow['metric'];

const PANEL_WIDTH = 300;
const PANEL_HEIGHT = 260;

/** What each metric is, as the finding says it and as its panel's axis says it. */
export const CYCLIC_METRIC_LABELS: Record<Metric, { finding: string; title: string; axis: string }> = {
  exploration: { finding: 'Exploration (1 − overlap of the top-m eigenspaces at consecutive cycle ends)', title: '(a) exploration: 1 − s between consecutive cycle ends', axis: '1 − s(cycle start, cycle end)' },
  overlap_baseline: { finding: 'The overlap to the baseline at matched τ', title: '(b) overlap to the baseline at the cycle ends (matched τ)', axis: 's(run, baseline)' },
  instabilities_per_cycle: { finding: 'Instabilities per cycle', title: '(c) instabilities per cycle', axis: 'instabilities per cycle' },
  sharpness_matched: { finding: 'λmax at matched loss L*', title: '(d) λmax at matched loss L*', axis: 'λmax at L*' },
  test_loss_matched: { finding: 'The test loss at matched training loss L*', title: '(e) test loss at matched training loss L*', axis: 'test loss at L*' },
};
const METRICS = Object.keys(CYCLIC_METRIC_LABELS) as Metric[];

const VERB: Record<CyclicTrendsRow['direction'], string> = { rises: 'rises', falls: 'falls', unclear: 'shows no clear trend', 'not-run': 'is not measured' };

/**
 * The finding, one sentence per metric, from the trends rows alone: the direction (the t-interval of the mean
 * per-seed Kendall τ excludes 0, or not), τ with its interval, and the means at the smallest and largest ratio.
 */
export function cyclicFinding(trends: readonly CyclicTrendsRow[]): string {
  return METRICS.flatMap((metric) => {
    const t = trends.find((r) => r.metric === metric);
    if (!t) return [];
    const label = CYCLIC_METRIC_LABELS[metric].finding;
    const f = (x: number | null) => formatNumber(x === null ? null : Number(x.toPrecision(3)));
    if (t.direction === 'not-run') return [`${label} ${VERB['not-run']} against the ratio: ${t.reason}.`];
    const means = `${f(t.mean_low)} at ratio ${formatNumber(t.ratio_low)}, ${f(t.mean_high)} at ratio ${formatNumber(t.ratio_high)}${t.baseline_mean === null ? '' : `, ${f(t.baseline_mean)} for the baseline`}`;
    return [`${label} ${VERB[t.direction]} with the ratio η_hi/η_lo: Kendall τ = ${f(t.tau)} [${f(t.tau_lower)}, ${f(t.tau_upper)}] (${t.method}); ${means}.`];
  }).join(' ');
}

/** A run's dot, nudged sideways by seed on the log ratio axis so that the seeds stand side by side. */
interface Point {
  run: string;
  seed: number;
  ratio: number;
  x: number;
  value: number;
  eta: number;
}

function points(rows: readonly CyclicRow[], metric: Metric): Point[] {
  const usable = rows.filter((r) => r.status === 'ok' && r.ratio !== null && isFiniteNumber(r[metric]));
  const seeds = [...new Set(usable.map((r) => r.seed))].sort((a, b) => a - b);
  const offset = (seed: number) => 2 ** (0.06 * (seeds.indexOf(seed) - (seeds.length - 1) / 2));
  return usable.map((r) => ({ run: r.run, seed: r.seed, ratio: r.ratio!, x: r.ratio! * offset(r.seed), value: r[metric] as number, eta: r.eta_high }));
}

function panel(rows: readonly CyclicRow[], metric: Metric): string {
  const dots = points(rows, metric);
  if (dots.length === 0) return noData('no run of the study has this metric.');
  const ratios = [...new Set(dots.map((p) => p.ratio))].sort((a, b) => a - b);
  const means = ratios.map((ratio) => {
    const own = dots.filter((p) => p.ratio === ratio);
    return { ratio, value: own.reduce((s, p) => s + p.value, 0) / own.length, n: own.length };
  });
  const baselines = rows.filter((r) => r.role === 'baseline' && r.status === 'ok' && isFiniteNumber(r[metric])).map((r) => r[metric] as number);
  const baseline = baselines.length ? baselines.reduce((s, v) => s + v, 0) / baselines.length : null;
  const label = CYCLIC_METRIC_LABELS[metric].axis;
  const marks: Plot.Markish[] = [];
  if (baseline !== null) {
    marks.push(Plot.ruleY([baseline], { stroke: '#888', strokeDasharray: '5 4', title: () => `baseline (matched-time, ${baselines.length} seed${baselines.length === 1 ? '' : 's'}): ${formatNumber(baseline)}`, ...tagged('cyclic-baseline') }));
  }
  marks.push(
    Plot.line(means, { x: 'ratio', y: 'value', stroke: '#333', strokeWidth: 1.5, ...tagged('cyclic-mean-line') }),
    Plot.dot(means, { x: 'ratio', y: 'value', r: 3, fill: '#333', title: (m: (typeof means)[number]) => `ratio ${formatNumber(m.ratio)}: mean ${label} = ${formatNumber(m.value)} over ${m.n} seed${m.n === 1 ? '' : 's'}`, ...tagged('cyclic-mean') }),
  );
  for (const p of dots) {
    marks.push(
      Plot.dot([p], {
        x: 'x',
        y: 'value',
        r: 4,
        fill: (d: Point) => `seed ${d.seed}`,
        fillOpacity: 0.75,
        title: (d: Point) => `${d.run} (seed ${d.seed}), ratio ${formatNumber(d.ratio)}${d.ratio === 1 ? ' (constant η_hi)' : ''}: ${label} = ${formatNumber(d.value)}`,
        ...tagged('cyclic-run', { run: p.run, eta: p.eta }),
      }),
    );
  }
  const values = [...dots.map((p) => p.value), ...(baseline === null ? [] : [baseline])];
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.1;
  return renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 56,
    x: { type: 'log', base: 2, domain: [ratios[0] / 1.4, ratios.at(-1)! * 1.4], ticks: ratios, tickFormat: (r: number) => formatNumber(r), label: 'η_hi/η_lo (1: constant η_hi)', grid: true },
    y: { label, grid: true, domain: [Math.max(metric === 'exploration' || metric === 'overlap_baseline' ? -0.02 : -Infinity, lo - pad), hi + pad] },
    // The same seed colours in every panel, whichever seeds a panel has.
    color: { type: 'categorical', domain: [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b).map((seed) => `seed ${seed}`), legend: metric === 'exploration' },
    marks,
  });
}

/** Every metric against the ratio, one panel each; a no-data note where the study has no rows. */
export function cyclicFigure(rows: readonly CyclicRow[]): string {
  if (!rows.some((r) => r.status === 'ok' && r.ratio !== null)) return noData('no run of the cyclic study completed its cycles.');
  return panels(METRICS.map((metric) => ({ key: metric, title: CYCLIC_METRIC_LABELS[metric].title, html: panel(rows, metric) })));
}

/** The study's rows: one per run, with what is missing said. */
export function cyclicTable(rows: readonly CyclicRow[]): string {
  const body = rows.map(
    (r) => html`<tr data-run="${r.run}"><td><code>${r.run}</code></td><td>${r.role}</td><td class="num">${formatNumber(r.ratio)}</td><td class="num">${r.seed}</td>
<td class="num">${formatNumber(r.period)}</td><td>${r.status}</td><td class="num">${r.compared_cycles}</td><td class="num">${formatNumber(r.exploration)}</td><td class="num">${formatNumber(r.overlap_baseline)}</td>
<td class="num">${formatNumber(r.instabilities_per_cycle)}</td><td class="num">${formatNumber(r.step_matched)}</td><td class="num">${formatNumber(r.sharpness_matched)}</td><td class="num">${formatNumber(r.ratio_matched)}</td>
<td class="num">${formatNumber(r.test_loss_matched)}</td><td>${r.reason}</td></tr>`,
  );
  return html`<div class="lrs-table-wrap"><table class="lrs-cyclic">
<thead><tr><th>run</th><th>role</th><th class="num">η_hi/η_lo</th><th class="num">seed</th><th class="num">period</th><th>status</th><th class="num">cycles compared</th>
<th class="num">exploration</th><th class="num">overlap to baseline</th><th class="num">instabilities / cycle</th><th class="num">step at L*</th><th class="num">λmax at L*</th>
<th class="num">λmax·η_t/2 at L*</th><th class="num">test loss at L*</th><th>notes</th></tr></thead>
<tbody>${body.map(raw)}</tbody></table></div>`;
}

/**
 * The page's cyclic section: the finding, the figure (with `caption`) and the per-run table; null where the
 * `cyclic` table has no rows. `figure` wraps markup and caption as the page's figures are.
 */
export function cyclicSection(rows: readonly CyclicRow[], trends: readonly CyclicTrendsRow[], figure: (markup: string, caption: string) => string, caption: string): string | null {
  if (rows.length === 0) return null;
  const finding = trends.length ? `<p class="lrs-stated">${escapeHtml(cyclicFinding(trends))}</p>` : '';
  return finding + figure(cyclicFigure(rows), caption) + cyclicTable(rows);
}

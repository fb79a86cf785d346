import { describe, expect, test } from 'vitest';
import { cyclicCaption } from './captions.ts';
import { cyclicFigure, cyclicFinding, cyclicSection, type CyclicRow, type CyclicTrendsRow } from './cyclic.ts';
import { renderExperimentPage, renderFigure } from './page.ts';
import { marksOf, parse } from './testing/dom.ts';

function row(ratio: number | null, seed: number, exploration: number | null, overrides: Partial<CyclicRow> = {}): CyclicRow {
  const role = ratio === null ? 'baseline' : ratio === 1 ? 'constant' : 'cyclic';
  const suffix = seed === 0 ? '' : `-s${seed}`;
  const run = role === 'baseline' ? `eta-0.01${suffix}` : role === 'constant' ? `eta-0.1${suffix}` : `cyclic-${0.1 / ratio!}-0.1-p${500 + 10 * ratio!}${suffix}`;
  return {
    run, role, ratio, eta_high: role === 'baseline' ? 0.01 : 0.1, eta_low: role === 'baseline' ? 0.01 : 0.1 / ratio!, period: role === 'cyclic' ? 500 + 10 * ratio! : null, seed,
    status: 'ok', reason: '', cycle_tau: 38.25, cycles: 3, from_cycle: 2, compared_cycles: 2, m: 2,
    exploration, overlap_cycle: exploration === null ? null : 1 - exploration, cos_rms_cycle: null, ill_defined_cycles: 0,
    overlap_baseline: role === 'baseline' ? null : 0.9 - 0.01 * seed, cos_rms_baseline: null, instabilities: 4, instabilities_per_cycle: role === 'baseline' ? 0 : 2,
    matched_loss: 0.05, step_matched: 1000, tau_matched: 60, lr_matched: 0.05, sharpness_matched: 30 + seed, ratio_matched: 0.75, test_step_matched: 1000, train_loss_test_matched: 0.05,
    test_loss_matched: 0.055, ...overrides,
  };
}
const ratios = [1, 2, 4, 8, 16];
/** Three seeds over five ratios, exploration 0.1·i + 0.01·seed; the baselines 0.05; seed 2's ratio 16 run diverged. */
const rows: CyclicRow[] = [
  ...ratios.flatMap((ratio, i) => [0, 1, 2].map((seed) => (seed === 2 && ratio === 16 ? row(ratio, seed, null, { status: 'not-run', reason: 'diverged at step 900', sharpness_matched: null, overlap_baseline: null, instabilities_per_cycle: null, test_loss_matched: null }) : row(ratio, seed, 0.1 * (i + 1) + 0.01 * seed)))),
  row(null, 0, 0.05), row(null, 1, 0.05), row(null, 2, 0.05),
];

const trend = (metric: CyclicTrendsRow['metric'], overrides: Partial<CyclicTrendsRow> = {}): CyclicTrendsRow => ({
  metric, seeds: 3, tau: 0.8, tau_lower: 0.55, tau_upper: 1, method: 'mean of per-seed Kendall τ over the ratios, 95% t-interval over 3 seeds', direction: 'rises', reason: '',
  ratio_low: 1, mean_low: 0.1234567, ratio_high: 16, mean_high: 0.5, baseline_mean: null, ...overrides,
});
const trends: CyclicTrendsRow[] = [
  trend('exploration', { baseline_mean: 0.05 }),
  trend('overlap_baseline', { direction: 'falls', tau: -1, tau_lower: -1, tau_upper: -1, mean_low: 0.6, mean_high: 0.9 }),
  trend('instabilities_per_cycle', { direction: 'unclear', tau: 0.2, tau_lower: -0.9, tau_upper: 1, mean_low: 4, mean_high: 2, baseline_mean: 0 }),
  trend('sharpness_matched', { direction: 'not-run', seeds: 1, tau: null, tau_lower: null, tau_upper: null, method: '', reason: '1 seed with the metric at 3 or more ratios (an interval needs 2)' }),
];

describe('cyclicFigure', () => {
  const doc = parse(cyclicFigure(rows));
  const panel = (key: string) => doc.querySelector(`.lrs-panel[data-panel="${key}"]`)!;

  test('one panel per metric, one dot per run that has the metric, the mean per ratio and the baseline rule', () => {
    expect([...doc.querySelectorAll('.lrs-panel')].map((p) => p.getAttribute('data-panel'))).toEqual(['exploration', 'overlap_baseline', 'instabilities_per_cycle', 'sharpness_matched', 'test_loss_matched']);
    const a = panel('exploration');
    // 15 runs of the study, one of them not-run: 14 dots; the baselines are a rule, not dots.
    expect(marksOf(a, 'cyclic-run')).toHaveLength(14);
    expect(marksOf(a, 'cyclic-mean')).toHaveLength(5);
    expect(marksOf(a, 'cyclic-mean-line')).toHaveLength(1);
    expect(marksOf(a, 'cyclic-baseline')).toHaveLength(1);
    expect(marksOf(a, 'cyclic-run', 'eta-0.1-s1')[0].querySelector('title')!.textContent).toBe('eta-0.1-s1 (seed 1), ratio 1 (constant η_hi): 1 − s(cycle start, cycle end) = 0.11');
    // Ratio 16's mean is over its two completed seeds: (0.5 + 0.51)/2.
    expect([...a.querySelectorAll('g[data-role="cyclic-mean"] title')].map((t) => t.textContent).at(-1)).toBe('ratio 16: mean 1 − s(cycle start, cycle end) = 0.505 over 2 seeds');
    // The baselines have no overlap to themselves: no rule in panel (b).
    expect(marksOf(panel('overlap_baseline'), 'cyclic-baseline')).toHaveLength(0);
    expect(marksOf(panel('overlap_baseline'), 'cyclic-run')).toHaveLength(14);
  });

  test('the ratio axis is logarithmic with a tick at each ratio', () => {
    const labels = [...panel('exploration').querySelectorAll('g[aria-label="x-axis tick label"] text')].map((t) => t.textContent);
    expect(labels).toEqual(['1', '2', '4', '8', '16']);
  });

  test('says so where no run of the study completed', () => {
    expect(cyclicFigure(rows.map((r) => ({ ...r, status: 'not-run' as const })))).toMatch(/No data: no run of the cyclic study completed its cycles/);
  });
});

describe('cyclicFinding', () => {
  test('states each metric’s direction, τ with its interval and the means, from the trends rows alone', () => {
    expect(cyclicFinding(trends)).toBe(
      'Exploration (1 − overlap of the top-m eigenspaces at consecutive cycle ends) rises with the ratio η_hi/η_lo: Kendall τ = 0.8 [0.55, 1] (mean of per-seed Kendall τ over the ratios, 95% t-interval over 3 seeds); 0.123 at ratio 1, 0.5 at ratio 16, 0.05 for the baseline. ' +
        'The overlap to the baseline at matched τ falls with the ratio η_hi/η_lo: Kendall τ = -1 [-1, -1] (mean of per-seed Kendall τ over the ratios, 95% t-interval over 3 seeds); 0.6 at ratio 1, 0.9 at ratio 16. ' +
        'Instabilities per cycle shows no clear trend with the ratio η_hi/η_lo: Kendall τ = 0.2 [-0.9, 1] (mean of per-seed Kendall τ over the ratios, 95% t-interval over 3 seeds); 4 at ratio 1, 2 at ratio 16, 0 for the baseline. ' +
        'λmax at matched loss L* is not measured against the ratio: 1 seed with the metric at 3 or more ratios (an interval needs 2).',
    );
  });
});

describe('cyclicSection', () => {
  test('the finding, the figure with its caption and the per-run table; null without rows', () => {
    const doc = parse(cyclicSection(rows, trends, renderFigure, cyclicCaption(rows))!);
    expect(doc.querySelector('.lrs-stated')!.textContent).toBe(cyclicFinding(trends));
    expect(doc.querySelector('figcaption')!.textContent).toMatch(/at η_hi = 0\.1 .*τ = Σ η_s = 38\.25 \(520 steps at ratio 2, 540 steps at ratio 4, 580 steps at ratio 8, 660 steps at ratio 16\).*cycles 2–3.*top-2 eigenspaces.*L\* = 0\.05/);
    expect(doc.querySelectorAll('table.lrs-cyclic tbody tr')).toHaveLength(rows.length);
    expect(doc.querySelector('table.lrs-cyclic tr[data-run="cyclic-0.00625-0.1-p660-s2"]')!.textContent).toMatch(/not-run[\s\S]*diverged at step 900/);
    expect(cyclicSection([], trends, renderFigure, '')).toBeNull();
  });
});

describe('the experiment page', () => {
  const page = (cyclic: CyclicRow[]) =>
    parse(
      renderExperimentPage({
        experiment: 'wreg-cyclic', title: 'Cyclic', description: '', runs: [], steps: [], spectra: [], claims: [], cyclic, cyclicTrends: trends, config: {},
        provenance: { codeVersion: 'test', backend: 'cpu', generatedAt: 'now', versions: {} }, downloads: [],
      }),
    );
  test('shows the cyclic section where the cyclic table has rows, and not otherwise', () => {
    const section = page(rows).querySelector('section#cyclic')!;
    expect(section.querySelector('h2')!.textContent).toMatch(/open question 3/);
    expect(section.querySelector('.lrs-stated')!.textContent).toBe(cyclicFinding(trends));
    expect(marksOf(section, 'cyclic-run').length).toBeGreaterThan(0);
    expect(page([]).querySelector('section#cyclic')).toBeNull();
  });
});

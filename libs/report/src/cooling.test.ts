import { describe, expect, test } from 'vitest';
import { coolingFigure, coolingInstabilityTable, cumulativeChanges, phaseSummaries, phaseSummaryTable } from './cooling.ts';
import { renderExperimentPage } from './page.ts';
import type { ClaimsRow, CoolingInstabilityRow, CoolingRow, RunsRow } from './rows.ts';
import { marksOf, parse } from './testing/dom.ts';

function step(stepIndex: number, phase: CoolingRow['phase'], gradSDotGrad: number, extra: Partial<CoolingRow> = {}): CoolingRow {
  return {
    run: 'eta-0.1', instability: 2, step: stepIndex, phase, lr: 0.1, loss: 0.1 + stepIndex / 100, loss_logged: 0.1 + stepIndex / 100, loss_float64: 0.1, grad_norm: 1,
    lambda_1: 22, lambda_2: 4, lambda_3: 2, lambda_4: 1, lanczos_residual: 1e-9, gap_ratio: 5.5, cluster_size: 1, formula: 'single', s: 22,
    sharpness_ratio: 1.1, cos_grad_u1: 0.9, displacement_u1: 0, rotation: 0.99, grad_s_dot_grad: gradSDotGrad, grad_s_dot_u1: 1, grad_s_norm: 2, grad_s_error: 1e-6,
    delta_s: -0.1 * gradSDotGrad + 0.01, delta_s_first_order: -0.1 * gradSDotGrad, ...extra,
  };
}

function instability(extra: Partial<CoolingInstabilityRow> = {}): CoolingInstabilityRow {
  return {
    run: 'eta-0.1', instability: 2, status: 'computed', reason: '', start: 10, peak: 12, end: 14, steps: 5, loss_error_max: 0, theta_error_max: 0,
    heating_positive: 0.5, cooling_positive: 1, heating_net: -0.2, cooling_net: 0.8, lambda_change_heating: 1, lambda_change_cooling: -3, first_order_agreement: 0.75, cluster_steps: 1, ...extra,
  };
}

const rows = [
  step(10, 'heating', -1),
  step(11, 'heating', 2, { formula: 'cluster', cluster_size: 2, gap_ratio: 1.05 }),
  step(12, 'cooling', 4),
  step(13, 'cooling', 1),
  step(14, 'recovered', 0.5, { delta_s: null, rotation: null }),
];
const runs: RunsRow[] = [{ run: 'eta-0.1', eta: 0.1, schedule: 'constant', seed: 0, steps: 100, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null }];

describe('coolingFigure', () => {
  const doc = parse(coolingFigure(rows, instability()));
  const panel = (key: string) => doc.querySelector(`.lrs-panel[data-panel="${key}"]`)!;

  test('four panels over the instability’s steps, with a heating and a cooling band in each', () => {
    expect([...doc.querySelectorAll('.lrs-panel')].map((p) => p.getAttribute('data-panel'))).toEqual(['loss', 'eigenvalues', 'grad-s', 'change']);
    for (const key of ['loss', 'eigenvalues', 'grad-s', 'change']) expect(marksOf(panel(key), 'cooling-phase')).toHaveLength(2);
    expect(marksOf(panel('loss'), 'cooling-loss-point')).toHaveLength(5);
  });

  test('λ₁ … λ₄, the 2/η line and a ring on each cluster step', () => {
    for (const rank of [1, 2, 3, 4]) expect(marksOf(panel('eigenvalues'), `cooling-lambda-${rank}`)).toHaveLength(1);
    expect(marksOf(panel('eigenvalues'), 'cooling-threshold')).toHaveLength(1);
    const rings = marksOf(panel('eigenvalues'), 'cooling-cluster');
    expect(rings).toHaveLength(1);
    expect(rings[0].querySelector('title')!.textContent).toMatch(/step 11: cluster of 2/);
  });

  test('one bar per step for ∇S·∇L, coloured by its sign', () => {
    const bars = marksOf(panel('grad-s'), 'cooling-grad-s');
    expect(bars).toHaveLength(5);
    expect(bars.map((b) => b.getAttribute('stroke'))).toEqual(['#c0392b', '#2e6fba', '#2e6fba', '#2e6fba', '#2e6fba']);
  });

  test('says so when the instability has no steps', () => {
    expect(coolingFigure([], instability())).toContain('No data');
  });
});

describe('cumulativeChanges', () => {
  test('sums the first-order prediction and the measured change from 0 at the first step', () => {
    const c = cumulativeChanges(rows);
    expect(c.map((x) => x.step)).toEqual([10, 11, 12, 13, 14]);
    // −η∇S·∇L = 0.1, −0.2, −0.4, −0.1 over the four steps with a next one; each measured change is 0.01 above it.
    [0, 0.1, -0.1, -0.5, -0.6].forEach((v, i) => expect(c[i].predicted).toBeCloseTo(v, 12));
    [0, 0.11, -0.08, -0.47, -0.56].forEach((v, i) => expect(c[i].measured).toBeCloseTo(v, 12));
  });
});

describe('the summaries', () => {
  test('the instability table puts both phases side by side and lists a missing selection with its reason', () => {
    const missing = instability({ instability: 7, status: 'missing-instability', reason: 'exp.json: field `cooling.instabilities.1`: no instability 7' });
    const doc = parse(coolingInstabilityTable([instability(), missing], runs));
    const [computed, absent] = [...doc.querySelectorAll('tbody tr[data-status]')];
    expect([...computed.querySelectorAll('td')].map((td) => td.textContent)).toEqual(
      ['eta-0.1', '2', 'computed', '10–12–14', '-0.2', '0.8', '0.5', '1', '1', '-3', '0.75', '1', '0', '0'],
    );
    expect(absent.textContent).toContain('field `cooling.instabilities.1`');
    expect(coolingInstabilityTable([], runs)).toContain('No data');
  });

  test('the phase summary pools the complete instabilities’ steps per phase', () => {
    const [heating, cooling] = phaseSummaries(rows, [instability(), instability({ instability: 3, status: 'truncated', cooling_net: -1 })]);
    expect(heating).toMatchObject({ phase: 'heating', instabilities: 1, steps: 2, meanNet: -0.2, positiveShare: 0.5, clusterShare: 0.5, medianGapRatio: (5.5 + 1.05) / 2 });
    expect(cooling).toMatchObject({ phase: 'cooling', instabilities: 1, steps: 2, meanNet: 0.8, positiveShare: 1, clusterShare: 0 });
    expect(parse(phaseSummaryTable(rows, [instability()])).querySelectorAll('tbody tr')).toHaveLength(2);
  });
});

describe('the page section', () => {
  const claim: ClaimsRow = { id: 'cooling-self-stabilisation', claim: 'Self-stabilisation …', measured: 0.4, expected: 'mean d > 0', verdict: 'inconclusive', detail: 'd = 0.4 [−0.1, 0.9]' };
  const page = (coolingInstabilities: CoolingInstabilityRow[]) =>
    parse(
      renderExperimentPage({
        experiment: 'x', title: 'X', description: '', runs, steps: [], spectra: [], claims: [claim], cooling: rows, coolingInstabilities, config: {},
        provenance: { codeVersion: 'v', backend: 'cpu', generatedAt: 'now', versions: {} }, downloads: [],
      }),
    );

  test('states the prediction, shows the verdict from the claims table, the summaries and one figure per instability', () => {
    const section = page([instability()]).querySelector('section#cooling')!;
    expect(section.querySelector('.lrs-note')!.textContent).toMatch(/prediction, stated before the numbers/);
    expect(section.querySelector('.lrs-verdict')!.getAttribute('data-verdict')).toBe('inconclusive');
    expect(section.querySelector('.lrs-verdict')!.textContent).toContain('d = 0.4 [−0.1, 0.9]');
    expect(section.querySelectorAll('table')).toHaveLength(2);
    expect(section.querySelectorAll('figure[data-run="eta-0.1"]')).toHaveLength(1);
    expect(section.querySelector('figcaption')!.textContent).toMatch(/Run eta-0.1 \(η = 0.1\), instability 2, steps 10–14/);
  });

  test('is left out where nothing was selected', () => {
    expect(page([]).querySelector('section#cooling')).toBeNull();
  });
});

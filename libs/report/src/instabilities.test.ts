import { describe, expect, test } from 'vitest';
import { instabilityTable, powerCheckSummary, powerCheckTable } from './instabilities.ts';
import { etaColourOf } from './plot.ts';
import type { InstabilitiesRow, PowerCheckRow, RunsRow } from './rows.ts';
import { parse } from './testing/dom.ts';

function row(run: string, eta: number, index: number, end: number | null): InstabilitiesRow {
  return {
    run, eta, index, start: 100 * index, peak: 100 * index + 20, end, loss_before: 0.25, peak_loss: 1.5,
    sharpness_before: 19.5, sharpness_peak: 24.25, sharpness_after: end === null ? null : 17, heating_steps: 20, cooling_steps: end === null ? null : end - 100 * index - 20,
    detector: 'relative', threshold: 0.1, up_crossing: 100 * index + 5, down_crossing: end === null ? null : 100 * index + 22, sharpness_peak_step: 100 * index + 12,
    sharpness_trough: end === null ? null : 16, sharpness_trough_step: end === null ? null : 100 * index + 25, ratio_peak: (24.25 * eta) / 2, ratio_peak_step: 100 * index + 12,
    ratio_trough: end === null ? null : (16 * eta) / 2, ratio_trough_step: end === null ? null : 100 * index + 25,
  };
}
const runs: RunsRow[] = [0.01, 0.1, 0.2].map((eta) => ({
  run: `eta-${eta}`, eta, schedule: 'constant', seed: 0, steps: 500, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null,
}));

describe('instabilityTable', () => {
  const rows = [row('eta-0.2', 0.2, 1, 150), row('eta-0.1', 0.1, 2, null), row('eta-0.1', 0.1, 1, 140)];
  const doc = parse(instabilityTable(rows, runs));

  test('has one row per instability, by η then index, tagged with its run', () => {
    const trs = [...doc.querySelectorAll('table.lrs-instabilities tbody tr')];
    expect(trs.map((tr) => [tr.getAttribute('data-run'), tr.getAttribute('data-eta'), tr.children[3]!.textContent])).toEqual([
      ['eta-0.1', '0.1', '1'],
      ['eta-0.1', '0.1', '2'],
      ['eta-0.2', '0.2', '1'],
    ]);
  });

  test('shows every column — crossings of 2/η, recovery, λmax peak and trough with their steps — with — where there is none', () => {
    const headers = [...doc.querySelectorAll('thead th')].map((th) => th.textContent);
    expect(headers).toEqual([
      'run', 'η', '2/η', '#', 'start', 'λmax ↑ 2/η', 'peak', 'λmax ↓ 2/η', 'recovery', 'loss before', 'peak loss', 'λmax peak @ step', 'λmax trough @ step',
      'peak λmax/(2/η)', 'trough λmax/(2/η)', 'heating steps', 'cooling steps',
    ]);
    const cells = (i: number) => [...doc.querySelectorAll('tbody tr')[i]!.children].map((td) => td.textContent!.trim());
    expect(cells(0)).toEqual(['eta-0.1', '0.1', '20', '1', '100', '105', '120', '122', '140', '0.25', '1.5', '24.25 @ 112', '16 @ 125', '1.213', '0.8', '20', '20']);
    expect(cells(1).slice(7)).toEqual(['—', '—', '0.25', '1.5', '24.25 @ 212', '—', '1.213', '—', '20', '—']);
    expect(doc.querySelector('.lrs-stated')!.textContent).toBe('Detector: relative 0.1 (analysis.instabilities.primary).');
  });

  test('colours each run\'s swatch as in the figures', () => {
    const swatch = doc.querySelector('tr[data-run="eta-0.2"] .lrs-swatch')!;
    expect(swatch.getAttribute('style')).toBe(`background:${etaColourOf(runs, 0.2)}`);
  });

  test('escapes run names and says when there is nothing', () => {
    const evil = parse(instabilityTable([row('<b>x</b>', 0.1, 1, 10)]));
    expect(evil.querySelector('tbody code')!.textContent).toBe('<b>x</b>');
    expect(evil.querySelector('tbody b')).toBeNull();
    expect(instabilityTable([])).toContain('No data');
  });
});

describe('powerCheckTable', () => {
  const rows: PowerCheckRow[] = [
    { run: 'eta-0.1', eta: 0.1, phase: 'outside', checks: 90, median_rel_error: 0.004, max_rel_error: 0.02 },
    { run: 'eta-0.1', eta: 0.1, phase: 'inside', checks: 10, median_rel_error: 0.03, max_rel_error: 0.17 },
    { run: 'eta-0.01', eta: 0.01, phase: 'inside', checks: 0, median_rel_error: null, max_rel_error: null },
    { run: 'eta-0.01', eta: 0.01, phase: 'outside', checks: 100, median_rel_error: 0.001, max_rel_error: 0.002 },
  ];

  test('one row per run and phase, by η, with — where a phase has no checks', () => {
    const doc = parse(powerCheckTable(rows, runs));
    const cells = [...doc.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent!.trim()));
    expect(cells).toEqual([
      ['eta-0.01', '0.01', 'inside', '0', '—', '—'],
      ['eta-0.01', '0.01', 'outside', '100', '0.001', '0.002'],
      ['eta-0.1', '0.1', 'inside', '10', '0.03', '0.17'],
      ['eta-0.1', '0.1', 'outside', '90', '0.004', '0.02'],
    ]);
    expect(powerCheckTable([])).toContain('No data');
  });

  test('the summary pools counts and the max, and takes the median of the runs\' medians', () => {
    expect(powerCheckSummary(rows)).toEqual([
      { phase: 'inside', checks: 10, max: 0.17, medianOfRuns: 0.03 },
      { phase: 'outside', checks: 190, max: 0.02, medianOfRuns: 0.001 },
    ]);
  });
});

import { describe, expect, test } from 'vitest';
import { instabilityTable } from './instabilities.ts';
import { etaColourOf } from './plot.ts';
import type { InstabilitiesRow, RunsRow } from './rows.ts';
import { parse } from './testing/dom.ts';

function row(run: string, eta: number, index: number, end: number | null): InstabilitiesRow {
  return {
    run, eta, index, start: 100 * index, peak: 100 * index + 20, end, loss_before: 0.25, peak_loss: 1.5,
    sharpness_before: 19.5, sharpness_peak: 24.25, sharpness_after: end === null ? null : 17, heating_steps: 20, cooling_steps: end === null ? null : end - 100 * index - 20,
  };
}
const runs: RunsRow[] = [0.01, 0.1, 0.2].map((eta) => ({
  run: `eta-${eta}`, eta, schedule: 'constant', seed: 0, steps: 500, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu',
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

  test('shows every column, with — for an instability that never cooled', () => {
    const headers = [...doc.querySelectorAll('thead th')].map((th) => th.textContent);
    expect(headers).toEqual(['run', 'η', '2/η', '#', 'start', 'peak', 'end', 'loss before', 'peak loss', 'λmax before', 'λmax at peak', 'λmax after', 'heating steps', 'cooling steps']);
    const cells = (i: number) => [...doc.querySelectorAll('tbody tr')[i]!.children].map((td) => td.textContent!.trim());
    expect(cells(0)).toEqual(['eta-0.1', '0.1', '20', '1', '100', '120', '140', '0.25', '1.5', '19.5', '24.25', '17', '20', '20']);
    expect(cells(1).slice(6)).toEqual(['—', '0.25', '1.5', '19.5', '24.25', '—', '20', '—']);
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

import { describe, expect, test } from 'vitest';
import { flatteningFigure } from './flattening.ts';
import type { FlatteningRow, RunsRow } from './rows.ts';
import { marksOf, parse, yPixelOf } from './testing/dom.ts';

function run(name: string, eta: number, schedule = 'constant'): RunsRow {
  return { run: name, eta, schedule, seed: 0, steps: 100, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu' };
}
const runs = [run('a', 0.1), run('b', 0.2), run('d100', 0.1, 'drop'), run('d200', 0.1, 'drop')];
const along: FlatteningRow[] = [1, 2, 3].flatMap((i) => [
  { run: 'a', kind: 'along_run', t_switch: null, instabilities: i, sharpness: 19 - i },
  { run: 'b', kind: 'along_run', t_switch: null, instabilities: i, sharpness: 9 - i },
]);
const drop: FlatteningRow[] = [
  { run: 'd100', kind: 'drop', t_switch: 100, instabilities: 1, sharpness: 40 },
  { run: 'd200', kind: 'drop', t_switch: 200, instabilities: 3, sharpness: 25 },
];

describe('flatteningFigure', () => {
  const doc = parse(flatteningFigure([...along, ...drop], runs));
  const panel = (kind: string) => doc.querySelector(`.lrs-panel[data-panel="${kind}"]`)!;

  test('(a) draws sharpness after the i-th instability against i, one line per run, with its 2/η', () => {
    const a = panel('along_run');
    expect(a.querySelector('.lrs-panel-title')!.textContent).toMatch(/along a run/);
    expect([...a.querySelectorAll('g[data-role="flattening"]')].map((g) => g.getAttribute('data-run'))).toEqual(['a', 'b']);
    expect(marksOf(a, 'flattening-point')).toHaveLength(6);
    const threshold = a.querySelector('g[data-role="threshold"][data-run="a"] line')!;
    expect(Number(threshold.getAttribute('y1'))).toBeCloseTo(yPixelOf(a, 20), 3);
  });

  test('(b) draws one point per drop schedule labelled by its t_switch', () => {
    const b = panel('drop');
    expect(marksOf(b, 'drop')).toHaveLength(2);
    expect(marksOf(b, 'drop-label').map((t) => t.textContent)).toEqual(['t=100', 't=200']);
    expect(marksOf(b, 'drop', 'd200')[0]!.querySelector('title')!.textContent).toMatch(/3 instabilities before the drop[\s\S]*final λmax 25/);
    expect(marksOf(b, 'drop-trend')).toHaveLength(1);
  });

  test('has one colour legend, on the first panel', () => {
    expect(panel('along_run').querySelectorAll('svg.lrs-plot-ramp')).toHaveLength(1);
    expect(panel('drop').querySelectorAll('svg.lrs-plot-ramp')).toHaveLength(0);
    expect(parse(flatteningFigure(drop, runs)).querySelectorAll('.lrs-panel[data-panel="drop"] svg.lrs-plot-ramp')).toHaveLength(1);
  });

  test('notes a missing kind in its panel and says when there is no data at all', () => {
    const onlyAlong = parse(flatteningFigure(along, runs));
    expect(onlyAlong.querySelector('.lrs-panel[data-panel="drop"] .lrs-nodata')).not.toBeNull();
    expect(onlyAlong.querySelector('.lrs-panel[data-panel="along_run"] svg.lrs-plot')).not.toBeNull();
    expect(flatteningFigure([], runs)).toContain('No data');
  });

  test('draws runs missing from the runs table in grey', () => {
    const doc = parse(flatteningFigure([{ run: 'x', kind: 'drop', t_switch: 5, instabilities: 0, sharpness: 3 }], []));
    expect(doc.querySelector('g[data-role="drop"]')!.getAttribute('fill')).toBe('#888');
  });
});

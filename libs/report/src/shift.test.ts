import * as Plot from '@observablehq/plot';
import { describe, expect, test } from 'vitest';
import type { DisplacementRow, OverlapsRow, RunsRow } from './rows.ts';
import { baselineOverlapFigure, baselineRunOf, displacementFigure, instabilityOverlapFigure, OVERLAP_SCHEME, overlapHeatmapFigure } from './shift.ts';
import { marksOf, parse, yPixelOf } from './testing/dom.ts';

function run(name: string, eta: number): RunsRow {
  return { run: name, eta, schedule: 'constant', seed: 0, steps: 100, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu' , initial_regime: null};
}
const runs = [run('base', 0.01), run('a', 0.1), run('b', 0.3)];

function overlap(kind: OverlapsRow['kind'], runA: string, a: number, runB: string, b: number, value: number, scope = 'full'): OverlapsRow {
  return { run_a: runA, step_a: a, run_b: runB, step_b: b, scope, m: 2, overlap: value, min_cos_angle: value / 2, cos_rms_angle: value / 1.5, gap_a: 3, gap_b: 3, well_defined: true, kind, tau_a: a * 0.1, tau_b: b * 0.1 };
}

describe('overlapHeatmapFigure', () => {
  const steps = [0, 10, 20];
  // Upper triangle only (with the diagonal): the figure mirrors it.
  const rows = steps.flatMap((a) => steps.filter((b) => b >= a).map((b) => overlap('step×step', 'a', a, 'a', b, 1 - Math.abs(a - b) / 40)));
  rows.push(overlap('step×step', 'b', 0, 'b', 10, 0.3), overlap('baseline', 'a', 0, 'base', 0, 0.9), overlap('step×step', 'a', 0, 'a', 10, 0.1, 'k1'));

  test('draws one cell per pair of checkpoints, mirrored across the diagonal, coloured on [0, 1]', () => {
    const doc = parse(overlapHeatmapFigure(rows, 'a', 'full', runs));
    const cells = marksOf(doc, 'overlap-cell');
    expect(cells).toHaveLength(9);
    const fillOf = (a: number, b: number) => cells.find((c) => c.querySelector('title')!.textContent!.includes(`steps ${a} and ${b}\n`))!.getAttribute('fill');
    expect(fillOf(0, 20)).toBe(fillOf(20, 0));
    const scale = Plot.scale({ color: { type: 'linear', domain: [0, 1], scheme: OVERLAP_SCHEME } });
    expect(fillOf(10, 10)).toBe(String(scale.apply(1)));
    expect(fillOf(0, 20)).toBe(String(scale.apply(0.5)));
    expect(doc.querySelector('svg.lrs-plot-ramp')).not.toBeNull(); // the colour legend
  });

  test('tags its marks with the run and its η for the selector', () => {
    const g = parse(overlapHeatmapFigure(rows, 'a', 'full', runs)).querySelector('g[data-role="overlap-cell"]')!;
    expect([g.getAttribute('data-run'), g.getAttribute('data-eta')]).toEqual(['a', '0.1']);
  });

  test('draws the requested scope only and says when there is nothing for the run', () => {
    expect(marksOf(parse(overlapHeatmapFigure(rows, 'a', 'k1')), 'overlap-cell')).toHaveLength(2);
    expect(overlapHeatmapFigure(rows, 'base')).toContain('No data');
    expect(overlapHeatmapFigure(rows, 'a', 'k9')).toContain('No data');
    expect(overlapHeatmapFigure([], 'a')).toContain('No data');
  });
});

describe('baselineOverlapFigure', () => {
  const rows = [0, 50, 100].flatMap((s, i) => [
    overlap('baseline', 'a', s, 'base', s, 1 - 0.1 * i),
    overlap('baseline', 'b', s, 'base', s, 1 - 0.3 * i),
    overlap('baseline', 'base', s, 'base', s, 1),
  ]);

  test('draws each run against the baseline over training, leaving out the baseline itself', () => {
    const doc = parse(baselineOverlapFigure(rows, runs));
    expect([...doc.querySelectorAll('g[data-role="baseline-overlap"]')].map((g) => g.getAttribute('data-run'))).toEqual(['a', 'b']);
    const dots = marksOf(doc, 'baseline-overlap-point', 'b');
    expect(dots).toHaveLength(3);
    expect(Number(dots[2]!.getAttribute('cy'))).toBeCloseTo(yPixelOf(doc, 0.4), 3);
    expect(dots[0]!.querySelector('title')!.textContent).toContain('against base');
    expect(baselineRunOf(rows)).toBe('base');
  });

  test('says there is no data', () => {
    expect(baselineOverlapFigure(rows.filter((r) => r.run_a === 'base'), runs)).toContain('No data');
    expect(baselineOverlapFigure([], runs)).toContain('No data');
    expect(baselineRunOf([])).toBeUndefined();
  });
});

describe('instabilityOverlapFigure', () => {
  const rows = [overlap('instability', 'a', 10, 'a', 40, 0.4), overlap('instability', 'a', 40, 'a', 90, 0.8), overlap('instability', 'b', 20, 'b', 60, 0.2)];

  test('draws a segment from the checkpoint before to the one after at the height of the overlap', () => {
    const doc = parse(instabilityOverlapFigure(rows, runs));
    const segments = marksOf(doc, 'instability-overlap', 'a');
    expect(segments).toHaveLength(2);
    expect(Number(segments[0]!.getAttribute('y1'))).toBeCloseTo(yPixelOf(doc, 0.4), 3);
    expect(Number(segments[0]!.getAttribute('x2'))).toBeGreaterThan(Number(segments[0]!.getAttribute('x1')));
    expect(marksOf(doc, 'instability-overlap-point')).toHaveLength(6);
  });

  test('says there is no data', () => {
    expect(instabilityOverlapFigure([overlap('baseline', 'a', 0, 'base', 0, 1)], runs)).toContain('No data');
  });
});

describe('displacementFigure', () => {
  const rows: DisplacementRow[] = [0, 10, 20, 30].flatMap((step) => [
    { run: 'a', step, cos_to_baseline: step === 0 ? null : 1 - step / 100 },
    { run: 'b', step, cos_to_baseline: step === 0 ? null : -step / 100 },
  ]);

  test('draws the cosine per run, with gaps where it is undefined and a zero line when it goes negative', () => {
    const doc = parse(displacementFigure(rows, runs));
    expect(marksOf(doc, 'displacement')).toHaveLength(2);
    expect(marksOf(doc, 'displacement-point', 'a')).toHaveLength(3);
    expect(doc.querySelector('g[data-role="displacement"] path')!.getAttribute('d')).not.toMatch(/NaN/);
    expect(marksOf(doc, 'zero')).toHaveLength(1);
    expect(marksOf(parse(displacementFigure(rows.filter((r) => r.run === 'a'), runs)), 'zero')).toHaveLength(0);
  });

  test('says there is no data', () => {
    expect(displacementFigure([], runs)).toContain('No data');
    expect(displacementFigure([{ run: 'a', step: 0, cos_to_baseline: null }], runs)).toContain('No data');
  });
});

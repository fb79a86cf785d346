import { describe, expect, test } from 'vitest';
import type { DensityRow, EffectiveRow, KlayerRow, RunsRow, SpectraRow, TraceRow } from './rows.ts';
import { densityFigure, effectiveFigure, klayerErrorFigure, outlierCountFigure, traceFigure } from './spectral.ts';
import { marksOf, parse, xPixelOf, yPixelOf, yTicks } from './testing/dom.ts';

function run(name: string, eta: number): RunsRow {
  return { run: name, eta, schedule: 'constant', seed: 0, steps: 100, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu' , initial_regime: null};
}
const runs = [run('a', 0.01), run('b', 0.1)];
const titles = (doc: Document, role: string, name?: string) => marksOf(doc, role, name).map((m) => m.querySelector('title')?.textContent ?? '');

describe('densityFigure', () => {
  const density: DensityRow[] = [];
  for (const step of [0, 100]) {
    for (let i = 0; i <= 60; i++) {
      const lambda = -1 + i / 5;
      // 1 at λ = 0, falling to about 1e-5 at λ = 11: several decades.
      density.push({ run: 'a', step, scope: 'full', lambda, density: 10 ** (-Math.abs(lambda) / 2.2) });
      density.push({ run: 'other', step, scope: 'full', lambda, density: 1 });
    }
    density.push({ run: 'a', step, scope: 'k1', lambda: 0, density: 1 }, { run: 'a', step, scope: 'k1', lambda: 1, density: 0.5 });
  }
  const spectra: SpectraRow[] = [
    { run: 'a', step: 100, scope: 'full', end: 'top', rank: 1, eigenvalue: 9, residual: 0, is_outlier: true },
    { run: 'a', step: 100, scope: 'full', end: 'top', rank: 2, eigenvalue: 6, residual: 0, is_outlier: true },
    { run: 'a', step: 100, scope: 'full', end: 'top', rank: 3, eigenvalue: 0.5, residual: 0, is_outlier: false },
    { run: 'a', step: 0, scope: 'full', end: 'top', rank: 1, eigenvalue: 3, residual: 0, is_outlier: true },
  ];

  test('draws the last checkpoint on a log density axis with the outliers as rules at their λ', () => {
    const doc = parse(densityFigure(density, spectra, 'a'));
    expect(marksOf(doc, 'density')).toHaveLength(1);
    expect(titles(doc, 'density-hover').every((t) => t.includes('step 100'))).toBe(true);
    const rules = marksOf(doc, 'outlier');
    expect(rules).toHaveLength(2);
    expect(rules.map((r) => Number(r.getAttribute('x1')))).toEqual([9, 6].map((v) => expect.closeTo(xPixelOf(doc, v), 3)));
    const ticks = yTicks(doc);
    const at = (label: string) => ticks.find((t) => t.label === label)!.y;
    expect(at('0.01') - at('0.1')).toBeCloseTo(at('0.1') - at('1'), 6);
  });

  test('takes a checkpoint and a scope', () => {
    const doc = parse(densityFigure(density, spectra, 'a', 0));
    expect(titles(doc, 'density-hover').every((t) => t.includes('step 0'))).toBe(true);
    expect(marksOf(doc, 'outlier')).toHaveLength(1);
    expect(marksOf(parse(densityFigure(density, spectra, 'a', undefined, 'k1')), 'outlier')).toHaveLength(0);
  });

  test('puts zero and vanishing densities on the floor instead of breaking the log axis', () => {
    const rows: DensityRow[] = [0, 1, 2, 3].map((lambda) => ({ run: 'z', step: 5, scope: 'full', lambda, density: [1, 0, 1e-300, 0.5][lambda]! }));
    const d = parse(densityFigure(rows, [], 'z')).querySelector('g[data-role="density"] path')!.getAttribute('d')!;
    expect(d).not.toMatch(/NaN|Infinity/);
  });

  test('says there is no data for an unknown run, scope or checkpoint', () => {
    expect(densityFigure([], [], 'a')).toContain('No data');
    expect(densityFigure(density, spectra, 'nope')).toContain('No data');
    expect(densityFigure(density, spectra, 'a', 50)).toContain('No data');
    expect(densityFigure(density, spectra, 'a', undefined, 'k7')).toContain('No data');
  });
});

function effective(name: string, step: number, m: number, nEff: number, scope = 'full'): EffectiveRow {
  return { run: name, step, scope, m, n_eff: nEff, n_eff_full: null, n_eff_exact: null };
}

describe('effectiveFigure and outlierCountFigure', () => {
  const rows = [
    ...[0, 50, 100].map((s, i) => effective('a', s, 2 + i, 3 + i)),
    ...[0, 50, 100].map((s) => effective('b', s, 10, 12)),
    effective('b', 100, 99, 99, 'k1'),
  ];

  test('draws N_eff per run over training, full scope only', () => {
    const doc = parse(effectiveFigure(rows, runs));
    expect([...doc.querySelectorAll('g[data-role="n-eff"]')].map((g) => g.getAttribute('data-run'))).toEqual(['a', 'b']);
    expect(marksOf(doc, 'n-eff-point')).toHaveLength(6);
    expect(titles(doc, 'n-eff-point', 'a')).toEqual(['3', '4', '5'].map((v) => expect.stringContaining(`N_eff ${v}`)));
    expect(titles(doc, 'n-eff-point', 'b').join()).not.toContain('99');
  });

  test('draws m per run as a step line and C as a dashed rule labelled on the right', () => {
    const doc = parse(outlierCountFigure(rows, runs, 10));
    expect(marksOf(doc, 'outlier-count')).toHaveLength(2);
    // Steps, not slopes: 3 counts make 5 corners, every segment horizontal or vertical.
    const corners = [...doc.querySelector('g[data-role="outlier-count"] path')!.getAttribute('d')!.matchAll(/([\d.]+),([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(corners).toHaveLength(5);
    corners.slice(1).forEach(([x, y], i) => expect(x === corners[i]![0] || y === corners[i]![1]).toBe(true));
    const rule = doc.querySelector('g[data-role="classes"]')!;
    expect(rule.getAttribute('stroke-dasharray')).toBeTruthy();
    expect(Number(rule.querySelector('line')!.getAttribute('y1'))).toBeCloseTo(yPixelOf(doc, 10), 3);
    expect(doc.querySelector('g[data-role="classes-label"] text')!.textContent).toBe('C = 10');
    expect(yTicks(doc).map((t) => t.label)).not.toContain('2.5'); // counts are whole numbers
  });

  test('leaves the C rule out without classes', () => {
    expect(parse(outlierCountFigure(rows, runs)).querySelector('g[data-role="classes"]')).toBeNull();
  });

  test('say there is no data', () => {
    expect(effectiveFigure([], runs)).toContain('No data');
    expect(outlierCountFigure([], runs, 10)).toContain('No data');
    expect(effectiveFigure(rows, runs, 'k9')).toContain('No data');
  });
});

describe('traceFigure', () => {
  const trace: TraceRow[] = [0, 50, 100].flatMap((step, i) => [
    { run: 'a', step, scope: 'full', estimate: 10 + i, stderr: 0.5 },
    { run: 'b', step, scope: 'full', estimate: 20 + i, stderr: 0 },
  ]);

  test('draws the estimate per run with ±2 standard-error bars', () => {
    const doc = parse(traceFigure(trace, runs));
    expect(marksOf(doc, 'trace')).toHaveLength(2);
    const bars = marksOf(doc, 'trace-error', 'a');
    expect(bars).toHaveLength(3);
    const [bar] = bars;
    expect(Number(bar!.getAttribute('y1'))).toBeCloseTo(yPixelOf(doc, 9), 3);
    expect(Number(bar!.getAttribute('y2'))).toBeCloseTo(yPixelOf(doc, 11), 3);
    expect(marksOf(doc, 'trace-error', 'b')).toHaveLength(0); // no spread, no bar
  });

  test('says there is no data', () => {
    expect(traceFigure([], runs)).toContain('No data');
  });
});

describe('klayerErrorFigure', () => {
  const klayer: KlayerRow[] = [];
  for (const r of runs) {
    for (const step of [0, 50, 100]) {
      for (const k of [1, 2]) {
        for (const rank of [1, 2]) klayer.push({ run: r.run, step, k, rank, rel_error: rank === 1 ? 0.1 * k : 0.9, overlap_to_full: rank === 1 ? 1 - 0.2 * k : 0.1 });
      }
    }
  }

  test('draws the rank-1 relative error and overlap per k (columns) and run', () => {
    const doc = parse(klayerErrorFigure(klayer, runs));
    expect(marksOf(doc, 'klayer-error')).toHaveLength(2 * 2 * 2); // runs × k × metric
    expect(marksOf(doc, 'klayer-error-point')).toHaveLength(2 * 3 * 2 * 2);
    const text = titles(doc, 'klayer-error-point', 'a').join('\n');
    expect(text).toContain('last 2 layers');
    expect(text).toContain('rel. error of λ1 0.2');
    expect(text).toContain('overlap (top 1) 0.6');
    expect(text).not.toContain('0.9');
    const facets = [...doc.querySelectorAll('g[aria-label="fx-axis tick label"] text')].map((t) => t.textContent);
    expect(facets).toEqual(['last layer', 'last 2 layers']);
  });

  test('takes another rank', () => {
    const doc = parse(klayerErrorFigure(klayer, runs, 2));
    expect(titles(doc, 'klayer-error-point').join('\n')).toContain('rel. error of λ2 0.9');
  });

  test('says there is no data', () => {
    expect(klayerErrorFigure([], runs)).toContain('No data');
    expect(klayerErrorFigure(klayer, runs, 5)).toContain('No data');
  });
});

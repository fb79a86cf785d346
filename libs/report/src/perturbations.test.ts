import * as Plot from '@observablehq/plot';
import { describe, expect, test } from 'vitest';
import { isRegression, perturbationHeatmapFigure } from './perturbations.ts';
import type { PerturbationsRow } from './rows.ts';
import { marksOf, parse } from './testing/dom.ts';

const classification: PerturbationsRow[] = [0, 50].flatMap((step) =>
  // rms 2 on the direction's own class, 0 on class 0, 1 elsewhere; the mean cancels on class 0 of u3.
  [1, 2, 3].flatMap((direction) => [0, 1, 2, 3].map((c) => ({ run: 'a', step, direction, class_or_x: c, delta: c === direction ? 1 : c === 0 ? 0 : -1, rms: c === direction ? 2 : c === 0 ? 0 : 1 }))),
);
const regression: PerturbationsRow[] = [1, 2].flatMap((direction) =>
  Array.from({ length: 41 }, (_, i) => ({ run: 'r', step: 10, direction, class_or_x: -4 + i / 5, delta: Math.sin(direction * (-4 + i / 5)), rms: Math.abs(Math.sin(direction * (-4 + i / 5))) })),
);

describe('perturbationHeatmapFigure', () => {
  test('draws a direction × class cell of the RMS change for each value at the last checkpoint, on a sequential scale from 0', () => {
    const doc = parse(perturbationHeatmapFigure(classification, 'a'));
    const cells = marksOf(doc, 'perturbation-cell');
    expect(cells).toHaveLength(12);
    expect(cells.every((c) => c.querySelector('title')!.textContent!.includes('step 50'))).toBe(true);
    const fillOf = (rms: number) => cells.find((c) => c.querySelector('title')!.textContent!.includes(`RMS Δ output ${rms}\n`))!.getAttribute('fill');
    const scale = Plot.scale({ color: { type: 'linear', scheme: 'blues', domain: [0, 2] } });
    expect(fillOf(0)).toBe(String(scale.apply(0)));
    expect(fillOf(1)).toBe(String(scale.apply(1)));
    expect(fillOf(2)).toBe(String(scale.apply(2)));
    expect(fillOf(2)).not.toBe(fillOf(1));
    // The signed mean stays in the hover text.
    expect(cells.some((c) => c.querySelector('title')!.textContent!.endsWith('mean Δ output -1'))).toBe(true);
    const rows = [...doc.querySelectorAll('g[aria-label="y-axis tick label"] text')].map((t) => t.textContent);
    expect(rows).toEqual(['u1', 'u2', 'u3']);
    expect(marksOf(doc, 'perturbation-value')).toHaveLength(12); // few cells: values written in them
  });

  test('takes a checkpoint', () => {
    const doc = parse(perturbationHeatmapFigure(classification, 'a', 0));
    expect(marksOf(doc, 'perturbation-cell').every((c) => c.querySelector('title')!.textContent!.includes('step 0'))).toBe(true);
  });

  test('draws lines of delta against x, one per direction, for a regression', () => {
    const doc = parse(perturbationHeatmapFigure(regression, 'r'));
    expect(marksOf(doc, 'perturbation-cell')).toHaveLength(0);
    expect(marksOf(doc, 'perturbation')).toHaveLength(2);
    const strokes = marksOf(doc, 'perturbation').map((p) => p.getAttribute('stroke'));
    expect(new Set(strokes).size).toBe(2);
  });

  test('tells classes from inputs x', () => {
    expect(isRegression(classification)).toBe(false);
    expect(isRegression(regression)).toBe(true);
    expect(isRegression([{ class_or_x: 0.5 }, { class_or_x: 1 }])).toBe(true);
  });

  test('says there is no data', () => {
    expect(perturbationHeatmapFigure([], 'a')).toContain('No data');
    expect(perturbationHeatmapFigure(classification, 'nope')).toContain('No data');
    expect(perturbationHeatmapFigure(classification, 'a', 7)).toContain('No data');
  });
});

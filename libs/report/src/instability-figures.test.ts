import { describe, expect, test } from 'vitest';
import { alongRunFigure, instabilityDetailFigure, longHorizonFigure, sensitivityFigure } from './instability-figures.ts';
import { instabilitySectionsFor } from './testing/instability-sample.ts';
import { marksOf, parse, xPixelOf } from './testing/dom.ts';

const { runs, steps, instabilities, sensitivity, longHorizon } = instabilitySectionsFor();

describe('instabilityDetailFigure', () => {
  const doc = parse(instabilityDetailFigure(steps, runs, instabilities, 'eta-0.1'));
  const ratioPanel = doc.querySelector('[data-panel="ratio"]')!;

  test('two panels, loss and λmax/(2/η), each shading the run’s instabilities', () => {
    expect([...doc.querySelectorAll('[data-panel]')].map((p) => p.getAttribute('data-panel'))).toEqual(['loss', 'ratio']);
    expect(marksOf(doc.querySelector('[data-panel="loss"]')!, 'heating', 'eta-0.1')).toHaveLength(2);
    expect(marksOf(ratioPanel, 'cooling', 'eta-0.1')).toHaveLength(2);
  });

  test('marks the up-crossings, down-crossings, peaks and troughs at their steps', () => {
    // Symbols are paths placed by a transform; circles by cx.
    const xs = (role: string) =>
      marksOf(ratioPanel, role, 'eta-0.1').map((m) => Number(m.getAttribute('cx') ?? /translate\(([^,]+),/.exec(m.getAttribute('transform')!)![1]));
    const at = (step: number) => xPixelOf(ratioPanel, step);
    expect(xs('up-crossing').map((x) => x.toFixed(1))).toEqual([at(36), at(96)].map((x) => x.toFixed(1)));
    expect(xs('down-crossing').map((x) => x.toFixed(1))).toEqual([at(42), at(102)].map((x) => x.toFixed(1)));
    expect(xs('ratio-peak').map((x) => x.toFixed(1))).toEqual([at(38), at(98)].map((x) => x.toFixed(1)));
    expect(marksOf(ratioPanel, 'ratio-trough', 'eta-0.1')).toHaveLength(2);
    // The Lanczos checks (every 20 steps) as rings.
    expect(marksOf(ratioPanel, 'detail-check', 'eta-0.1')).toHaveLength(7);
  });

  test('says so for a run it does not have', () => {
    expect(instabilityDetailFigure(steps, runs, instabilities, 'nope')).toContain('No data');
  });
});

describe('alongRunFigure', () => {
  test('one panel per η, a peak and a trough per instability of a constant-η run, titled with the values', () => {
    const doc = parse(alongRunFigure(instabilities, runs));
    expect(marksOf(doc, 'along-peak', 'eta-0.1')).toHaveLength(2);
    expect(marksOf(doc, 'along-trough', 'eta-0.1')).toHaveLength(2);
    expect(doc.querySelectorAll('g[data-run="drop"]')).toHaveLength(0); // a drop schedule is not along-run at constant η
    const titles = marksOf(doc, 'along-peak', 'eta-0.1').map((m) => m.querySelector('title')!.textContent!);
    expect(titles.map((t) => /peak λmax\/\(2\/η\) (\S+)/.exec(t)![1])).toEqual(['1.2', '1.1']);
    expect(doc.querySelectorAll('g[aria-label="fx-axis tick label"] text').length).toBe(2); // η = 0.05, 0.1
    expect(alongRunFigure([], runs)).toContain('No data');
  });
});

describe('sensitivityFigure', () => {
  test('count and τ against the threshold, one panel per detector and statistic', () => {
    const doc = parse(sensitivityFigure(sensitivity, runs));
    expect([...doc.querySelectorAll('[data-panel]')].map((p) => p.getAttribute('data-panel'))).toEqual(['relative-count', 'absolute-count', 'relative-tau', 'absolute-tau']);
    expect(marksOf(doc.querySelector('[data-panel="relative-count"]')!, 'sweep-count-point', 'eta-0.1')).toHaveLength(2);
    // τ only where the run had 3 or more instabilities (one relative threshold).
    expect(marksOf(doc.querySelector('[data-panel="relative-tau"]')!, 'sweep-tau_peak-point', 'eta-0.1')).toHaveLength(1);
    expect(doc.querySelector('[data-panel="absolute-tau"] .lrs-nodata')).not.toBeNull();
    expect(sensitivityFigure([], runs)).toContain('No data');
  });
});

describe('longHorizonFigure', () => {
  test('peaks and troughs of the long-horizon runs against log t and the index, with the late part marked', () => {
    const doc = parse(longHorizonFigure(instabilities, runs, longHorizon));
    const step = doc.querySelector('[data-panel="step"]')!;
    expect(marksOf(step, 'horizon-peak', 'eta-0.1')).toHaveLength(2);
    expect(marksOf(step, 'horizon-peak', 'eta-0.05')).toHaveLength(0); // not a long-horizon run
    expect(marksOf(step, 'horizon-late')).toHaveLength(1);
    expect(marksOf(doc.querySelector('[data-panel="index"]')!, 'horizon-trough', 'eta-0.1')).toHaveLength(2);
    expect(longHorizonFigure(instabilities, runs, [])).toContain('No data');
  });
});

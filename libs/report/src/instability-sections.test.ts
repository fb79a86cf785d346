import { describe, expect, test } from 'vitest';
import { alongRunSection, instabilitiesSection, longHorizonSection, pageHighlight, sharpnessSection } from './instability-sections.ts';
import { renderFigure } from './page.ts';
import type { ClaimsRow } from './rows.ts';
import { parse } from './testing/dom.ts';
import { instabilitySectionsFor } from './testing/instability-sample.ts';

const sample = instabilitySectionsFor();
const claims: ClaimsRow[] = [
  { id: 'along-run-flattening', claim: 'c', measured: -0.9, expected: 'τ < 0', verdict: 'pass', detail: 'τ -0.900 [-1.20, -0.600] (95% t-interval over 3)' },
  { id: 'long-horizon-flattening', claim: 'c', measured: -0.01, expected: 'slope < 0', verdict: 'inconclusive', detail: 'finding: the worst-case sharpness is flat through the later half' },
];
const input = {
  runs: sample.runs, steps: sample.steps, claims, instabilities: sample.instabilities, instabilitySensitivity: sample.sensitivity,
  powerCheck: [{ run: 'eta-0.1', eta: 0.1, phase: 'inside' as const, checks: 2, median_rel_error: 0.05, max_rel_error: 0.09 }],
  longHorizon: sample.longHorizon,
};

describe('the instability sections', () => {
  test('highlight: the configured run when it exists, else the constant-η run with the most instabilities', () => {
    expect(pageHighlight(input)).toBe('eta-0.1');
    expect(pageHighlight({ ...input, highlightRun: 'eta-0.05' })).toBe('eta-0.05');
    expect(pageHighlight({ ...input, highlightRun: 'missing' })).toBe('eta-0.1');
  });

  test('sharpness: the all-runs figure with one run’s bands, then that run in detail, each captioned', () => {
    const doc = parse(sharpnessSection(input, renderFigure, 'Sharpness.'));
    const figures = [...doc.querySelectorAll('figure.lrs-figure')];
    expect(figures).toHaveLength(2);
    expect(figures[0]!.querySelector('figcaption')!.textContent).toMatch(/^Sharpness\. Shaded bands mark the instabilities of run eta-0\.1 only/);
    expect(figures[1]!.querySelector('figcaption')!.textContent).toMatch(/^Run eta-0\.1 alone, its 2 instabilities/);
    // No instabilities: one figure, no bands sentence.
    const quiet = parse(sharpnessSection({ ...input, instabilities: [] }, renderFigure, 'Sharpness.'));
    expect([...quiet.querySelectorAll('figure.lrs-figure > figcaption')].map((c) => c.textContent)).toEqual(['Sharpness.']);
  });

  test('instabilities: the table, the sweep figure and the power check with its summary', () => {
    const doc = parse(instabilitiesSection(input, renderFigure)!);
    expect(doc.querySelectorAll('table.lrs-instabilities tbody tr')).toHaveLength(4);
    expect(doc.querySelector('#sensitivity')).not.toBeNull();
    expect(doc.querySelector('#power-check + .lrs-stated')!.textContent).toBe(
      'Relative error of the power estimate: inside the instabilities: 2 checks, median of the runs’ medians 0.05, max 0.09; outside the instabilities: 0 checks, median of the runs’ medians —, max —.',
    );
    expect(instabilitiesSection({ ...input, instabilities: [], instabilitySensitivity: [], powerCheck: [] }, renderFigure)).toBeNull();
  });

  test('along-run and long-horizon quote their claims’ computed text, and are left out without their rows', () => {
    const along = parse(alongRunSection(input, renderFigure)!);
    expect(along.querySelector('.lrs-stated')!.textContent).toBe('Along-run flattening: pass (along-run-flattening). τ -0.900 [-1.20, -0.600] (95% t-interval over 3)');
    const horizon = parse(longHorizonSection(input, renderFigure)!);
    expect(horizon.querySelector('.lrs-stated')!.textContent).toBe('Long horizon: inconclusive (long-horizon-flattening). finding: the worst-case sharpness is flat through the later half');
    expect(horizon.querySelectorAll('figure.lrs-figure')).toHaveLength(1);
    expect(longHorizonSection({ ...input, longHorizon: [] }, renderFigure)).toBeNull();
    expect(alongRunSection({ ...input, instabilities: [] }, renderFigure)).toBeNull();
  });
});

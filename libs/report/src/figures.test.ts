import * as Plot from '@observablehq/plot';
import { describe, expect, test } from 'vitest';
import { COOLING_COLOUR, decimate, EOS_BAND, edgeOfStabilityFigure, HEATING_COLOUR, highlightRun, klayerFigure, lossFigure, sharpnessFigure, spectrumFigure, thin } from './figures.ts';
import type { InstabilitiesRow, RunsRow, SpectraRow, StepsRow } from './rows.ts';
import { marksOf, parse, xPixelOf, yPixelOf, yTicks } from './testing/dom.ts';

function run(name: string, eta: number, extra: Partial<RunsRow> = {}): RunsRow {
  return { run: name, eta, schedule: 'constant', seed: 0, steps: 4, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null, ...extra };
}

function step(name: string, t: number, values: Partial<StepsRow>): StepsRow {
  return { run: name, step: t, lr: 0.1, loss: null, accuracy: null, test_loss: null, test_accuracy: null, grad_norm: null, sharpness: null, sharpness_check: null, ...values };
}

describe('lossFigure', () => {
  const runs = [run('a', 0.01), run('b', 0.1), run('c', 1)];
  // Losses from 10 down to 0.01 so the log axis has ticks at every decade.
  const steps = runs.flatMap((r, i) => [0, 1, 2, 3].map((t) => step(r.run, t, { lr: r.eta, loss: 10 ** (1 - t - i / 3) })));

  test('draws one line per run, coloured by η, with a hover title', () => {
    const doc = parse(lossFigure(steps, runs));
    const lines = [...doc.querySelectorAll('g[data-role="loss"]')];
    expect(lines.map((g) => g.getAttribute('data-run')).sort()).toEqual(['a', 'b', 'c']);
    expect(doc.querySelectorAll('g[data-role="loss"] path')).toHaveLength(3);
    const colours = lines.map((g) => g.querySelector('path')!.getAttribute('stroke'));
    expect(new Set(colours).size).toBe(3);
    expect(lines[0]!.querySelector('title')!.textContent).toContain('η = 0.01');
    expect(doc.querySelectorAll('g[data-role="loss-hover"] circle title').length).toBeGreaterThan(0);
  });

  test('puts loss on a log axis: decades are equally spaced', () => {
    const doc = parse(lossFigure(steps, runs));
    const ticks = yTicks(doc);
    const at = (label: string) => ticks.find((t) => t.label === label)!.y;
    const decade = at('0.1') - at('1');
    expect(decade).toBeGreaterThan(10);
    expect(at('0.01') - at('0.1')).toBeCloseTo(decade, 6);
    expect(at('1') - at('10')).toBeCloseTo(decade, 6);
  });

  test('colours on a log scale with a legend', () => {
    const markup = lossFigure(steps, runs);
    const doc = parse(markup);
    expect(doc.querySelector('svg.lrs-plot-ramp image')!.getAttribute('href')).toMatch(/^data:image\/svg\+xml,/);
    // η = 0.1 is the geometric middle of [0.01, 1], so its colour is the middle of the ramp, not a third of the way.
    const [a, b, c] = ['a', 'b', 'c'].map((r) => doc.querySelector(`g[data-role="loss"][data-run="${r}"] path`)!.getAttribute('stroke'));
    const ramp = Plot.scale({ color: { type: 'linear', domain: [0, 1], scheme: 'viridis', range: [0, 0.85] } });
    expect([a, b, c]).toEqual([0, 0.5, 1].map((t) => String(ramp.apply(t))));
  });

  test('skips non-finite and missing losses after divergence and marks the run', () => {
    const rows = [
      step('d', 0, { loss: 1 }),
      step('d', 1, { loss: 3 }),
      step('d', 2, { loss: Infinity }),
      step('d', 3, { loss: null }),
      step('d', 4, { loss: Number.NaN }),
    ];
    const doc = parse(lossFigure(rows, [run('d', 0.5, { diverged: true })]));
    const d = doc.querySelector('g[data-role="loss"] path')!.getAttribute('d')!;
    expect(d).not.toMatch(/NaN|Infinity/);
    expect(doc.querySelectorAll('g[data-role="diverged"] path, g[data-role="diverged"] circle').length).toBe(1);
    expect(doc.querySelector('g[data-role="diverged"] title')!.textContent).toContain('diverged after step 1');
  });

  test('says there is no data instead of drawing an empty plot', () => {
    expect(lossFigure([], [])).toContain('No data');
    expect(lossFigure([step('a', 0, { loss: null }), step('a', 1, { loss: Infinity })], [run('a', 0.1)])).toContain('No data');
  });

  test('takes the colour of a run missing from the runs table from its learning rate', () => {
    const doc = parse(lossFigure([step('x', 0, { lr: 0.05, loss: 1 }), step('x', 1, { lr: 0.05, loss: 0.5 })], []));
    expect(doc.querySelector('g[data-role="loss"]')!.getAttribute('data-eta')).toBe('0.05');
  });
});

describe('sharpnessFigure', () => {
  const runs = [run('slow', 0.1), run('fast', 0.2)];
  const steps = runs.flatMap((r) =>
    [0, 1, 2, 3, 4].map((t) => step(r.run, t, { lr: r.eta, loss: 1, sharpness: t % 2 === 0 ? 5 + t : null })),
  );

  test('draws λmax per run and a dashed 2/η rule per constant run at the right height', () => {
    const doc = parse(sharpnessFigure(steps, runs));
    expect(doc.querySelectorAll('g[data-role="sharpness"] path')).toHaveLength(2);
    expect(doc.querySelectorAll('g[data-role="sharpness-point"] circle')).toHaveLength(6); // steps 0, 2, 4 of each run
    const rules = doc.querySelectorAll('g[data-role="threshold"] line');
    expect(rules).toHaveLength(2);
    for (const [name, eta] of [['slow', 0.1], ['fast', 0.2]] as const) {
      const rule = doc.querySelector(`g[data-role="threshold"][data-run="${name}"]`)!;
      expect(rule.getAttribute('stroke-dasharray')).toBeTruthy();
      const y = Number(rule.querySelector('line')!.getAttribute('y1'));
      expect(y).toBeCloseTo(yPixelOf(doc, 2 / eta), 3);
      const lineColour = doc.querySelector(`g[data-role="sharpness"][data-run="${name}"] path`)!.getAttribute('stroke');
      expect(rule.querySelector('line')!.getAttribute('stroke')).toBe(lineColour);
    }
    // 2/0.1 = 20 is a labelled tick: the rule sits exactly on it.
    const twenty = yTicks(doc).find((t) => t.label === '20')!;
    expect(Number(doc.querySelector('g[data-role="threshold"][data-run="slow"] line')!.getAttribute('y1'))).toBeCloseTo(twenty.y, 6);
  });

  test('follows 2/lr as a step line for a non-constant schedule', () => {
    const drop = run('drop', 0.1, { schedule: 'drop' });
    const rows = [0, 1, 2, 3, 4, 5].map((t) => step('drop', t, { lr: t < 3 ? 0.1 : 0.05, loss: 1, sharpness: 15 + t }));
    const doc = parse(sharpnessFigure(rows, [drop]));
    expect(doc.querySelectorAll('g[data-role="threshold"] line')).toHaveLength(0);
    const d = doc.querySelector('g[data-role="threshold"][data-run="drop"] path')!.getAttribute('d')!;
    const ys = new Set([...d.matchAll(/[ML][\d.]+,([\d.]+)|V([\d.]+)/g)].map((m) => Number(m[1] ?? m[2]).toFixed(3)));
    expect([...ys].map(Number).sort((a, b) => a - b)).toEqual(
      [yPixelOf(doc, 40), yPixelOf(doc, 20)].map((y) => Number(y.toFixed(3))).sort((a, b) => a - b),
    );
  });

  test('switches to a log axis when the values span more than a decade', () => {
    const wide = [run('tiny', 0.001), run('big', 0.5)];
    const rows = wide.flatMap((r) => [0, 1].map((t) => step(r.run, t, { lr: r.eta, sharpness: 3 + t })));
    const ticks = yTicks(parse(sharpnessFigure(rows, wide)));
    const at = (label: string) => ticks.find((t) => t.label === label)!.y;
    expect(at('10') - at('100')).toBeCloseTo(at('100') - at('1000'), 6);
  });

  test('says there is no data without sharpness samples', () => {
    expect(sharpnessFigure([step('a', 0, { loss: 1 })], [run('a', 0.1)])).toContain('No data');
    expect(sharpnessFigure([], [])).toContain('No data');
  });
});

function instability(name: string, eta: number, index: number, start: number, peak: number, end: number | null): InstabilitiesRow {
  return {
    run: name, eta, index, start, peak, end, loss_before: 0.5, peak_loss: 2, sharpness_before: 19, sharpness_peak: 24, sharpness_after: end === null ? null : 18,
    heating_steps: peak - start, cooling_steps: end === null ? null : end - peak,
    detector: 'relative', threshold: 0.1, up_crossing: start, down_crossing: peak, sharpness_peak_step: peak, sharpness_trough: 15, sharpness_trough_step: peak + 5,
    ratio_peak: 24 * eta / 2, ratio_peak_step: peak, ratio_trough: 15 * eta / 2, ratio_trough_step: peak + 5,
  };
}

describe('sharpnessFigure with instabilities', () => {
  const runs = [run('a', 0.1), run('b', 0.2), run('quiet', 0.05)];
  const steps = runs.flatMap((r) => Array.from({ length: 11 }, (_, i) => step(r.run, i * 10, { lr: r.eta, loss: 1, sharpness: 5 + i })));
  const instabilities = [
    instability('a', 0.1, 1, 10, 30, 50),
    instability('a', 0.1, 2, 60, 70, null),
    instability('b', 0.2, 1, 20, 40, 60),
    instability('ghost', 0.3, 1, 20, 40, 60), // a run with no sharpness samples: nothing to draw it against
  ];
  // Bands of one run only: by default the constant-η run with the most instabilities (a), here b.
  const doc = parse(sharpnessFigure(steps, runs, instabilities, 'b'));
  const span = (rect: Element) => {
    const x = Number(rect.getAttribute('x'));
    return [x, x + Number(rect.getAttribute('width'))];
  };

  test('shades heating red from start to peak and cooling blue from peak to end, one band per phase, for the highlighted run only', () => {
    expect(marksOf(doc, 'heating', 'a')).toHaveLength(0);
    expect(marksOf(doc, 'heating', 'b')).toHaveLength(1);
    const byDefault = parse(sharpnessFigure(steps, runs, instabilities));
    expect(marksOf(byDefault, 'heating', 'a')).toHaveLength(2);
    expect(marksOf(byDefault, 'cooling', 'a')).toHaveLength(2);
    expect(marksOf(byDefault, 'heating', 'b')).toHaveLength(0);
    expect(marksOf(doc, 'heating', 'quiet')).toHaveLength(0);
    expect(doc.querySelectorAll('g[data-run="ghost"]')).toHaveLength(0);
    expect(doc.querySelector('g[data-role="heating"]')!.getAttribute('fill')).toBe(HEATING_COLOUR);
    expect(doc.querySelector('g[data-role="cooling"]')!.getAttribute('fill')).toBe(COOLING_COLOUR);
    const [heating] = marksOf(doc, 'heating', 'b');
    const [cooling] = marksOf(doc, 'cooling', 'b');
    const [x10, x20, x40, x60] = [10, 20, 40, 60].map((v) => xPixelOf(doc, v));
    expect(x10).toBeLessThan(x20);
    expect(span(heating!)[0]).toBeCloseTo(x20, 3);
    expect(span(heating!)[1]).toBeCloseTo(x40, 3);
    expect(span(cooling!)[0]).toBeCloseTo(x40, 3);
    expect(span(cooling!)[1]).toBeCloseTo(x60, 3);
    // Bands span the plot's full height.
    expect(Number(heating!.getAttribute('height'))).toBeGreaterThan(250);
  });

  test('runs an instability that never cooled to the run\'s last step', () => {
    const open = marksOf(parse(sharpnessFigure(steps, runs, instabilities, 'a')), 'cooling', 'a').find((r) => r.querySelector('title')!.textContent!.includes('instability 2'))!;
    expect(span(open)[0]).toBeCloseTo(xPixelOf(doc, 70), 3);
    expect(span(open)[1]).toBeCloseTo(xPixelOf(doc, 100), 3);
    expect(open.querySelector('title')!.textContent).toMatch(/not back under/);
  });

  test('draws the bands under every line, tagged with their run and η for the selector', () => {
    const roles = [...doc.querySelectorAll('g[data-role]')].map((g) => g.getAttribute('data-role'));
    expect(roles.lastIndexOf('cooling')).toBeLessThan(roles.indexOf('threshold'));
    expect(doc.querySelector('g[data-role="heating"][data-run="b"]')!.getAttribute('data-eta')).toBe('0.2');
  });

  test('draws no band without instabilities and still says when there is no sharpness', () => {
    expect(parse(sharpnessFigure(steps, runs)).querySelectorAll('g[data-role="heating"], g[data-role="cooling"]')).toHaveLength(0);
    expect(sharpnessFigure([], [], instabilities)).toContain('No data');
  });
});

describe('edgeOfStabilityFigure', () => {
  const runs = [run('a', 0.1), run('b', 0.2), run('drop', 0.1, { schedule: 'drop' })];
  const steps = runs.flatMap((r) => [0, 10, 20].map((t, i) => step(r.run, t, { lr: r.eta, sharpness: 10 + 5 * i })));

  test('draws λmax·η/2 per constant-η run, a rule at 1 and a ±15% band', () => {
    const doc = parse(edgeOfStabilityFigure(steps, runs));
    expect([...doc.querySelectorAll('g[data-role="eos"]')].map((g) => g.getAttribute('data-run')).sort()).toEqual(['a', 'b']);
    const titles = marksOf(doc, 'eos-point', 'a').map((c) => c.querySelector('title')!.textContent!);
    expect(titles.map((t) => /λmax·η\/2 (\S+)/.exec(t)![1])).toEqual(['0.5', '0.75', '1']);
    const rule = doc.querySelector('g[data-role="eos-threshold"] line')!;
    expect(Number(rule.getAttribute('y1'))).toBeCloseTo(yPixelOf(doc, 1), 3);
    const band = doc.querySelector('g[data-role="eos-band"] rect')!;
    const top = Number(band.getAttribute('y'));
    expect(top).toBeCloseTo(yPixelOf(doc, 1 + EOS_BAND), 3);
    expect(top + Number(band.getAttribute('height'))).toBeCloseTo(yPixelOf(doc, 1 - EOS_BAND), 3);
  });

  test('cuts the axis at 3 so a diverging run does not flatten the others', () => {
    const wild = [...steps, step('a', 30, { lr: 0.1, sharpness: 2000 })];
    const ticks = yTicks(parse(edgeOfStabilityFigure(wild, runs))).map((t) => Number(t.label));
    expect(Math.max(...ticks)).toBeLessThanOrEqual(3);
  });

  test('says there is no data without a constant-η run with sharpness', () => {
    expect(edgeOfStabilityFigure(steps.filter((s) => s.run === 'drop'), runs)).toContain('No data');
    expect(edgeOfStabilityFigure([], [])).toContain('No data');
  });
});

describe('spectrumFigure', () => {
  const spectra: SpectraRow[] = [];
  for (const s of [0, 100]) {
    for (let rank = 1; rank <= 4; rank++) {
      for (const [name, scope] of [['r', 'full'], ['r', 'k1'], ['other', 'full']] as const) {
        spectra.push({ run: name, step: s, scope, end: 'top', rank, eigenvalue: rank <= 2 ? 10 / rank : 0.1 / rank, residual: 1e-8, is_outlier: rank <= 2 });
      }
    }
  }

  test('marks outliers filled and the bulk hollow, one dot per eigenvalue', () => {
    const doc = parse(spectrumFigure(spectra, 'r'));
    const outliers = [...doc.querySelectorAll('g[data-role="outlier"] circle')];
    const bulk = [...doc.querySelectorAll('g[data-role="bulk"] circle')];
    expect(outliers).toHaveLength(4);
    expect(bulk).toHaveLength(4);
    const fill = (c: Element) => c.getAttribute('fill') ?? c.parentElement!.getAttribute('fill');
    expect(outliers.every((c) => fill(c) !== 'white' && fill(c) !== 'none')).toBe(true);
    expect(bulk.every((c) => fill(c) === 'white')).toBe(true);
    expect(doc.querySelectorAll('g[data-role="rank-trace"] path')).toHaveLength(4);
    expect(outliers[0]!.querySelector('title')!.textContent).toMatch(/rank 1[\s\S]*outlier/);
  });

  test('draws the requested scope only', () => {
    const doc = parse(spectrumFigure(spectra.filter((r) => r.scope === 'k1'), 'r', 'k1'));
    expect(doc.querySelectorAll('circle')).toHaveLength(8);
    expect(spectrumFigure(spectra, 'r', 'k9')).toContain('No data');
  });

  test('says there is no data for an unknown run', () => {
    expect(spectrumFigure(spectra, 'nope')).toContain('No data');
    expect(spectrumFigure([], 'r')).toContain('No data');
  });
});

describe('klayerFigure', () => {
  const runs = [run('a', 0.01), run('b', 0.1)];
  const spectra: SpectraRow[] = [];
  for (const r of runs) {
    for (const s of [0, 50, 100]) {
      spectra.push({ run: r.run, step: s, scope: 'full', end: 'top', rank: 1, eigenvalue: 10, residual: 0, is_outlier: true });
      spectra.push({ run: r.run, step: s, scope: 'k1', end: 'top', rank: 1, eigenvalue: 5, residual: 0, is_outlier: true });
      spectra.push({ run: r.run, step: s, scope: 'k2', end: 'top', rank: 1, eigenvalue: 8, residual: 0, is_outlier: true });
      spectra.push({ run: r.run, step: s, scope: 'k2', end: 'top', rank: 2, eigenvalue: 1, residual: 0, is_outlier: false });
    }
  }

  test('draws the top-eigenvalue ratio per run in one panel per k', () => {
    const doc = parse(klayerFigure(spectra, runs));
    expect(doc.querySelectorAll('g[data-role="klayer"] path')).toHaveLength(4); // 2 runs × 2 scopes
    expect(doc.querySelectorAll('g[data-role="klayer-point"] circle')).toHaveLength(12);
    const titles = [...doc.querySelectorAll('g[data-role="klayer-point"] title')].map((t) => t.textContent);
    expect(titles.some((t) => t!.includes('k1') && t!.includes('ratio 0.5'))).toBe(true);
    expect(titles.some((t) => t!.includes('k2') && t!.includes('ratio 0.8'))).toBe(true);
    const facets = [...doc.querySelectorAll('g[aria-label="fx-axis tick label"] text')].map((t) => t.textContent);
    expect(facets).toEqual(['last layer', 'last 2 layers']);
    expect(doc.querySelectorAll('g[data-role="exact"] line').length).toBe(2); // the ratio-1 rule in each panel
  });

  test('says there is no data without k-layer scopes or without the matching full spectrum', () => {
    expect(klayerFigure(spectra.filter((r) => r.scope === 'full'), runs)).toContain('No data');
    expect(klayerFigure(spectra.filter((r) => r.scope !== 'full'), runs)).toContain('No data');
    expect(klayerFigure([], [])).toContain('No data');
  });
});

test('thin keeps the ends and at most max rows', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => i);
  const kept = thin(rows, 10);
  expect(kept).toHaveLength(10);
  expect(kept[0]).toBe(0);
  expect(kept[9]).toBe(999);
  expect(thin([1, 2], 10)).toEqual([1, 2]);
});

describe('decimate and highlightRun', () => {
  test('decimate keeps each bucket\'s extremes in step order, and the ends', () => {
    const rows = Array.from({ length: 1000 }, (_, t) => ({ step: t, v: t === 437 ? 50 : t === 612 ? -50 : Math.sin(t / 30) }));
    const kept = decimate(rows, 100, (r) => r.v);
    expect(kept.length).toBeLessThanOrEqual(102);
    expect(kept.map((r) => r.step)).toEqual([...kept.map((r) => r.step)].sort((a, b) => a - b));
    expect(kept.some((r) => r.step === 437) && kept.some((r) => r.step === 612)).toBe(true); // the spikes survive
    expect([kept[0]!.step, kept.at(-1)!.step]).toEqual([0, 999]);
    expect(decimate(rows.slice(0, 10), 100, (r) => r.v)).toHaveLength(10);
  });

  test('highlightRun: the constant-η, non-diverged run with the most instabilities, ties to the larger η', () => {
    const runs = [run('a', 0.1), run('b', 0.2), run('c', 0.3, { diverged: true }), run('d', 0.4, { schedule: 'drop' })];
    const events = (name: string, eta: number, k: number) => Array.from({ length: k }, (_, i) => instability(name, eta, i + 1, 10 * i, 10 * i + 5, 10 * i + 8));
    expect(highlightRun(runs, [...events('a', 0.1, 3), ...events('b', 0.2, 2), ...events('c', 0.3, 9), ...events('d', 0.4, 9)])).toBe('a');
    expect(highlightRun(runs, [...events('a', 0.1, 2), ...events('b', 0.2, 2)])).toBe('b');
    expect(highlightRun(runs, [])).toBeUndefined();
  });
});

describe('sharpnessFigure axis', () => {
  test('a diverged run’s non-positive last estimates do not stop the log axis; they are left out of it', () => {
    const runs = [run('small', 0.01), run('blown', 0.5, { diverged: true })];
    const rows = [
      ...[0, 1, 2].map((t) => step('small', t, { lr: 0.01, sharpness: 3 + t })),
      ...[0, 1, 2].map((t) => step('blown', t, { lr: 0.5, sharpness: [3, -6, 2][t]! })),
    ];
    const doc = parse(sharpnessFigure(rows, runs));
    const at = (label: string) => yTicks(doc).find((t) => t.label === label)!.y;
    expect(at('10') - at('100')).toBeCloseTo(at('20') - at('200'), 6); // log: equal ratios, equal distances
    expect(marksOf(doc, 'sharpness-point', 'blown')).toHaveLength(2);
  });
});

import { describe, expect, test } from 'vitest';
import { formatNumber, formatSeconds } from './html.ts';
import { heatmapRuns, renderExperimentPage, renderFigure, type ExperimentPageInput } from './page.ts';
import { sampleExperiment } from './testing/sample.ts';
import { parse } from './testing/dom.ts';

const SECTIONS = [
  'loss', 'sharpness', 'eos', 'instabilities', 'spectra', 'bottom', 'effective', 'klayer', 'along-run', 'long-horizon', 'flattening', 'shift', 'perturbations',
  'extra', 'runs', 'checks', 'downloads', 'provenance',
];
/** The sections drawn from the landscape tables, left out when their table is. */
const LANDSCAPE = ['eos', 'instabilities', 'effective', 'along-run', 'long-horizon', 'flattening', 'shift', 'perturbations'];

/** The sample without any of the landscape tables. */
function withoutLandscape(input: ExperimentPageInput): ExperimentPageInput {
  const { instabilities, instabilitySensitivity, powerCheck, longHorizon, density, trace, overlaps, displacement, flattening, dropFamilies, effective, perturbations, klayer, classes, ...rest } = input;
  return rest;
}

describe('renderExperimentPage', () => {
  const input = {
    ...sampleExperiment(),
    extraSections: [{ id: 'extra', title: 'Extra', html: renderFigure('<svg class="lrs-plot"><circle r="1"></circle></svg>', 'A later analysis.') }],
    downloads: [{ label: 'runs.arrow', href: 'data/runs.arrow' }],
  };
  const page = renderExperimentPage(input);
  const doc = parse(page);
  const runCount = input.runs.length;
  const nonDiverged = input.runs.filter((r) => !r.diverged).length;

  test('is a whole document with every section, in order, and a link back to the index', () => {
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(doc.title).toBe('W-shaped regression · lrscape');
    const ids = [...doc.querySelectorAll('main > section')].map((s) => s.id);
    expect(ids).toEqual(SECTIONS);
    for (const id of SECTIONS) expect(doc.querySelector(`nav.lrs-toc a[href="#${id}"]`), id).not.toBeNull();
    expect(doc.querySelector('a[href="../index.html"]')).not.toBeNull();
    expect(doc.querySelector('h1')!.textContent).toBe('W-shaped regression');
    expect(doc.querySelectorAll('header > p:not(.lrs-meta)')).toHaveLength(2); // two description paragraphs
  });

  test('gives every figure its plot, with marks, and a caption saying how to read it', () => {
    const figures = [...doc.querySelectorAll('main figure.lrs-figure')];
    // loss, sharpness and its highlighted run in detail, eos; the threshold sweep; a spectrum and a density per run; the bottom end
    // (λ_min and |λ_min|/λmax in one figure); N_eff (top-M and whole spectrum), m, trace; two k-layer figures; along-run flattening;
    // the long horizon; flattening; two heat maps, baseline, instability overlaps, displacement; a perturbation figure per run that
    // did not diverge; the extra section.
    expect(figures.length).toBe(4 + 1 + 2 * runCount + 1 + 4 + 2 + 1 + 1 + 1 + 5 + nonDiverged + 1);
    expect(doc.querySelectorAll('#bottom svg.lrs-plot')).toHaveLength(2);
    expect(doc.querySelectorAll('#bottom g[data-role="lambda-min"]').length).toBeGreaterThan(0);
    for (const figure of figures) {
      const svg = figure.querySelector('svg.lrs-plot');
      expect(svg, figure.textContent!).not.toBeNull();
      expect(figure.querySelector('.lrs-nodata'), figure.textContent!).toBeNull();
      if (!figure.closest('#extra')) expect(svg!.querySelectorAll('[data-role] path, [data-role] circle, [data-role] rect, [data-role] line').length).toBeGreaterThan(0);
      expect(figure.querySelector(':scope > figcaption')!.textContent!.length).toBeGreaterThan(figure.closest('#extra') ? 10 : 100);
    }
    expect(doc.querySelectorAll('#spectra figure.lrs-run-figure[data-run]')).toHaveLength(2 * runCount);
    expect(doc.querySelectorAll('#perturbations figure.lrs-run-figure[data-run]')).toHaveLength(nonDiverged);
  });

  test('shades the instabilities on the sharpness figure and tables them', () => {
    // Only the highlighted run's: the constant-η run with the most instabilities (eta-0.1; eta-0.3 diverged).
    const highlighted = input.instabilities!.filter((e) => e.run === 'eta-0.1').length;
    expect(highlighted).toBeGreaterThan(0);
    expect(doc.querySelectorAll('#sharpness figure:first-of-type g[data-role="heating"] rect').length).toBe(highlighted);
    expect(new Set([...doc.querySelectorAll('#sharpness g[data-role="heating"]')].map((g) => g.getAttribute('data-run')))).toEqual(new Set(['eta-0.1']));
    expect(doc.querySelector('#sharpness figcaption')!.textContent).toMatch(/instabilities of run eta-0\.1 only .* red is a heating phase/);
    // The second figure shows that run alone, with its crossings of 2/η.
    expect(doc.querySelectorAll('#sharpness g[data-role="up-crossing"] path').length).toBe(highlighted);
    const configured = parse(renderExperimentPage({ ...input, highlightRun: 'drop-0.1-0.01-t300' }));
    expect(new Set([...configured.querySelectorAll('#sharpness g[data-role="heating"]')].map((g) => g.getAttribute('data-run')))).toEqual(new Set(['drop-0.1-0.01-t300']));
    expect(doc.querySelectorAll('#instabilities table.lrs-instabilities tbody tr[data-run]')).toHaveLength(input.instabilities!.length);
  });

  test('shows heat maps for the smallest η and the largest η that did not diverge', () => {
    const maps = [...doc.querySelectorAll('#shift g[data-role="overlap-cell"]')].map((g) => g.getAttribute('data-run'));
    expect(maps).toEqual(['eta-0.01', 'eta-0.1']); // eta-0.3 diverged
    expect(heatmapRuns(input.overlaps!, input.runs).map((m) => m.which)).toEqual(['the smallest η', 'the largest η that did not diverge']);
  });

  test('states the outlier count beside the number of classes when there are classes', () => {
    expect(doc.querySelector('#effective .lrs-stated')!.textContent).toBe('m = 2 outliers at each run’s last checkpoint.');
    const classified = parse(renderExperimentPage(sampleExperiment({ classes: 10 })));
    expect(classified.querySelector('#effective .lrs-stated')!.textContent).toBe('m = 10 outliers vs C = 10 classes at each run’s last checkpoint.');
    expect(classified.querySelector('#effective g[data-role="classes-label"] text')!.textContent).toBe('C = 10');
    expect(classified.querySelectorAll('#perturbations g[data-role="perturbation-cell"]').length).toBeGreaterThan(0);
    expect(doc.querySelectorAll('#perturbations g[data-role="perturbation-cell"]')).toHaveLength(0); // the regression draws lines
  });

  test('gives every element a unique id', () => {
    const ids = [...doc.querySelectorAll('[id]')].map((e) => e.id);
    expect(ids.length).toBeGreaterThan(SECTIONS.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect(() => renderExperimentPage({ ...input, extraSections: [{ id: 'shift', title: 'x', html: '' }] })).toThrow(/id "shift"/);
    expect(() => renderExperimentPage({ ...input, extraSections: [{ id: 'x', title: 'x', html: '' }, { id: 'x', title: 'y', html: '' }] })).toThrow(/id "x"/);
  });

  test('leaves out a landscape section whose table is absent or empty', () => {
    const bare = parse(renderExperimentPage({ ...withoutLandscape(input), extraSections: [] }));
    expect([...bare.querySelectorAll('main > section')].map((s) => s.id)).toEqual(['loss', 'sharpness', 'eos', 'spectra', 'bottom', 'klayer', 'runs', 'checks', 'downloads', 'provenance']);
    expect(bare.querySelectorAll('#sharpness g[data-role="heating"]')).toHaveLength(0);
    const empty = parse(
      renderExperimentPage({
        ...input,
        extraSections: [],
        instabilities: [], instabilitySensitivity: [], powerCheck: [], longHorizon: [], density: [], trace: [], overlaps: [], displacement: [], flattening: [], dropFamilies: [], effective: [], perturbations: [], klayer: [],
      }),
    );
    const ids = [...empty.querySelectorAll('main > section')].map((s) => s.id);
    for (const id of LANDSCAPE.filter((id) => id !== 'eos')) expect(ids).not.toContain(id);
    expect(empty.querySelector('#spectra h3')).toBeNull(); // no density subsection
    expect(empty.querySelectorAll('#klayer figure.lrs-figure')).toHaveLength(1);
    // Only some parts of a section: the others are left out, not shown empty.
    const partial = parse(renderExperimentPage({ ...input, extraSections: [], overlaps: input.overlaps!.filter((o) => o.kind === 'baseline'), displacement: [] }));
    expect(partial.querySelectorAll('#shift figure.lrs-figure')).toHaveLength(1);
    expect(partial.querySelectorAll('#shift .lrs-nodata')).toHaveLength(0);
  });

  test('offers an η selector naming every run, hidden until the script shows it', () => {
    const control = doc.querySelector('#lrs-run-control')!;
    expect(control.hasAttribute('hidden')).toBe(true);
    const values = [...doc.querySelectorAll('#lrs-run-select option')].map((o) => o.getAttribute('value'));
    expect(values).toEqual(expect.arrayContaining(['', 'run:eta-0.01', 'run:drop-0.1-0.01-t200', 'eta:0.1']));
    expect(doc.querySelectorAll('script')).toHaveLength(1);
    // Every tagged mark's run is one the selector offers.
    const offered = new Set(values.filter((v) => v!.startsWith('run:')).map((v) => v!.slice(4)));
    for (const g of doc.querySelectorAll('svg [data-run]')) expect(offered.has(g.getAttribute('data-run')!)).toBe(true);
  });

  test('tables the runs, the reproduction checks, the downloads and the provenance', () => {
    expect(doc.querySelectorAll('table.lrs-runs tbody tr')).toHaveLength(runCount);
    const claims = [...doc.querySelectorAll('table.lrs-claims tbody tr')];
    expect(claims).toHaveLength(3);
    expect(claims.map((r) => r.querySelector('.lrs-badge')!.textContent)).toEqual(['pass', 'fail', 'not run']);
    expect(claims[0]!.textContent).toContain('0.98');
    expect(doc.querySelector('#checks')!.textContent).toContain('1 of 3 pass, 1 fail, 1 not run');
    expect(doc.querySelector('#downloads a[href="data/runs.arrow"]')!.textContent).toBe('runs.arrow');
    const provenance = doc.querySelector('#provenance')!.textContent!;
    expect(provenance).toContain('4.22.0');
    expect(provenance).toContain('3 min 04 s'); // total of the timings, 184 s
    expect(JSON.parse(doc.querySelector('pre.lrs-config')!.textContent!)).toEqual(input.config);
  });

  test('loads nothing from elsewhere: only relative or in-page URLs and data: images', () => {
    for (const el of doc.querySelectorAll('[href], [src]')) {
      const url = el.getAttribute('href') ?? el.getAttribute('src')!;
      expect(url).not.toMatch(/^(https?:|\/)/);
    }
    expect(page).not.toMatch(/<link\b|<script\s+src/);
  });

  test('says when no checks are recorded and when there is nothing to plot', () => {
    const empty = parse(renderExperimentPage({ ...withoutLandscape(input), claims: [], runs: [], steps: [], spectra: [], extraSections: [] }));
    expect(empty.querySelector('#checks')!.textContent).toContain('No checks recorded');
    for (const id of ['loss', 'sharpness', 'spectra', 'klayer']) expect(empty.querySelector(`#${id} .lrs-nodata`), id).not.toBeNull();
    expect(empty.querySelector('#eos')).toBeNull();
    expect(empty.querySelector('#lrs-run-control')).toBeNull();
  });

  test('escapes every piece of text, however hostile', () => {
    const evil = '<script>alert(1)</script>';
    const hostile = sampleExperiment();
    const name = `eta-0.1${evil}`;
    const rename = <T extends { run: string }>(rows: T[] | undefined) => (rows ?? []).map((r) => (r.run === 'eta-0.1' ? { ...r, run: name } : r));
    const page = renderExperimentPage({
      ...hostile,
      title: `T ${evil}`,
      description: `D ${evil}`,
      runs: hostile.runs.map((r) => (r.run === 'eta-0.1' ? { ...r, run: name, schedule: `"><img src=x onerror=alert(1)>` } : r)),
      steps: rename(hostile.steps),
      spectra: rename(hostile.spectra),
      instabilities: rename(hostile.instabilities),
      density: rename(hostile.density),
      trace: rename(hostile.trace),
      displacement: rename(hostile.displacement),
      flattening: rename(hostile.flattening),
      effective: rename(hostile.effective),
      perturbations: rename(hostile.perturbations),
      klayer: rename(hostile.klayer),
      overlaps: (hostile.overlaps ?? []).map((o) => ({ ...o, run_a: o.run_a === 'eta-0.1' ? name : o.run_a, run_b: o.run_b === 'eta-0.1' ? name : o.run_b })),
      claims: [{ id: evil, claim: evil, measured: 1, expected: evil, verdict: 'pass', detail: evil }],
      config: { note: evil },
      provenance: { ...hostile.provenance, codeVersion: evil, versions: { [evil]: evil }, timings: { [evil]: 1 } },
      downloads: [{ label: evil, href: 'data/x"onmouseover="alert(1).arrow' }],
      experiment: evil,
    });
    expect(page).not.toContain(evil);
    expect(page).not.toContain('<img');
    const doc = parse(page);
    expect(doc.querySelectorAll('script')).toHaveLength(1);
    expect(doc.querySelectorAll('[onerror], [onmouseover]')).toHaveLength(0);
    expect(doc.querySelector('h1')!.textContent).toBe(`T ${evil}`);
    // The name survives intact where the selector matches it: table row, marks and option agree.
    const withAttribute = (selector: string, attribute: string, value: string) =>
      [...doc.querySelectorAll(selector)].filter((e) => e.getAttribute(attribute) === value).length;
    expect(withAttribute('table.lrs-runs tr[data-run]', 'data-run', name)).toBe(1);
    expect(withAttribute('table.lrs-instabilities tr[data-run]', 'data-run', name)).toBeGreaterThan(0);
    expect(withAttribute('g[data-run]', 'data-run', name)).toBeGreaterThan(10);
    expect(withAttribute('figure.lrs-run-figure', 'data-run', name)).toBe(3); // spectrum, density, perturbations
    expect(withAttribute('option', 'value', `run:${name}`)).toBe(1);
  });
});

test('renderFigure refuses attribute names that could inject markup', () => {
  expect(() => renderFigure('<svg></svg>', 'c', { 'onclick="x" a': '1' })).toThrow(/attribute/);
  expect(renderFigure('<svg></svg>', 'a <b>', { 'data-run': '"x"' })).toBe(
    '<figure class="lrs-figure" data-run="&quot;x&quot;"><svg></svg><figcaption>a &lt;b&gt;</figcaption></figure>',
  );
});

test('numbers and durations read well', () => {
  expect([0.05, 0.1 + 0.2, 1 / 3, 2 / 0.03, 1.2e-5, 123456789.5, 7, null, Infinity, -Infinity, NaN].map(formatNumber)).toEqual([
    '0.05', '0.3', '0.3333', '66.67', '1.2e-5', '1.235e+8', '7', '—', '∞', '−∞', 'NaN',
  ]);
  expect([0.25, 12.34, 124.4, 3599.6, undefined].map(formatSeconds)).toEqual(['250 ms', '12.3 s', '2 min 04 s', '60 min 00 s', '—']);
});

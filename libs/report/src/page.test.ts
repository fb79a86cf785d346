import { describe, expect, test } from 'vitest';
import { formatNumber, formatSeconds } from './html.ts';
import { renderExperimentPage, renderFigure } from './page.ts';
import { sampleExperiment } from './sample.ts';
import { parse } from './testing.ts';

const SECTIONS = ['loss', 'sharpness', 'spectra', 'klayer', 'runs', 'checks', 'downloads', 'provenance'];

describe('renderExperimentPage', () => {
  const input = {
    ...sampleExperiment(),
    extraSections: [{ id: 'instabilities', title: 'Instabilities', html: renderFigure('<svg class="lrs-plot"><circle r="1"></circle></svg>', 'Heating and cooling.') }],
    downloads: [{ label: 'runs.arrow', href: 'data/runs.arrow' }],
  };
  const page = renderExperimentPage(input);
  const doc = parse(page);

  test('is a whole document with every section, in order, and a link back to the index', () => {
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(doc.title).toBe('W-shaped regression · lrscape');
    const ids = [...doc.querySelectorAll('main > section')].map((s) => s.id);
    expect(ids).toEqual(['loss', 'sharpness', 'spectra', 'klayer', 'instabilities', 'runs', 'checks', 'downloads', 'provenance']);
    for (const id of SECTIONS) expect(doc.querySelector(`nav.lrs-toc a[href="#${id}"]`), id).not.toBeNull();
    expect(doc.querySelector('a[href="../index.html"]')).not.toBeNull();
    expect(doc.querySelector('h1')!.textContent).toBe('W-shaped regression');
    expect(doc.querySelectorAll('header > p:not(.lrs-meta)')).toHaveLength(2); // two description paragraphs
  });

  test('gives every figure its plot and a caption saying how to read it', () => {
    const figures = [...doc.querySelectorAll('main figure.lrs-figure')];
    expect(figures.length).toBe(3 + 5 + 1); // loss, sharpness, klayer; one spectrum per run; the extra section
    for (const figure of figures) {
      expect(figure.querySelector('svg.lrs-plot')).not.toBeNull();
      expect(figure.querySelector(':scope > figcaption')!.textContent!.length).toBeGreaterThan(10);
    }
    expect(doc.querySelectorAll('figure.lrs-run-figure[data-run]')).toHaveLength(5);
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
    expect(doc.querySelectorAll('table.lrs-runs tbody tr')).toHaveLength(5);
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
    const empty = parse(renderExperimentPage({ ...input, claims: [], runs: [], steps: [], spectra: [], extraSections: [] }));
    expect(empty.querySelector('#checks')!.textContent).toContain('No checks recorded');
    for (const id of ['loss', 'sharpness', 'spectra', 'klayer']) expect(empty.querySelector(`#${id} .lrs-nodata`), id).not.toBeNull();
    expect(empty.querySelector('#lrs-run-control')).toBeNull();
  });

  test('escapes every piece of text, however hostile', () => {
    const evil = '<script>alert(1)</script>';
    const hostile = sampleExperiment();
    const name = `eta-0.1${evil}`;
    const page = renderExperimentPage({
      ...hostile,
      title: `T ${evil}`,
      description: `D ${evil}`,
      runs: hostile.runs.map((r) => (r.run === 'eta-0.1' ? { ...r, run: name, schedule: `"><img src=x onerror=alert(1)>` } : r)),
      steps: hostile.steps.map((s) => (s.run === 'eta-0.1' ? { ...s, run: name } : s)),
      spectra: hostile.spectra.map((s) => (s.run === 'eta-0.1' ? { ...s, run: name } : s)),
      claims: [{ claim: evil, measured: 1, expected: evil, verdict: 'pass', detail: evil }],
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
    expect(withAttribute('tr[data-run]', 'data-run', name)).toBe(1);
    expect(withAttribute('g[data-run]', 'data-run', name)).toBeGreaterThan(3);
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

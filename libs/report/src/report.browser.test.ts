/**
 * The built site in a real browser (headless Chromium from the system, e.g. Debian's `chromium`
 * package): every page loads from file:// with no console error, every figure has marks, the η
 * selector dims other runs, and pages read with JavaScript off.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sampleExperiment } from './testing/sample.ts';
import { checkSiteLinks, renderSiteIndex, writeExperimentReport } from './site.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const suite = haveChromium
  ? 'report in headless Chromium'
  : `report in headless Chromium — SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`;
if (!haveChromium) console.warn(`report.browser.test.ts: skipped, ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!haveChromium)(suite, () => {
  let dir: string;
  let browser: Browser;
  const pages = ['index.html', 'wreg/index.html', 'src/index.html'];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lrs-browser-'));
    const sources = path.join(dir, 'sources');
    await mkdir(sources);
    await writeFile(path.join(sources, 'runs.arrow'), 'ARROW1');
    const site = path.join(dir, 'site');
    const wreg = sampleExperiment({ experiment: 'wreg', steps: 200 });
    await writeExperimentReport(path.join(site, 'wreg'), wreg, [{ name: 'runs.arrow', sourcePath: path.join(sources, 'runs.arrow') }]);
    // A second experiment without k-layer spectra or claims: its empty parts must read as notes, not break.
    const src = sampleExperiment({ experiment: 'src', steps: 80, classes: 2 });
    await writeExperimentReport(path.join(site, 'src'), { ...src, title: 'Swiss rolls', spectra: src.spectra.filter((r) => r.scope === 'full'), claims: [] }, []);
    await writeFile(
      path.join(site, 'index.html'),
      renderSiteIndex(
        [
          { experiment: 'wreg', title: 'W-shaped regression', href: 'wreg/index.html', summary: 'sample', status: 'ok', claims: { pass: 1, fail: 1 } },
          { experiment: 'src', title: 'Swiss rolls', href: 'src/index.html', summary: 'sample', status: 'ok' },
          { experiment: 'cifar10', title: 'CIFAR-10', href: 'cifar10/index.html', summary: 'real images', status: 'skipped', reason: 'data files absent' },
        ],
        { generatedAt: '2025-01-01T00:00:00Z', codeVersion: 'test' },
      ),
    );
    expect(await checkSiteLinks(site)).toEqual([]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const urlOf = (page: string) => pathToFileURL(path.join(dir, 'site', page)).href;

  /** Opens a page, collecting console errors, page errors and any request that leaves the site. */
  async function open(page: string, javaScriptEnabled = true): Promise<{ tab: Page; problems: string[] }> {
    const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1200, height: 900 } });
    const tab = await context.newPage();
    const problems: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    tab.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    tab.on('request', (r) => {
      if (!/^(file|data):/.test(r.url())) problems.push(`request leaves the site: ${r.url()}`);
    });
    await tab.goto(urlOf(page), { waitUntil: 'load' });
    return { tab, problems };
  }

  test.each(pages)('%s loads with no error and every figure has marks', async (page) => {
    const { tab, problems } = await open(page);
    const figures = await tab.$$eval('figure.lrs-figure', (all) =>
      all.map((f) => {
        const svg = f.querySelector('svg.lrs-plot');
        const marks = svg ? svg.querySelectorAll('[data-role] path, [data-role] circle, [data-role] rect, [data-role] line').length : 0;
        const box = svg?.getBoundingClientRect();
        return { marks, width: box?.width ?? 0, note: f.querySelector('.lrs-nodata') !== null, run: f.getAttribute('data-run') };
      }),
    );
    if (page !== 'index.html') expect(figures.length).toBeGreaterThan(3);
    for (const figure of figures) {
      if (figure.note) continue;
      expect(figure.marks, JSON.stringify(figure)).toBeGreaterThan(0);
      expect(figure.width).toBeGreaterThan(100);
    }
    if (page === 'wreg/index.html') expect(figures.filter((f) => f.note)).toEqual([]);
    if (page === 'src/index.html') {
      // The k-layer figure, and the sweep's τ panels (in 80 steps no run has the 3 instabilities a τ needs).
      expect(figures.filter((f) => f.note)).toHaveLength(2);
      expect(await tab.textContent('#checks')).toContain('No checks recorded');
    }
    // Colour legends (data: images) decode.
    const legends = await tab.$$eval('svg.lrs-plot-ramp image', (images) => images.length);
    if (page !== 'index.html') expect(legends).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await tab.context().close();
  });

  test('every landscape figure is on the page and has marks', async () => {
    const { tab, problems } = await open('wreg/index.html');
    const marksIn = (selector: string) =>
      tab.$$eval(selector, (all) => all.map((el) => el.querySelectorAll('path, circle, rect, line').length).reduce((a, b) => a + b, 0));
    const expected: Record<string, string> = {
      'heating and cooling bands': '#sharpness g[data-role="heating"], #sharpness g[data-role="cooling"]',
      'edge of stability': '#eos g[data-role="eos"]',
      'bulk density': '#spectra g[data-role="density"]',
      'density outliers': '#spectra g[data-role="outlier"]',
      'N_eff': '#effective g[data-role="n-eff"]',
      'outlier count': '#effective g[data-role="outlier-count"]',
      'trace': '#effective g[data-role="trace"]',
      'k-layer errors': '#klayer g[data-role="klayer-error"]',
      'delayed drops against the switch step': '#flattening g[data-role="unstable-continuation"], #flattening g[data-role="control-continuation"]',
      'delayed drops, matched pairs': '#flattening g[data-role="pair"]',
      'overlap heat maps': '#shift g[data-role="overlap-cell"]',
      'overlap to the baseline': '#shift g[data-role="baseline-overlap"]',
      'overlap across instabilities': '#shift g[data-role="instability-overlap"]',
      'displacement': '#shift g[data-role="displacement"]',
      'output perturbations': '#perturbations g[data-role="perturbation"]',
    };
    for (const [what, selector] of Object.entries(expected)) expect(await marksIn(selector), what).toBeGreaterThan(0);
    expect(await tab.locator('#instabilities table.lrs-instabilities tbody tr').count()).toBeGreaterThan(0);
    expect(await tab.locator('#shift figure.lrs-figure').count()).toBe(5);
    const src = await open('src/index.html');
    expect(await src.tab.textContent('#effective .lrs-stated')).toContain('vs C = 2 classes');
    expect(await src.tab.locator('#perturbations g[data-role="perturbation-cell"] rect').count()).toBeGreaterThan(0);
    expect(await src.tab.locator('#effective g[data-role="classes"] line').count()).toBe(1);
    expect([...problems, ...src.problems]).toEqual([]);
    await tab.context().close();
    await src.tab.context().close();
  });

  test('relative links navigate between the index and the pages from file://', async () => {
    const { tab, problems } = await open('index.html');
    await tab.click('a[href="wreg/index.html"]');
    expect(tab.url()).toBe(urlOf('wreg/index.html'));
    await tab.click('a[href="../index.html"]');
    expect(tab.url()).toBe(urlOf('index.html'));
    expect(await tab.textContent('#skipped')).toContain('data files absent');
    expect(problems).toEqual([]);
    await tab.context().close();
  });

  test('the η selector dims the other runs and hides their spectra', async () => {
    const { tab, problems } = await open('wreg/index.html');
    expect(await tab.isVisible('#lrs-run-select')).toBe(true);
    const opacity = (run: string) =>
      tab.$$eval(`#loss svg g[data-run="${run}"], #sharpness svg g[data-run="${run}"]`, (gs) => gs.map((g) => Number(getComputedStyle(g).opacity)));
    const spectrumShown = (run: string) => tab.isVisible(`figure.lrs-run-figure[data-run="${run}"]`);

    expect(await opacity('eta-0.1')).toEqual(expect.arrayContaining([1]));
    await tab.selectOption('#lrs-run-select', 'run:eta-0.03');
    for (const o of await opacity('eta-0.03')) expect(o).toBe(1);
    const dimmed = await opacity('eta-0.1');
    expect(dimmed.length).toBeGreaterThan(0);
    for (const o of dimmed) expect(o).toBeLessThan(0.5);
    expect(await spectrumShown('eta-0.03')).toBe(true);
    expect(await spectrumShown('eta-0.1')).toBe(false);
    expect(await tab.getAttribute('tr[data-run="eta-0.03"]', 'class')).toContain('lrs-selected');

    // The landscape figures dim with the rest: bands, ratio lines, N_eff, k-layer, flattening, shift, instability rows.
    const landscape = (run: string) =>
      tab.$$eval(
        ['#eos', '#effective', '#klayer', '#flattening', '#shift'].map((s) => `${s} svg g[data-run="${run}"]`).join(', ') +
          `, #sharpness g[data-role="heating"][data-run="${run}"], #instabilities tr[data-run="${run}"]`,
        (els) => els.map((el) => ({ role: el.getAttribute('data-role') ?? el.tagName, opacity: Number(getComputedStyle(el).opacity) })),
      );
    const others = await landscape('eta-0.1');
    expect(others.map((o) => o.role)).toEqual(expect.arrayContaining(['heating', 'eos', 'n-eff', 'klayer-error', 'unstable-continuation', 'overlap-cell', 'baseline-overlap', 'displacement', 'TR']));
    for (const o of others) expect(o.opacity, o.role).toBeLessThan(0.5);
    for (const o of await landscape('eta-0.03')) expect(o.opacity, o.role).toBe(1);
    expect(await tab.isVisible('#perturbations figure.lrs-run-figure[data-run="eta-0.03"]')).toBe(true);
    expect(await tab.isVisible('#perturbations figure.lrs-run-figure[data-run="eta-0.1"]')).toBe(false);

    // By η: the runs at η = 0.1 (constant and drops) stay, the others dim.
    await tab.selectOption('#lrs-run-select', 'eta:0.1');
    for (const o of [...(await opacity('eta-0.1')), ...(await opacity('drop-0.1-0.01-t100'))]) expect(o).toBe(1);
    for (const o of await opacity('eta-0.03')) expect(o).toBeLessThan(0.5);

    // Clicking a row of the runs table picks that run; clicking it again shows all.
    await tab.click('tr[data-run="eta-0.3"]');
    expect(await tab.inputValue('#lrs-run-select')).toBe('run:eta-0.3');
    for (const o of await opacity('eta-0.01')) expect(o).toBeLessThan(0.5);
    await tab.click('tr[data-run="eta-0.3"]');
    expect(await tab.inputValue('#lrs-run-select')).toBe('');
    for (const o of await opacity('eta-0.01')) expect(o).toBe(1);
    expect(await spectrumShown('eta-0.1')).toBe(true);
    expect(problems).toEqual([]);
    await tab.context().close();
  });

  test('pages read with JavaScript off: figures drawn, no dead controls', async () => {
    const { tab, problems } = await open('wreg/index.html', false);
    expect(await tab.isVisible('#lrs-run-control')).toBe(false);
    expect(await tab.locator('svg.lrs-plot').count()).toBeGreaterThan(5);
    expect(await tab.isVisible('#loss svg.lrs-plot')).toBe(true);
    expect(problems).toEqual([]);
    await tab.context().close();
  });
});

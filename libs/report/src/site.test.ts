import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sampleExperiment } from './testing/sample.ts';
import { checkSiteLinks, publishSite, renderSiteIndex, writeExperimentReport, type SiteIndexEntry } from './site.ts';
import { parse } from './testing/dom.ts';

const ENTRIES: SiteIndexEntry[] = [
  { experiment: 'wreg', title: 'W-shaped regression', href: 'wreg/index.html', summary: 'GD on a W-shaped target.', status: 'ok', claims: { pass: 2, fail: 1 } },
  { experiment: 'src', title: 'Swiss rolls', href: 'src/index.html', summary: 'Two interleaved spirals.', status: 'ok' },
  { experiment: 'cifar10', title: 'CIFAR-10 <small CNN>', href: 'cifar10/index.html', summary: 'Real images.', status: 'skipped', reason: 'data files absent: put data_batch_1.bin … under data/cifar10' },
  {
    experiment: 'wreg-long',
    title: 'W-reg, 20k steps',
    href: 'wreg-long/index.html',
    summary: '',
    status: 'skipped',
    reason: 'in the extended tier, not selected (LRSCAPE_TIER=default)',
    command: 'LRSCAPE_TIER=extended npx nx run wreg-long:analyze',
  },
];
const META = { generatedAt: '2025-01-01T00:00:00Z', codeVersion: 'abc1234' };

describe('renderSiteIndex', () => {
  const doc = parse(renderSiteIndex(ENTRIES, META));

  test('links every reported experiment with its check tally', () => {
    const links = [...doc.querySelectorAll('table.lrs-index a')].map((a) => a.getAttribute('href'));
    expect(links).toEqual(['wreg/index.html', 'src/index.html']);
    expect(doc.querySelector('tr[data-experiment="wreg"]')!.textContent).toContain('2 pass · 1 fail');
    expect(doc.querySelector('tr[data-experiment="src"]')!.textContent).toContain('no checks');
    expect(doc.body.textContent).toContain('abc1234');
  });

  test('lists skipped experiments with the reason and without a dead link', () => {
    const skipped = doc.querySelector('#skipped li[data-experiment="cifar10"]')!;
    expect(skipped.textContent).toContain('CIFAR-10 <small CNN>');
    expect(skipped.textContent).toContain('data files absent: put data_batch_1.bin');
    expect(skipped.querySelector('a')).toBeNull();
  });

  test('gives the command that builds a left-out experiment, and none where there is none', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'lrs-index-')), 'index.html');
    await writeFile(file, renderSiteIndex(ENTRIES, META));
    const read = parse(await readFile(file, 'utf8'));
    const long = read.querySelector('#skipped li[data-experiment="wreg-long"]')!;
    expect(long.textContent).toContain('W-reg, 20k steps');
    expect(long.textContent).toContain('in the extended tier, not selected (LRSCAPE_TIER=default)');
    expect(long.querySelector('code.lrs-command')!.textContent).toBe('LRSCAPE_TIER=extended npx nx run wreg-long:analyze');
    expect(read.querySelector('#skipped li[data-experiment="cifar10"] code.lrs-command')).toBeNull();
    await rm(path.dirname(file), { recursive: true, force: true });
  });

  test('says so when there is nothing yet', () => {
    const empty = parse(renderSiteIndex([], META));
    expect(empty.querySelector('#experiments .lrs-nodata')).not.toBeNull();
    expect(empty.querySelector('#skipped')).toBeNull();
  });
});

describe('writing, publishing and checking a site', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lrs-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeSite(root: string): Promise<void> {
    const sources = path.join(dir, 'sources');
    await mkdir(sources, { recursive: true });
    await writeFile(path.join(sources, 'runs.arrow'), 'ARROW1 runs');
    await writeFile(path.join(sources, 'steps.arrow'), 'ARROW1 steps');
    await writeExperimentReport(path.join(root, 'wreg'), sampleExperiment({ steps: 60 }), [
      { name: 'runs.arrow', sourcePath: path.join(sources, 'runs.arrow') },
      { name: 'steps.arrow', sourcePath: path.join(sources, 'steps.arrow') },
    ]);
    await writeFile(path.join(root, 'index.html'), renderSiteIndex(ENTRIES.filter((e) => e.experiment === 'wreg' || e.status === 'skipped'), META));
  }

  test('writeExperimentReport writes the page and copies the data files beside it, linked', async () => {
    const root = path.join(dir, 'written');
    await writeSite(root);
    expect(await readFile(path.join(root, 'wreg', 'data', 'steps.arrow'), 'utf8')).toBe('ARROW1 steps');
    const page = parse(await readFile(path.join(root, 'wreg', 'index.html'), 'utf8'));
    const links = [...page.querySelectorAll('#downloads a')].map((a) => a.getAttribute('href'));
    expect(links).toEqual(['data/runs.arrow', 'data/steps.arrow']);
    expect(await checkSiteLinks(root)).toEqual([]);
  });

  test('writeExperimentReport refuses a data file name that is a path', async () => {
    await expect(
      writeExperimentReport(path.join(dir, 'bad'), sampleExperiment({ steps: 20 }), [{ name: '../escape.arrow', sourcePath: '/dev/null' }]),
    ).rejects.toThrow(/plain file name/);
  });

  test('publishSite copies a clean site and counts its files', async () => {
    const root = path.join(dir, 'clean');
    await writeSite(root);
    const dest = path.join(dir, 'published-clean');
    expect(await publishSite(root, dest)).toEqual({ files: 4 }); // index, page, two tables
    expect(await readFile(path.join(dest, 'wreg', 'data', 'runs.arrow'), 'utf8')).toBe('ARROW1 runs');
  });

  test('publishSite throws naming the page and the link when a link is external or broken', async () => {
    const root = path.join(dir, 'dirty');
    await writeSite(root);
    const page = path.join(root, 'wreg', 'index.html');
    const html = await readFile(page, 'utf8');
    await writeFile(
      page,
      html.replace(
        '</footer>',
        '<a href="https://example.com/x.js">cdn</a><img src="//cdn.example.com/a.png"><a href="/abs/index.html">abs</a>' +
          '<a href="data/missing.arrow">gone</a><a href="#nowhere">frag</a><a href="../../outside.html">out</a><a href="data">dir</a>' +
          '<a href="data/runs.arrow#x">fine</a><a href="#loss">fine</a><img src="data:image/png;base64,AAAA"></footer>',
      ),
    );
    const problems = await checkSiteLinks(root);
    expect(problems.map((p) => [p.page, p.href])).toEqual([
      ['wreg/index.html', 'https://example.com/x.js'],
      ['wreg/index.html', '//cdn.example.com/a.png'],
      ['wreg/index.html', '/abs/index.html'],
      ['wreg/index.html', 'data/missing.arrow'],
      ['wreg/index.html', '#nowhere'],
      ['wreg/index.html', '../../outside.html'],
      ['wreg/index.html', 'data'],
    ]);
    expect(problems[0]!.problem).toMatch(/external/);
    expect(problems[3]!.problem).toMatch(/broken/);
    await expect(publishSite(root, path.join(dir, 'published-dirty'))).rejects.toThrow(
      /wreg\/index\.html: https:\/\/example\.com\/x\.js[\s\S]*wreg\/index\.html: data\/missing\.arrow — broken link/,
    );
  });

  test('checkSiteLinks finds a broken link from the index to an experiment page', async () => {
    const root = path.join(dir, 'index-only');
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, 'index.html'), renderSiteIndex(ENTRIES, META));
    const problems = await checkSiteLinks(root);
    expect(problems).toEqual([
      { page: 'index.html', href: 'wreg/index.html', problem: 'broken link: no such file' },
      { page: 'index.html', href: 'src/index.html', problem: 'broken link: no such file' },
    ]);
  });
});

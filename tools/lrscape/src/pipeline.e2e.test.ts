/**
 * The Nx graph end to end on a tiny experiment in a scratch copy of the workspace: what runs on a fresh
 * workspace, what a second run serves from the cache, and that each kind of change reruns only what
 * depends on it (DESIGN §1's table). Tasks that really executed are counted through LRSCAPE_TASK_LOG
 * (a cache hit replays a task's output but runs nothing).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTable } from '@lrscape/artifacts';
import { checkSiteLinks } from '@lrscape/report';
import { createScratchWorkspace, type ScratchWorkspace } from './testing/scratch-workspace';

let workspace: ScratchWorkspace;
let root: string;
const taskLog = () => workspace.taskLog;
const env = () => workspace.env;
const nx = (...args: string[]) => workspace.nx(...args);

const tiny = {
  title: 'Tiny',
  description: 'A reduced W-reg for the pipeline tests.',
  dataset: { kind: 'wreg', n: 40, noise: 0.1, seed: 1 },
  model: { hidden: [8], activation: 'tanh', loss: 'mse' },
  training: { steps: 40, checkpointEvery: 20, sharpnessEvery: 5, testEvery: 10 },
  grid: { etas: [0.02, 0.5] },
  hessian: { topK: 3, maxIterations: 20, kLayers: [1] },
};
type Config = typeof tiny & Record<string, unknown>;
const writeConfig = (config: Config) => workspace.writeExperiment('tiny', config);

beforeAll(() => {
  workspace = createScratchWorkspace();
  root = workspace.root;
  writeConfig(tiny);
});

afterAll(() => workspace?.dispose());

describe('the pipeline graph', () => {
  it('runs every stage on a fresh workspace and produces the tables and the report', async () => {
    expect(nx('run-many', '-t', 'analyze')).toEqual([
      'aggregate tiny',
      'hessian tiny eta-0.02',
      'hessian tiny eta-0.5',
      'prepare tiny',
      'report tiny',
      'site',
      'train tiny eta-0.02',
      'train tiny eta-0.5',
      'verify tiny',
    ]);
    const runs = await readTable(join(root, 'artifacts/tiny/tables/runs.arrow'), 'runs');
    expect(runs.rows.map((r) => r.run)).toEqual(['eta-0.02', 'eta-0.5']);
    const spectra = await readTable(join(root, 'artifacts/tiny/tables/spectra.arrow'), 'spectra');
    expect(new Set(spectra.rows.map((r) => r.scope))).toEqual(new Set(['full', 'k1']));
    expect(existsSync(join(root, 'reports/index.html'))).toBe(true);
    expect(readFileSync(join(root, 'reports/tiny/index.html'), 'utf8')).toContain('<svg');
  }, 600_000);

  it.skipIf(!existsSync('/usr/bin/chromium'))('publishes a site whose real pages load in Chromium with no error and marks in every figure', async () => {
    const dest = join(root, 'published');
    expect(nx('run', 'reports:publish', `--dest=${dest}`)).toEqual([`publish --dest=${dest}`]); // everything else from the cache
    expect(await checkSiteLinks(dest)).toEqual([]);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      for (const page of ['index.html', 'tiny/index.html', 'tiny/data/runs.arrow']) expect(existsSync(join(dest, page)), page).toBe(true);
      for (const page of ['index.html', 'tiny/index.html']) {
        const tab = await browser.newPage();
        const problems: string[] = [];
        tab.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
        tab.on('pageerror', (e) => problems.push(e.message));
        await tab.goto(pathToFileURL(join(dest, page)).href, { waitUntil: 'load' });
        const markCounts = await tab.$$eval('figure.lrs-figure', (figures) => figures.map((f) => f.querySelectorAll('path, circle, rect, line').length));
        expect(problems, page).toEqual([]);
        expect(markCounts.every((n) => n > 0), `${page}: ${markCounts}`).toBe(true);
        if (page === 'tiny/index.html') expect(markCounts.length).toBeGreaterThan(5);
        await tab.close();
      }
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('serves a second run with no change entirely from the cache', () => {
    expect(nx('run-many', '-t', 'analyze')).toEqual([]);
  }, 300_000);

  it('reruns only the reports after a report-code change', () => {
    appendFileSync(join(root, 'libs/report/src/index.ts'), '\n// a tweak\n');
    expect(nx('run-many', '-t', 'analyze')).toEqual(['report tiny', 'site']);
  }, 300_000);

  it('reruns the Hessians but no training after a Hessian-setting change', () => {
    writeConfig({ ...tiny, hessian: { ...tiny.hessian, topK: 4 } });
    expect(nx('run-many', '-t', 'analyze')).toEqual(['aggregate tiny', 'hessian tiny eta-0.02', 'hessian tiny eta-0.5', 'report tiny', 'site', 'verify tiny']);
  }, 300_000);

  it('trains only the new η when one is added to the grid', () => {
    writeConfig({ ...tiny, hessian: { ...tiny.hessian, topK: 4 }, grid: { etas: [0.02, 0.1, 0.5] } });
    expect(nx('run-many', '-t', 'analyze')).toEqual(['aggregate tiny', 'hessian tiny eta-0.1', 'report tiny', 'site', 'train tiny eta-0.1', 'verify tiny']);
  }, 300_000);

  it('reruns no training and no Hessian after an analysis-threshold change', () => {
    writeConfig({ ...tiny, hessian: { ...tiny.hessian, topK: 4 }, grid: { etas: [0.02, 0.1, 0.5] }, analysis: { prominence: 0.2 } });
    expect(nx('run-many', '-t', 'analyze')).toEqual(['aggregate tiny', 'report tiny', 'site', 'verify tiny']);
  }, 300_000);

  it('refuses a malformed config with the file and the field named, touching nothing', () => {
    const before = readFileSync(join(root, 'artifacts/tiny/tables/manifest.json'), 'utf8');
    writeConfig({ ...tiny, grid: { etas: [0.02, -0.1] } });
    const result = workspace.nxRaw('run-many', '-t', 'analyze');
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/pipelines\/tiny\/experiment\.json: field `grid\.etas\.1`/);
    expect(readFileSync(taskLog(), 'utf8')).toBe('');
    expect(readFileSync(join(root, 'artifacts/tiny/tables/manifest.json'), 'utf8')).toBe(before);
  }, 300_000);

  it('resumes a train task killed mid-way, leaving nothing half-written that a later task trusts', async () => {
    const long = { ...tiny, training: { ...tiny.training, steps: 8000, checkpointEvery: 500 }, grid: { etas: [0.02] } };
    writeConfig(long);
    const runDir = join(root, 'artifacts/tiny/runs/eta-0.02');
    const resumeFile = join(root, 'artifacts/tiny/resume/eta-0.02/resume.json');
    const child = spawn(join(root, 'node_modules/.bin/nx'), ['run', 'tiny-eta-0.02:train'], { cwd: root, env: env(), detached: true, stdio: 'ignore' });
    const deadline = Date.now() + 240_000;
    while (!existsSync(resumeFile) || (JSON.parse(readFileSync(resumeFile, 'utf8')) as { step: number }).step < 500) {
      if (Date.now() > deadline) throw new Error('the train task never reached a resume point');
      await new Promise((r) => setTimeout(r, 20));
    }
    // SIGKILL the task's process itself (Nx runs it outside the group of the nx process), then nx.
    spawnSync('pkill', ['-KILL', '-f', 'stages/train.ts tiny eta-0.02']);
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    // The killed task published nothing: the run folder is absent or still an earlier, shorter run.
    if (existsSync(join(runDir, 'run.json'))) expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).steps).not.toBe(8000);
    const resumedFrom = (JSON.parse(readFileSync(resumeFile, 'utf8')) as { step: number }).step;

    const rerun = workspace.nxRaw('run', 'tiny-eta-0.02:hessian', '--output-style=static');
    expect(rerun.status, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain(`resuming from step ${resumedFrom}`);
    const summary = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    expect(summary.steps).toBe(8000);
    const metrics = await readTable(join(runDir, 'metrics.arrow'), 'steps');
    expect(metrics.rows.map((r) => r.step)).toEqual(Array.from({ length: 8001 }, (_, i) => i));
    expect(existsSync(join(root, 'artifacts/tiny/resume/eta-0.02'))).toBe(false);
    expect(readFileSync(taskLog(), 'utf8').split('\n').filter(Boolean)).toEqual(['train tiny eta-0.02', 'hessian tiny eta-0.02']);
  }, 600_000);
});

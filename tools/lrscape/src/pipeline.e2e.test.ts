/**
 * The Nx graph end to end on a tiny experiment in a scratch copy of the workspace: what runs on a fresh
 * workspace, what a second run serves from the cache, that each kind of change reruns only what depends on
 * it (README, "Incremental reruns"), that test files and test helpers rerun nothing, that a malformed config
 * stops the graph, and that a killed train task resumes. Tasks that really executed are counted through
 * LRSCAPE_TASK_LOG (a cache hit replays a task's output but runs nothing).
 *
 * Independence: beforeAll runs the fresh workspace once (the baseline); every other case runs in a scratch
 * workspace of its own, a copy of the baseline taken right after that run — sources, config, artifacts,
 * reports and the Nx cache — so each case starts from the same known state, and nothing a case changes,
 * computes or caches reaches another case, whatever the order or the `-t` filter. Copying costs well under a
 * second; rerunning the fresh run per case would cost ~25 s each.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readTable } from '@lrscape/artifacts';
import { checkSiteLinks } from '@lrscape/report';
import { createScratchWorkspace, treeDigest, type ScratchWorkspace } from './testing/scratch-workspace';

/** A reduced W-reg: a 1-8-1 tanh MLP (25 parameters; its last layer, the k = 1 block, holds 9). */
const tiny = {
  title: 'Tiny',
  description: 'A reduced W-reg for the pipeline tests.',
  dataset: { kind: 'wreg', n: 40, noise: 0.1, seed: 1 },
  model: { hidden: [8], activation: 'tanh', loss: 'mse' },
  training: { steps: 40, checkpointEvery: 20, sharpnessEvery: 5, testEvery: 10, lightCheckpointEvery: 10 },
  grid: { etas: [0.02, 0.5] },
  hessian: { topK: 3, maxIterations: 20, kLayers: [1] },
  // The baseline η = 0.02 reaches τ = 0.4 at step 20; η = 0.5 at step 1 (light checkpoints there).
  matchedTime: { baselineEta: 0.02, taus: [0.2, 0.4] },
};

/** Every task of the tiny experiment, as the task log names them, sorted (what nx() returns). */
const EVERY_TASK = [
  'aggregate tiny',
  'hessian tiny eta-0.02',
  'hessian tiny eta-0.5',
  'prepare tiny',
  'report tiny',
  'site',
  'train tiny eta-0.02',
  'train tiny eta-0.5',
  'verify tiny',
];

let baseline: ScratchWorkspace;
/** The tasks the fresh run in beforeAll executed. */
let freshTasks: string[];
const copies: ScratchWorkspace[] = [];

/** A workspace of the case's own: the baseline as it was right after its fresh run (disposed after the case). */
function fromBaseline(): ScratchWorkspace {
  const workspace = baseline.clone();
  copies.push(workspace);
  return workspace;
}

const analyze = (workspace: ScratchWorkspace) => workspace.nx('run-many', '-t', 'analyze');
const writeTiny = (workspace: ScratchWorkspace, config: Record<string, unknown>) => workspace.writeExperiment('tiny', config);
const table = async <N extends 'runs' | 'spectra' | 'steps' | 'light_spectra' | 'matched_time'>(workspace: ScratchWorkspace, path: string, name: N) =>
  (await readTable(join(workspace.root, path), name)).rows;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
interface RunJson {
  steps: number;
  diverged: boolean;
  stoppedBy: string;
  checkpoints: { step: number; reason: string }[];
}
/** The files under a folder of the workspace, as workspace-relative paths. */
const filesUnder = (workspace: ScratchWorkspace, dir: string) =>
  readdirSync(join(workspace.root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(workspace.root, dir, f)).isFile())
    .map((f) => `${dir}/${f}`)
    .sort();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(() => {
  baseline = createScratchWorkspace('lrscape-e2e-baseline-');
  writeTiny(baseline, tiny);
  freshTasks = analyze(baseline);
}, 600_000);

afterEach(() => {
  for (const workspace of copies.splice(0)) workspace.dispose();
});

afterAll(() => baseline?.dispose());

describe('the pipeline graph: what reruns after each kind of change (README, "Incremental reruns")', () => {
  it('runs every stage on a fresh workspace and produces the tables and the report', async () => {
    expect(freshTasks).toEqual(EVERY_TASK);
    const runs = await table(baseline, 'artifacts/tiny/tables/runs.arrow', 'runs');
    expect(runs.map((r) => r.run)).toEqual(['eta-0.02', 'eta-0.5']);
    const spectra = await table(baseline, 'artifacts/tiny/tables/spectra.arrow', 'spectra');
    expect(new Set(spectra.map((r) => r.scope))).toEqual(new Set(['full', 'k1']));
    expect(new Set(spectra.map((r) => r.rank))).toEqual(new Set([1, 2, 3]));
    // η = 0.02 trains its 40 steps; η = 0.5 (far above 2/λmax) diverges, is recorded as diverged, and its
    // downstream tasks still run.
    const summaries = Object.fromEntries(
      ['eta-0.02', 'eta-0.5'].map((run) => [run, JSON.parse(readFileSync(join(baseline.root, `artifacts/tiny/runs/${run}/run.json`), 'utf8')) as RunJson]),
    );
    expect(summaries['eta-0.02']).toMatchObject({ steps: 40, diverged: false, stoppedBy: 'steps' });
    expect(summaries['eta-0.5']).toMatchObject({ diverged: true, stoppedBy: 'diverged' });
    expect(summaries['eta-0.5'].steps).toBeLessThan(40);
    for (const [run, summary] of Object.entries(summaries)) {
      const steps = await table(baseline, `artifacts/tiny/runs/${run}/metrics.arrow`, 'steps');
      expect(steps.map((r) => r.step), run).toEqual(range(0, summary.steps));
      // Every checkpoint of the run (the cadence ones, the last step's, any event checkpoints) is decomposed,
      // and the light ones (every 10 steps, and the τ grid) get the light analysis instead.
      const full = summary.checkpoints.filter((c) => c.reason !== 'light').map((c) => c.step);
      const light = summary.checkpoints.filter((c) => c.reason === 'light').map((c) => c.step);
      expect(full, run).toEqual(expect.arrayContaining([0]));
      expect([...new Set(spectra.filter((r) => r.run === run).map((r) => r.step))].sort((a, b) => a - b), run).toEqual(full);
      const lightRows = await table(baseline, `artifacts/tiny/hessian/${run}/light_spectra.arrow`, 'light_spectra');
      expect([...new Set(lightRows.filter((r) => r.kind === 'light').map((r) => r.step))], run).toEqual(light);
    }
    expect(summaries['eta-0.02'].checkpoints.filter((c) => c.reason === 'light').map((c) => c.step)).toEqual([10, 30]);
    // The baseline against itself is no comparison; η = 0.5 against the baseline at τ = 0.2 and 0.4 (steps 1, 10 and 20 of the baseline).
    const matched = await table(baseline, 'artifacts/tiny/tables/matched_time.arrow', 'matched_time');
    expect(matched.map((r) => [r.run, r.tau, r.status, r.step, r.baseline_step])).toEqual([
      ['eta-0.5', 0.2, 'ok', 1, 10],
      ['eta-0.5', 0.4, 'ok', 1, 20],
    ]);
    expect(readFileSync(join(baseline.root, 'reports/index.html'), 'utf8')).toMatch(/href="tiny\/index\.html"/);
    expect(readFileSync(join(baseline.root, 'reports/tiny/index.html'), 'utf8')).toContain('<svg');
  });

  it('serves a second run with no change entirely from the cache', () => {
    const workspace = fromBaseline();
    expect(analyze(workspace)).toEqual([]);
  }, 300_000);

  it.each(['libs/report/src/page.ts', 'tools/lrscape/src/stages/report.ts'])('reruns only the report and the site index after a report-code change (%s)', (file) => {
    const workspace = fromBaseline();
    appendFileSync(join(workspace.root, file), '\n// a tweak\n');
    expect(analyze(workspace)).toEqual(['report tiny', 'site']);
  }, 300_000);

  it('reruns only the report and the site index after a title change in the config', () => {
    const workspace = fromBaseline();
    writeTiny(workspace, { ...tiny, title: 'Tiny, renamed' });
    expect(analyze(workspace)).toEqual(['report tiny', 'site']);
    expect(readFileSync(join(workspace.root, 'reports/tiny/index.html'), 'utf8')).toContain('Tiny, renamed');
  }, 300_000);

  it('reruns every Hessian, aggregate, verify and the reports, but no training, after a Hessian-setting change', async () => {
    const workspace = fromBaseline();
    writeTiny(workspace, { ...tiny, hessian: { ...tiny.hessian, topK: 4 } });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'hessian tiny eta-0.02', 'hessian tiny eta-0.5', 'report tiny', 'site', 'verify tiny']);
    const spectra = await table(workspace, 'artifacts/tiny/tables/spectra.arrow', 'spectra');
    expect(new Set(spectra.map((r) => r.rank))).toEqual(new Set([1, 2, 3, 4]));
  }, 300_000);

  it('trains and decomposes only the new η when one is added to the grid', async () => {
    const workspace = fromBaseline();
    writeTiny(workspace, { ...tiny, grid: { etas: [0.02, 0.1, 0.5] } });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'hessian tiny eta-0.1', 'report tiny', 'site', 'train tiny eta-0.1', 'verify tiny']);
    const runs = await table(workspace, 'artifacts/tiny/tables/runs.arrow', 'runs');
    expect(runs.map((r) => r.run)).toEqual(['eta-0.02', 'eta-0.1', 'eta-0.5']);
  }, 300_000);

  it('reruns no training and no Hessian after an analysis-threshold change (another primary detector, one more sweep threshold)', () => {
    const workspace = fromBaseline();
    const instabilities = { primary: { kind: 'absolute', threshold: 0.05 }, sweep: { relative: [0.05, 0.1, 0.2, 0.5, 1], absolute: [0.02, 0.05, 0.1, 0.2] } };
    writeTiny(workspace, { ...tiny, analysis: { instabilities } });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'report tiny', 'site', 'verify tiny']);
  }, 300_000);

  it('reruns aggregate only after the shift dimension m changes within the stored vectors', () => {
    const workspace = fromBaseline();
    writeTiny(workspace, { ...tiny, analysis: { shift: { m: 1 } } });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'report tiny', 'site', 'verify tiny']);
  }, 300_000);

  it('reruns every Hessian (no training) after a light-checkpoint setting changes', async () => {
    const workspace = fromBaseline();
    writeTiny(workspace, { ...tiny, hessian: { ...tiny.hessian, light: { topK: 5 } } });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'hessian tiny eta-0.02', 'hessian tiny eta-0.5', 'report tiny', 'site', 'verify tiny']);
    const light = await table(workspace, 'artifacts/tiny/tables/light_spectra.arrow', 'light_spectra');
    expect(new Set(light.map((r) => r.rank))).toEqual(new Set([1, 2, 3, 4, 5]));
  }, 300_000);

  it('retrains only the runs whose light steps a new grid τ moves', async () => {
    const workspace = fromBaseline();
    // τ = 0.6: step 30 of η = 0.02, already a light step; step 2 of η = 0.5, a new one.
    writeTiny(workspace, { ...tiny, matchedTime: { ...tiny.matchedTime, taus: [0.2, 0.4, 0.6] } });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'hessian tiny eta-0.5', 'report tiny', 'site', 'train tiny eta-0.5', 'verify tiny']);
    const matched = await table(workspace, 'artifacts/tiny/tables/matched_time.arrow', 'matched_time');
    expect(matched.map((r) => r.tau)).toEqual([0.2, 0.4, 0.6]);
  }, 300_000);

  // η = 0.5 diverges, so the family has nothing to continue: its task still runs and records why, and the
  // delayed-drop claims are not-run with that reason, naming the field; the rest is computed as before.
  it('runs only the new drop family’s continue task (then aggregate, verify, report) when one is added, and records a diverged parent by its field', async () => {
    const workspace = fromBaseline();
    const family = { name: 'main', parentEta: 0.5, controlEta: 0.02, etaLow: 0.01, matchedLoss: 0.1, maxSteps: 50, minSwitchStep: 0 };
    writeTiny(workspace, { ...tiny, dropFamilies: [family] });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'continue tiny main 0', 'report tiny', 'site', 'verify tiny']);
    const families = (await readTable(join(workspace.root, 'artifacts/tiny/tables/drop_families.arrow'), 'drop_families')).rows;
    expect(families.map((f) => [f.family, f.seed, f.status, f.continuations])).toEqual([['main', 0, 'parent-diverged', 0]]);
    expect(families[0].reason).toMatch(/^pipelines\/tiny\/experiment\.json: field `dropFamilies\.0\.parentEta`: the parent run eta-0\.5 diverged at step \d+/);
    const claims = (await readTable(join(workspace.root, 'artifacts/tiny/claims/claims.arrow'), 'claims')).rows.filter((c) => c.id.startsWith('drop-'));
    expect(claims.map((c) => [c.id, c.verdict])).toEqual([['drop-flattening-pairs', 'not-run'], ['drop-flattening-vs-control', 'not-run'], ['drop-control-null', 'not-run']]);
    for (const claim of claims) expect(claim.detail).toContain('field `dropFamilies.0.parentEta`');
    // Its analysis settings rerun no continuation.
    writeTiny(workspace, { ...tiny, dropFamilies: [{ ...family, pinnedRatio: 0.7, controlMargin: 0.1 }] });
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'report tiny', 'site', 'verify tiny']);
  }, 300_000);

  it('reruns everything after a dataset-setting change', () => {
    const workspace = fromBaseline();
    writeTiny(workspace, { ...tiny, dataset: { ...tiny.dataset, noise: 0.2 } });
    expect(analyze(workspace)).toEqual(EVERY_TASK);
  }, 600_000);
});

describe('a CNN experiment beside the MLP one (model.kind cnn): the same rerun rules', () => {
  /**
   * A one-conv CNN on 20 Fashion-MNIST images (16 train, 4 test): conv0 (2 filters, 3×3: 20 parameters), 2×2
   * average pooling to 14×14×2, dense0 (392·10 + 10 = 3,930). Layers conv0, dense0: k = 2 is the whole net.
   */
  const tinyCnn = {
    title: 'Tiny CNN',
    dataset: { kind: 'fmnist', perClass: 2, seed: 1, testFraction: 0.2 },
    model: { kind: 'cnn', inputShape: [28, 28, 1], conv: [{ filters: 2, kernelSize: 3 }], pool: 'avg', dense: [], activation: 'tanh', loss: 'mse' },
    training: { steps: 10, checkpointEvery: 5, sharpnessEvery: 5, testEvery: 5 },
    grid: { etas: [0.05, 0.1] },
    hessian: { topK: 3, maxIterations: 20, kLayers: [1, 2] },
  };
  const cnnTasks = (...runs: string[]) => ['aggregate cnn', ...runs.map((r) => `hessian cnn ${r}`), 'report cnn', 'verify cnn', ...runs.map((r) => `train cnn ${r}`)];

  it('runs through every stage; one η changed reruns only that run (and aggregate, verify, report, site); a CNN-only engine file reruns the stages that import the engine', async () => {
    const workspace = fromBaseline();
    workspace.writeExperiment('cnn', tinyCnn);
    expect(workspace.nx('run', 'cnn:analyze')).toEqual(['prepare cnn', ...cnnTasks('eta-0.05', 'eta-0.1')].sort());
    const summary = JSON.parse(readFileSync(join(workspace.root, 'artifacts/cnn/runs/eta-0.05/run.json'), 'utf8')) as RunJson & { layout: { name: string; size: number }[] };
    expect(summary.layout.map((slot) => [slot.name, slot.size])).toEqual([['conv0/kernel', 18], ['conv0/bias', 2], ['dense0/kernel', 3920], ['dense0/bias', 10]]);
    const spectra = await table(workspace, 'artifacts/cnn/tables/spectra.arrow', 'spectra');
    expect(new Set(spectra.map((r) => r.scope))).toEqual(new Set(['full', 'k1', 'k2']));

    // The whole graph: the MLP experiment and the CNN's other run are served from the cache.
    workspace.writeExperiment('cnn', { ...tinyCnn, grid: { etas: [0.05, 0.2] } });
    expect(analyze(workspace)).toEqual([...cnnTasks('eta-0.2'), 'site'].sort());
    expect(readFileSync(join(workspace.root, 'reports/index.html'), 'utf8')).toMatch(/href="cnn\/index\.html"/);
    expect((await table(workspace, 'artifacts/cnn/tables/runs.arrow', 'runs')).map((r) => r.run)).toEqual(['eta-0.05', 'eta-0.2']);

    // conv.ts is used by the CNN alone, but a stage's cache key holds the whole production source of each lib it
    // imports (STAGE_LIBS): a run's train and hessian rerun, its prepare (no engine import) does not. The other
    // engine stages, and the MLP experiment's, are invalidated alike; one run's hessian keeps this short.
    appendFileSync(join(workspace.root, 'libs/engine/src/conv.ts'), '\n// a tweak to a CNN-only source\n');
    expect(workspace.nx('run', 'cnn-eta-0.05:hessian')).toEqual(['hessian cnn eta-0.05', 'train cnn eta-0.05']);
  }, 300_000);
});

describe('code inputs: production sources of the libs a stage imports, tests and test helpers excluded', () => {
  it('reruns nothing after test helpers (libs/*/src/testing/) and tests are edited and a new test is added', () => {
    const workspace = fromBaseline();
    const libs = readdirSync(join(workspace.root, 'libs')).sort();
    const helpers = libs.flatMap((lib) => {
      const dir = join('libs', lib, 'src', 'testing');
      return existsSync(join(workspace.root, dir)) ? filesUnder(workspace, dir) : [];
    });
    // The helpers named in docs/architecture.md's layout are there (the edit below is not vacuous).
    expect(helpers).toEqual(expect.arrayContaining(['libs/data/src/testing/fixtures.ts', 'libs/engine/src/testing/fixtures.ts', 'libs/linalg/src/testing/matrices.ts', 'libs/report/src/testing/sample.ts', 'libs/train/src/testing/fixtures.ts']));
    for (const file of helpers) appendFileSync(join(workspace.root, file), '\n// a tweak to a test helper\n');
    const tests = libs.flatMap((lib) => filesUnder(workspace, `libs/${lib}/src`).filter((f) => f.endsWith('.test.ts')));
    expect(tests.length).toBeGreaterThan(libs.length);
    for (const file of tests) appendFileSync(join(workspace.root, file), '\n// a tweak to a test\n');
    for (const lib of libs) {
      writeFileSync(join(workspace.root, 'libs', lib, 'src', 'added-by-e2e.test.ts'), "import { expect, it } from 'vitest';\n\nit('is new', () => expect(1).toBe(1));\n");
    }
    expect(analyze(workspace)).toEqual([]);
  }, 300_000);

  // The control: a production file of libs/landscape. STAGE_LIBS (targets.ts) lists landscape for hessian,
  // aggregate and verify only; report and the site index rerun too because their inputs include upstream
  // outputs that a rerun never reproduces byte for byte (hessian.json's seconds, the report's timestamp),
  // while prepare and train, which do not import landscape, are served from the cache.
  it('reruns exactly the stages that import a lib after a production file of it is edited (libs/landscape/src/claims.ts)', () => {
    const workspace = fromBaseline();
    appendFileSync(join(workspace.root, 'libs/landscape/src/claims.ts'), '\n// a tweak to production code\n');
    expect(analyze(workspace)).toEqual(['aggregate tiny', 'hessian tiny eta-0.02', 'hessian tiny eta-0.5', 'report tiny', 'site', 'verify tiny']);
  }, 300_000);
});

describe('bad input and interruptions', () => {
  it.each([
    ['a negative η', { ...tiny, grid: { etas: [0.02, -0.1] } }, /field `grid\.etas\.1`: [^\n]*(>\s*0|positive)/],
    [
      'hessian.topK above the parameters of the last-layer block',
      { ...tiny, hessian: { ...tiny.hessian, topK: 10 } },
      /field `hessian\.topK`: 10 exceeds the 9 parameters of the last 1 layer /,
    ],
    [
      "hessian.topK above the net's parameter count",
      { ...tiny, hessian: { topK: 30, maxIterations: 40, kLayers: [] } },
      /field `hessian\.topK`: 30 exceeds the 25 parameters of the full network/,
    ],
  ])('refuses a config with %s: non-zero exit, the file and the field named, nothing run, artifacts untouched', (_, config, message) => {
    const workspace = fromBaseline();
    const before = { artifacts: treeDigest(join(workspace.root, 'artifacts')), reports: treeDigest(join(workspace.root, 'reports')) };
    expect(Object.keys(before.artifacts)).toContain('tiny/tables/spectra.arrow');
    writeTiny(workspace, config);
    const result = workspace.nxRaw('run-many', '-t', 'analyze');
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBeNull();
    const file = escapeRegExp(join(workspace.root, 'pipelines/tiny/experiment.json'));
    expect(result.stdout + result.stderr).toMatch(new RegExp(`${file}: ${message.source}`));
    expect(result.tasks).toEqual([]);
    expect({ artifacts: treeDigest(join(workspace.root, 'artifacts')), reports: treeDigest(join(workspace.root, 'reports')) }).toEqual(before);
  }, 300_000);

  it('resumes a train task killed right after its 3rd resume point, from step 60, leaving nothing half-written that a later task trusts', async () => {
    // eta-0.1: 200 steps, a resume point every 20 (at 20, 40, 60, …); the hook SIGKILLs train after the 3rd.
    const config = { ...tiny, runs: [{ schedule: { kind: 'constant', eta: 0.1 }, steps: 200 }] };
    const workspace = fromBaseline();
    writeTiny(workspace, config);
    const resumeDir = join(workspace.root, 'artifacts/tiny/resume/eta-0.1');
    const runsDir = join(workspace.root, 'artifacts/tiny/runs');

    const killed = workspace.nxWith({ LRSCAPE_TEST_KILL_AFTER_RESUME_POINTS: '3' }, 'run', 'tiny-eta-0.1:train', '--output-style=static');
    expect(killed.status, killed.stdout + killed.stderr).toBe(1);
    expect(killed.tasks).toEqual(['train tiny eta-0.1']);
    expect(killed.stdout).not.toMatch(/lrscape train: done/);
    const resume = JSON.parse(readFileSync(join(resumeDir, 'resume.json'), 'utf8')) as { step: number; records: { step: number }[]; checkpoints: { step: number }[] };
    expect(resume.step).toBe(3 * 20);
    expect(resume.records.map((r) => r.step)).toEqual(range(0, 59));
    // The cadence checkpoints before step 60, and the light ones: τ = 0.2, 0.4 at steps 2, 4; every 10 steps up to training.steps = 40.
    expect(resume.checkpoints.map((c) => c.step)).toEqual([0, 2, 4, 10, 20, 30, 40]);
    // Nothing of eta-0.1 was published, not even a partial folder; the baseline's runs are as they were.
    expect(readdirSync(runsDir).sort()).toEqual(['eta-0.02', 'eta-0.5']);

    const resumed = workspace.nxRaw('run', 'tiny-eta-0.1:hessian', '--output-style=static');
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.tasks).toEqual(['hessian tiny eta-0.1', 'train tiny eta-0.1']);
    expect(resumed.stdout.match(/resuming from step \d+/g)).toEqual(['resuming from step 60']);
    expect(resumed.stdout).not.toMatch(/resume point rejected/);
    const runDir = join(runsDir, 'eta-0.1');
    expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).steps).toBe(200);
    const steps = await table(workspace, 'artifacts/tiny/runs/eta-0.1/metrics.arrow', 'steps');
    expect(steps.map((r) => r.step)).toEqual(range(0, 200));
    expect(existsSync(resumeDir)).toBe(false);
    expect(existsSync(`${resumeDir}.lock`)).toBe(false);
    expect(existsSync(join(workspace.root, 'artifacts/tiny/hessian/eta-0.1/hessian.json'))).toBe(true);

    // The resumed trajectory is the uninterrupted one, bit for bit (a copy of the baseline trains it in one go).
    const reference = fromBaseline();
    writeTiny(reference, config);
    expect(reference.nx('run', 'tiny-eta-0.1:train')).toEqual(['train tiny eta-0.1']);
    expect(steps).toEqual(await table(reference, 'artifacts/tiny/runs/eta-0.1/metrics.arrow', 'steps'));
    const final = 'artifacts/tiny/runs/eta-0.1/checkpoints/step-000200.safetensors';
    expect(readFileSync(join(workspace.root, final)).equals(readFileSync(join(reference.root, final)))).toBe(true);
  }, 600_000);
});

describe('the published site', () => {
  it.skipIf(!existsSync('/usr/bin/chromium'))('publishes a site whose real pages load in Chromium with no error and marks in every figure', async () => {
    const workspace = fromBaseline();
    const root = workspace.root;
    const dest = join(root, 'published');
    expect(workspace.nx('run', 'reports:publish', `--dest=${dest}`)).toEqual([`publish --dest=${dest}`]); // everything else from the cache
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
});

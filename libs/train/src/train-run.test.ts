import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTable, verifyManifest } from '@lrscape/artifacts';
import { checkpointFileName, readCheckpoint } from './checkpoint';
import { RESUME_INDEX_FILE } from './resume';
import { readRunSummary } from './run-summary';
import { counter, denseLayout, quadratic, quadraticLossAt } from './testing/fixtures';
import { replayTo, replicateInitSeed, trainRun, type TrainRunEvent, type TrainRunOptions } from './train-run';

let root: string;
beforeEach(async () => void (root = await mkdtemp(join(tmpdir(), 'lrscape-train-run-'))));
afterEach(() => rm(root, { recursive: true, force: true }));

// Float32-unfriendly curvatures and θ_0, so that bit-for-bit comparisons mean something.
const a = [3.7, 1.3, 0.21, 0.05];
const theta0 = [1, -0.5, 2, 0.3];
const eta = 0.25; // 2/λmax ≈ 0.54
const layout = denseLayout(1, 2); // 4 parameters

function options(name: string, overrides: Partial<TrainRunOptions> = {}): TrainRunOptions {
  return {
    resumeDir: join(root, 'resume', name),
    runDir: join(root, 'runs', name),
    objective: quadratic(a),
    layout,
    theta0: Float32Array.from(theta0),
    schedule: { kind: 'constant', eta },
    stop: { kind: 'steps', steps: 60 },
    settings: { testEvery: 10, sharpnessEvery: 5, sharpnessIterations: 4, checkpointEvery: 20, eventCheckpoints: null, divergenceFactor: 1e3 },
    inputsHash: 'inputs-1',
    run: { slug: name, eta, seed: 0 },
    provenance: {
      backend: 'cpu',
      spec: { inputDim: 1, hidden: [], outputDim: 2, activation: 'linear', loss: 'mse' },
      configSlice: { training: { steps: 60 } },
      tableMetadata: { experiment: 'test', code_version: 'lrscape@test', backend: 'cpu' },
    },
    ...overrides,
  };
}

const metrics = async (runDir: string) => (await readTable(join(runDir, 'metrics.arrow'), 'steps')).rows.map(({ run: _, ...row }) => row);
const checkpointBytes = async (runDir: string) =>
  Object.fromEntries(await Promise.all((await readdir(join(runDir, 'checkpoints'))).map(async (f) => [f, await readFile(join(runDir, 'checkpoints', f))])));
/** Throws from the event callback at the n-th resume point: the run stops there as a killed task would. */
const interruptAt = (n: number) => (e: TrainRunEvent) => {
  if (e.kind === 'resume-point' && e.count === n) throw new Error('interrupted');
};

describe('trainRun', () => {
  it('writes a run folder whose steps table, run.json and checkpoints follow GD’s closed form on a quadratic', async () => {
    const o = options('eta-0.25');
    const { summary } = await trainRun(o);
    await verifyManifest(o.runDir);
    const rows = await metrics(o.runDir);
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 61 }, (_, t) => t));
    for (const r of rows) {
      const exact = quadraticLossAt(a, theta0, eta, r.step);
      expect(Math.abs(r.loss! - exact) / exact).toBeLessThan(1e-5); // θ is float32: ~1e-7 per step
      expect(r.lr).toBe(eta);
      if (r.step % 5 === 0) expect(r.sharpness).toBeCloseTo(3.7, 6);
      else expect(r.sharpness).toBeNull();
    }
    expect(await readRunSummary(o.runDir)).toEqual(summary);
    expect(summary).toMatchObject({ run: 'eta-0.25', steps: 60, stoppedBy: 'steps', diverged: false, divergedAt: null, parameters: 4, backend: 'cpu' });
    expect(summary.finalLoss).toBe(rows[60].loss);
    expect(summary.checkpoints).toEqual([0, 20, 40, 60].map((step) => ({ step, reason: step === 60 ? 'final' : 'cadence', file: `checkpoints/${checkpointFileName(step)}` })));
    // θ_20 = (1 − ηa_i)^20 θ_0 (by step 60 the stiff coordinate, 0.075^60, is below float32's range).
    const twenty = await readCheckpoint(join(o.runDir, summary.checkpoints[1].file), layout);
    twenty.theta.forEach((x, i) => expect(x / ((1 - eta * a[i]) ** 20 * theta0[i])).toBeCloseTo(1, 5));
    expect(existsSync(o.resumeDir)).toBe(false);
    expect(existsSync(`${o.resumeDir}.lock`)).toBe(false);
  });

  it('reports the start, each step with an ETA, and each resume point after it is on disk', async () => {
    const events: TrainRunEvent[] = [];
    const o = options('events');
    await trainRun({
      ...o,
      onEvent: (e) => {
        if (e.kind === 'resume-point') expect(JSON.parse(readFileSync(join(o.resumeDir, RESUME_INDEX_FILE), 'utf8')).step).toBe(e.step);
        events.push(e);
      },
    });
    expect(events[0]).toEqual({ kind: 'start', step: 0, cap: 60, resumed: false, dir: o.resumeDir });
    expect(events.filter((e) => e.kind === 'resume-point')).toEqual([
      { kind: 'resume-point', step: 20, count: 1 },
      { kind: 'resume-point', step: 40, count: 2 },
    ]);
    const progress = events.flatMap((e) => (e.kind === 'progress' ? [e] : []));
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 61 }, (_, t) => t));
    expect(progress.at(-1)).toMatchObject({ cap: 60, etaSeconds: 0 });
  });

  it('records which rule stopped the run and checkpoints the requested steps', async () => {
    // Converged at 31: the threshold lies between the closed-form losses of steps 30 and 31 (2.5% apart).
    const threshold = Math.sqrt(quadraticLossAt(a, theta0, eta, 30) * quadraticLossAt(a, theta0, eta, 31));
    const o = options('criterion', { stop: { kind: 'criterion', maxSteps: 500, loss: threshold }, settings: { ...options('x').settings, checkpointSteps: [7, 25, 400] } });
    const { summary } = await trainRun(o);
    expect([summary.stoppedBy, summary.steps]).toEqual(['converged', 31]);
    expect(summary.checkpoints.map((c) => [c.step, c.reason])).toEqual([
      [0, 'cadence'],
      [7, 'requested'],
      [20, 'cadence'],
      [25, 'requested'],
      [31, 'final'],
    ]);
    const seventh = await readCheckpoint(join(o.runDir, summary.checkpoints[1].file), layout);
    expect(seventh.step).toBe(7);
    seventh.theta.forEach((x, i) => expect(x / ((1 - eta * a[i]) ** 7 * theta0[i])).toBeCloseTo(1, 5));

    const capped = await trainRun(options('capped', { stop: { kind: 'criterion', maxSteps: 30, loss: threshold } }));
    expect([capped.summary.stoppedBy, capped.summary.steps]).toEqual(['capped', 30]);
  });

  it('replays θ at any step from the nearest earlier checkpoint, bit for bit', async () => {
    // A drop at step 30, between the checkpoint and the target: the replay must use each step's own η.
    const plain = options('plain', { schedule: { kind: 'drop', etaHigh: eta, etaLow: 0.1, switchStep: 30 } });
    await trainRun(plain);
    const marked = options('marked', { schedule: plain.schedule, settings: { ...plain.settings, checkpointSteps: [37] } });
    const { summary } = await trainRun(marked);
    const original = await readCheckpoint(join(marked.runDir, summary.checkpoints.find((c) => c.step === 37)!.file), layout);

    const objective = quadratic(a);
    const replayed = await replayTo({ runDir: plain.runDir, layout, objective, step: 37 });
    expect(replayed.fromCheckpoint).toBe(20);
    expect(objective.gradientCalls).toBe(17);
    expect(Buffer.from(replayed.theta.buffer)).toEqual(Buffer.from(original.theta.buffer));
    // Replaying to a checkpointed step is that checkpoint.
    const atForty = await replayTo({ runDir: plain.runDir, layout, objective, step: 40 });
    expect(atForty.fromCheckpoint).toBe(40);
    await expect(replayTo({ runDir: plain.runDir, layout, objective, step: 61 })).rejects.toThrow(`${plain.runDir}: cannot replay to step 61: the run has steps 0…60`);
  });

  it('starts from a stored checkpoint on the trajectory of the run that wrote it', async () => {
    const full = options('full');
    await trainRun(full);
    const stored = await readCheckpoint(join(full.runDir, 'checkpoints', checkpointFileName(20)), layout);
    const branch = options('branch', { start: stored });
    const { summary } = await trainRun(branch);
    const [fullRows, branchRows] = [await metrics(full.runDir), await metrics(branch.runDir)];
    expect(branchRows.map((r) => r.step)).toEqual(Array.from({ length: 41 }, (_, i) => 20 + i));
    expect(branchRows.map((r) => [r.loss, r.grad_norm])).toEqual(fullRows.slice(20).map((r) => [r.loss, r.grad_norm]));
    expect(summary.checkpoints.map((c) => c.step)).toEqual([20, 40, 60]);
    const [a60, b60] = [await readCheckpoint(join(full.runDir, 'checkpoints', checkpointFileName(60)), layout), await readCheckpoint(join(branch.runDir, 'checkpoints', checkpointFileName(60)), layout)];
    expect(Array.from(b60.theta)).toEqual(Array.from(a60.theta));
  });
});

describe('trainRun resumes', () => {
  const cases = {
    'a quadratic with one power step per GD step': (name: string, o: Partial<TrainRunOptions> = {}) =>
      options(name, { settings: { ...options(name).settings, sharpnessEvery: 1, sharpnessMethod: 'power' }, ...o }),
    'a spiking loss with event checkpoints, interrupted mid-spike': (name: string, o: Partial<TrainRunOptions> = {}) =>
      options(name, {
        objective: counter([10, 9, 8, 7, 6, 5, 4.5, 4, 3.8, 6, 7, 5, 3.7, ...Array.from({ length: 48 }, (_, i) => 3.6 - 0.05 * i)]),
        layout: denseLayout(1, 1),
        theta0: Float32Array.of(0, 0),
        schedule: { kind: 'constant', eta: 1 },
        run: { slug: name, eta: 1, seed: 0 },
        settings: { testEvery: 10, sharpnessEvery: 5, sharpnessIterations: 2, checkpointEvery: 10, eventCheckpoints: { detector: { kind: 'relative', threshold: 0.1 }, maxCount: 3 }, divergenceFactor: 1e3 },
        ...o,
      }),
  };

  for (const [what, make] of Object.entries(cases)) {
    it(`after an interruption, to the records, checkpoints and run.json of an uninterrupted run: ${what}`, async () => {
      const whole = make('whole');
      await trainRun(whole);

      const cut = make('cut');
      await expect(trainRun({ ...cut, onEvent: interruptAt(1) })).rejects.toThrow('interrupted');
      const resumeFile = join(cut.resumeDir, RESUME_INDEX_FILE);
      const at = (JSON.parse(await readFile(resumeFile, 'utf8')) as { step: number }).step;
      expect(at).toBe(cut.settings.checkpointEvery);
      expect(existsSync(`${cut.resumeDir}.lock`)).toBe(false);
      expect(existsSync(cut.runDir)).toBe(false);

      const events: TrainRunEvent[] = [];
      const resumed = await trainRun({ ...cut, objective: make('x').objective, onEvent: (e) => void events.push(e) });
      expect(resumed.resumedFrom).toBe(at);
      expect(events[0]).toEqual({ kind: 'start', step: at, cap: 60, resumed: true, dir: cut.resumeDir });
      expect(await metrics(cut.runDir)).toEqual(await metrics(whole.runDir));
      const [w, c] = [await readRunSummary(whole.runDir), await readRunSummary(cut.runDir)];
      expect({ ...c, run: 'whole', seconds: 0 }).toEqual({ ...w, seconds: 0 });
      expect(await checkpointBytes(cut.runDir)).toEqual(await checkpointBytes(whole.runDir));
    });
  }

  it('says why it starts over when the resume point belongs to other inputs, and ends as a fresh run would', async () => {
    const cut = options('cut');
    await expect(trainRun({ ...cut, onEvent: interruptAt(2) })).rejects.toThrow('interrupted');
    await writeFile(join(cut.resumeDir, 'checkpoints', 'stray.safetensors'), 'x');
    const events: TrainRunEvent[] = [];
    const rerun = await trainRun({ ...cut, inputsHash: 'inputs-2', onEvent: (e) => void events.push(e) });
    expect(events[0]).toMatchObject({ kind: 'rejected', rejection: { kind: 'hash-mismatch' } });
    expect(events[0].kind === 'rejected' && events[0].rejection.message).toContain('written for inputs inputs-1, these are inputs-2');
    expect(events[1]).toMatchObject({ kind: 'start', step: 0, resumed: false });
    expect(rerun.resumedFrom).toBeNull();
    const whole = options('whole');
    await trainRun(whole);
    expect(await metrics(cut.runDir)).toEqual(await metrics(whole.runDir));
    expect(await checkpointBytes(cut.runDir)).toEqual(await checkpointBytes(whole.runDir));
  });

  it('refuses to train a run another live process holds, leaving its work alone', async () => {
    const o = options('held');
    await mkdir(o.resumeDir, { recursive: true });
    await writeFile(join(o.resumeDir, 'keep'), 'x');
    await writeFile(`${o.resumeDir}.lock`, String(process.ppid));
    await expect(trainRun(o)).rejects.toThrow(`${o.resumeDir}.lock: another process (pid ${process.ppid}) is training this run`);
    expect(existsSync(join(o.resumeDir, 'keep'))).toBe(true);
    expect(await readFile(`${o.resumeDir}.lock`, 'utf8')).toBe(String(process.ppid));
  });
});

describe('replicateInitSeed', () => {
  it('gives each replicate seed its own θ_0 seed and every run of one seed the same', () => {
    expect([replicateInitSeed(0, 0), replicateInitSeed(0, 1), replicateInitSeed(0, 3), replicateInitSeed(7, 2)]).toEqual([0, 1000, 3000, 2007]);
  });
});

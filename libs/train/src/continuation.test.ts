import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { continueFamily, eventWindows, planSwitchPoints, runContinuation, runSource, type ContinuationSource, type FamilyEvent } from './continuation';
import type { CheckpointEntry } from './gradient-descent';
import { denseLayout, quadratic, quadraticLossAt } from './testing/fixtures';
import { trainRun } from './train-run';

const entries = (list: [number, CheckpointEntry['reason']][]): CheckpointEntry[] => list.map(([step, reason]) => ({ step, reason }));

describe('eventWindows', () => {
  it('pairs each event-before with the event-after that follows it, and leaves an unmatched end null', () => {
    const checkpoints = entries([[0, 'cadence'], [40, 'event-after'], [30, 'event-before'], [100, 'cadence'], [120, 'event-before'], [150, 'event-before'], [170, 'event-after'], [300, 'event-before']]);
    expect(eventWindows(checkpoints)).toEqual([
      { index: 1, before: 30, after: 40 },
      { index: 2, before: 120, after: null },
      { index: 3, before: 150, after: 170 },
      { index: 4, before: 300, after: null },
    ]);
    // An event-after whose event-before fell on a cadence step (training keeps the first reason).
    expect(eventWindows(entries([[0, 'cadence'], [500, 'cadence'], [530, 'event-after']]))).toEqual([{ index: 1, before: null, after: 530 }]);
    expect(eventWindows(entries([[0, 'cadence'], [100, 'final']]))).toEqual([]);
  });
});

describe('planSwitchPoints', () => {
  // Instabilities at 10–16 (the start), 300–340, 400–420, 440–470, 600–610.
  const checkpoints = entries([
    [0, 'cadence'], [10, 'event-before'], [16, 'event-after'], [300, 'event-before'], [340, 'event-after'], [400, 'event-before'], [420, 'event-after'],
    [440, 'event-before'], [470, 'event-after'], [500, 'cadence'], [600, 'event-before'], [610, 'event-after'], [1000, 'final'],
  ]);

  it('pairs the first instabilities whose equal-length quiet window lies after the previous one and after minStep', () => {
    const plan = planSwitchPoints(checkpoints, { instabilities: 3, minStep: 100 });
    // 1: window [4, 10] starts before minStep; 2: [260, 300] ok; 3: [380, 400] ok; 4: [410, 440] overlaps 3 (ends 420); 5: [590, 600] ok.
    expect(plan.paired).toEqual([2, 3, 5]);
    expect(plan.skipped.map((s) => s.instability)).toEqual([1, 4]);
    expect(plan.skipped[0].reason).toMatch(/quiet window would start at step 4, before minSwitchStep 100/);
    expect(plan.skipped[1].reason).toMatch(/30-step quiet window would start at step 410, before the previous instability’s end at step 420/);
    expect(plan.points.map((p) => [p.kind, p.instability, p.step, p.instabilitiesBefore])).toEqual([
      ['quiet-start', 2, 260, 1], ['before-instability', 2, 300, 1], ['after-instability', 2, 340, 2],
      ['quiet-start', 3, 380, 2], ['before-instability', 3, 400, 2], ['after-instability', 3, 420, 3],
      ['quiet-start', 5, 590, 4], ['before-instability', 5, 600, 4], ['after-instability', 5, 610, 5],
    ]);
  });

  it('stops at the number asked for, and with minStep 0 a window may start at step 0', () => {
    const plan = planSwitchPoints(checkpoints, { instabilities: 1, minStep: 0 });
    expect(plan.paired).toEqual([1]);
    expect(plan.points.map((p) => p.step)).toEqual([4, 10, 16]);
    expect(planSwitchPoints(entries([[0, 'cadence'], [6, 'event-before'], [20, 'event-after']]), { instabilities: 1, minStep: 0 }).paired).toEqual([]);
  });

  it('skips a window with a missing end and one after it (its quiet window cannot be shown quiet)', () => {
    const plan = planSwitchPoints(entries([[0, 'cadence'], [200, 'event-before'], [300, 'event-before'], [310, 'event-after'], [500, 'event-before'], [520, 'event-after']]), { instabilities: 2, minStep: 0 });
    expect(plan.windows.map((w) => [w.before, w.after])).toEqual([[200, null], [300, 310], [500, 520]]);
    expect(plan.paired).toEqual([3]);
    expect(plan.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/never recovered/), expect.stringMatching(/end of the previous instability is unknown/)]);
    expect(planSwitchPoints(entries([[0, 'cadence'], [100, 'final']]), { instabilities: 2, minStep: 0 })).toMatchObject({ paired: [], points: [], skipped: [] });
  });
});

// L(θ) = ½ Σ a_i θ_i²: λmax = 3.7, GD at η contracts coordinate i by (1 − ηa_i) per step.
const a = [3.7, 1.3, 0.21];
const theta0 = [1, -0.5, 2];
const settings = { etaLow: 0.1, matchedLoss: 0.05, maxSteps: 400, sharpnessEvery: 10, sharpnessIterations: 3, divergenceFactor: 1e3 };
/** The first t with the closed-form loss at or below `level`. */
const firstBelow = (level: number, eta: number) => {
  let t = 0;
  while (quadraticLossAt(a, theta0, eta, t) > level) t++;
  return t;
};

describe('runContinuation', () => {
  it('runs GD at η_lo until the loss first reaches L*, with λmax there by Lanczos and steps counted from the drop', async () => {
    const expected = firstBelow(0.05, 0.1);
    expect(expected).toBeGreaterThan(20);
    const outcome = await runContinuation({ objective: quadratic(a), testObjective: quadratic([1, 1, 1]), theta: Float32Array.from(theta0), step: 700, settings });
    expect(outcome.status).toBe('converged');
    expect(outcome.steps).toBe(expected);
    expect(outcome.matched!.step).toBe(700 + expected);
    expect(outcome.matched!.sharpness).toBeCloseTo(3.7, 6);
    expect(outcome.sharpnessConverged).toBe(outcome.matched!.sharpness);
    expect(outcome.maxSharpness).toBeCloseTo(3.7, 6);
    expect(outcome.lossAtSwitch).toBeCloseTo(quadraticLossAt(a, theta0, 0.1, 0), 6);
    // The test objective ½‖θ‖² at L*: θ_t = (1 − ηa_i)^t θ_0.
    const testLoss = theta0.reduce((s, x, i) => s + 0.5 * ((1 - 0.1 * a[i]) ** expected * x) ** 2, 0);
    expect(outcome.matched!.testLoss!).toBeCloseTo(testLoss, 5);
  });

  it('goes on past L* to a convergence criterion, and is capped (no λ at L*) when the cap comes first', async () => {
    const toMatched = firstBelow(0.05, 0.1);
    const toConverged = firstBelow(0.01, 0.1);
    const onward = await runContinuation({ objective: quadratic(a), theta: Float32Array.from(theta0), step: 0, settings: { ...settings, convergence: { loss: 0.01 } } });
    expect(onward).toMatchObject({ status: 'converged', steps: toConverged, matched: { step: toMatched } });
    expect(onward.sharpnessConverged).toBeCloseTo(3.7, 6);

    const capped = await runContinuation({ objective: quadratic(a), theta: Float32Array.from(theta0), step: 0, settings: { ...settings, maxSteps: toMatched - 1 } });
    expect(capped).toMatchObject({ status: 'capped', steps: toMatched - 1, matched: null, sharpnessConverged: null });
    const cappedOnward = await runContinuation({ objective: quadratic(a), theta: Float32Array.from(theta0), step: 0, settings: { ...settings, maxSteps: toMatched + 2, convergence: { loss: 0.01 } } });
    expect(cappedOnward).toMatchObject({ status: 'capped', steps: toMatched + 2, matched: { step: toMatched }, sharpnessConverged: null });
  });

  it('records a divergence at η_lo > 2/λmax as diverged, with no λ at L*', async () => {
    const outcome = await runContinuation({ objective: quadratic(a), theta: Float32Array.from(theta0), step: 0, settings: { ...settings, etaLow: 0.6 } });
    expect(outcome.status).toBe('diverged');
    expect(outcome.matched).toBeNull();
    expect(outcome.finalLoss === null || outcome.finalLoss > 1e3 * outcome.lossAtSwitch).toBe(true);
  });

  it('counts an L* already met at the switch as reached in 0 steps', async () => {
    const outcome = await runContinuation({ objective: quadratic(a), theta: Float32Array.from(theta0), step: 5, settings: { ...settings, matchedLoss: 100 } });
    expect(outcome).toMatchObject({ status: 'converged', steps: 0, matched: { step: 5 } });
  });
});

let root: string;
beforeEach(async () => void (root = await mkdtemp(join(tmpdir(), 'lrscape-continuation-'))));
afterEach(() => rm(root, { recursive: true, force: true }));

describe('runSource', () => {
  it('replays θ at any step of a stored run bit for bit, going on from the last replay when nearer', async () => {
    const layout = denseLayout(1, 2);
    const objective = quadratic([3.7, 1.3, 0.21, 0.05]);
    const run = (name: string, steps: number) =>
      trainRun({
        resumeDir: join(root, 'resume', name),
        runDir: join(root, 'runs', name),
        objective,
        layout,
        theta0: Float32Array.of(1, -0.5, 2, 0.3),
        schedule: { kind: 'constant', eta: 0.25 },
        stop: { kind: 'steps', steps },
        settings: { testEvery: 10, sharpnessEvery: 5, sharpnessIterations: 4, checkpointEvery: 20, eventCheckpoints: null, divergenceFactor: 1e3 },
        inputsHash: 'h',
        run: { slug: name, eta: 0.25, seed: 0 },
        provenance: { backend: 'cpu', spec: { inputDim: 1, hidden: [], outputDim: 2, activation: 'linear', loss: 'mse' }, configSlice: {}, tableMetadata: { experiment: 't', code_version: 't', backend: 'cpu' } },
      });
    const full = await run('long', 60);
    const short = await run('at-33', 33);
    const source = runSource(join(root, 'runs', 'long'), full.summary, layout, objective);
    const calls = () => objective.gradientCalls;
    const before = calls();
    const at25 = await source.thetaAt(25);
    expect(at25.replayed).toBe(5);
    const at33 = await source.thetaAt(33);
    expect(at33.replayed).toBe(13);
    expect(calls() - before).toBe(5 + 8); // 25 → 33 goes on from the replay at 25
    expect([...at33.theta]).toEqual([...short.finalTheta]);
    expect((await source.thetaAt(40)).replayed).toBe(0);
    await expect(source.thetaAt(61)).rejects.toThrow(/no step 61/);
  });
});

describe('continueFamily', () => {
  const source = (slug: string, checkpoints: CheckpointEntry[], extra: Partial<ContinuationSource> = {}): ContinuationSource => ({
    slug,
    eta: 0.2,
    diverged: false,
    divergedAt: null,
    steps: 1000,
    checkpoints,
    async thetaAt() {
      return { theta: Float32Array.from(theta0), replayed: 3 };
    },
    ...extra,
  });
  const parentCheckpoints = entries([[0, 'cadence'], [300, 'event-before'], [340, 'event-after'], [600, 'event-before'], [610, 'event-after'], [1000, 'final']]);
  const where = { file: 'pipelines/x/experiment.json', field: 'dropFamilies.0' };

  it('runs each paired switch point from the parent and, at the same step, from the control; a diverged parent gives a reason naming the field', async () => {
    const events: FamilyEvent[] = [];
    const record = await continueFamily({
      family: 'main',
      where,
      seeds: [
        { seed: 0, parent: source('eta-0.2', parentCheckpoints), control: source('eta-0.02', entries([[0, 'cadence'], [1000, 'final']])) },
        { seed: 1, parent: source('eta-0.2-s1', entries([[0, 'cadence'], [9, 'final']]), { diverged: true, divergedAt: 9, steps: 9 }), control: source('eta-0.02-s1', []) },
      ],
      plan: { instabilities: 2, minStep: 100 },
      settings,
      objective: quadratic(a),
      onEvent: (e) => events.push(e),
    });
    expect(record.seeds.map((s) => [s.seed, s.status, s.paired, s.parentInstabilities, s.controlInstabilities])).toEqual([
      [0, 'ok', [1, 2], 2, 0],
      [1, 'parent-diverged', [], 0, 0],
    ]);
    expect(record.seeds[1].reason).toBe('pipelines/x/experiment.json: field `dropFamilies.0.parentEta`: the parent run eta-0.2-s1 diverged at step 9; no continuations from seed 1');
    expect(record.continuations.map((c) => [c.role, c.kind, c.step, c.instabilitiesBefore])).toEqual([
      ['unstable', 'quiet-start', 260, 0], ['control', 'quiet-start', 260, 0],
      ['unstable', 'before-instability', 300, 0], ['control', 'before-instability', 300, 0],
      ['unstable', 'after-instability', 340, 1], ['control', 'after-instability', 340, 0],
      ['unstable', 'quiet-start', 590, 1], ['control', 'quiet-start', 590, 0],
      ['unstable', 'before-instability', 600, 1], ['control', 'before-instability', 600, 0],
      ['unstable', 'after-instability', 610, 2], ['control', 'after-instability', 610, 0],
    ]);
    expect(new Set(record.continuations.map((c) => c.id)).size).toBe(12);
    expect(record.continuations[0]).toMatchObject({ id: 'u-s0-i1-quiet-start-t260', source: 'eta-0.2', replayed: 3, status: 'converged', steps: firstBelow(0.05, 0.1) });
    // Progress: i of n, with the step and an ETA once a step is done.
    expect(events.filter((e) => e.kind === 'start').map((e) => (e.kind === 'start' ? `${e.index}/${e.total}` : ''))).toEqual(Array.from({ length: 12 }, (_, i) => `${i + 1}/12`));
    const progress = events.find((e) => e.kind === 'progress' && e.progress.done > 0);
    expect(progress && progress.kind === 'progress' && progress.etaSeconds).not.toBeNull();
  });

  it('says so when the parent has too few instabilities, and still runs the ones it has', async () => {
    const record = await continueFamily({
      family: 'main',
      where,
      seeds: [{ seed: 0, parent: source('p', entries([[0, 'cadence'], [300, 'event-before'], [340, 'event-after']])), control: source('c', []) }],
      plan: { instabilities: 2, minStep: 100 },
      settings,
      objective: quadratic(a),
    });
    expect(record.seeds[0]).toMatchObject({ status: 'too-few-instabilities', paired: [1] });
    expect(record.seeds[0].reason).toMatch(/field `dropFamilies\.0\.instabilities`: the parent run p has 1 instabilities, 1 of them paired with a quiet window, 2 asked for/);
    expect(record.continuations).toHaveLength(6);
  });
});

import { describe, expect, it } from 'vitest';
import { startState, trainFullBatchGD, type ResumeState, type TrainableObjective, type TrainOptions } from './gradient-descent';
import { stopRuleSchema } from './stop-rule';
import { counter, quadratic, quadraticLossAt, scripted } from './testing/fixtures';

const base = (objective: TrainableObjective, eta: number, steps: number): TrainOptions => ({
  objective,
  theta0: new Float32Array(objective.layout.size).fill(1),
  schedule: { kind: 'constant', eta },
  stop: { kind: 'steps', steps },
  testEvery: 10,
  sharpnessEvery: 5,
  sharpnessIterations: 10,
  checkpointEvery: 20,
  eventCheckpoints: null,
  divergenceFactor: 1e3,
});

// Decays, spikes at steps 10–12, recovers below the pre-spike level at step 15.
const SPIKE_LOSSES = [10, 9, 8, 7, 6, 5, 4, 3.5, 3, 2.8, 2.7, 5, 6, 4, 3, 2.6, 2.5, 2.4, 2.3, 2.2, 2.1];

describe('trainFullBatchGD', () => {
  it('follows θ_{t+1} = (1 − ηa) θ_t on a quadratic and tracks λmax', async () => {
    const a = [4, 1, 0.5, 0.25];
    const eta = 0.3;
    const result = await trainFullBatchGD(base(quadratic(a), eta, 50));
    expect(result.diverged).toBe(false);
    expect(result.stoppedBy).toBe('steps');
    expect(result.records).toHaveLength(51);
    result.records.forEach((r) => {
      expect(r.loss).toBeCloseTo(quadraticLossAt(a, [1, 1, 1, 1], eta, r.step), 5);
      if (r.step % 5 === 0) expect(r.sharpness).toBeCloseTo(4, 6);
      else expect(r.sharpness).toBeNull();
    });
    expect(result.checkpoints).toEqual([
      { step: 0, reason: 'cadence' },
      { step: 20, reason: 'cadence' },
      { step: 40, reason: 'cadence' },
      { step: 50, reason: 'final' },
    ]);
  });

  it('records a run past 2/λmax as diverged instead of throwing', async () => {
    const result = await trainFullBatchGD(base(quadratic([4, 1]), 0.6, 500)); // 2/λmax = 0.5
    expect(result.diverged).toBe(true);
    expect(result.stoppedBy).toBe('diverged');
    // |1 − ηλ| = 1.4 per step: the λ = 4 part of the loss grows 1.96× a step, passing 1000× the start within ~11 steps.
    expect(result.divergedAt!).toBeGreaterThan(8);
    expect(result.divergedAt!).toBeLessThan(15);
    expect(result.records.at(-1)!.loss).toBeGreaterThan(1e3 * result.records[0].loss);
    expect(result.checkpoints.map((c) => c.reason)).not.toContain('final');
  });

  it('resumes from a resume point to exactly the records, checkpoints and θ of an uninterrupted run', async () => {
    const objective = quadratic([3, 1, 0.2]);
    const options = { ...base(objective, 0.2, 60), sharpnessMethod: 'power' as const };
    const states: ResumeState[] = [];
    const full = await trainFullBatchGD({ ...options, onResumePoint: (s) => void states.push(s) });
    expect(states.map((s) => s.step)).toEqual([20, 40]);
    const midway = states[1];
    expect(midway.records.map((r) => r.step)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const resumed = await trainFullBatchGD({ ...options, resume: midway });
    expect(resumed.records).toEqual(full.records); // sharpness included: the warm start is the one step 40 saw
    expect(resumed.checkpoints).toEqual(full.checkpoints);
    expect(resumed.sharpnessHvps).toBe(full.sharpnessHvps);
    expect(Array.from(resumed.finalTheta)).toEqual(Array.from(full.finalTheta));
  });

  it('saves event checkpoints at the minimum before each loss spike and when the loss is back under it', async () => {
    const saved: [number, string][] = [];
    const result = await trainFullBatchGD({
      ...base(scripted(SPIKE_LOSSES), 0.1, 20),
      checkpointEvery: 100,
      eventCheckpoints: { detector: { kind: 'relative', threshold: 0.1 }, maxCount: 5 },
      onCheckpoint: (step, _theta, reason) => void saved.push([step, reason]),
    });
    expect(saved).toEqual([
      [0, 'cadence'],
      [10, 'event-before'],
      [15, 'event-after'],
      [20, 'final'],
    ]);
    expect(result.checkpoints).toHaveLength(4);
  });

  it('light checkpoints: θ at the listed steps; an event-before found later at a light step takes it over (same θ)', async () => {
    // The spike of SPIKE_LOSSES: the minimum before it is step 10, which is also a light step.
    const saved: [number, string][] = [];
    const result = await trainFullBatchGD({
      ...base(scripted(SPIKE_LOSSES), 0.1, 20),
      checkpointEvery: 100,
      lightCheckpointSteps: [5, 10, 16, 20, 25],
      eventCheckpoints: { detector: { kind: 'relative', threshold: 0.1 }, maxCount: 5 },
      onCheckpoint: (step, _theta, reason) => void saved.push([step, reason]),
    });
    expect(result.checkpoints).toEqual([
      { step: 0, reason: 'cadence' },
      { step: 5, reason: 'light' },
      { step: 10, reason: 'event-before' },
      { step: 15, reason: 'event-after' },
      { step: 16, reason: 'light' },
      { step: 20, reason: 'final' },
    ]);
    // Step 10 was written as light, then rewritten as the event (the file's metadata says event-before).
    expect(saved.filter(([step]) => step === 10)).toEqual([[10, 'light'], [10, 'event-before']]);
  });

  it('the absolute detector counts a rise in loss units: a large relative rise on a tiny loss is no event, a 0.2 rise is', async () => {
    // 1e-3 → 3e-3 is +200% (relative 0.1 would fire at step 5) but only +0.002 in loss units; 0.9 → 1.2 at steps 11–12 is +0.3.
    const losses = [2, 1.5, 1, 0.5, 1e-3, 3e-3, 9e-4, 0.9, 0.85, 0.8, 0.9, 1.1, 1.2, 0.7, 0.6, 0.5];
    const run = async (detector: { kind: 'relative' | 'absolute'; threshold: number }) => {
      const saved: [number, string][] = [];
      await trainFullBatchGD({
        ...base(counter(losses), 1, losses.length - 1),
        theta0: Float32Array.of(0, 0),
        checkpointEvery: 100,
        eventCheckpoints: { detector, maxCount: 5 },
        onCheckpoint: (step, _theta, reason) => void saved.push([step, reason]),
      });
      return saved.filter(([, reason]) => reason.startsWith('event'));
    };
    // Absolute 0.2: the running minimum is 9e-4 from step 6, so 0.9 at step 7 is already a rise (+0.899); the loss
    // never gets back under 9e-4, so the event never ends and the bump at 11–12 is inside it.
    expect(await run({ kind: 'absolute', threshold: 0.2 })).toEqual([[6, 'event-before']]);
    // Relative 0.1 fires at step 5 (3e-3 > 1e-3·1.1) and ends at step 6 (9e-4 ≤ 1e-3); it fires again at step 7,
    // whose pre-rise minimum is step 6, already saved (one checkpoint per step).
    expect(await run({ kind: 'relative', threshold: 0.1 })).toEqual([
      [4, 'event-before'],
      [6, 'event-after'],
    ]);
    // Absolute 1.5: no rise of 1.5 loss units anywhere (the largest is 1.2 − 9e-4).
    expect(await run({ kind: 'absolute', threshold: 1.5 })).toEqual([]);
  });

  it('restores the event detector on resume: the same event checkpoints from every resume point', async () => {
    // Spikes at 9–11 (in progress at the resume point of step 10) and at 22–24; maxCount 2 stops a third at 33.
    const losses = [10, 9, 8, 7, 6, 5, 4.5, 4, 3.8, 6, 7, 5, 3.7, 3.6, 3.5, 3.4, 3.3, 3.2, 3.1, 3, 2.9, 2.8, 4, 4.5, 3, 2.7, 2.6, 2.5, 2.4, 2.3, 2.2, 2.1, 2, 3, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3];
    const options: TrainOptions = {
      ...base(counter(losses), 1, 40),
      theta0: Float32Array.of(0, 0),
      checkpointEvery: 10,
      eventCheckpoints: { detector: { kind: 'relative', threshold: 0.1 }, maxCount: 2 },
    };
    const states: ResumeState[] = [];
    const full = await trainFullBatchGD({ ...options, onResumePoint: (s) => void states.push(s) });
    expect(full.records.map((r) => r.loss)).toEqual(losses);
    expect(full.checkpoints).toEqual([
      { step: 0, reason: 'cadence' },
      { step: 8, reason: 'event-before' },
      { step: 10, reason: 'cadence' },
      { step: 12, reason: 'event-after' },
      { step: 20, reason: 'cadence' },
      { step: 21, reason: 'event-before' },
      { step: 25, reason: 'event-after' },
      { step: 30, reason: 'cadence' },
      { step: 40, reason: 'final' },
    ]);
    expect(states.map((s) => [s.step, s.events.inEvent, s.events.count])).toEqual([
      [10, true, 1],
      [20, false, 1],
      [30, false, 2],
    ]);
    for (const state of states) {
      const resumed = await trainFullBatchGD({ ...options, resume: state });
      expect(resumed.checkpoints).toEqual(full.checkpoints);
      expect(resumed.records).toEqual(full.records);
    }
  });

  it('starts from a stored θ and step (startState) on the trajectory of the run that stored it', async () => {
    const a = [3, 1, 0.2];
    const thetas = new Map<number, Float32Array>();
    const full = await trainFullBatchGD({ ...base(quadratic(a), 0.2, 60), onCheckpoint: (step, theta) => void thetas.set(step, theta) });
    const started = await trainFullBatchGD({ ...base(quadratic(a), 0.2, 60), resume: startState(thetas.get(20)!, 20) });
    expect(started.records.map((r) => r.step)).toEqual(Array.from({ length: 41 }, (_, i) => 20 + i));
    expect(started.records.map((r) => r.loss)).toEqual(full.records.slice(20).map((r) => r.loss));
    expect(Array.from(started.finalTheta)).toEqual(Array.from(full.finalTheta));
    expect(started.checkpoints.map((c) => c.step)).toEqual([20, 40, 60]);
  });
});

describe('stop rules', () => {
  // a = 1, η = 1/2: θ_t = 2^−t exactly in float32, L_t = ½·4^−t, ‖∇L‖ = 2^−t.
  const halving = (stop: TrainOptions['stop']) => trainFullBatchGD({ ...base(quadratic([1]), 0.5, 0), stop });

  it('stops at the first step whose loss meets the criterion: converged', async () => {
    // ½·4^−t ≤ 1e-6 ⇔ t ≥ log₄(5·10⁵) ≈ 9.47.
    const result = await halving({ kind: 'criterion', maxSteps: 100, loss: 1e-6 });
    expect(result.stoppedBy).toBe('converged');
    expect(result.records.at(-1)!.step).toBe(10);
    expect(result.records.at(-1)!.loss).toBe(0.5 * 4 ** -10);
    expect(result.records.at(-1)!.sharpness).toBeCloseTo(1, 9); // the stopping step gets a sharpness estimate
    expect(result.checkpoints.at(-1)).toEqual({ step: 10, reason: 'final' });
    expect(Array.from(result.finalTheta)).toEqual([2 ** -10]);
  });

  it('stops at the gradient-norm criterion: 2^−t ≤ 0.01 first at t = 7', async () => {
    const result = await halving({ kind: 'criterion', maxSteps: 100, gradNorm: 0.01 });
    expect([result.stoppedBy, result.records.at(-1)!.step, result.records.at(-1)!.gradNorm]).toEqual(['converged', 7, 2 ** -7]);
  });

  it('records capped when the criterion is not met by maxSteps', async () => {
    const result = await halving({ kind: 'criterion', maxSteps: 5, loss: 1e-6 });
    expect(result.stoppedBy).toBe('capped');
    expect(result.records.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops at step 0 when θ_0 already meets the criterion', async () => {
    const result = await halving({ kind: 'criterion', maxSteps: 5, loss: 0.5 });
    expect([result.stoppedBy, result.records.length]).toEqual(['converged', 1]);
  });

  it('schema: a criterion needs a threshold; steps are integers', () => {
    expect(stopRuleSchema.safeParse({ kind: 'criterion', maxSteps: 10 }).error?.issues[0].message).toBe('a criterion needs `loss` or `gradNorm`');
    expect(stopRuleSchema.safeParse({ kind: 'steps', steps: 2.5 }).success).toBe(false);
    expect(stopRuleSchema.parse({ kind: 'criterion', maxSteps: 10, gradNorm: 1e-4 })).toEqual({ kind: 'criterion', maxSteps: 10, gradNorm: 1e-4 });
  });
});

describe('explicit checkpoint steps', () => {
  it('checkpoints the listed steps with their θ, besides cadence and final; steps past the stop are skipped', async () => {
    const saved = new Map<number, [string, number]>();
    const result = await trainFullBatchGD({
      ...base(quadratic([1]), 0.5, 50),
      checkpointSteps: [7, 3, 20, 55],
      onCheckpoint: (step, theta, reason) => void saved.set(step, [reason, theta[0]]),
    });
    expect(result.checkpoints).toEqual([
      { step: 0, reason: 'cadence' },
      { step: 3, reason: 'requested' },
      { step: 7, reason: 'requested' },
      { step: 20, reason: 'cadence' },
      { step: 40, reason: 'cadence' },
      { step: 50, reason: 'final' },
    ]);
    expect(saved.get(3)).toEqual(['requested', 0.125]);
    expect(saved.get(7)).toEqual(['requested', 2 ** -7]);
  });
});

describe('sharpness tracking by one power step per GD step', () => {
  it('converges to λmax on a quadratic with exactly one HVP per step after the first estimate', async () => {
    const objective = quadratic([4, 3, 1, 0.5]);
    const result = await trainFullBatchGD({ ...base(objective, 0.1, 40), sharpnessEvery: 1, sharpnessIterations: 2, sharpnessMethod: 'power' });
    const first = result.records[0].sharpness!;
    expect(first).toBeLessThan(4); // two Lanczos steps from a random start: not yet converged
    expect(result.records.at(-1)!.sharpness).toBeCloseTo(4, 4); // (3/4)^(2·40) ≈ 1e-10 of the way left
    expect(result.sharpnessHvps).toBe(2 + 40);
  });

  it('checks the power estimate against warm Lanczos every sharpnessCheckEvery steps without changing the power trace', async () => {
    const objective = quadratic([4, 3, 1, 0.5]);
    const options = { ...base(objective, 0.1, 20), sharpnessEvery: 1, sharpnessIterations: 2, sharpnessMethod: 'power' as const };
    const plain = await trainFullBatchGD(options);
    const checked = await trainFullBatchGD({ ...options, sharpnessCheckEvery: 5 });
    expect(checked.records.map((r) => r.sharpness)).toEqual(plain.records.map((r) => r.sharpness));
    expect(plain.records.every((r) => r.sharpnessCheck === null)).toBe(true);
    // Step 0 is a Lanczos estimate itself (no power vector yet): no check there.
    const checks = checked.records.filter((r) => r.sharpnessCheck !== null);
    expect(checks.map((r) => r.step)).toEqual([5, 10, 15, 20]);
    for (const r of checks) {
      // The power value is the Rayleigh quotient of the previous vector, still turning towards u₁: it lags λmax = 4.
      // Lanczos from the stepped vector maximises the quotient over a Krylov space holding it: closer, never above.
      expect(r.sharpness!).toBeLessThan(r.sharpnessCheck!);
      expect(r.sharpnessCheck!).toBeLessThanOrEqual(4 + 1e-12);
    }
    expect(4 - checks[0].sharpness!).toBeGreaterThan(1e-6); // the lag is there to be measured
    // Each check spends 1–2 HVPs (sharpnessIterations = 2; it stops early once converged).
    expect(checked.sharpnessHvps - plain.sharpnessHvps).toBeGreaterThanOrEqual(4);
    expect(checked.sharpnessHvps - plain.sharpnessHvps).toBeLessThanOrEqual(8);
  });

  it('takes the curvature from the fused gradient pass when the objective offers one', async () => {
    const plain = quadratic([2, 1]);
    let separate = 0;
    let fused = 0;
    const objective: TrainableObjective = {
      ...plain,
      lossAndGradient: (theta) => plain.lossAndGradient(theta),
      curvatureAt: async (theta) => {
        separate++;
        return plain.curvatureAt(theta);
      },
      lossGradientAndCurvature: async (theta) => {
        fused++;
        return { ...(await plain.lossAndGradient(theta)), curvature: await plain.curvatureAt(theta) };
      },
    };
    const result = await trainFullBatchGD({ ...base(objective, 0.1, 20), sharpnessEvery: 5 });
    expect(fused).toBe(5); // steps 0, 5, 10, 15, 20
    expect(separate).toBe(0);
    expect(result.records.filter((r) => r.sharpness !== null).map((r) => r.sharpness)).toEqual(Array(5).fill(expect.closeTo(2, 6)));
  });
});

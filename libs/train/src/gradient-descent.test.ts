import { describe, expect, it } from 'vitest';
import { trainFullBatchGD, type ResumeState, type TrainableObjective, type TrainOptions } from './gradient-descent';

/** L(θ) = ½ Σ a_i θ_i²: Hessian diag(a), λmax = max a, GD stable iff η < 2/λmax. */
function quadratic(a: number[]): TrainableObjective {
  return {
    layout: { size: a.length },
    async lossAndGradient(theta) {
      let loss = 0;
      const gradient = new Float32Array(a.length);
      a.forEach((ai, i) => {
        loss += 0.5 * ai * theta[i] * theta[i];
        gradient[i] = ai * theta[i];
      });
      return { loss, accuracy: null, gradient };
    },
    async evaluate(theta) {
      return { loss: a.reduce((s, ai, i) => s + 0.5 * ai * theta[i] * theta[i], 0), accuracy: null };
    },
    async curvatureAt() {
      return { hvp: async (v: Float64Array) => v.map((vi, i) => a[i] * vi), dispose() {} };
    },
  };
}

const base = (objective: TrainableObjective, eta: number, steps: number): TrainOptions => ({
  objective,
  theta0: new Float32Array(objective.layout.size).fill(1),
  schedule: { kind: 'constant', eta },
  steps,
  testEvery: 10,
  sharpnessEvery: 5,
  sharpnessIterations: 10,
  checkpointEvery: 20,
  eventCheckpoints: null,
  divergenceFactor: 1e3,
});

describe('trainFullBatchGD', () => {
  it('follows θ_{t+1} = (1 − ηa) θ_t exactly on a quadratic and tracks λmax', async () => {
    const a = [4, 1, 0.5, 0.25];
    const eta = 0.3;
    const result = await trainFullBatchGD(base(quadratic(a), eta, 50));
    expect(result.diverged).toBe(false);
    expect(result.records).toHaveLength(51);
    result.records.forEach((r) => {
      const expected = a.reduce((s, ai) => s + 0.5 * ai * Math.pow(1 - eta * ai, 2 * r.step), 0);
      expect(r.loss).toBeCloseTo(expected, 5);
      if (r.step % 5 === 0) expect(r.sharpness).toBeCloseTo(4, 6);
      else expect(r.sharpness).toBeNull();
    });
    expect(result.checkpoints.map((c) => c.step)).toEqual([0, 20, 40, 50]);
    expect(result.checkpoints.at(-1)?.reason).toBe('final');
  });

  it('records a run past 2/λmax as diverged instead of throwing', async () => {
    const result = await trainFullBatchGD(base(quadratic([4, 1]), 0.6, 500)); // 2/λmax = 0.5
    expect(result.diverged).toBe(true);
    expect(result.divergedAt).not.toBeNull();
    // |1 − ηλ| = 1.4 per step: loss grows 1.96× a step, so it passes 1000× the start within ~11 steps.
    expect(result.divergedAt!).toBeGreaterThan(8);
    expect(result.divergedAt!).toBeLessThan(15);
    expect(result.records.at(-1)!.loss).toBeGreaterThan(1e3 * result.records[0].loss);
  });

  it('resumes from a saved state to the same trajectory as an uninterrupted run', async () => {
    const objective = quadratic([3, 1, 0.2]);
    const full = await trainFullBatchGD(base(objective, 0.2, 60));
    const states: ResumeState[] = [];
    await trainFullBatchGD({ ...base(objective, 0.2, 60), onResumePoint: (s) => void states.push(s) });
    const midway = states.find((s) => s.step === 40)!;
    const resumed = await trainFullBatchGD({ ...base(objective, 0.2, 60), resume: midway });
    expect(resumed.records.map((r) => r.step)).toEqual(full.records.map((r) => r.step));
    expect(resumed.records.map((r) => r.loss)).toEqual(full.records.map((r) => r.loss));
    expect(Array.from(resumed.finalTheta)).toEqual(Array.from(full.finalTheta));
  });

  it('saves event checkpoints at the minimum before each loss spike and when the loss is back under it', async () => {
    // Scripted loss: decays, spikes at steps 10–12, recovers below the pre-spike level at step 15.
    const losses = [10, 9, 8, 7, 6, 5, 4, 3.5, 3, 2.8, 2.7, 5, 6, 4, 3, 2.6, 2.5, 2.4, 2.3, 2.2, 2.1];
    let calls = 0;
    const scripted: TrainableObjective = {
      layout: { size: 1 },
      async lossAndGradient() {
        return { loss: losses[calls++], accuracy: null, gradient: new Float32Array(1) };
      },
      async evaluate() {
        return { loss: 0, accuracy: null };
      },
      async curvatureAt() {
        return { hvp: async (v: Float64Array) => v, dispose() {} };
      },
    };
    const saved: [number, string][] = [];
    const result = await trainFullBatchGD({
      ...base(scripted, 0.1, 20),
      checkpointEvery: 100,
      eventCheckpoints: { prominence: 0.1, maxCount: 5 },
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

  it('takes the curvature from the fused gradient pass when the objective offers one', async () => {
    const plain = quadratic([2, 1]);
    let separate = 0;
    let fused = 0;
    const objective: TrainableObjective = {
      ...plain,
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

/**
 * The objective split over worker threads (option workers) against the single-threaded one: the same sums up
 * to float32 summation order (each shard sums its rows, the shards are added in float64); on both kernel paths,
 * the workers taking this thread's (testing/kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { lastLayersScope, modelLayout, type CnnSpec, type MlpSpec, type ModelSpec } from './layout';
import { ModelObjective, resolveWorkers } from './objective';
import { randomTheta, randomVector, relError, tinyBatch } from './testing/fixtures';
import { describeOnKernels } from './testing/kernels';

beforeAll(async () => {
  await selectBackend('wasm');
});

const mlp: MlpSpec = { inputDim: 5, hidden: [7, 4], outputDim: 3, activation: 'tanh', loss: 'cross_entropy' };
const cnn: CnnSpec = { kind: 'cnn', inputShape: [6, 6, 1], conv: [{ filters: 2, kernelSize: 3 }], pool: 'avg', dense: [5], outputDim: 2, activation: 'relu', loss: 'mse' };

describeOnKernels('the objective over worker threads', () => describe.each([
  { name: 'MLP', spec: mlp as ModelSpec, workers: 2 },
  { name: 'CNN', spec: cnn as ModelSpec, workers: 3 },
])('$name over $workers threads', ({ spec, workers }) => {
  const batch = tinyBatch(spec, 23, 81);
  const theta = randomTheta(spec, 6);
  const P = modelLayout(spec).size;
  let single: ModelObjective;
  let pooled: ModelObjective;

  beforeAll(() => {
    single = new ModelObjective(spec, batch, { chunkSize: 5 });
    pooled = new ModelObjective(spec, batch, { chunkSize: 5, workers });
  });
  afterAll(() => {
    single.dispose();
    pooled.dispose();
  });

  it('splits the rows over the threads', () => {
    expect(single.workers).toBe(1);
    expect(pooled.workers).toBe(workers);
  });

  it('gives the same loss, accuracy, gradient and outputs', async () => {
    const [a, b] = [await single.lossAndGradient(theta.f32), await pooled.lossAndGradient(theta.f32)];
    expect(b.loss).toBeCloseTo(a.loss, 6);
    expect(b.accuracy).toBe(a.accuracy);
    expect(relError(b.gradient, a.gradient)).toBeLessThan(1e-6);
    expect(await pooled.evaluate(theta.f32)).toEqual({ loss: expect.closeTo(a.loss, 6), accuracy: a.accuracy });
    expect(relError(await pooled.outputs(theta.f32), await single.outputs(theta.f32))).toBeLessThan(1e-6);
    const x = batch.x.subarray(0, 7 * (batch.x.length / batch.n));
    expect(relError(await pooled.outputs(theta.f32, x), await single.outputs(theta.f32, x))).toBeLessThan(1e-6);
  });

  it('gives the same HVPs, block HVPs and fused gradient + curvature', async () => {
    const [ca, cb] = [await single.curvatureAt(theta.f32), await pooled.curvatureAt(theta.f32)];
    const fused = await pooled.lossGradientAndCurvature(theta.f32);
    const v = randomVector(P, 2);
    const hv = await ca.hvp(v);
    expect(relError(await cb.hvp(v), hv)).toBeLessThan(1e-6);
    expect(await fused.curvature.hvp(v)).toEqual(await cb.hvp(v));
    expect(fused.gradient).toEqual((await pooled.lossAndGradient(theta.f32)).gradient);
    const scope = lastLayersScope(modelLayout(spec), 2);
    const w = randomVector(scope.size, 3);
    expect(relError(await cb.operator(scope)(w), await ca.operator(scope)(w))).toBeLessThan(1e-6);
    expect(cb.hvpCount).toBe(3);
    for (const c of [ca, cb, fused.curvature]) c.dispose();
    await expect(cb.hvp(v)).rejects.toThrow(/after dispose/);
  });
}));

describe('the worker pool', () => {
  const batch = tinyBatch(mlp, 9, 82);
  const theta = randomTheta(mlp, 7);

  it('reads LRSCAPE_WORKERS when the option is absent, and rejects a bad count', () => {
    const saved = process.env.LRSCAPE_WORKERS;
    try {
      delete process.env.LRSCAPE_WORKERS;
      expect(resolveWorkers()).toBe(1);
      process.env.LRSCAPE_WORKERS = '3';
      expect(resolveWorkers()).toBe(3);
      expect(resolveWorkers(2)).toBe(2);
      process.env.LRSCAPE_WORKERS = 'two';
      expect(() => resolveWorkers()).toThrow(/LRSCAPE_WORKERS must be a positive integer, got two/);
      expect(() => new ModelObjective(mlp, batch, { workers: 0 })).toThrow(/workers must be a positive integer, got 0/);
    } finally {
      if (saved === undefined) delete process.env.LRSCAPE_WORKERS;
      else process.env.LRSCAPE_WORKERS = saved;
    }
  });

  it('uses no more threads than rows, keeps tensors here only for its own shard, and stops its workers on dispose', async () => {
    const before = tf.memory().numTensors;
    const objective = new ModelObjective(mlp, { ...batch, n: 2, x: batch.x.subarray(0, 10), y: batch.y.subarray(0, 6), labels: batch.labels!.subarray(0, 2) }, { workers: 4 });
    expect(objective.workers).toBe(2);
    expect((await objective.lossAndGradient(theta.f32)).gradient.length).toBe(modelLayout(mlp).size);
    objective.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(objective.evaluate(theta.f32)).rejects.toThrow(/after dispose/);
  });

  it('runs on the cpu backend too', async () => {
    await selectBackend('cpu');
    try {
      const single = new ModelObjective(mlp, batch);
      const pooled = new ModelObjective(mlp, batch, { workers: 2 });
      const [a, b] = [await single.lossAndGradient(theta.f32), await pooled.lossAndGradient(theta.f32)];
      expect(relError(b.gradient, a.gradient)).toBeLessThan(1e-6);
      single.dispose();
      pooled.dispose();
    } finally {
      await selectBackend('wasm');
    }
  });
});

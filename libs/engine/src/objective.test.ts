import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@lrscape/linalg';
import { selectBackend } from './backend';
import { fullScope, lastLayersScope, mlpLayout, modelLayout, type CnnSpec, type MlpSpec, type ModelSpec } from './layout';
import { MlpObjective, ModelObjective } from './objective';
import { referenceLoss } from './reference';
import { MLP_FLOAT32_TOL, matVec, randomTheta, randomVector, relError, tinyBatch } from './testing/fixtures';
import { describeOnKernels } from './testing/kernels';

beforeAll(async () => {
  await selectBackend('wasm');
});

describeOnKernels('chunked evaluation', () => {
  const spec: MlpSpec = { inputDim: 3, hidden: [5], outputDim: 3, activation: 'tanh', loss: 'cross_entropy' };
  const batch = tinyBatch(spec, 11, 41);
  const theta = randomTheta(spec, 2);
  const P = mlpLayout(spec).size;

  it('gives the same loss, accuracy, gradient, outputs and HVPs as one chunk (4 + 4 + 3 rows)', async () => {
    const whole = new MlpObjective(spec, batch);
    const chunked = new MlpObjective(spec, batch, { chunkSize: 4 });
    const [a, b] = [await whole.lossAndGradient(theta.f32), await chunked.lossAndGradient(theta.f32)];
    expect(Math.abs(a.loss - b.loss) / a.loss).toBeLessThan(1e-6);
    expect(b.accuracy).toBe(a.accuracy);
    expect(relError(b.gradient, a.gradient)).toBeLessThan(1e-6);
    expect(await chunked.evaluate(theta.f32)).toEqual({ loss: expect.closeTo(a.loss, 6), accuracy: a.accuracy });
    expect(relError(await chunked.outputs(theta.f32), await whole.outputs(theta.f32))).toBe(0);
    const [ca, cb] = [await whole.curvatureAt(theta.f32), await chunked.curvatureAt(theta.f32)];
    const v = randomVector(P, 3);
    expect(relError(await cb.hvp(v), await ca.hvp(v))).toBeLessThan(1e-6);
    const lastLayer = lastLayersScope(mlpLayout(spec), 1);
    const w = randomVector(lastLayer.size, 4);
    expect(relError(await cb.operator(lastLayer)(w), await ca.operator(lastLayer)(w))).toBeLessThan(1e-6);
    for (const x of [ca, cb, whole, chunked]) x.dispose();
  });
});

describeOnKernels('a quadratic model (no hidden layer, MSE)', () => {
  it('has the Hessian (XᵀX/N) ⊗ I_out on kernels with the bias terms', async () => {
    const [inDim, outDim, N] = [3, 2, 7];
    const spec: MlpSpec = { inputDim: inDim, hidden: [], outputDim: outDim, activation: 'linear', loss: 'mse' };
    const P = mlpLayout(spec).size;
    const batch = tinyBatch(spec, N, 51);
    // x̃ = [x, 1]; H[(i,o),(j,o')] = δ_oo' Σ_n x̃_ni x̃_nj / N with kernel index i·out + o, bias index in·out + o.
    const index = (i: number, o: number) => (i < inDim ? i * outDim + o : inDim * outDim + o);
    const xt = (n: number, i: number) => (i < inDim ? batch.x[n * inDim + i] : 1);
    const H = new Float64Array(P * P);
    for (let i = 0; i <= inDim; i++) {
      for (let j = 0; j <= inDim; j++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += xt(n, i) * xt(n, j);
        for (let o = 0; o < outDim; o++) H[index(i, o) * P + index(j, o)] = s / N;
      }
    }
    const objective = new MlpObjective(spec, batch, { chunkSize: 3 });
    const curvature = await objective.curvatureAt(randomTheta(spec, 1).f32);
    for (const seed of [1, 2]) {
      const v = randomVector(P, seed);
      expect(relError(await curvature.hvp(v), matVec(H, P, P, v))).toBeLessThan(MLP_FLOAT32_TOL);
    }
    curvature.dispose();
    objective.dispose();
  });
});

describe('MlpObjective', () => {
  const spec: MlpSpec = { inputDim: 2, hidden: [3], outputDim: 3, activation: 'relu', loss: 'cross_entropy' };
  const batch = tinyBatch(spec, 9, 61);
  const theta = randomTheta(spec, 3);

  it('reports accuracy as argmax f = label, from labels or from one-hot y', async () => {
    const objective = new MlpObjective(spec, batch);
    const f = await objective.outputs(theta.f32);
    let correct = 0;
    for (let n = 0; n < batch.n; n++) {
      const row = Array.from(f.subarray(n * 3, n * 3 + 3));
      if (row.indexOf(Math.max(...row)) === batch.labels![n]) correct++;
    }
    expect((await objective.evaluate(theta.f32)).accuracy).toBeCloseTo(correct / batch.n, 12);
    const noLabels = new MlpObjective(spec, { x: batch.x, y: batch.y, n: batch.n });
    expect((await noLabels.evaluate(theta.f32)).accuracy).toBeCloseTo(correct / batch.n, 12);
    const regression = new MlpObjective({ ...spec, outputDim: 1, loss: 'mse' }, { x: batch.x, y: new Float32Array(9), n: 9 });
    expect((await regression.evaluate(randomTheta({ ...spec, outputDim: 1 }, 1).f32)).accuracy).toBe(null);
    for (const x of [objective, noLabels, regression]) x.dispose();
  });

  it('computes outputs for other inputs, in chunks', async () => {
    const objective = new MlpObjective(spec, batch, { chunkSize: 2 });
    const rng = createRng(5);
    const x = Float32Array.from({ length: 5 * 2 }, () => rng.normal());
    const other = new MlpObjective(spec, { x, y: new Float32Array(15), n: 5 });
    const f = await objective.outputs(theta.f32, x);
    expect(f.length).toBe(15);
    expect(relError(f, await other.outputs(theta.f32))).toBe(0);
    expect(await objective.outputs(theta.f32, x.subarray(0, 4), 2)).toEqual(f.subarray(0, 6));
    await expect(objective.outputs(theta.f32, x, 4)).rejects.toThrow(/n·inputDim/);
    objective.dispose();
    other.dispose();
  });

  it('agrees with the reference loss for a float32 θ', async () => {
    const objective = new MlpObjective(spec, batch);
    const expected = referenceLoss(spec, theta.f64, batch);
    expect(relError([(await objective.evaluate(theta.f32)).loss], [expected])).toBeLessThan(MLP_FLOAT32_TOL);
    objective.dispose();
  });

  it('frees every tensor: curvature states on dispose(), data on the objective dispose()', async () => {
    const before = tf.memory().numTensors;
    const objective = new MlpObjective(spec, batch, { chunkSize: 4 });
    await objective.lossAndGradient(theta.f32); // builds the cached xᵀ
    const baseline = tf.memory().numTensors;
    await objective.evaluate(theta.f32);
    await objective.outputs(theta.f32);
    await objective.lossAndGradient(theta.f32);
    expect(tf.memory().numTensors).toBe(baseline);
    const curvature = await objective.curvatureAt(theta.f32);
    expect(tf.memory().numTensors).toBeGreaterThan(baseline);
    const held = tf.memory().numTensors;
    await curvature.hvp(randomVector(curvature.size, 1));
    await curvature.operator(lastLayersScope(objective.layout, 1))(randomVector(3 * 3 + 3, 2));
    expect(tf.memory().numTensors).toBe(held);
    expect(curvature.hvpCount).toBe(2);
    curvature.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    await expect(curvature.hvp(randomVector(curvature.size, 1))).rejects.toThrow(/after dispose/);
    objective.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(objective.evaluate(theta.f32)).rejects.toThrow(/after dispose/);
  });

  it('keeps its own copy of θ: updating θ in place does not change a held curvature state (cpu backend)', async () => {
    await selectBackend('cpu');
    try {
      const objective = new MlpObjective(spec, batch);
      const mutable = Float32Array.from(theta.f32);
      const curvature = await objective.curvatureAt(mutable);
      const v = randomVector(curvature.size, 7);
      const before = await curvature.hvp(v);
      mutable.fill(0.5);
      expect(await curvature.hvp(v)).toEqual(before);
      curvature.dispose();
      objective.dispose();
    } finally {
      await selectBackend('wasm');
    }
  });

  it('operator maps the full scope to hvp, and keeps the scope it was given', async () => {
    const objective = new MlpObjective(spec, batch);
    const curvature = await objective.curvatureAt(theta.f32);
    const v = randomVector(curvature.size, 8);
    expect(await curvature.operator(fullScope(objective.layout))(v)).toEqual(await curvature.hvp(v));
    const scope = lastLayersScope(objective.layout, 1);
    const apply = curvature.operator(scope);
    const w = randomVector(scope.size, 9);
    const before = await apply(w);
    Object.assign(scope, { k: 2, offset: 0, size: curvature.size });
    expect(await apply(w)).toEqual(before);
    curvature.dispose();
    objective.dispose();
  });

  it('rejects a θ, a v or a batch of the wrong size', async () => {
    expect(() => new MlpObjective(spec, { ...batch, n: 8 })).toThrow(/x has 18 values/);
    expect(() => new MlpObjective(spec, batch, { chunkSize: 0 })).toThrow(/chunkSize/);
    const objective = new MlpObjective(spec, batch);
    await expect(objective.evaluate(new Float32Array(3))).rejects.toThrow(/θ has 3 entries/);
    const curvature = await objective.curvatureAt(theta.f32);
    await expect(curvature.hvp(new Float64Array(3))).rejects.toThrow(/v has 3 entries/);
    await expect(curvature.operator(lastLayersScope(objective.layout, 1))(new Float64Array(3))).rejects.toThrow(/v has 3 entries, the 1-layer block has 12/);
    // A scope of another model's layout addresses other parameters: refused when the operator is made.
    const wider = mlpLayout({ ...spec, hidden: [4] });
    expect(() => curvature.operator(lastLayersScope(wider, 1))).toThrow(/Curvature.operator: scope block k = 1 \(offset 12, size 15, layers \["dense1"\]\) does not match/);
    expect(() => curvature.operator(fullScope(wider))).toThrow(/Curvature.operator: scope full \(offset 0, size 27\) does not match/);
    expect(() => curvature.operator({ kind: 'block', k: 3, offset: 0, size: 21, layers: [] })).toThrow(/k must be an integer in \[1, 2\], got 3/);
    curvature.dispose();
    objective.dispose();
  });
});

describeOnKernels('lossGradientAndCurvature', () => {
  const mlp: MlpSpec = { inputDim: 4, hidden: [6, 3], outputDim: 3, activation: 'tanh', loss: 'cross_entropy' };
  const cnn: CnnSpec = { kind: 'cnn', inputShape: [5, 5, 2], conv: [{ filters: 3, kernelSize: 3 }], pool: 'max', dense: [4], outputDim: 3, activation: 'tanh', loss: 'mse' };

  it.each([
    { name: 'MLP', spec: mlp as ModelSpec },
    { name: 'CNN', spec: cnn as ModelSpec },
  ])('$name: gives lossAndGradient’s values and curvatureAt’s HVPs from one pass, and frees its tensors', async ({ spec }) => {
    const batch = tinyBatch(spec, 11, 71);
    const theta = randomTheta(spec, 4);
    const objective = new ModelObjective(spec, batch, { chunkSize: 4 });
    const separate = await objective.lossAndGradient(theta.f32); // also builds the cached xᵀ
    const baseline = tf.memory().numTensors;
    const fused = await objective.lossGradientAndCurvature(theta.f32);
    expect(fused.loss).toBe(separate.loss);
    expect(fused.accuracy).toBe(separate.accuracy);
    expect(fused.gradient).toEqual(separate.gradient);
    const curvature = await objective.curvatureAt(theta.f32);
    const P = modelLayout(spec).size;
    for (const seed of [1, 2]) {
      const v = randomVector(P, seed);
      expect(await fused.curvature.hvp(v)).toEqual(await curvature.hvp(v));
    }
    const k = 2;
    const scope = lastLayersScope(modelLayout(spec), k);
    const w = randomVector(scope.size, 3);
    expect(await fused.curvature.operator(scope)(w)).toEqual(await curvature.operator(scope)(w));
    expect(fused.curvature.hvpCount).toBe(3);
    curvature.dispose();
    fused.curvature.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    objective.dispose();
  });
});

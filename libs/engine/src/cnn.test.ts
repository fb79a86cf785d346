/**
 * The hand-written tfjs CNN (backward pass and R-operator through conv, pooling and dense layers) against the
 * exact float64 reference (hyper-dual Hessian), through ModelObjective; float32 tolerances CNN_FLOAT32_TOL and,
 * for nets without convolutions, MLP_FLOAT32_TOL (testing/fixtures.ts says why). The reference suites run on
 * both kernel paths of the wasm backend (testing/kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { activationOps } from './activations';
import { cnnForwardState, cnnWeightsFromFlat, disposeCnnWeights } from './cnn';
import { convForward } from './conv';
import { ACTIVATIONS, LOSSES, cnnGeometry, lastLayersScope, modelLayout, type Activation, type CnnSpec, type LossKind, type MlpSpec, type ModelSpec, type Pooling } from './layout';
import { MlpObjective, ModelObjective, type Curvature } from './objective';
import { referenceModelGradient, referenceModelHessian, referenceModelHessianVector, referenceModelLoss } from './reference';
import { CNN_FLOAT32_TOL, expectCurvatureFreesItsTensors, MLP_FLOAT32_TOL, matVec, randomTheta, randomVector, relError, subBlock, tinyBatch } from './testing/fixtures';
import { describeOnKernels } from './testing/kernels';
import type { Batch } from './batch';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** The tiny net: 5×5×2 → conv 3 filters 3×3 'same' → σ → pool → dense 4 → σ → 3 (P = 124, 3 layers). */
function tinyCnn(activation: Activation, loss: LossKind, pool: Pooling = 'avg'): CnnSpec {
  return { kind: 'cnn', inputShape: [5, 5, 2], conv: [{ filters: 3, kernelSize: 3, padding: 'same' }], pool, dense: [4], outputDim: 3, activation, loss };
}

/**
 * Smallest gap between a max-pooling window's largest pre-activation z and the others, over the first conv
 * layer's windows (σ is monotone, so the argmax of σ(z) is that of z; relu windows with max z ≤ 0 are skipped,
 * σ' = 0 makes their ties harmless): how far the test point is from a tie.
 */
async function firstLayerTieGap(spec: CnnSpec, theta: Float32Array, batch: Batch): Promise<number> {
  const g = cnnGeometry(spec).convs[0];
  const layout = modelLayout(spec);
  const [kernel, bias] = layout.slots;
  const z = tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [batch.n, ...spec.inputShape]);
    const K = tf.tensor4d(theta.slice(kernel.offset, kernel.offset + kernel.size), kernel.shape as [number, number, number, number]);
    return convForward(x, K, tf.tensor1d(theta.slice(bias.offset, bias.offset + bias.size)), g);
  });
  const values = await z.data();
  z.dispose();
  let gap = Infinity;
  for (let b = 0; b < batch.n; b++) {
    for (let y = 0; y < g.pooledH; y++) {
      for (let x = 0; x < g.pooledW; x++) {
        for (let o = 0; o < g.filters; o++) {
          const at = (dy: number, dx: number) => values[((b * g.outH + 2 * y + dy) * g.outW + 2 * x + dx) * g.filters + o];
          const window = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)].sort((p, q) => q - p);
          if (spec.activation === 'relu' && window[0] <= 0) continue;
          gap = Math.min(gap, window[0] - window[1]);
        }
      }
    }
  }
  return gap;
}

/**
 * Loss, gradient, HVP and every k-layer block HVP against the exact reference, on one chunk. The exact H·v
 * comes from the full hyper-dual Hessian (fullHessian) or, P times cheaper, from referenceModelHessianVector;
 * a block's H_kk·w is (H·[0; w]) restricted to the block.
 */
function checkAgainstReference(name: string, spec: CnnSpec, options: { n: number; dataSeed: number; thetaSeed: number; vSeeds: number[]; fullHessian?: boolean }): void {
  describe(name, () => {
    const layout = modelLayout(spec);
    const P = layout.size;
    const batch = tinyBatch(spec, options.n, options.dataSeed);
    const theta = randomTheta(spec, options.thetaSeed);
    let exactHv: (v: Float64Array) => Float64Array;
    let objective: ModelObjective;
    let curvature: Curvature;

    beforeAll(async () => {
      if (options.fullHessian) {
        const H = referenceModelHessian(spec, theta.f64, batch);
        exactHv = (v) => matVec(H, P, P, v);
      } else exactHv = (v) => referenceModelHessianVector(spec, theta.f64, batch, v);
      objective = new ModelObjective(spec, batch);
      curvature = await objective.curvatureAt(theta.f32);
    });
    afterAll(() => {
      curvature.dispose();
      objective.dispose();
    });

    if (spec.pool === 'max') {
      it('is away from max-pooling ties (first layer)', async () => {
        expect(await firstLayerTieGap(spec, theta.f32, batch)).toBeGreaterThan(1e-3);
      });
    }

    it('loss and gradient match the reference', async () => {
      const { loss: value, gradient } = await objective.lossAndGradient(theta.f32);
      const expected = referenceModelLoss(spec, theta.f64, batch);
      expect(relError([value], [expected])).toBeLessThan(CNN_FLOAT32_TOL);
      expect(relError(gradient, referenceModelGradient(spec, theta.f64, batch))).toBeLessThan(CNN_FLOAT32_TOL);
      expect(relError([(await objective.evaluate(theta.f32)).loss], [expected])).toBeLessThan(CNN_FLOAT32_TOL);
    });

    it('hvp(v) equals the exact Hessian times v', async () => {
      for (const seed of options.vSeeds) {
        const v = randomVector(P, seed);
        expect(relError(await curvature.hvp(v), exactHv(v))).toBeLessThan(CNN_FLOAT32_TOL);
      }
      // A basis vector on a first-layer kernel entry picks out one column of H.
      const e = new Float64Array(P);
      e[2] = 1;
      expect(relError(await curvature.hvp(e), exactHv(e))).toBeLessThan(CNN_FLOAT32_TOL);
    });

    it('operator(last k layers) equals that block of the exact Hessian times v, every k', async () => {
      for (let k = 1; k <= layout.layerCount; k++) {
        const scope = lastLayersScope(layout, k);
        const w = randomVector(scope.size, 10 + k);
        const padded = new Float64Array(P);
        padded.set(w, scope.offset);
        expect(relError(await curvature.operator(scope)(w), exactHv(padded).subarray(scope.offset))).toBeLessThan(CNN_FLOAT32_TOL);
      }
    });
  });
}

describeOnKernels('tfjs CNN vs float64 reference, average pooling', () => {
  for (const activation of ACTIVATIONS) {
    for (const loss of LOSSES) checkAgainstReference(`${activation} + ${loss}`, tinyCnn(activation, loss), { n: 4, dataSeed: 21, thetaSeed: 8, vSeeds: [1, 2, 3] });
  }
});

describeOnKernels('tfjs CNN vs float64 reference, max pooling (R-operator routed by the argmax at θ)', () => {
  checkAgainstReference('tanh + cross_entropy', tinyCnn('tanh', 'cross_entropy', 'max'), { n: 4, dataSeed: 21, thetaSeed: 8, vSeeds: [1, 2] });
  checkAgainstReference('relu + mse', tinyCnn('relu', 'mse', 'max'), { n: 4, dataSeed: 22, thetaSeed: 9, vSeeds: [1, 2] });
  checkAgainstReference('gelu + mse', tinyCnn('gelu', 'mse', 'max'), { n: 4, dataSeed: 24, thetaSeed: 8, vSeeds: [1, 2] });
});

/** Two conv layers (conv → convᵀ in the backward pass), an even kernel, 'valid' padding, an odd map cropped by pooling, 'chw' rows. */
function twoConv(activation: Activation, loss: LossKind, pool: Pooling): CnnSpec {
  return {
    kind: 'cnn',
    inputShape: [7, 6, 2],
    inputLayout: 'chw',
    conv: [
      { filters: 2, kernelSize: 2, padding: 'same' },
      { filters: 3, kernelSize: 2, padding: 'valid' },
    ],
    pool,
    dense: [],
    outputDim: 2,
    activation,
    loss,
  };
}

describeOnKernels('tfjs CNN vs float64 reference, deeper nets', () => {
  const options = { n: 3, vSeeds: [1, 2], fullHessian: true };
  checkAgainstReference('two convs, avg, gelu + cross_entropy', twoConv('gelu', 'cross_entropy', 'avg'), { ...options, dataSeed: 31, thetaSeed: 4 });
  checkAgainstReference('two convs, max, tanh + mse', twoConv('tanh', 'mse', 'max'), { ...options, dataSeed: 32, thetaSeed: 5 });
  checkAgainstReference(
    'two convs without pooling, then two dense layers, tanh + cross_entropy',
    {
      kind: 'cnn',
      inputShape: [4, 4, 1],
      conv: [
        { filters: 2, kernelSize: 3 },
        { filters: 2, kernelSize: 3, padding: 'valid' },
      ],
      pool: 'none',
      dense: [3],
      outputDim: 2,
      activation: 'tanh',
      loss: 'cross_entropy',
    },
    { ...options, dataSeed: 33, thetaSeed: 6 },
  );
});

describeOnKernels('ModelObjective with a CNN', () => {
  const spec = tinyCnn('tanh', 'cross_entropy', 'max');
  const batch = tinyBatch(spec, 7, 41);
  const theta = randomTheta(spec, 2);
  const P = modelLayout(spec).size;

  it('gives the same loss, accuracy, gradient, outputs and HVPs in chunks (3 + 3 + 1 rows) as in one', async () => {
    const whole = new ModelObjective(spec, batch);
    const chunked = new ModelObjective(spec, batch, { chunkSize: 3 });
    const [a, b] = [await whole.lossAndGradient(theta.f32), await chunked.lossAndGradient(theta.f32)];
    expect(Math.abs(a.loss - b.loss) / a.loss).toBeLessThan(1e-6);
    expect(b.accuracy).toBe(a.accuracy);
    expect(relError(b.gradient, a.gradient)).toBeLessThan(1e-6);
    expect(await chunked.evaluate(theta.f32)).toEqual({ loss: expect.closeTo(a.loss, 6), accuracy: a.accuracy });
    expect(relError(await chunked.outputs(theta.f32), await whole.outputs(theta.f32))).toBeLessThan(1e-6);
    const [ca, cb] = [await whole.curvatureAt(theta.f32), await chunked.curvatureAt(theta.f32)];
    const v = randomVector(P, 3);
    expect(relError(await cb.hvp(v), await ca.hvp(v))).toBeLessThan(1e-6);
    const scope = lastLayersScope(whole.layout, 2);
    const w = randomVector(scope.size, 4);
    expect(relError(await cb.operator(scope)(w), await ca.operator(scope)(w))).toBeLessThan(1e-6);
    for (const x of [ca, cb, whole, chunked]) x.dispose();
  });

  it("computes outputs for other inputs, and reads 'chw' rows as their 'hwc' transpose", async () => {
    const objective = new ModelObjective(spec, batch, { chunkSize: 2 });
    const other = tinyBatch(spec, 3, 42);
    const f = await objective.outputs(theta.f32, other.x);
    const direct = new ModelObjective(spec, other);
    expect(Array.from(f)).toEqual(Array.from(await direct.outputs(theta.f32)));
    // The same images as channel planes.
    const [h, w, c] = spec.inputShape;
    const chw = new Float32Array(other.x.length);
    for (let n = 0; n < other.n; n++) {
      for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) chw[n * h * w * c + ch * h * w + p] = other.x[n * h * w * c + p * c + ch];
    }
    const planes = new ModelObjective({ ...spec, inputLayout: 'chw' as const }, { ...other, x: chw });
    expect(Array.from(await planes.outputs(theta.f32))).toEqual(Array.from(f));
    for (const x of [objective, direct, planes]) x.dispose();
  });

  it('frees every tensor: curvature states on dispose(), data on the objective dispose()', async () => {
    const before = tf.memory().numTensors;
    const objective = new ModelObjective(spec, batch, { chunkSize: 4 });
    const baseline = tf.memory().numTensors;
    await objective.evaluate(theta.f32);
    await objective.outputs(theta.f32);
    await objective.outputs(theta.f32, batch.x.subarray(0, 2 * 50), 2);
    await objective.lossAndGradient(theta.f32);
    expect(tf.memory().numTensors).toBe(baseline);
    await expectCurvatureFreesItsTensors(objective, theta.f32, [1, 2]);
    objective.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a batch whose rows are not h·w·c values', () => {
    expect(() => new ModelObjective(spec, { ...batch, x: batch.x.subarray(0, 7 * 49) })).toThrow(/expected n·inputDim = 7·50/);
  });
});

/** L from network outputs f (n×outputDim), in float64, by the loss's definition. */
function lossOfOutputs(spec: ModelSpec, f: Float32Array, batch: Batch): number {
  const C = spec.outputDim;
  let total = 0;
  for (let n = 0; n < batch.n; n++) {
    const row = Array.from(f.subarray(n * C, (n + 1) * C));
    const y = Array.from(batch.y.subarray(n * C, (n + 1) * C));
    if (spec.loss === 'mse') total += row.reduce((s, v, c) => s + 0.5 * (v - y[c]) ** 2, 0);
    else {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      total += row.reduce((s, v, c) => s + y[c] * (lse - v), 0);
    }
  }
  return total / batch.n;
}

/**
 * Loss, outputs (through the loss they give), gradient and H·v (full and the last layer's block) of an
 * objective against the float64 reference of `reference`, the model the objective should compute.
 */
async function expectReferenceValues(objective: ModelObjective, reference: ModelSpec, batch: Batch, theta: { f32: Float32Array; f64: Float64Array }): Promise<void> {
  const layout = modelLayout(reference);
  const P = layout.size;
  const H = referenceModelHessian(reference, theta.f64, batch);
  const { loss, gradient } = await objective.lossAndGradient(theta.f32);
  const expectedLoss = referenceModelLoss(reference, theta.f64, batch);
  expect(relError([loss], [expectedLoss])).toBeLessThan(MLP_FLOAT32_TOL);
  expect(relError([lossOfOutputs(reference, await objective.outputs(theta.f32), batch)], [expectedLoss])).toBeLessThan(MLP_FLOAT32_TOL);
  expect(relError(gradient, referenceModelGradient(reference, theta.f64, batch))).toBeLessThan(MLP_FLOAT32_TOL);
  const curvature = await objective.curvatureAt(theta.f32);
  try {
    const v = randomVector(P, 2);
    expect(relError(await curvature.hvp(v), matVec(H, P, P, v))).toBeLessThan(MLP_FLOAT32_TOL);
    const scope = lastLayersScope(layout, 1);
    const w = v.slice(0, scope.size);
    expect(relError(await curvature.operator(scope)(w), matVec(subBlock(H, P, scope.offset, scope.size), scope.size, scope.size, w))).toBeLessThan(MLP_FLOAT32_TOL);
  } finally {
    curvature.dispose();
  }
}

describeOnKernels('ModelObjective with an MLP', () => {
  const spec: MlpSpec = { inputDim: 3, hidden: [4], outputDim: 2, activation: 'gelu', loss: 'mse' };
  const batch = tinyBatch(spec, 5, 51);
  const theta = randomTheta(spec, 1);

  it.each([
    { name: 'MlpObjective', make: () => new MlpObjective(spec, batch) },
    { name: 'ModelObjective without kind', make: () => new ModelObjective(spec, batch) },
    { name: 'ModelObjective with kind: mlp', make: () => new ModelObjective({ ...spec, kind: 'mlp' }, batch) },
  ])('$name computes the float64 reference MLP', async ({ make }) => {
    const objective = make();
    try {
      await expectReferenceValues(objective, spec, batch, theta);
    } finally {
      objective.dispose();
    }
  });
});

describe('a CNN without conv layers', () => {
  const cnn: CnnSpec = { kind: 'cnn', inputShape: [2, 2, 2], conv: [], pool: 'max', dense: [3], outputDim: 2, activation: 'tanh', loss: 'cross_entropy' };
  const mlp: MlpSpec = { inputDim: 8, hidden: [3], outputDim: 2, activation: 'tanh', loss: 'cross_entropy' };

  it('has the layout of the MLP on its flattened input', () => {
    expect(modelLayout(cnn)).toEqual(modelLayout(mlp));
  });

  it('computes the float64 reference MLP on its flattened input', async () => {
    const batch = tinyBatch(mlp, 5, 61);
    const theta = randomTheta(mlp, 3);
    const objective = new ModelObjective(cnn, batch);
    try {
      await expectReferenceValues(objective, mlp, batch, theta);
    } finally {
      objective.dispose();
    }
  });
});

describe('tfjs CNN on the cpu backend', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });
  it('gives the same exact gradient and HVP', async () => {
    expect(await selectBackend('cpu')).toBe('cpu');
    const spec = twoConv('gelu', 'cross_entropy', 'max');
    const P = modelLayout(spec).size;
    const batch = tinyBatch(spec, 3, 34);
    const theta = randomTheta(spec, 7);
    const objective = new ModelObjective(spec, batch, { chunkSize: 2 });
    const curvature = await objective.curvatureAt(theta.f32);
    try {
      const { gradient } = await objective.lossAndGradient(theta.f32);
      expect(relError(gradient, referenceModelGradient(spec, theta.f64, batch))).toBeLessThan(CNN_FLOAT32_TOL);
      const v = randomVector(P, 6);
      expect(relError(await curvature.hvp(v), matVec(referenceModelHessian(spec, theta.f64, batch), P, P, v))).toBeLessThan(CNN_FLOAT32_TOL);
    } finally {
      curvature.dispose();
      objective.dispose();
    }
  });
});

describe('max-pool routing', () => {
  // One 1×1 conv (kernel 1, bias 0) on a 2×2×1 input, so z = x, then σ and one 2×2 max-pool window.
  async function routing(activation: Activation, x: number[]): Promise<number[]> {
    const spec: CnnSpec = { kind: 'cnn', inputShape: [2, 2, 1], conv: [{ filters: 1, kernelSize: 1 }], pool: 'max', dense: [], outputDim: 1, activation, loss: 'mse' };
    const theta = new Float32Array(modelLayout(spec).size);
    theta[0] = 1; // the conv kernel; its bias and the dense layer stay 0
    const weights = cnnWeightsFromFlat(modelLayout(spec), 1, theta);
    const routed = tf.tidy(() => cnnForwardState(weights, activationOps(activation), cnnGeometry(spec).convs, tf.tensor4d(x, [1, 2, 2, 1]), false).convs[0].routing.weights!);
    const values = Array.from(await routed.data());
    disposeCnnWeights(weights);
    routed.dispose();
    return values;
  }

  it('follows z for a monotone σ: relu zeros are no tie, the largest z gets the window', async () => {
    expect(await routing('relu', [-1, -2, -3, -0.5])).toEqual([0, 0, 0, 1]);
    expect(await routing('tanh', [0.2, 0.7, -0.1, 0.3])).toEqual([0, 1, 0, 0]);
  });

  it('follows σ(z) for gelu, which is not monotone (gelu(−3) > gelu(−0.5))', async () => {
    expect(await routing('gelu', [-1, -2, -3, -0.5])).toEqual([0, 0, 1, 0]);
  });
});

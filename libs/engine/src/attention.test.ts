/**
 * The hand-written tfjs attention model (backward pass and R-operator through embeddings, softmax attention
 * with residuals, pooling and the dense readout) against the exact float64 reference (reference-attention.ts,
 * hyper-dual numbers), through ModelObjective, to the MLP tests' float32 tolerance MLP_FLOAT32_TOL (worst
 * measured 5.4e-7 over these cases and both kernel paths). θ is drawn at the scale of the initialisation (entries
 * N(0, 0.5²)): at larger θ the attention saturates and some points are ill-conditioned — there the exact H·v
 * itself moves by ~1e-6 relative when θ moves by float32 rounding (measured on the two-block model at
 * N(0, 0.7²)), and the engine's error follows (up to 3e-5), as float32 arithmetic must. The reference
 * suites run on both kernel paths of the wasm backend (testing/kernels.ts); the references are computed once.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { lastLayersScope, modelLayout, type AttentionSpec } from './layout';
import { ModelObjective, type Curvature } from './objective';
import { referenceModelGradient, referenceModelHessianVector, referenceModelLoss } from './reference';
import { tinyAttention, tokenBatch } from './testing/attention-fixtures';
import { expectCurvatureFreesItsTensors, MLP_FLOAT32_TOL, randomTheta, randomVector, relError } from './testing/fixtures';
import { describeOnKernels } from './testing/kernels';
import type { Batch } from './batch';

beforeAll(async () => {
  await selectBackend('wasm');
});

const THETA_SCALE = 0.5;

interface Case {
  name: string;
  spec: AttentionSpec;
  n: number;
  seed: number;
}

const CASES: Case[] = [
  { name: 'one single-head block, first position, no hidden layer, mse', spec: tinyAttention(), n: 3, seed: 1 },
  {
    name: 'two blocks of two heads, mean over positions, tanh hidden layer, cross_entropy',
    spec: tinyAttention({ heads: 2, blocks: 2, readout: 'mean', dense: [3], loss: 'cross_entropy' }),
    n: 3,
    seed: 2,
  },
  {
    name: 'one block of two heads, first position, relu hidden layer, cross_entropy, 3 classes',
    spec: tinyAttention({ heads: 2, dense: [3], activation: 'relu', loss: 'cross_entropy', outputDim: 3, sequenceLength: 5 }),
    n: 3,
    seed: 3,
  },
  { name: 'embeddings and readout alone (no block), gelu hidden layer, mse', spec: tinyAttention({ blocks: 0, readout: 'mean', dense: [3], activation: 'gelu', vocabulary: 5 }), n: 4, seed: 4 },
  { name: 'one block, mean, linear hidden layer, mse, 3 outputs', spec: tinyAttention({ readout: 'mean', dense: [2], activation: 'linear', outputDim: 3, vocabulary: 2 }), n: 3, seed: 5 },
];

/** The exact values a case is checked against, by the reference (computed on first need, shared by the kernel paths). */
interface Exact {
  batch: Batch;
  theta: { f32: Float32Array; f64: Float64Array };
  loss: number;
  gradient: Float64Array;
  hv: (v: Float64Array) => Float64Array;
}

const exactCache = new Map<string, Exact>();
function exactOf({ name, spec, n, seed }: Case): Exact {
  let exact = exactCache.get(name);
  if (exact === undefined) {
    const batch = tokenBatch(spec, n, 20 + seed);
    const theta = randomTheta(spec, seed, THETA_SCALE);
    const memo = new Map<Float64Array, Float64Array>();
    exact = {
      batch,
      theta,
      loss: referenceModelLoss(spec, theta.f64, batch),
      gradient: referenceModelGradient(spec, theta.f64, batch),
      hv: (v) => {
        let hv = memo.get(v);
        if (hv === undefined) memo.set(v, (hv = referenceModelHessianVector(spec, theta.f64, batch, v)));
        return hv;
      },
    };
    exactCache.set(name, exact);
  }
  return exact;
}

/** The directions a case's HVPs are checked on: random ones, and basis vectors on a token row and a block's query kernel. */
const directionCache = new Map<string, { full: Float64Array[]; blocks: Float64Array[] }>();
function directionsOf({ name, spec }: Case): { full: Float64Array[]; blocks: Float64Array[] } {
  let directions = directionCache.get(name);
  if (directions === undefined) {
    const layout = modelLayout(spec);
    const P = layout.size;
    const basis = (slotName: string, index: number) => {
      const e = new Float64Array(P);
      e[layout.slots.find((s) => s.name === slotName)!.offset + index] = 1;
      return e;
    };
    const full = [randomVector(P, 1), randomVector(P, 2), basis('embed/token', 1), ...(spec.blocks > 0 ? [basis('attn0/query', 5)] : [])];
    // A block's direction, zero-padded to all of θ (the block's H_kk·w is (H·[0; w]) restricted to the block).
    const blocks = Array.from({ length: layout.layerCount }, (_, i) => {
      const scope = lastLayersScope(layout, i + 1);
      const padded = new Float64Array(P);
      padded.set(randomVector(scope.size, 10 + i), scope.offset);
      return padded;
    });
    directionCache.set(name, (directions = { full, blocks }));
  }
  return directions;
}

describeOnKernels('tfjs attention model vs float64 reference', () => {
  for (const testCase of CASES) {
    describe(testCase.name, () => {
      const { spec } = testCase;
      const layout = modelLayout(spec);
      let exact: Exact;
      let objective: ModelObjective;
      let curvature: Curvature;

      beforeAll(async () => {
        exact = exactOf(testCase);
        objective = new ModelObjective(spec, exact.batch);
        curvature = await objective.curvatureAt(exact.theta.f32);
      });
      afterAll(() => {
        curvature.dispose();
        objective.dispose();
      });

      it('loss and gradient match the reference', async () => {
        const { loss, gradient } = await objective.lossAndGradient(exact.theta.f32);
        expect(relError([loss], [exact.loss])).toBeLessThan(MLP_FLOAT32_TOL);
        expect(relError(gradient, exact.gradient)).toBeLessThan(MLP_FLOAT32_TOL);
        expect(relError([(await objective.evaluate(exact.theta.f32)).loss], [exact.loss])).toBeLessThan(MLP_FLOAT32_TOL);
      });

      it('hvp(v) equals the exact Hessian times v', async () => {
        for (const v of directionsOf(testCase).full) expect(relError(await curvature.hvp(v), exact.hv(v))).toBeLessThan(MLP_FLOAT32_TOL);
      });

      it('operator(last k layers) equals that block of the exact Hessian times v, every k', async () => {
        for (let k = 1; k <= layout.layerCount; k++) {
          const scope = lastLayersScope(layout, k);
          const padded = directionsOf(testCase).blocks[k - 1];
          const w = padded.slice(scope.offset);
          expect(relError(await curvature.operator(scope)(w), exact.hv(padded).subarray(scope.offset))).toBeLessThan(MLP_FLOAT32_TOL);
        }
      });
    });
  }
});

describeOnKernels('ModelObjective with an attention model', () => {
  const spec = tinyAttention({ heads: 2, readout: 'mean', dense: [3], loss: 'cross_entropy' });
  const batch = tokenBatch(spec, 7, 41);
  const theta = randomTheta(spec, 2, THETA_SCALE);
  const P = modelLayout(spec).size;

  it('gives the same loss, accuracy, gradient, outputs and HVPs in chunks (3 + 3 + 1 sequences) as in one', async () => {
    const whole = new ModelObjective(spec, batch);
    const chunked = new ModelObjective(spec, batch, { chunkSize: 3 });
    const [a, b] = [await whole.lossAndGradient(theta.f32), await chunked.lossAndGradient(theta.f32)];
    expect(Math.abs(a.loss - b.loss) / a.loss).toBeLessThan(1e-6);
    expect(b.accuracy).toBe(a.accuracy);
    expect(a.accuracy).not.toBeNull();
    expect(relError(b.gradient, a.gradient)).toBeLessThan(1e-6);
    expect(relError(await chunked.outputs(theta.f32), await whole.outputs(theta.f32))).toBeLessThan(1e-6);
    const [ca, cb] = [await whole.curvatureAt(theta.f32), await chunked.curvatureAt(theta.f32)];
    const v = randomVector(P, 3);
    expect(relError(await cb.hvp(v), await ca.hvp(v))).toBeLessThan(1e-6);
    const scope = lastLayersScope(whole.layout, 3);
    expect(scope.layers).toEqual(['attn0', 'dense0', 'dense1']);
    const w = randomVector(scope.size, 4);
    expect(relError(await cb.operator(scope)(w), await ca.operator(scope)(w))).toBeLessThan(1e-6);
    // lossGradientAndCurvature: the same gradient and HVPs from one pass.
    const both = await chunked.lossGradientAndCurvature(theta.f32);
    expect(relError(both.gradient, b.gradient)).toBe(0);
    expect(relError(await both.curvature.hvp(v), await cb.hvp(v))).toBe(0);
    for (const x of [ca, cb, both.curvature, whole, chunked]) x.dispose();
  });

  it('computes outputs for other sequences', async () => {
    const objective = new ModelObjective(spec, batch, { chunkSize: 2 });
    const other = tokenBatch(spec, 3, 42);
    const direct = new ModelObjective(spec, other);
    expect(Array.from(await objective.outputs(theta.f32, other.x))).toEqual(Array.from(await direct.outputs(theta.f32)));
    for (const x of [objective, direct]) x.dispose();
  });

  it('frees every tensor: curvature states on dispose(), data on the objective dispose()', async () => {
    const before = tf.memory().numTensors;
    const objective = new ModelObjective(spec, batch, { chunkSize: 4 });
    const baseline = tf.memory().numTensors;
    await objective.evaluate(theta.f32);
    await objective.outputs(theta.f32);
    await objective.outputs(theta.f32, batch.x.subarray(0, 2 * spec.sequenceLength), 2);
    await objective.lossAndGradient(theta.f32);
    // The first gradient builds each chunk's X₁ᵀ, kept with the chunk.
    const withTransposes = tf.memory().numTensors;
    await objective.lossAndGradient(theta.f32);
    expect(tf.memory().numTensors).toBe(withTransposes);
    expect(withTransposes - baseline).toBe(2);
    await expectCurvatureFreesItsTensors(objective, theta.f32, [1, 2, 3, 4]);
    objective.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects token ids that are not integers in [0, V), naming the sequence and the position', () => {
    const bad = Float32Array.from(batch.x);
    bad[2 * 4 + 1] = 3;
    expect(() => new ModelObjective(spec, { ...batch, x: bad })).toThrow('Batch: sequence 2 has token 1 = 3 (x[9]); token ids must be integers in [0, 3)');
    bad[2 * 4 + 1] = 0.5;
    expect(() => new ModelObjective(spec, { ...batch, x: bad })).toThrow(/sequence 2 has token 1 = 0.5/);
    expect(() => new ModelObjective(spec, { ...batch, x: batch.x.subarray(0, 6 * 4) })).toThrow(/expected n·inputDim = 7·4/);
  });
});

describe('tfjs attention model on the cpu backend', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });
  it('gives the same exact gradient and HVP', async () => {
    const testCase = CASES[1];
    const exact = exactOf(testCase);
    expect(await selectBackend('cpu')).toBe('cpu');
    const objective = new ModelObjective(testCase.spec, exact.batch, { chunkSize: 2 });
    const curvature = await objective.curvatureAt(exact.theta.f32);
    try {
      const { gradient } = await objective.lossAndGradient(exact.theta.f32);
      expect(relError(gradient, exact.gradient)).toBeLessThan(MLP_FLOAT32_TOL);
      const v = directionsOf(testCase).full[0];
      expect(relError(await curvature.hvp(v), exact.hv(v))).toBeLessThan(MLP_FLOAT32_TOL);
    } finally {
      curvature.dispose();
      objective.dispose();
    }
  });
});

/**
 * The small CNN in tfjs ops, by hand like the MLP (mlp.ts): forward, backward (gradient) and Pearlmutter's
 * R-operator (exact Hessian-vector product), no tfjs autodiff.
 *
 * Conv layers i = 0..C−1 take a_i (a_0 = x, NHWC) to z_i = conv(a_i, K_i) + b_i, s_i = σ(z_i),
 * a_{i+1} = pool(s_i); the head is the MLP of mlp.ts on h = flatten(a_C) (row, column, channel order), its
 * dense layers being θ's layers C.. . δ_i = dL/dz_i. Every map between z_i and a_{i+1} other than σ is
 * linear at θ (conv in each argument, average pooling, max pooling with its argmax fixed at θ: pooling.ts),
 * so the R-operator is the MLP's with conv/convᵀ in place of matMul and poolR/poolᵀ between the layers.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActivationOps } from './activations';
import { convBiasGradient, convForward, convInputAdjoint, convKernelGradient, flipKernel } from './conv';
import type { ConvGeometry, ParameterLayout } from './layout';
import type { LossOps } from './losses';
import {
  backward,
  disposeWeights as disposeMlpWeights,
  forward as mlpForward,
  forwardState as mlpForwardState,
  rOperator,
  rOperatorFrom,
  type BackwardResult,
  type CurvatureCache,
  type ForwardState,
  type MlpWeights,
} from './mlp';
import { poolAdjoint, poolForward, poolR, poolRouting, type PoolRouting } from './pooling';

export interface CnnWeights {
  /** K_i [k, k, inC, filters]. */
  convKernels: tf.Tensor4D[];
  convBiases: tf.Tensor1D[];
  /** The dense layers. */
  head: MlpWeights;
}

/** The layer tensors of a flat θ (or of a direction v restricted to layers first..L−1, v[0] at θ's flatOffset). */
export function cnnWeightsFromFlat(layout: ParameterLayout, convCount: number, flat: Float32Array, firstLayer = 0, flatOffset = 0): CnnWeights {
  const weights: CnnWeights = { convKernels: [], convBiases: [], head: { kernels: [], biases: [] } };
  for (const slot of layout.slots) {
    if (slot.layer < firstLayer) continue;
    const start = slot.offset - flatOffset;
    // slice() copies: the cpu backend keeps the array it is given, and callers update θ in place.
    const values = flat.slice(start, start + slot.size);
    if (slot.role === 'bias') (slot.layer < convCount ? weights.convBiases : weights.head.biases).push(tf.tensor1d(values));
    else if (slot.layer < convCount) weights.convKernels.push(tf.tensor4d(values, slot.shape as [number, number, number, number]));
    else weights.head.kernels.push(tf.tensor2d(values, [slot.shape[0], slot.shape[1]]));
  }
  return weights;
}

export function disposeCnnWeights(weights: CnnWeights): void {
  for (const t of [...weights.convKernels, ...weights.convBiases]) t.dispose();
  disposeMlpWeights(weights.head);
}

/** Weights and the transformed copies every pass needs: flipped conv kernels (for convᵀ) and transposed dense kernels. */
export interface BoundCnnWeights {
  weights: CnnWeights;
  /** flipKernel(K_i) for i ≥ 1 (null at 0: nothing flows below the first layer). */
  flipped: (tf.Tensor4D | null)[];
  headKernelsT: tf.Tensor2D[];
}

/**
 * Adds the flipped and transposed kernels to weights (θ's, or a direction's from its first layer on: convᵀ is
 * never needed below the first conv layer of either, so index 0 stays null).
 */
export function bindCnnWeights(weights: CnnWeights): BoundCnnWeights {
  return {
    weights,
    flipped: weights.convKernels.map((k, i) => (i === 0 ? null : flipKernel(k))),
    headKernelsT: weights.head.kernels.map((w) => tf.transpose(w)),
  };
}

export function disposeBoundCnnWeights(bound: BoundCnnWeights): void {
  disposeCnnWeights(bound.weights);
  for (const t of [...bound.flipped, ...bound.headKernelsT]) t?.dispose();
}

function multiply<T extends tf.Tensor>(x: T, by: T | null): T {
  return by === null ? x : tf.mul<T>(x, by);
}

function flattenRows(a: tf.Tensor4D): tf.Tensor2D {
  return tf.reshape(a, [a.shape[0], -1]);
}

/** f = network output for input x [n, h, w, c]. */
export function cnnForward(weights: CnnWeights, act: ActivationOps, convs: ConvGeometry[], x: tf.Tensor4D): tf.Tensor2D {
  let a = x;
  convs.forEach((g, i) => {
    a = poolForward(act.forward(convForward(a, weights.convKernels[i], weights.convBiases[i], g)), g);
  });
  return mlpForward(weights.head, act, flattenRows(a));
}

export interface ConvLayerState {
  /** a_i, the layer input (a_0 = x). */
  input: tf.Tensor4D;
  /** σ'(z_i); null where σ' ≡ 1. */
  firstDerivative: tf.Tensor4D | null;
  /** σ''(z_i) (only when asked for); null where σ'' ≡ 0. */
  secondDerivative: tf.Tensor4D | null;
  routing: PoolRouting;
}

export interface CnnForwardState {
  convs: ConvLayerState[];
  /** The head's state; head.inputs[0] = flatten(a_C). */
  head: ForwardState;
}

export function cnnForwardState(weights: CnnWeights, act: ActivationOps, convs: ConvGeometry[], x: tf.Tensor4D, withSecond: boolean): CnnForwardState {
  const layers: ConvLayerState[] = [];
  let a = x;
  convs.forEach((g, i) => {
    const z = convForward(a, weights.convKernels[i], weights.convBiases[i], g);
    const s = act.forward(z);
    const out = poolForward(s, g);
    layers.push({
      input: a,
      firstDerivative: act.derivative(z, s),
      secondDerivative: withSecond ? act.secondDerivative(z, s) : null,
      // Max pooling is routed on z when σ is monotone (the same argmax, at float32's full resolution: a
      // float32 σ(z) maps nearby z to one value, making ties that are not there), else on s.
      routing: act.monotone && g.pool === 'max' ? poolRouting(z, poolForward(z, g), g) : poolRouting(s, out, g),
    });
    a = out;
  });
  return { convs: layers, head: mlpForwardState(weights.head, act, flattenRows(a), withSecond) };
}

export interface CnnBackwardResult {
  /** δ_i = dL/dz_i. */
  convDeltas: tf.Tensor4D[];
  /** dL/ds_i (before σ'): the R-operator's σ'' term needs it. */
  convUpstream: tf.Tensor4D[];
  head: BackwardResult;
}

/** δ of every layer: the head's by mlp.backward, then dL/da_C = δ_head0 W_head0ᵀ, dL/ds_i = poolᵀ(dL/da_{i+1}), δ_i = dL/ds_i ⊙ σ'(z_i), dL/da_i = convᵀ(δ_i). */
export function cnnBackward(state: CnnForwardState, bound: BoundCnnWeights, convs: ConvGeometry[], outputDelta: tf.Tensor2D): CnnBackwardResult {
  const head = backward(state.head, bound.headKernelsT, outputDelta);
  const C = convs.length;
  const convDeltas: tf.Tensor4D[] = new Array(C);
  const convUpstream: tf.Tensor4D[] = new Array(C);
  if (C > 0) {
    const last = convs[C - 1];
    const n = outputDelta.shape[0];
    let gradA: tf.Tensor4D = tf.reshape(tf.matMul(head.deltas[0], bound.headKernelsT[0]), [n, last.pooledH, last.pooledW, last.filters]);
    for (let i = C - 1; i >= 0; i--) {
      const layer = state.convs[i];
      convUpstream[i] = poolAdjoint(gradA, layer.routing, convs[i]);
      convDeltas[i] = multiply(convUpstream[i], layer.firstDerivative);
      if (i > 0) gradA = convInputAdjoint(convDeltas[i], bound.flipped[i]!, convs[i]);
    }
  }
  return { convDeltas, convUpstream, head };
}

/** [gK_0, gb_0, …, gK_{C−1}, gb_{C−1}, head…] flattened in θ's order; headGradient: the head's flat gradient (mlp.flatGradient). */
export function cnnFlatGradient(inputs: tf.Tensor4D[], convDeltas: tf.Tensor4D[], convs: ConvGeometry[], headGradient: tf.Tensor1D): tf.Tensor1D {
  const parts: tf.Tensor1D[] = [];
  convs.forEach((g, i) => {
    parts.push(tf.reshape(convKernelGradient(inputs[i], convDeltas[i], g), [-1]), convBiasGradient(convDeltas[i]));
  });
  parts.push(headGradient);
  return tf.concat(parts);
}

/** Per-chunk state at a fixed θ, reused by every R-operator application. */
export interface CnnCurvatureCache {
  convs: {
    /** a_i. */
    input: tf.Tensor4D;
    /** σ'(z_i) (null ≡ 1). */
    firstDerivative: tf.Tensor4D | null;
    /** dL/ds_i ⊙ σ''(z_i) (null ≡ 0). */
    curvature: tf.Tensor4D | null;
    /** δ_i. */
    delta: tf.Tensor4D;
    routing: PoolRouting;
  }[];
  head: CurvatureCache;
}

/**
 * R{∇L} restricted to layers first..L−1 for a direction `dir` nonzero only there (its tensors are those
 * layers', from layer `first` on), flattened in θ's order. Below the conv layers' R-forward
 *   R{z_i} = conv(R{a_i}, K_i) + conv(a_i, VK_i) + Vb_i,  R{a_{i+1}} = poolR(σ'(z_i) ⊙ R{z_i})   (R{a_first} = 0)
 * the head's R-operator starts from R{h} = flatten(R{a_C}) and returns R{dL/da_C}; then for i = C−1 … first
 *   R{δ_i} = poolᵀ(R{dL/da_{i+1}}) ⊙ σ'(z_i) + (dL/ds_i ⊙ σ''(z_i)) ⊙ R{z_i}
 *   R{gK_i} = convKernelGradient(a_i, R{δ_i}) + convKernelGradient(R{a_i}, δ_i),  R{gb_i} = Σ R{δ_i}
 *   R{dL/da_i} = convᵀ_{K_i}(R{δ_i}) + convᵀ_{VK_i}(δ_i).
 * When every conv layer is outside the block (first ≥ C) it is the MLP's R-operator on the head.
 */
export function cnnROperator(
  cache: CnnCurvatureCache,
  bound: BoundCnnWeights,
  dir: BoundCnnWeights,
  first: number,
  convs: ConvGeometry[],
  loss: LossOps,
  invN: number,
): tf.Tensor1D {
  const C = convs.length;
  const { weights } = bound;
  if (first >= C) {
    return rOperator(cache.head, weights.head, bound.headKernelsT, dir.weights.head, dir.headKernelsT, first - C, loss, invN);
  }
  const rInputs: (tf.Tensor4D | null)[] = new Array(C + 1).fill(null);
  const rZ: tf.Tensor4D[] = new Array(C);
  for (let i = first; i < C; i++) {
    const layer = cache.convs[i];
    const g = convs[i];
    let rz = convForward(layer.input, dir.weights.convKernels[i - first], dir.weights.convBiases[i - first], g);
    const rIn = rInputs[i];
    if (rIn !== null) rz = tf.add(rz, convForward(rIn, weights.convKernels[i], null, g));
    rZ[i] = rz;
    rInputs[i + 1] = poolR(multiply(rz, layer.firstDerivative), layer.routing, g);
  }
  const rOut = rInputs[C]!;
  const head = rOperatorFrom(cache.head, weights.head, bound.headKernelsT, dir.weights.head, dir.headKernelsT, 0, loss, invN, flattenRows(rOut), true);
  let rGradA: tf.Tensor4D = tf.reshape(head.inputR!, rOut.shape);
  const parts: tf.Tensor1D[] = [];
  for (let i = C - 1; i >= first; i--) {
    const layer = cache.convs[i];
    const g = convs[i];
    let rDelta = multiply(poolAdjoint(rGradA, layer.routing, g), layer.firstDerivative);
    if (layer.curvature !== null) rDelta = tf.add(rDelta, tf.mul(layer.curvature, rZ[i]));
    let rgK = convKernelGradient(layer.input, rDelta, g);
    const rIn = rInputs[i];
    if (rIn !== null) rgK = tf.add(rgK, convKernelGradient(rIn, layer.delta, g));
    parts.push(convBiasGradient(rDelta), tf.reshape(rgK, [-1]));
    if (i > first) {
      rGradA = tf.add(convInputAdjoint(rDelta, bound.flipped[i]!, g), convInputAdjoint(layer.delta, dir.flipped[i - first]!, g));
    }
  }
  return tf.concat([...parts.reverse(), head.gradient]);
}

/**
 * The MLP in tfjs ops, by hand: forward, backward (gradient) and Pearlmutter's R-operator (exact
 * Hessian-vector product). No tfjs autodiff: its second derivatives are wrong for ops whose gradient uses
 * the op's saved output (tanh, exp, softmax, …), so the HVP is written out here.
 *
 * Layers are 0-based: the input of layer l is a[l] (a[0] = X), z_l = a[l]·W_l + b_l, a[l+1] = σ(z_l) for
 * l < L−1, and f = z_{L−1}. δ[l] = dL/dz_l. Transposed products use an explicit tf.transpose and a plain
 * matMul: on wasm the transpose flags of matMul are ~10× slower.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActivationOps } from './activations';
import type { ParameterLayout } from './layout';
import type { LossOps } from './losses';

export interface MlpWeights {
  kernels: tf.Tensor2D[];
  biases: tf.Tensor1D[];
}

/** The layer tensors of a flat θ (or of a direction v restricted to layers first..L−1). */
export function weightsFromFlat(layout: ParameterLayout, flat: Float32Array, firstLayer = 0, flatOffset = 0): MlpWeights {
  const kernels: tf.Tensor2D[] = [];
  const biases: tf.Tensor1D[] = [];
  for (const slot of layout.slots) {
    if (slot.layer < firstLayer) continue;
    const start = slot.offset - flatOffset;
    // slice() copies: the cpu backend keeps the array it is given, and callers update θ in place.
    const values = flat.slice(start, start + slot.size);
    if (slot.role === 'kernel') kernels.push(tf.tensor2d(values, [slot.shape[0], slot.shape[1]]));
    else biases.push(tf.tensor1d(values));
  }
  return { kernels, biases };
}

export function disposeWeights(weights: MlpWeights): void {
  for (const t of [...weights.kernels, ...weights.biases]) t.dispose();
}

function dense(a: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(a, kernel), bias);
}

/** f = network output for input rows x. */
export function forward(weights: MlpWeights, act: ActivationOps, x: tf.Tensor2D): tf.Tensor2D {
  const L = weights.kernels.length;
  let a = x;
  for (let l = 0; l < L - 1; l++) a = act.forward(dense(a, weights.kernels[l], weights.biases[l]));
  return dense(a, weights.kernels[L - 1], weights.biases[L - 1]);
}

/** What the backward pass and the R-operator need from the forward pass. */
export interface ForwardState {
  /** a[l]: input of layer l, l = 0..L−1 (a[0] = x). */
  inputs: tf.Tensor2D[];
  /** σ'(z_l) for hidden l = 0..L−2; null where σ' ≡ 1. */
  firstDerivatives: (tf.Tensor2D | null)[];
  /** σ''(z_l) for hidden l = 0..L−2 (only when asked for); null where σ'' ≡ 0. */
  secondDerivatives: (tf.Tensor2D | null)[];
  f: tf.Tensor2D;
}

export function forwardState(weights: MlpWeights, act: ActivationOps, x: tf.Tensor2D, withSecond: boolean): ForwardState {
  const L = weights.kernels.length;
  const inputs = [x];
  const firstDerivatives: (tf.Tensor2D | null)[] = [];
  const secondDerivatives: (tf.Tensor2D | null)[] = [];
  for (let l = 0; l < L - 1; l++) {
    const z = dense(inputs[l], weights.kernels[l], weights.biases[l]);
    const a = act.forward(z);
    inputs.push(a);
    firstDerivatives.push(act.derivative(z, a));
    secondDerivatives.push(withSecond ? act.secondDerivative(z, a) : null);
  }
  const f = dense(inputs[L - 1], weights.kernels[L - 1], weights.biases[L - 1]);
  return { inputs, firstDerivatives, secondDerivatives, f };
}

function multiply(x: tf.Tensor2D, by: tf.Tensor2D | null): tf.Tensor2D {
  return by === null ? x : tf.mul(x, by);
}

export interface BackwardResult {
  /** δ[l] = dL/dz_l, l = 0..L−1. */
  deltas: tf.Tensor2D[];
  /** δ[l+1]·W_{l+1}ᵀ (dL/da[l+1] before σ'), l = 0..L−2: the R-operator's σ'' term needs it. */
  upstream: tf.Tensor2D[];
}

/** δ_{L−1} = dL/df, δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(z_{l−1}). kernelsT[l] = W_lᵀ. */
export function backward(state: ForwardState, kernelsT: tf.Tensor2D[], outputDelta: tf.Tensor2D): BackwardResult {
  const L = kernelsT.length;
  const deltas: tf.Tensor2D[] = new Array(L);
  const upstream: tf.Tensor2D[] = new Array(L - 1);
  deltas[L - 1] = outputDelta;
  for (let l = L - 1; l > 0; l--) {
    upstream[l - 1] = tf.matMul(deltas[l], kernelsT[l]);
    deltas[l - 1] = multiply(upstream[l - 1], state.firstDerivatives[l - 1]);
  }
  return { deltas, upstream };
}

/** [gW_0, gb_0, gW_1, …] flattened in θ's order: gW_l = a[l]ᵀ δ_l, gb_l = colsum δ_l. inputsT[l] = a[l]ᵀ. */
export function flatGradient(inputsT: tf.Tensor2D[], deltas: tf.Tensor2D[], firstLayer = 0): tf.Tensor1D {
  const parts: tf.Tensor1D[] = [];
  for (let l = firstLayer; l < deltas.length; l++) {
    parts.push(tf.reshape(tf.matMul(inputsT[l], deltas[l]), [-1]));
    parts.push(tf.sum(deltas[l], 0));
  }
  return tf.concat(parts);
}

/** Per-chunk forward state at a fixed θ, reused by every R-operator application. */
export interface CurvatureCache {
  /** a[l] and a[l]ᵀ, l = 0..L−1. */
  inputs: tf.Tensor2D[];
  inputsT: tf.Tensor2D[];
  /** σ'(z_l), l = 0..L−2 (null ≡ 1). */
  firstDerivatives: (tf.Tensor2D | null)[];
  /** (δ_{l+1} W_{l+1}ᵀ) ⊙ σ''(z_l), l = 0..L−2 (null ≡ 0). */
  curvature: (tf.Tensor2D | null)[];
  /** δ_l, l = 0..L−1. */
  deltas: tf.Tensor2D[];
  /** What the loss's R{dL/df} needs (softmax p), or null. */
  lossSaved: tf.Tensor2D | null;
}

/**
 * R{∇L} restricted to layers first..L−1, for a direction V nonzero only there (dir.kernels[i], dir.biases[i]
 * and dirKernelsT[i] = VW_{first+i}ᵀ), flattened in θ's order. R{a[first]} = 0, so the R-forward starts
 * at layer `first`:
 *   R{z_l} = R{a[l]} W_l + a[l] VW_l + Vb_l,  R{a[l+1]} = σ'(z_l) ⊙ R{z_l}
 *   R{δ_{L−1}} = R{dL/df}(R{f})
 *   R{gW_l} = R{a[l]}ᵀ δ_l + a[l]ᵀ R{δ_l},  R{gb_l} = colsum R{δ_l}
 *   R{δ_{l−1}} = (R{δ_l} W_lᵀ + δ_l VW_lᵀ) ⊙ σ'(z_{l−1}) + (δ_l W_lᵀ) ⊙ σ''(z_{l−1}) ⊙ R{z_{l−1}}
 */
export function rOperator(
  cache: CurvatureCache,
  weights: MlpWeights,
  kernelsT: tf.Tensor2D[],
  dir: MlpWeights,
  dirKernelsT: tf.Tensor2D[],
  first: number,
  loss: LossOps,
  invN: number,
): tf.Tensor1D {
  return rOperatorFrom(cache, weights, kernelsT, dir, dirKernelsT, first, loss, invN, null, false).gradient;
}

/**
 * rOperator for an MLP that is the head of a larger network (the CNN's dense layers): its input a[0] may
 * move with θ, R{a[first]} = rInput (null: 0), and with wantInputR it also returns
 * R{dL/da[first]} = R{δ_first} W_firstᵀ + δ_first VW_firstᵀ for the layers below.
 */
export function rOperatorFrom(
  cache: CurvatureCache,
  weights: MlpWeights,
  kernelsT: tf.Tensor2D[],
  dir: MlpWeights,
  dirKernelsT: tf.Tensor2D[],
  first: number,
  loss: LossOps,
  invN: number,
  rInput: tf.Tensor2D | null,
  wantInputR: boolean,
): { gradient: tf.Tensor1D; inputR: tf.Tensor2D | null } {
  const L = weights.kernels.length;
  const V = (l: number) => dir.kernels[l - first];
  const Vb = (l: number) => dir.biases[l - first];
  const rInputs: (tf.Tensor2D | null)[] = new Array(L).fill(null);
  rInputs[first] = rInput;
  const rZ: tf.Tensor2D[] = new Array(L);
  for (let l = first; l < L; l++) {
    let rz = tf.add<tf.Tensor2D>(tf.matMul(cache.inputs[l], V(l)), Vb(l));
    const rIn = rInputs[l];
    if (rIn !== null) rz = tf.add<tf.Tensor2D>(rz, tf.matMul(rIn, weights.kernels[l]));
    rZ[l] = rz;
    if (l + 1 < L) rInputs[l + 1] = multiply(rz, cache.firstDerivatives[l]);
  }
  let rDelta = loss.rDelta(cache.lossSaved, rZ[L - 1], invN);
  let inputR: tf.Tensor2D | null = null;
  const parts: tf.Tensor1D[] = [];
  for (let l = L - 1; l >= first; l--) {
    let rgW = tf.matMul(cache.inputsT[l], rDelta);
    const rIn = rInputs[l];
    if (rIn !== null) rgW = tf.add<tf.Tensor2D>(rgW, tf.matMul(tf.transpose(rIn), cache.deltas[l]));
    parts.push(tf.sum(rDelta, 0), tf.reshape(rgW, [-1]));
    if (l > first || wantInputR) {
      const back = tf.add<tf.Tensor2D>(tf.matMul(rDelta, kernelsT[l]), tf.matMul(cache.deltas[l], dirKernelsT[l - first]));
      if (l === first) {
        inputR = back;
        break;
      }
      let next = multiply(back, cache.firstDerivatives[l - 1]);
      const curvature = cache.curvature[l - 1];
      if (curvature !== null) next = tf.add<tf.Tensor2D>(next, tf.mul(curvature, rZ[l - 1]));
      rDelta = next;
    }
  }
  return { gradient: tf.concat(parts.reverse()), inputR };
}

/**
 * The MLP in tfjs ops, by hand: forward, backward (gradient) and Pearlmutter's R-operator (exact
 * Hessian-vector product). No tfjs autodiff: its second derivatives are wrong for ops whose gradient uses
 * the op's saved output (tanh, exp, softmax, …), so the HVP is written out here.
 *
 * Layers are 0-based: the input of layer l is a[l] (a[0] = X), z_l = a[l]·W_l + b_l, a[l+1] = σ(z_l) for
 * l < L−1, and f = z_{L−1}. δ[l] = dL/dz_l.
 *
 * Costs that shape the code (wasm, measured on the 784-200-200-10 MLP at n = 2048, ms of one core): a matMul
 * whose operands are both plain (XNNPACK) runs 784×2048×200 in ~15 and 200×2048×200 in ~4; the transpose
 * flags of matMul fall back to a naive loop (~10× slower), a tf.transpose of [2048, 200] costs ~3, a Sum over
 * the rows ~3.5 (it transposes first). So: transposed products use explicit transposes, as few as possible
 * (one per layer and pass, of the narrower of a[l] and δ_l: see GradientRoute); row sums are a matMul with a
 * row of ones; XNNPACK packs a matMul's right operand once per tensor and keeps it while that tensor lives, so
 * at a fixed θ the products whose right operand is θ's or the cache's own (W_l, δ_l, a[l]) are packed once
 * for every HVP.
 *
 * On the native kernels (native/kernels.ts: OpenBLAS on the wasm heap) a transposed operand costs nothing, so
 * every weight gradient takes the 'flag' route: a[l]ᵀ δ_l as one matMul with transposeA, no transpose at all.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActivationOps } from './activations';
import type { ParameterLayout } from './layout';
import type { LossOps } from './losses';
import { transposedProductsAreFree } from './native/kernels';

export interface MlpWeights {
  kernels: tf.Tensor2D[];
  biases: tf.Tensor1D[];
}

/** The layer tensors of a flat θ (or of a direction v restricted to layers first..L−1). */
export function weightsFromFlat(layout: ParameterLayout, flat: Float32Array, firstLayer = 0, flatOffset = 0): MlpWeights {
  const kernels: tf.Tensor2D[] = [];
  const biases: tf.Tensor1D[] = [];
  // The cpu backend keeps the array it is given, and callers update θ in place: a copy (slice). The wasm
  // backend copies the values into its heap at once, so a view will do there (one θ-sized allocation less per
  // call, which V8 counts as external memory pressure: fewer full GCs).
  const copies = tf.getBackend() !== 'wasm';
  for (const slot of layout.slots) {
    if (slot.layer < firstLayer) continue;
    const start = slot.offset - flatOffset;
    const values = copies ? flat.slice(start, start + slot.size) : flat.subarray(start, start + slot.size);
    if (slot.role === 'kernel') kernels.push(tf.tensor2d(values, [slot.shape[0], slot.shape[1]]));
    else biases.push(tf.tensor1d(values));
  }
  return { kernels, biases };
}

/**
 * W_lᵀ [out, in] of the kernels of a flat θ (or direction, from layer firstLayer on, flat[0] at θ's flatOffset),
 * transposed here in JS, for the layers `wanted` says (null for the others: the MLP never needs its first
 * layer's, a block HVP never needs its first layer's either).
 */
export function transposedKernelsFromFlat(
  layout: ParameterLayout,
  flat: Float32Array,
  wanted: (layer: number) => boolean,
  firstLayer = 0,
  flatOffset = 0,
): (tf.Tensor2D | null)[] {
  const result: (tf.Tensor2D | null)[] = [];
  for (const slot of layout.slots) {
    if (slot.layer < firstLayer || slot.role !== 'kernel') continue;
    if (!wanted(slot.layer)) {
      result.push(null);
      continue;
    }
    const [rows, cols] = slot.shape;
    const start = slot.offset - flatOffset;
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = start + i * cols;
      for (let j = 0; j < cols; j++) out[j * rows + i] = flat[row + j];
    }
    result.push(tf.tensor2d(out, [cols, rows]));
  }
  return result;
}

export function disposeWeights(weights: MlpWeights): void {
  for (const t of [...weights.kernels, ...weights.biases]) t.dispose();
}

/** a·W + b in one fused op (XNNPACK adds the bias in the product on wasm). */
function dense(a: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.fused.matMul({ a, b: kernel, bias }) as tf.Tensor2D;
}

/** Σ over rows of m [n, k], as [k]: a matMul with a row of ones (a Sum over axis 0 transposes m first on wasm). */
export function columnSums(m: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, m.shape[0]]), m), [-1]);
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
    const first = act.derivative(z, a);
    firstDerivatives.push(first);
    secondDerivatives.push(withSecond ? act.secondDerivative(z, a, first) : null);
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

/** δ_{L−1} = dL/df, δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(z_{l−1}). kernelsT[l] = W_lᵀ (l ≥ 1; [0] is not read). */
export function backward(state: ForwardState, kernelsT: (tf.Tensor2D | null)[], outputDelta: tf.Tensor2D): BackwardResult {
  const L = kernelsT.length;
  const deltas: tf.Tensor2D[] = new Array(L);
  const upstream: tf.Tensor2D[] = new Array(L - 1);
  deltas[L - 1] = outputDelta;
  for (let l = L - 1; l > 0; l--) {
    upstream[l - 1] = tf.matMul(deltas[l], kernelsT[l]!);
    deltas[l - 1] = multiply(upstream[l - 1], state.firstDerivatives[l - 1]);
  }
  return { deltas, upstream };
}

/**
 * How layer l's weight gradient gW_l = a[l]ᵀ δ_l (a sum over rows) is formed: 'input' transposes a[l] [n, in]
 * and multiplies a[l]ᵀ δ_l; 'delta' transposes δ_l [n, out], multiplies δ_lᵀ a[l] and transposes that small
 * [out, in] product back. Each costs one transpose of n rows, of width in or out: the narrower wins, and a
 * layer whose a[l]ᵀ is given for free (the MLP's x, transposed once per chunk) is always 'input'. The same
 * choice serves the R-operator, whose R{gW_l} = R{a[l]}ᵀ δ_l + a[l]ᵀ R{δ_l} transposes R{a[l]} ('input') or
 * R{δ_l} ('delta') once per HVP, the cache holding a[l]ᵀ or δ_lᵀ.
 */
export type GradientRoute = 'input' | 'delta' | 'flag';

/** The routes for the active kernels: 'flag' everywhere where transposed products are free (native kernels). */
export function gradientRoutes(weights: MlpWeights, firstInputTransposed: boolean, transposedFree = transposedProductsAreFree()): GradientRoute[] {
  if (transposedFree) return weights.kernels.map(() => 'flag');
  return weights.kernels.map((w, l) => ((l === 0 && firstInputTransposed) || w.shape[0] <= w.shape[1] ? 'input' : 'delta'));
}

/** a[l]ᵀ for 'input' layers and δ_lᵀ for 'delta' ones (null otherwise). */
export interface LayerTransposes {
  inputsT: (tf.Tensor2D | null)[];
  deltasT: (tf.Tensor2D | null)[];
}

/** The transposes the routes ask for; inputT0: a[0]ᵀ when the caller has it (the chunk's xᵀ), used as is. */
export function layerTransposes(routes: GradientRoute[], inputs: tf.Tensor2D[], deltas: tf.Tensor2D[], inputT0: tf.Tensor2D | null): LayerTransposes {
  const inputsT = routes.map((route, l) => (route !== 'input' ? null : l === 0 && inputT0 !== null ? inputT0 : tf.transpose(inputs[l])));
  const deltasT = routes.map((route, l) => (route === 'delta' ? tf.transpose(deltas[l]) : null));
  return { inputsT, deltasT };
}

/** a[l]ᵀ δ_l by layer l's route. */
function weightGradient(route: GradientRoute, l: number, inputs: tf.Tensor2D[], deltas: tf.Tensor2D[], transposes: LayerTransposes): tf.Tensor2D {
  if (route === 'flag') return tf.matMul(inputs[l], deltas[l], true, false);
  return route === 'input' ? tf.matMul(transposes.inputsT[l]!, deltas[l]) : (tf.transpose(tf.matMul(transposes.deltasT[l]!, inputs[l])) as tf.Tensor2D);
}

/** [gW_0, gb_0, gW_1, …] flattened in θ's order: gW_l = a[l]ᵀ δ_l by its route, gb_l = colsum δ_l. */
export function flatGradient(routes: GradientRoute[], inputs: tf.Tensor2D[], deltas: tf.Tensor2D[], transposes: LayerTransposes): tf.Tensor1D {
  const parts: tf.Tensor1D[] = [];
  for (let l = 0; l < deltas.length; l++) {
    const gW = weightGradient(routes[l], l, inputs, deltas, transposes);
    parts.push(tf.reshape(gW, [-1]), columnSums(deltas[l]));
  }
  return tf.concat(parts);
}

/** Per-chunk forward state at a fixed θ, reused by every R-operator application. */
export interface CurvatureCache {
  routes: GradientRoute[];
  /** a[l], l = 0..L−1. */
  inputs: tf.Tensor2D[];
  /** a[l]ᵀ ('input' layers) and δ_lᵀ ('delta' layers). */
  transposes: LayerTransposes;
  /** σ'(z_l), l = 0..L−2 (null ≡ 1). */
  firstDerivatives: (tf.Tensor2D | null)[];
  /** (δ_{l+1} W_{l+1}ᵀ) ⊙ σ''(z_l), l = 0..L−2 (null ≡ 0). */
  curvature: (tf.Tensor2D | null)[];
  /** δ_l, l = 0..L−1. */
  deltas: tf.Tensor2D[];
  /** What the loss's R{dL/df} needs (softmax p), or null. */
  lossSaved: tf.Tensor2D | null;
}

/** The cache of one chunk from its forward state, backward result and transposes. */
export function curvatureCache(
  routes: GradientRoute[],
  state: ForwardState,
  back: BackwardResult,
  transposes: LayerTransposes,
  lossSaved: tf.Tensor2D | null,
): CurvatureCache {
  return {
    routes,
    inputs: state.inputs,
    transposes,
    firstDerivatives: state.firstDerivatives,
    curvature: state.secondDerivatives.map((d2, l) => (d2 === null ? null : tf.mul<tf.Tensor2D>(back.upstream[l], d2))),
    deltas: back.deltas,
    lossSaved,
  };
}

/** The tensors a cache holds, less a[0] and a[0]ᵀ when the caller owns them (the chunk's x and xᵀ). */
export function curvatureCacheTensors(cache: CurvatureCache, withInput0: boolean): tf.Tensor[] {
  const skip = withInput0 ? 0 : 1;
  const all: (tf.Tensor | null)[] = [
    ...cache.inputs.slice(skip),
    ...(withInput0 ? cache.transposes.inputsT : cache.transposes.inputsT.slice(1)),
    ...cache.transposes.deltasT,
    ...cache.firstDerivatives,
    ...cache.curvature,
    ...cache.deltas,
    cache.lossSaved,
  ];
  return all.filter((t): t is tf.Tensor => t !== null);
}

/**
 * R{∇L} restricted to layers first..L−1, for a direction V nonzero only there (dir.kernels[i], dir.biases[i]
 * and dirKernelsT[i] = VW_{first+i}ᵀ, needed for i ≥ 1), flattened in θ's order. R{a[first]} = 0, so the
 * R-forward starts at layer `first`:
 *   R{z_l} = R{a[l]} W_l + a[l] VW_l + Vb_l,  R{a[l+1]} = σ'(z_l) ⊙ R{z_l}
 *   R{δ_{L−1}} = R{dL/df}(R{f})
 *   R{gW_l} = R{a[l]}ᵀ δ_l + a[l]ᵀ R{δ_l},  R{gb_l} = colsum R{δ_l}
 *   R{δ_{l−1}} = (R{δ_l} W_lᵀ + δ_l VW_lᵀ) ⊙ σ'(z_{l−1}) + (δ_l W_lᵀ) ⊙ σ''(z_{l−1}) ⊙ R{z_{l−1}}
 */
export function rOperator(
  cache: CurvatureCache,
  weights: MlpWeights,
  kernelsT: (tf.Tensor2D | null)[],
  dir: MlpWeights,
  dirKernelsT: (tf.Tensor2D | null)[],
  first: number,
  loss: LossOps,
  invN: number,
): tf.Tensor1D {
  return rOperatorFrom(cache, weights, kernelsT, dir, dirKernelsT, first, loss, invN, null, false).gradient;
}

/**
 * rOperator for an MLP that is the head of a larger network (the CNN's dense layers): its input a[0] may
 * move with θ, R{a[first]} = rInput (null: 0), and with wantInputR it also returns
 * R{dL/da[first]} = R{δ_first} W_firstᵀ + δ_first VW_firstᵀ for the layers below (kernelsT[first] and
 * dirKernelsT[0] are then needed).
 */
export function rOperatorFrom(
  cache: CurvatureCache,
  weights: MlpWeights,
  kernelsT: (tf.Tensor2D | null)[],
  dir: MlpWeights,
  dirKernelsT: (tf.Tensor2D | null)[],
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
    let rz = dense(cache.inputs[l], V(l), Vb(l));
    const rIn = rInputs[l];
    if (rIn !== null) rz = tf.add<tf.Tensor2D>(rz, tf.matMul(rIn, weights.kernels[l]));
    rZ[l] = rz;
    if (l + 1 < L) rInputs[l + 1] = multiply(rz, cache.firstDerivatives[l]);
  }
  let rDelta = loss.rDelta(cache.lossSaved, rZ[L - 1], invN);
  let inputR: tf.Tensor2D | null = null;
  const parts: tf.Tensor1D[] = [];
  for (let l = L - 1; l >= first; l--) {
    const rIn = rInputs[l];
    let rgW: tf.Tensor2D;
    if (cache.routes[l] === 'flag') {
      rgW = tf.matMul(cache.inputs[l], rDelta, true, false);
      if (rIn !== null) rgW = tf.add(rgW, tf.matMul(rIn, cache.deltas[l], true, false));
    } else if (cache.routes[l] === 'input') {
      rgW = tf.matMul(cache.transposes.inputsT[l]!, rDelta);
      if (rIn !== null) rgW = tf.add(rgW, tf.matMul(tf.transpose(rIn), cache.deltas[l]));
    } else {
      let rgWT = tf.matMul(tf.transpose(rDelta), cache.inputs[l]);
      if (rIn !== null) rgWT = tf.add(rgWT, tf.matMul(cache.transposes.deltasT[l]!, rIn));
      rgW = tf.transpose(rgWT) as tf.Tensor2D;
    }
    parts.push(columnSums(rDelta), tf.reshape(rgW, [-1]));
    if (l > first || wantInputR) {
      const back = tf.add<tf.Tensor2D>(tf.matMul(rDelta, kernelsT[l]!), tf.matMul(cache.deltas[l], dirKernelsT[l - first]!));
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

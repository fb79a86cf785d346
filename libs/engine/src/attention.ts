/**
 * The tiny attention model (layout.ts, AttentionSpec) in tfjs ops, by hand like the MLP and the CNN: forward,
 * backward (gradient) and Pearlmutter's R-operator (exact Hessian-vector product), no tfjs autodiff.
 *
 * Rows are the n·T positions of a chunk's n sequences. h_0 = X₁E + P (X₁ the one-hot tokens). Block b maps h
 * (= h_b, [n·T, d]) to h' = h + O W_o with Q = hW_q, K = hW_k, V = hW_v, per head (split: [n·H, T, d/H])
 * S = s·QKᵀ (s = 1/√(d/H)), A = softmax(S), O = merge(AV). The readout pools h_B to u [n, d] (attention-ops.ts)
 * and is the MLP of mlp.ts on u, its dense layers being θ's last layers. With G = dL/dh' the backward pass is
 *   dW_o = Oᵀ G, dO = G W_oᵀ, dA = dO Vᵀ, dV = Aᵀ dO, dS = softmax backward, dQ = s·dS K, dK = s·dSᵀ Q,
 *   dW_{q,k,v} = hᵀ d{Q,K,V},  dL/dh = G + dQ W_qᵀ + dK W_kᵀ + dV W_vᵀ,
 * and the embedding's dE = X₁ᵀ dL/dh_0, dP = Σ_n dL/dh_0. The R-operator differentiates each line of the
 * forward and backward pass along the direction (rAttentionOperator says how); the only second-order terms
 * are the products of two θ-dependent factors and the softmax's (attention-ops.ts).
 *
 * θ's layers: 0 = embed, 1 … B = the blocks, B+1 … = the readout's dense layers (docs/architecture.md: a
 * block, its residual branch's four projections, is one layer of the k-layer approximation).
 */
import * as tf from '@tensorflow/tfjs';
import type { ActivationOps } from './activations';
import {
  embed,
  embedGradient,
  mergeHeads,
  readoutPool,
  readoutPoolAdjoint,
  rowSoftmax,
  rowSoftmaxBackward,
  rowSoftmaxBackwardR,
  rowSoftmaxR,
  splitHeads,
  type SequenceShape,
} from './attention-ops';
import { ATTENTION_PROJECTIONS, type AttentionReadout, type ParameterLayout } from './layout';
import type { LossOps } from './losses';
import {
  backward as mlpBackward,
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

/** W_q, W_k, W_v, W_o of one block, each [d, d]. */
export interface BlockWeights {
  query: tf.Tensor2D;
  key: tf.Tensor2D;
  value: tf.Tensor2D;
  output: tf.Tensor2D;
}

/**
 * The model's tensors: of θ, or of a direction v from its first layer on (the embedding null when the
 * direction starts above it, blocks[b] null for the blocks below it; head: the readout's layers it holds).
 */
export interface AttentionWeights {
  token: tf.Tensor2D | null;
  position: tf.Tensor2D | null;
  blocks: (BlockWeights | null)[];
  head: MlpWeights;
}

/** The weights and the transposes every pass needs (W_{q,k,v,o}ᵀ per block, the readout's kernels). */
export interface BoundAttentionWeights {
  weights: AttentionWeights;
  blocksT: (BlockWeights | null)[];
  headKernelsT: tf.Tensor2D[];
}


/** a·b (optionally transposed) of two matrices or two batches of matrices, typed by its operands. */
function mm<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, transposeA = false, transposeB = false): T {
  return tf.matMul(a, b, transposeA, transposeB);
}

/** The layer tensors of a flat θ (or of a direction v restricted to layers first..L−1, v[0] at θ's flatOffset). */
export function attentionWeightsFromFlat(layout: ParameterLayout, blockCount: number, flat: Float32Array, firstLayer = 0, flatOffset = 0): AttentionWeights {
  const weights: AttentionWeights = { token: null, position: null, blocks: new Array(blockCount).fill(null), head: { kernels: [], biases: [] } };
  const partial: Partial<BlockWeights>[] = Array.from({ length: blockCount }, () => ({}));
  for (const slot of layout.slots) {
    if (slot.layer < firstLayer) continue;
    const start = slot.offset - flatOffset;
    // slice() copies: the cpu backend keeps the array it is given, and callers update θ in place.
    const values = flat.slice(start, start + slot.size);
    const [layer, part] = slot.name.split('/');
    if (slot.layer === 0) {
      const table = tf.tensor2d(values, [slot.shape[0], slot.shape[1]]);
      if (part === 'token') weights.token = table;
      else weights.position = table;
    } else if (slot.layer <= blockCount) {
      if (!layer.startsWith('attn')) throw new Error(`attention layout: slot ${slot.name} is not a block's`);
      partial[slot.layer - 1][part as (typeof ATTENTION_PROJECTIONS)[number]] = tf.tensor2d(values, [slot.shape[0], slot.shape[1]]);
    } else if (slot.role === 'bias') weights.head.biases.push(tf.tensor1d(values));
    else weights.head.kernels.push(tf.tensor2d(values, [slot.shape[0], slot.shape[1]]));
  }
  partial.forEach((block, b) => {
    if (block.query !== undefined) weights.blocks[b] = block as BlockWeights;
  });
  return weights;
}

function blockTensors(block: BlockWeights | null): tf.Tensor2D[] {
  return block === null ? [] : ATTENTION_PROJECTIONS.map((p) => block[p]);
}

export function disposeAttentionWeights(weights: AttentionWeights): void {
  for (const t of [weights.token, weights.position]) t?.dispose();
  for (const block of weights.blocks) for (const t of blockTensors(block)) t.dispose();
  disposeMlpWeights(weights.head);
}

function transposeBlock(block: BlockWeights | null): BlockWeights | null {
  if (block === null) return null;
  return { query: tf.transpose(block.query), key: tf.transpose(block.key), value: tf.transpose(block.value), output: tf.transpose(block.output) };
}

/** Adds the transposed kernels to weights (θ's or a direction's). */
export function bindAttentionWeights(weights: AttentionWeights): BoundAttentionWeights {
  return { weights, blocksT: weights.blocks.map(transposeBlock), headKernelsT: weights.head.kernels.map((w) => tf.transpose(w)) };
}

export function disposeBoundAttentionWeights(bound: BoundAttentionWeights): void {
  disposeAttentionWeights(bound.weights);
  for (const block of bound.blocksT) for (const t of blockTensors(block)) t.dispose();
  for (const t of bound.headKernelsT) t.dispose();
}

/** What the passes need to know of the model besides its weights. */
export interface AttentionShape {
  sequenceLength: number;
  width: number;
  heads: number;
  readout: AttentionReadout;
}

function shapeOf(oneHot: tf.Tensor2D, shape: AttentionShape): SequenceShape {
  const T = shape.sequenceLength;
  return { n: oneHot.shape[0] / T, T, d: shape.width, heads: shape.heads };
}

/** What one block's forward pass keeps: its input, the head-split Q, K, V, the attention A and the merged O. */
export interface BlockState {
  input: tf.Tensor2D;
  q: tf.Tensor3D;
  k: tf.Tensor3D;
  v: tf.Tensor3D;
  a: tf.Tensor3D;
  o: tf.Tensor2D;
}

function blockForward(h: tf.Tensor2D, w: BlockWeights, seq: SequenceShape): { state: BlockState; out: tf.Tensor2D } {
  const scale = 1 / Math.sqrt(seq.d / seq.heads);
  const q = splitHeads(mm(h, w.query), seq);
  const k = splitHeads(mm(h, w.key), seq);
  const v = splitHeads(mm(h, w.value), seq);
  const a = rowSoftmax(tf.mul<tf.Tensor3D>(mm(q, k, false, true), scale));
  const o = mergeHeads(mm(a, v), seq);
  return { state: { input: h, q, k, v, a, o }, out: tf.add(h, mm(o, w.output)) };
}

export interface AttentionForwardState {
  seq: SequenceShape;
  /** The chunk's one-hot tokens X₁ [n·T, V]. */
  oneHot: tf.Tensor2D;
  blocks: BlockState[];
  /** The readout's state; head.inputs[0] = u. */
  head: ForwardState;
}

export function attentionForwardState(weights: AttentionWeights, act: ActivationOps, shape: AttentionShape, oneHot: tf.Tensor2D, withSecond: boolean): AttentionForwardState {
  const seq = shapeOf(oneHot, shape);
  let h = embed(oneHot, weights.token!, weights.position!, seq);
  const blocks: BlockState[] = [];
  for (const w of weights.blocks) {
    const { state, out } = blockForward(h, w!, seq);
    blocks.push(state);
    h = out;
  }
  return { seq, oneHot, blocks, head: mlpForwardState(weights.head, act, readoutPool(h, shape.readout, seq), withSecond) };
}

/** f = network output for one-hot tokens [n·T, V]. */
export function attentionForward(weights: AttentionWeights, act: ActivationOps, shape: AttentionShape, oneHot: tf.Tensor2D): tf.Tensor2D {
  const seq = shapeOf(oneHot, shape);
  let h = embed(oneHot, weights.token!, weights.position!, seq);
  for (const w of weights.blocks) h = blockForward(h, w!, seq).out;
  return mlpForward(weights.head, act, readoutPool(h, shape.readout, seq));
}

/** What one block's backward pass keeps for the R-operator. */
export interface BlockBackward {
  /** G = dL/dh' (the block's output). */
  upstream: tf.Tensor2D;
  /** dL/dO split into heads. */
  dO: tf.Tensor3D;
  /** dL/dA and its centred form, dL/dS (softmax backward). */
  dA: tf.Tensor3D;
  centred: tf.Tensor3D;
  dS: tf.Tensor3D;
  /** dL/dQ, dL/dK, dL/dV, merged [n·T, d]. */
  dQ: tf.Tensor2D;
  dK: tf.Tensor2D;
  dV: tf.Tensor2D;
}

function blockBackward(state: BlockState, wT: BlockWeights, g: tf.Tensor2D, seq: SequenceShape): { back: BlockBackward; gradInput: tf.Tensor2D } {
  const scale = 1 / Math.sqrt(seq.d / seq.heads);
  const dO = splitHeads(mm(g, wT.output), seq);
  const dA: tf.Tensor3D = mm(dO, state.v, false, true);
  const { dS, centred } = rowSoftmaxBackward(state.a, dA);
  const dQ = mergeHeads(tf.mul<tf.Tensor3D>(mm(dS, state.k), scale), seq);
  const dK = mergeHeads(tf.mul<tf.Tensor3D>(mm(dS, state.q, true, false), scale), seq);
  const dV = mergeHeads(mm(state.a, dO, true, false), seq);
  const gradInput = tf.addN<tf.Tensor2D>([g, mm(dQ, wT.query), mm(dK, wT.key), mm(dV, wT.value)]);
  return { back: { upstream: g, dO, dA, centred, dS, dQ, dK, dV }, gradInput };
}

export interface AttentionBackwardResult {
  head: BackwardResult;
  blocks: BlockBackward[];
  /** dL/dh_0. */
  embedDelta: tf.Tensor2D;
}

/** The readout's δ by mlp.backward, then dL/dh_B = poolᵀ(δ_head0 W_head0ᵀ) and the blocks from the last down. */
export function attentionBackward(state: AttentionForwardState, bound: BoundAttentionWeights, readout: AttentionReadout, outputDelta: tf.Tensor2D): AttentionBackwardResult {
  const head = mlpBackward(state.head, bound.headKernelsT, outputDelta);
  let g = readoutPoolAdjoint(mm(head.deltas[0], bound.headKernelsT[0]), readout, state.seq);
  const blocks: BlockBackward[] = new Array(state.blocks.length);
  for (let b = state.blocks.length - 1; b >= 0; b--) {
    const { back, gradInput } = blockBackward(state.blocks[b], bound.blocksT[b]!, g, state.seq);
    blocks[b] = back;
    g = gradInput;
  }
  return { head, blocks, embedDelta: g };
}

/** hᵀ·g summed over rows: the weight gradient of a product h·W. */
function weightGradient(h: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor2D {
  return mm(h, g, true, false);
}

function blockGradient(state: BlockState, back: BlockBackward): tf.Tensor1D[] {
  return [weightGradient(state.input, back.dQ), weightGradient(state.input, back.dK), weightGradient(state.input, back.dV), weightGradient(state.o, back.upstream)].map((m) =>
    tf.reshape(m, [-1]),
  );
}

/** ∇ in θ's order: dE, dP, each block's dW_q, dW_k, dW_v, dW_o, then the readout's (headGradient: mlp.flatGradient). oneHotT = X₁ᵀ. */
export function attentionFlatGradient(state: AttentionForwardState, back: AttentionBackwardResult, oneHotT: tf.Tensor2D, headGradient: tf.Tensor1D): tf.Tensor1D {
  const e = embedGradient(oneHotT, back.embedDelta, state.seq);
  return tf.concat([tf.reshape(e.token, [-1]), tf.reshape(e.position, [-1]), ...state.blocks.flatMap((s, b) => blockGradient(s, back.blocks[b])), headGradient]);
}

/** Per-chunk state at a fixed θ, reused by every R-operator application. */
export interface AttentionCurvatureCache {
  seq: SequenceShape;
  /** X₁ and X₁ᵀ: the chunk's (held by the chunk, not by the cache). */
  oneHot: tf.Tensor2D;
  oneHotT: tf.Tensor2D;
  blocks: { state: BlockState; back: BlockBackward }[];
  head: CurvatureCache;
}

/** The tensors a cache holds of its own (every block's state and backward tensors; not the chunk's X₁, X₁ᵀ, nor the head's). */
export function attentionCacheTensors(cache: AttentionCurvatureCache): tf.Tensor[] {
  return cache.blocks.flatMap(({ state, back }) => [
    state.input,
    state.q,
    state.k,
    state.v,
    state.a,
    state.o,
    back.upstream,
    back.dO,
    back.dA,
    back.centred,
    back.dS,
    back.dQ,
    back.dK,
    back.dV,
  ]);
}

/** a + b where a may be absent (a zero the R-operator skips). */
function plus<T extends tf.Tensor>(a: T | null, b: T): T {
  return a === null ? b : tf.add<T>(a, b);
}

/** What a block's R-forward keeps for its R-backward: R{h}, R{Q}, R{K}, R{V} (split), R{A}, R{O} (merged). */
interface BlockR {
  rInput: tf.Tensor2D | null;
  rq: tf.Tensor3D;
  rk: tf.Tensor3D;
  rv: tf.Tensor3D;
  rA: tf.Tensor3D;
  rO: tf.Tensor2D;
}

/**
 * R-forward of block b, whose direction is dir (R{h} = rh, null: 0):
 *   R{Q} = R{h}W_q + hṼ_q (K, V alike), R{S} = s·(R{Q}Kᵀ + QR{K}ᵀ), R{A} = softmaxR, R{O} = R{A}V + AR{V},
 *   R{h'} = R{h} + R{O}W_o + OṼ_o.
 */
function blockR(state: BlockState, w: BlockWeights, dir: BlockWeights, rh: tf.Tensor2D | null, seq: SequenceShape): { r: BlockR; rOut: tf.Tensor2D } {
  const scale = 1 / Math.sqrt(seq.d / seq.heads);
  const project = (kernel: tf.Tensor2D, dirKernel: tf.Tensor2D) => splitHeads(plus<tf.Tensor2D>(rh === null ? null : mm(rh, kernel), mm(state.input, dirKernel)), seq);
  const rq = project(w.query, dir.query);
  const rk = project(w.key, dir.key);
  const rv = project(w.value, dir.value);
  const rS = tf.mul<tf.Tensor3D>(tf.add(mm(rq, state.k, false, true), mm(state.q, rk, false, true)), scale);
  const rA = rowSoftmaxR(state.a, rS);
  const rO = mergeHeads(tf.add(mm(rA, state.v), mm(state.a, rv)), seq);
  const rY = tf.add<tf.Tensor2D>(mm(rO, w.output), mm(state.o, dir.output));
  return { r: { rInput: rh, rq, rk, rv, rA, rO }, rOut: plus(rh, rY) };
}

/**
 * R-backward of block b for rG = R{G}: its R{∇} parts in θ's order (q, k, v, o) and, with wantInput, R{dL/dh}:
 *   R{dW_o} = R{O}ᵀG + OᵀR{G},  R{dO} = R{G}W_oᵀ + GṼ_oᵀ,  R{dA} = R{dO}Vᵀ + dO R{V}ᵀ,  R{dV} = R{A}ᵀdO + AᵀR{dO},
 *   R{dS} = softmax's R-backward,  R{dQ} = s·(R{dS}K + dS R{K}),  R{dK} = s·(R{dS}ᵀQ + dSᵀR{Q}),
 *   R{dW_x} = R{h}ᵀdX + hᵀR{dX} (x = q, k, v),  R{dL/dh} = R{G} + Σ_x (R{dX}W_xᵀ + dX Ṽ_xᵀ).
 */
function blockBackwardR(
  state: BlockState,
  back: BlockBackward,
  r: BlockR,
  wT: BlockWeights,
  dirT: BlockWeights,
  rG: tf.Tensor2D,
  seq: SequenceShape,
  wantInput: boolean,
): { parts: tf.Tensor1D[]; rGradInput: tf.Tensor2D | null } {
  const scale = 1 / Math.sqrt(seq.d / seq.heads);
  const rdWo = tf.add<tf.Tensor2D>(weightGradient(r.rO, back.upstream), weightGradient(state.o, rG));
  const rdO = splitHeads(tf.add(mm(rG, wT.output), mm(back.upstream, dirT.output)), seq);
  const rdA = tf.add<tf.Tensor3D>(mm(rdO, state.v, false, true), mm(back.dO, r.rv, false, true));
  const rdV = mergeHeads(tf.add(mm(r.rA, back.dO, true, false), mm(state.a, rdO, true, false)), seq);
  const rdS = rowSoftmaxBackwardR(state.a, back.dA, back.centred, r.rA, rdA);
  const rdQ = mergeHeads(tf.mul<tf.Tensor3D>(tf.add(mm(rdS, state.k), mm(back.dS, r.rk)), scale), seq);
  const rdK = mergeHeads(tf.mul<tf.Tensor3D>(tf.add(mm(rdS, state.q, true, false), mm(back.dS, r.rq, true, false)), scale), seq);
  const projectionR = (rdX: tf.Tensor2D, dX: tf.Tensor2D) => plus(r.rInput === null ? null : weightGradient(r.rInput, dX), weightGradient(state.input, rdX));
  const parts = [projectionR(rdQ, back.dQ), projectionR(rdK, back.dK), projectionR(rdV, back.dV), rdWo].map((m) => tf.reshape(m, [-1]) as tf.Tensor1D);
  if (!wantInput) return { parts, rGradInput: null };
  const rGradInput = tf.addN<tf.Tensor2D>([
    rG,
    mm(rdQ, wT.query),
    mm(back.dQ, dirT.query),
    mm(rdK, wT.key),
    mm(back.dK, dirT.key),
    mm(rdV, wT.value),
    mm(back.dV, dirT.value),
  ]);
  return { parts, rGradInput };
}

/**
 * R{∇L} restricted to layers first..L−1 for a direction `dir` nonzero only there, flattened in θ's order.
 * first = 0: R{h_0} = X₁Ẽ + P̃; first = 1 + b (a block): R{h_b} = 0; first > B: the readout's MLP R-operator alone.
 * The R-forward runs the blocks from the first in the direction up, the readout's R-operator starts from
 * R{u} = pool(R{h_B}) and returns R{dL/du}, and the R-backward runs down to the first block (and to the
 * embedding: R{dE} = X₁ᵀR{dL/dh_0}, R{dP} = Σ_n R{dL/dh_0}; the embedding is linear in E and P).
 */
export function rAttentionOperator(
  cache: AttentionCurvatureCache,
  bound: BoundAttentionWeights,
  dir: BoundAttentionWeights,
  first: number,
  readout: AttentionReadout,
  loss: LossOps,
  invN: number,
): tf.Tensor1D {
  const { weights } = bound;
  const B = cache.blocks.length;
  if (first > B) {
    return rOperator(cache.head, weights.head, bound.headKernelsT, dir.weights.head, dir.headKernelsT, first - B - 1, loss, invN);
  }
  const { seq } = cache;
  const firstBlock = first === 0 ? 0 : first - 1;
  let rh: tf.Tensor2D | null = first === 0 ? embed(cache.oneHot, dir.weights.token!, dir.weights.position!, seq) : null;
  const rs: BlockR[] = new Array(B);
  for (let b = firstBlock; b < B; b++) {
    const { r, rOut } = blockR(cache.blocks[b].state, weights.blocks[b]!, dir.weights.blocks[b]!, rh, seq);
    rs[b] = r;
    rh = rOut;
  }
  const head = rOperatorFrom(cache.head, weights.head, bound.headKernelsT, dir.weights.head, dir.headKernelsT, 0, loss, invN, readoutPool(rh!, readout, seq), true);
  let rG = readoutPoolAdjoint(head.inputR!, readout, seq);
  const parts: tf.Tensor1D[][] = [];
  for (let b = B - 1; b >= firstBlock; b--) {
    const { state, back } = cache.blocks[b];
    const result = blockBackwardR(state, back, rs[b], bound.blocksT[b]!, dir.blocksT[b]!, rG, seq, b > firstBlock || first === 0);
    parts.push(result.parts);
    if (result.rGradInput !== null) rG = result.rGradInput;
  }
  parts.reverse();
  if (first === 0) {
    const e = embedGradient(cache.oneHotT, rG, seq);
    parts.unshift([tf.reshape(e.token, [-1]), tf.reshape(e.position, [-1])]);
  }
  return tf.concat([...parts.flat(), head.gradient]);
}

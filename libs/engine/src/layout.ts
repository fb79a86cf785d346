/**
 * The models' architectures (MLP, small CNN, tiny attention model) and the named layout of their flat parameter vector θ.
 *
 * θ holds, layer by layer, the kernel then the bias ([out]), so the parameters of the last k layers form one
 * contiguous tail of θ: the k-layer Hessian block (docs/architecture.md, "Science definitions as implemented") is a Scope, addressed by an offset and a size
 * and naming the layers it holds. The layout lists its named layers in order and the scopes are derived from
 * that list alone, so a model whose layers hold more than one kernel says what "the last k layers" are by
 * how it groups its slots into layers. A dense
 * kernel is row-major [in, out]; a conv kernel is row-major [kh, kw, c_in, c_out] (tfjs/TensorFlow's HWIO,
 * so it reshapes to the [kh·kw·c_in, c_out] matrix of its patches).
 */
import { createRng } from '@lrscape/linalg';

export type Activation = 'tanh' | 'relu' | 'gelu' | 'linear';
export type LossKind = 'mse' | 'cross_entropy';
export const ACTIVATIONS: readonly Activation[] = Object.freeze(['tanh', 'relu', 'gelu', 'linear'] as const);
export const LOSSES: readonly LossKind[] = Object.freeze(['mse', 'cross_entropy'] as const);

/** A fully connected network: hidden layers use `activation`, the last layer is linear and feeds `loss`. */
export interface MlpSpec {
  /** Optional tag; a spec without `kind` is an MLP. */
  kind?: 'mlp';
  inputDim: number;
  hidden: number[];
  outputDim: number;
  activation: Activation;
  loss: LossKind;
}

export interface ParameterSlot {
  /** '<layer>/kernel', '<layer>/bias': 'dense0/kernel', 'conv1/bias', …; an attention model's 'embed/token', 'attn0/query', … */
  name: string;
  /** 0-based index of its layer in ParameterLayout.layers. */
  layer: number;
  role: 'kernel' | 'bias';
  shape: number[];
  offset: number;
  size: number;
}

/** One layer of θ: its slots are contiguous, [offset, offset + size). */
export interface ParameterLayer {
  /** 'conv0', 'dense1', … */
  name: string;
  offset: number;
  size: number;
}

export interface ParameterLayout {
  slots: ParameterSlot[];
  /** In θ's order, input side first; the blocks of the last k layers are derived from this list. */
  layers: ParameterLayer[];
  size: number;
  /** layers.length. */
  layerCount: number;
}

/**
 * A part of θ that a Hessian operator acts on: all of θ, or the block of the last k layers' parameters
 * (the contiguous tail [offset, offset + size) of θ; `layers` names the layers it holds, input side first).
 */
export type Scope = { kind: 'full'; offset: 0; size: number } | { kind: 'block'; k: number; offset: number; size: number; layers: readonly string[] };

/** A layer's parameter tensors in θ's order; a slot is named '<layer>/<name ?? role>' (a layer with several kernels names them). */
type LayerSlots = { name: string; slots: { role: 'kernel' | 'bias'; shape: number[]; name?: string }[] };

/** The layout of named layers, each with its parameter tensors in θ's order. */
function layoutOf(layers: LayerSlots[]): ParameterLayout {
  const slots: ParameterSlot[] = [];
  const named: ParameterLayer[] = [];
  let offset = 0;
  layers.forEach((layer, index) => {
    const start = offset;
    for (const { role, shape, name } of layer.slots) {
      const size = shape.reduce((p, d) => p * d, 1);
      slots.push({ name: `${layer.name}/${name ?? role}`, layer: index, role, shape, offset, size });
      offset += size;
    }
    named.push({ name: layer.name, offset: start, size: offset - start });
  });
  return { slots, layers: named, size: offset, layerCount: named.length };
}

/** Layer widths [inputDim, ...hidden, outputDim], after checking the spec. */
export function layerWidths(spec: MlpSpec): number[] {
  const widths = [spec.inputDim, ...spec.hidden, spec.outputDim];
  for (const w of widths) {
    if (!Number.isInteger(w) || w < 1) throw new Error(`MlpSpec: layer widths must be positive integers, got [${widths.join(', ')}]`);
  }
  checkNames('MlpSpec', spec);
  return widths;
}

/** Dense layers dense0 … of the given widths, kernel [in, out] then bias [out]. */
function denseLayers(widths: number[]): LayerSlots[] {
  return widths.slice(1).map((fanOut, j) => ({
    name: `dense${j}`,
    slots: [
      { role: 'kernel' as const, shape: [widths[j], fanOut] },
      { role: 'bias' as const, shape: [fanOut] },
    ],
  }));
}

export function mlpLayout(spec: MlpSpec): ParameterLayout {
  return layoutOf(denseLayers(layerWidths(spec)));
}

/** All of θ. */
export function fullScope(layout: ParameterLayout): Scope & { kind: 'full' } {
  return { kind: 'full', offset: 0, size: layout.size };
}

/** The contiguous tail of θ holding the parameters of the last k layers. */
export function lastLayersScope(layout: ParameterLayout, k: number): Scope & { kind: 'block' } {
  const L = layout.layers.length;
  if (!Number.isInteger(k) || k < 1 || k > L) {
    throw new Error(`lastLayersScope: k must be an integer in [1, ${L}], got ${k}`);
  }
  const layers = layout.layers.slice(L - k);
  const offset = layers[0].offset;
  return { kind: 'block', k, offset, size: layout.size - offset, layers: layers.map((layer) => layer.name) };
}

/** The full scope, then the block of the last k layers for each k in kLayers, in that order. */
export function modelScopes(layout: ParameterLayout, kLayers: readonly number[]): Scope[] {
  return [fullScope(layout), ...kLayers.map((k) => lastLayersScope(layout, k))];
}

function describeScope(scope: Scope): string {
  if (scope.kind === 'full') return `full (offset ${scope.offset}, size ${scope.size})`;
  return `block k = ${scope.k} (offset ${scope.offset}, size ${scope.size}, layers ${JSON.stringify(scope.layers)})`;
}

/**
 * Throws unless `scope` is one this layout makes (fullScope or lastLayersScope, field for field): a scope
 * of another model's layout would address the wrong parameters.
 */
export function checkScope(layout: ParameterLayout, scope: Scope, what: string): void {
  const kind = (scope as { kind?: unknown } | null)?.kind;
  if (kind !== 'full' && kind !== 'block') throw new Error(`${what}: unknown scope kind '${String(kind)}' (valid: full, block)`);
  let expected: Scope;
  try {
    expected = scope.kind === 'full' ? fullScope(layout) : lastLayersScope(layout, scope.k);
  } catch (error) {
    throw new Error(`${what}: scope ${describeScope(scope)} is not one of this layout's: ${(error as Error).message}`);
  }
  const same =
    scope.offset === expected.offset &&
    scope.size === expected.size &&
    (scope.kind === 'full' ||
      (expected.kind === 'block' && Array.isArray(scope.layers) && scope.layers.length === expected.layers.length && scope.layers.every((name, i) => name === expected.layers[i])));
  if (!same) throw new Error(`${what}: scope ${describeScope(scope)} does not match this layout, whose is ${describeScope(expected)}`);
}

/**
 * A small convolutional network: each conv layer is conv (stride 1) → activation → pool (2×2, stride 2,
 * after every conv unless `pool` is 'none'), then the last feature map is flattened in (row, column, channel)
 * order (Keras' channels-last Flatten) and fed to dense layers of widths `dense` with `activation`, and a
 * last linear layer of `outputDim` feeding `loss`.
 *
 * Inputs are rows of h·w·c values, by default 'hwc' (NHWC flattened: x[n, (row·w + col)·c + channel]);
 * 'chw' reads channel planes instead (x[n, channel·h·w + row·w + col], CIFAR-10's binary order).
 * A 2×2 pool over an odd height or width drops the last row or column (TensorFlow's 'valid' pooling).
 */
export interface CnnSpec {
  kind: 'cnn';
  /** [height, width, channels]. */
  inputShape: [number, number, number];
  /** Row layout of x; default 'hwc'. */
  inputLayout?: 'hwc' | 'chw';
  conv: ConvSpec[];
  pool: Pooling;
  /** Hidden dense widths after the convolutions. */
  dense: number[];
  outputDim: number;
  activation: Activation;
  loss: LossKind;
}

export interface ConvSpec {
  filters: number;
  /** Square kernel kernelSize × kernelSize. */
  kernelSize: number;
  /** Only stride 1 is supported. */
  stride?: 1;
  /** Default 'same' (TensorFlow's: output size = input size, the odd pad row/column at the bottom/right). */
  padding?: 'same' | 'valid';
}

export type Pooling = 'avg' | 'max' | 'none';
export const POOLINGS: readonly Pooling[] = Object.freeze(['avg', 'max', 'none'] as const);

/**
 * A tiny attention model on sequences of `sequenceLength` tokens, each an integer id in [0, vocabulary) given
 * as a float value (an input row is the sequence's ids x[n, t]). h_0 = E[x_t] + P_t (token and positional
 * embeddings, [T, width]); then `blocks` self-attention blocks, each a residual branch without layer norm or
 * biases: per head j (width/heads columns each), A_j = softmax(Q_j K_jᵀ/√(width/heads)) over all T positions
 * (no mask), h_{b+1} = h_b + concat_j(A_j V_j)·W_o with Q = h_b W_q, K = h_b W_k, V = h_b W_v. The readout takes
 * h_B at position 0 ('first') or its mean over positions ('mean') and feeds dense layers of widths `dense` with
 * `activation`, then a last linear layer of `outputDim` feeding `loss`. 0 blocks: embeddings and readout only.
 */
export interface AttentionSpec {
  kind: 'attention';
  /** T: tokens per sequence (the input row's width). */
  sequenceLength: number;
  /** V: token ids are 0 … V−1. */
  vocabulary: number;
  /** d: the embedding width, the width of every block. */
  width: number;
  /** Heads per block; they split the width (d/heads columns each). */
  heads: number;
  blocks: number;
  readout: AttentionReadout;
  /** Hidden dense widths of the readout. */
  dense: number[];
  outputDim: number;
  /** Of the readout's hidden dense layers (attention itself has none besides its softmax). */
  activation: Activation;
  loss: LossKind;
}

export type AttentionReadout = 'first' | 'mean';
export const ATTENTION_READOUTS: readonly AttentionReadout[] = Object.freeze(['first', 'mean'] as const);

export type ModelSpec = MlpSpec | CnnSpec | AttentionSpec;

export function isCnnSpec(spec: ModelSpec): spec is CnnSpec {
  return spec.kind === 'cnn';
}

export function isAttentionSpec(spec: ModelSpec): spec is AttentionSpec {
  return spec.kind === 'attention';
}

/** The widths of the readout's dense layers [width, ...dense, outputDim] of an attention model, after checking the spec. */
export function attentionGeometry(spec: AttentionSpec): { headWidth: number; denseWidths: number[] } {
  const fail = (message: string): never => {
    throw new Error(`AttentionSpec: ${message}`);
  };
  const positive = (name: 'sequenceLength' | 'vocabulary' | 'width' | 'heads' | 'outputDim') => {
    const value = spec[name];
    if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive integer, got ${value}`);
  };
  for (const name of ['sequenceLength', 'vocabulary', 'width', 'heads', 'outputDim'] as const) positive(name);
  if (!Number.isInteger(spec.blocks) || spec.blocks < 0) fail(`blocks must be a non-negative integer, got ${spec.blocks}`);
  if (spec.width % spec.heads !== 0) fail(`heads = ${spec.heads} does not divide width = ${spec.width}`);
  if (!(ATTENTION_READOUTS as readonly string[]).includes(spec.readout)) fail(`unknown readout '${spec.readout}' (valid: ${ATTENTION_READOUTS.join(', ')})`);
  if (!Array.isArray(spec.dense) || !spec.dense.every((w) => Number.isInteger(w) && w >= 1)) fail(`dense must be an array of positive integers, got ${JSON.stringify(spec.dense)}`);
  checkNames('AttentionSpec', spec);
  return { headWidth: spec.width / spec.heads, denseWidths: [spec.width, ...spec.dense, spec.outputDim] };
}

/** The four [d, d] kernels of an attention block, in θ's order. */
export const ATTENTION_PROJECTIONS = Object.freeze(['query', 'key', 'value', 'output'] as const);

/**
 * An attention model's layers: 'embed' (token table [V, d], then positional table [T, d]), one layer per
 * block 'attn<b>' (its residual branch's four projections query, key, value, output, each [d, d]), then the
 * readout's dense layers. A block is one layer: the last k layers of a residual model are whole branches.
 */
function attentionLayers(spec: AttentionSpec): LayerSlots[] {
  const { denseWidths } = attentionGeometry(spec);
  const d = spec.width;
  const embed: LayerSlots = {
    name: 'embed',
    slots: [
      { role: 'kernel', name: 'token', shape: [spec.vocabulary, d] },
      { role: 'kernel', name: 'position', shape: [spec.sequenceLength, d] },
    ],
  };
  const blocks = Array.from({ length: spec.blocks }, (_, b): LayerSlots => ({
    name: `attn${b}`,
    slots: ATTENTION_PROJECTIONS.map((name) => ({ role: 'kernel' as const, name, shape: [d, d] })),
  }));
  return [embed, ...blocks, ...denseLayers(denseWidths)];
}

/** Shapes of one conv layer: input h×w×c, kernel k×k, pads, conv output and (pooled) layer output. */
export interface ConvGeometry {
  inH: number;
  inW: number;
  inC: number;
  kernel: number;
  filters: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  /** Conv output height and width (before pooling). */
  outH: number;
  outW: number;
  pool: Pooling;
  /** Layer output (after pooling; = outH, outW for 'none'). */
  pooledH: number;
  pooledW: number;
}

/** The conv layers' geometry and the dense widths [flatDim, ...dense, outputDim] of a CNN, after checking the spec. */
export function cnnGeometry(spec: CnnSpec): { convs: ConvGeometry[]; denseWidths: number[] } {
  const fail = (message: string): never => {
    throw new Error(`CnnSpec: ${message}`);
  };
  const shape = spec.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    fail(`inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`);
  }
  if (spec.inputLayout !== undefined && spec.inputLayout !== 'hwc' && spec.inputLayout !== 'chw') {
    fail(`unknown inputLayout '${spec.inputLayout}' (valid: hwc, chw)`);
  }
  if (!(POOLINGS as readonly string[]).includes(spec.pool)) fail(`unknown pool '${spec.pool}' (valid: ${POOLINGS.join(', ')})`);
  if (!Array.isArray(spec.conv) || !Array.isArray(spec.dense)) fail('conv and dense must be arrays (either may be empty)');
  checkNames('CnnSpec', spec);
  let [h, w, c] = shape;
  const convs: ConvGeometry[] = [];
  spec.conv.forEach((layer, i) => {
    const { filters, kernelSize: k } = layer;
    const padding = layer.padding ?? 'same';
    if (!Number.isInteger(filters) || filters < 1) fail(`conv[${i}].filters must be a positive integer, got ${filters}`);
    if (!Number.isInteger(k) || k < 1) fail(`conv[${i}].kernelSize must be a positive integer, got ${k}`);
    if (layer.stride !== undefined && layer.stride !== 1) fail(`conv[${i}].stride must be 1, got ${layer.stride}`);
    if (padding !== 'same' && padding !== 'valid') fail(`conv[${i}].padding must be 'same' or 'valid', got '${padding}'`);
    const [padTop, padLeft] = padding === 'same' ? [Math.floor((k - 1) / 2), Math.floor((k - 1) / 2)] : [0, 0];
    const [padBottom, padRight] = padding === 'same' ? [k - 1 - padTop, k - 1 - padLeft] : [0, 0];
    const [outH, outW] = [h + padTop + padBottom - k + 1, w + padLeft + padRight - k + 1];
    if (outH < 1 || outW < 1) fail(`conv[${i}]: a ${k}×${k} 'valid' kernel does not fit its ${h}×${w} input`);
    const [pooledH, pooledW] = spec.pool === 'none' ? [outH, outW] : [Math.floor(outH / 2), Math.floor(outW / 2)];
    if (pooledH < 1 || pooledW < 1) fail(`conv[${i}]: its ${outH}×${outW} output is too small for 2×2 pooling`);
    convs.push({ inH: h, inW: w, inC: c, kernel: k, filters, padTop, padBottom, padLeft, padRight, outH, outW, pool: spec.pool, pooledH, pooledW });
    [h, w, c] = [pooledH, pooledW, filters];
  });
  const denseWidths = [h * w * c, ...spec.dense, spec.outputDim];
  for (const width of denseWidths.slice(1)) {
    if (!Number.isInteger(width) || width < 1) fail(`dense widths and outputDim must be positive integers, got [${[...spec.dense, spec.outputDim].join(', ')}]`);
  }
  return { convs, denseWidths };
}

function checkNames(what: string, spec: { activation: Activation; loss: LossKind }): void {
  if (!(ACTIVATIONS as readonly string[]).includes(spec.activation)) {
    throw new Error(`${what}: unknown activation '${spec.activation}' (valid: ${ACTIVATIONS.join(', ')})`);
  }
  if (!(LOSSES as readonly string[]).includes(spec.loss)) {
    throw new Error(`${what}: unknown loss '${spec.loss}' (valid: ${LOSSES.join(', ')})`);
  }
}

/** Values per input row and per output row. */
export function modelDims(spec: ModelSpec): { inputDim: number; outputDim: number } {
  if (isAttentionSpec(spec)) return { inputDim: spec.sequenceLength, outputDim: spec.outputDim };
  if (isCnnSpec(spec)) {
    const [h, w, c] = spec.inputShape;
    return { inputDim: h * w * c, outputDim: spec.outputDim };
  }
  return { inputDim: spec.inputDim, outputDim: spec.outputDim };
}

/**
 * θ's layout for any model. A CNN's layers are conv0 … conv{C−1} then dense0 … dense{D} (the last one
 * the output layer), numbered 0 … C+D in that order, so the last k layers are a contiguous tail as for the MLP;
 * an attention model's are embed, attn0 … attn{B−1}, dense0 … dense{D} (attentionLayers).
 */
export function modelLayout(spec: ModelSpec): ParameterLayout {
  const kind: unknown = spec.kind;
  if (kind !== undefined && kind !== 'mlp' && kind !== 'cnn' && kind !== 'attention') {
    throw new Error(`ModelSpec: unknown kind '${String(kind)}' (valid: mlp, cnn, attention)`);
  }
  if (isAttentionSpec(spec)) return layoutOf(attentionLayers(spec));
  if (!isCnnSpec(spec)) return mlpLayout(spec);
  const { convs, denseWidths } = cnnGeometry(spec);
  const conv = convs.map((g, i) => ({
    name: `conv${i}`,
    slots: [
      { role: 'kernel' as const, shape: [g.kernel, g.kernel, g.inC, g.filters] },
      { role: 'bias' as const, shape: [g.filters] },
    ],
  }));
  return layoutOf([...conv, ...denseLayers(denseWidths)]);
}

/**
 * LeCun-uniform initialisation: kernels U(−√(3/fan_in), +√(3/fan_in)) (variance 1/fan_in), biases zero;
 * fan_in = in for a dense kernel [in, out], kh·kw·c_in for a conv kernel [kh, kw, c_in, c_out], and the rows
 * of an attention model's tables and projections alike: V for the token table [V, d] (a dense layer on the
 * one-hot token), T for the positional one [T, d], d for each [d, d] projection.
 * Draws follow θ's order, so a seed fixes θ_0 bit for bit.
 */
export function initModelParameters(spec: ModelSpec, seed: number): Float32Array {
  const layout = modelLayout(spec);
  const rng = createRng(seed);
  const theta = new Float32Array(layout.size);
  for (const slot of layout.slots) {
    if (slot.role !== 'kernel') continue;
    const fanIn = slot.size / slot.shape[slot.shape.length - 1];
    const limit = Math.sqrt(3 / fanIn);
    for (let i = 0; i < slot.size; i++) theta[slot.offset + i] = (2 * rng.uniform() - 1) * limit;
  }
  return theta;
}

/** {@link initModelParameters} for an MLP (the same draws). */
export function initMlpParameters(spec: MlpSpec, seed: number): Float32Array {
  return initModelParameters(spec, seed);
}

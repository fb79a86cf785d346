/**
 * What the objective (objective.ts) needs from a model kind, so that it handles chunks, sums and the
 * curvature state once for every kind: the model's input tensor for rows x, and at a bound θ the forward
 * pass, loss + gradient, the per-chunk curvature cache and the R-operator on it.
 */
import * as tf from '@tensorflow/tfjs';
import { activationOps, type ActivationOps } from './activations';
import {
  attentionBackward,
  attentionCacheTensors,
  attentionFlatGradient,
  attentionForward,
  attentionForwardState,
  attentionWeightsFromFlat,
  bindAttentionWeights,
  disposeBoundAttentionWeights,
  rAttentionOperator,
  type AttentionCurvatureCache,
  type AttentionShape,
  type BoundAttentionWeights,
} from './attention';
import { oneHotTokens } from './attention-ops';
import {
  bindCnnWeights,
  cnnBackward,
  cnnFlatGradient,
  cnnForward,
  cnnForwardState,
  cnnROperator,
  cnnWeightsFromFlat,
  disposeBoundCnnWeights,
  type BoundCnnWeights,
  type CnnCurvatureCache,
} from './cnn';
import {
  cnnGeometry,
  isAttentionSpec,
  isCnnSpec,
  modelDims,
  modelLayout,
  type AttentionSpec,
  type CnnSpec,
  type ConvGeometry,
  type MlpSpec,
  type ModelSpec,
  type ParameterLayout,
} from './layout';
import { lossOps, type LossOps } from './losses';
import {
  backward,
  curvatureCache,
  curvatureCacheTensors,
  disposeWeights,
  flatGradient,
  forward,
  forwardState,
  gradientRoutes,
  layerTransposes,
  rOperator,
  transposedKernelsFromFlat,
  weightsFromFlat,
  type CurvatureCache,
  type MlpWeights,
} from './mlp';

/** A direction of the MLP: its layer tensors and VW_lᵀ (null where not needed). */
interface MlpDirection {
  weights: MlpWeights;
  kernelsT: (tf.Tensor2D | null)[];
}

/** One chunk's input: the model's input tensor, and θ-independent tensors its backward pass reuses (the MLP's xᵀ). */
export interface ModelInput {
  x: tf.Tensor;
  /** Built on first need by Model.backwardInput, outside any tidy; null until then or when the model has none. */
  xT: tf.Tensor | null;
}

/** f, the chunk's loss sum and its share of ∇L (θ's order). */
export interface ChunkGradient {
  f: tf.Tensor2D;
  lossSum: tf.Scalar;
  gradient: tf.Tensor1D;
}

/**
 * A model at a fixed θ. Every method that returns tensors is called inside tf.tidy by the objective, which
 * keeps what it needs. The type parameters pair a cache and a direction with the model that made them.
 */
export interface BoundModel<Cache = unknown, Direction = unknown> {
  /** f = network output for one chunk. */
  forward(input: ModelInput): tf.Tensor2D;
  lossAndGradient(input: ModelInput, y: tf.Tensor2D, invN: number): ChunkGradient;
  /**
   * The chunk's curvature cache and the tensors made for it (the caller keeps them; the input's are not among
   * them); withGradient: also the chunk's ChunkGradient, from the same forward and backward pass.
   */
  curvature(input: ModelInput, y: tf.Tensor2D, invN: number, withGradient: boolean): { cache: Cache; tensors: tf.Tensor[]; gradient: ChunkGradient | null };
  /** A direction v (length of the block of layers first..L−1, v[0] at θ's offset) as the model's tensors; not in a tidy. */
  direction(v: Float32Array, first: number, offset: number): Direction;
  disposeDirection(direction: Direction): void;
  /** H_block·v on one chunk for a direction of the block from layer `first`. */
  rOperator(cache: Cache, direction: Direction, first: number, invN: number): tf.Tensor1D;
  dispose(): void;
}

export interface Model {
  readonly layout: ParameterLayout;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly loss: LossOps;
  /** The model's input tensor for rows x [n, inputDim]; may return x itself. */
  input(x: tf.Tensor2D): tf.Tensor;
  /** The θ-independent tensor a backward pass reuses for a chunk input, or null (built once per chunk). */
  backwardInput(x: tf.Tensor): tf.Tensor | null;
  /** The model at θ (copies θ: later changes to the array do not reach it). */
  bind(theta: Float32Array): BoundModel;
}

export function createModel(spec: ModelSpec): Model {
  if (isAttentionSpec(spec)) return new AttentionModel(spec);
  return isCnnSpec(spec) ? new CnnModel(spec) : new MlpModel(spec);
}

function notNull<T>(t: T | null): t is T {
  return t !== null;
}

class MlpModel implements Model {
  readonly layout: ParameterLayout;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly loss: LossOps;
  private readonly act: ActivationOps;

  constructor(spec: MlpSpec) {
    this.layout = modelLayout(spec);
    ({ inputDim: this.inputDim, outputDim: this.outputDim } = modelDims(spec));
    this.act = activationOps(spec.activation);
    this.loss = lossOps(spec.loss);
  }

  input(x: tf.Tensor2D): tf.Tensor {
    return x;
  }

  backwardInput(x: tf.Tensor): tf.Tensor {
    return tf.transpose(x);
  }

  bind(theta: Float32Array): BoundModel<CurvatureCache, MlpDirection> {
    const { layout, act, loss } = this;
    const weights = weightsFromFlat(layout, theta);
    // W_lᵀ for the backward pass and the R-operator's; W_0ᵀ is never needed (nothing flows below x).
    const kernelsT = transposedKernelsFromFlat(layout, theta, (l) => l > 0);
    const routes = gradientRoutes(weights, true);
    const pass = (input: ModelInput, y: tf.Tensor2D, invN: number, withSecond: boolean) => {
      const state = forwardState(weights, act, input.x as tf.Tensor2D, withSecond);
      const output = loss.outputState(state.f, y, invN);
      const back = backward(state, kernelsT, output.delta);
      const transposes = layerTransposes(routes, state.inputs, back.deltas, input.xT as tf.Tensor2D);
      return { state, output, back, transposes };
    };
    const chunkGradient = ({ state, output, back, transposes }: ReturnType<typeof pass>): ChunkGradient => ({
      f: state.f,
      lossSum: output.lossSum,
      gradient: flatGradient(routes, state.inputs, back.deltas, transposes),
    });
    return {
      forward: (input) => forward(weights, act, input.x as tf.Tensor2D),
      lossAndGradient: (input, y, invN) => chunkGradient(pass(input, y, invN, false)),
      curvature(input, y, invN, withGradient) {
        const result = pass(input, y, invN, true);
        const cache = curvatureCache(routes, result.state, result.back, result.transposes, result.output.saved);
        return { cache, tensors: curvatureCacheTensors(cache, false), gradient: withGradient ? chunkGradient(result) : null };
      },
      direction(v, first, offset) {
        // VW_lᵀ is needed for the layers after the block's first.
        return { weights: weightsFromFlat(layout, v, first, offset), kernelsT: transposedKernelsFromFlat(layout, v, (l) => l > first, first, offset) };
      },
      disposeDirection(dir) {
        disposeWeights(dir.weights);
        for (const t of dir.kernelsT) t?.dispose();
      },
      rOperator: (cache, dir, first, invN) => rOperator(cache, weights, kernelsT, dir.weights, dir.kernelsT, first, loss, invN),
      dispose() {
        disposeWeights(weights);
        for (const t of kernelsT) t?.dispose();
      },
    };
  }
}

class CnnModel implements Model {
  readonly layout: ParameterLayout;
  readonly inputDim: number;
  readonly outputDim: number;
  private readonly spec: CnnSpec;
  private readonly convs: ConvGeometry[];
  readonly loss: LossOps;
  private readonly act: ActivationOps;

  constructor(spec: CnnSpec) {
    this.layout = modelLayout(spec);
    this.spec = { ...spec, inputShape: [...spec.inputShape], conv: spec.conv.map((c) => ({ ...c })), dense: [...spec.dense] };
    ({ inputDim: this.inputDim, outputDim: this.outputDim } = modelDims(spec));
    this.convs = cnnGeometry(spec).convs;
    this.act = activationOps(spec.activation);
    this.loss = lossOps(spec.loss);
  }

  /** NHWC [n, h, w, c]: a reshape of 'hwc' rows, a transpose of 'chw' ones. */
  input(x: tf.Tensor2D): tf.Tensor {
    const [h, w, c] = this.spec.inputShape;
    const n = x.shape[0];
    if (this.spec.inputLayout === 'chw') return tf.tidy(() => tf.transpose(tf.reshape(x, [n, c, h, w]), [0, 2, 3, 1]));
    return tf.reshape(x, [n, h, w, c]);
  }

  backwardInput(): null {
    return null;
  }

  bind(theta: Float32Array): BoundModel<CnnCurvatureCache, BoundCnnWeights> {
    const { layout, convs, act, loss } = this;
    const C = convs.length;
    const bound = bindCnnWeights(cnnWeightsFromFlat(layout, C, theta));
    const { weights } = bound;
    // The head's first input is the flattened last feature map (made per pass, never given transposed).
    const routes = gradientRoutes(weights.head, false);
    const pass = (input: ModelInput, y: tf.Tensor2D, invN: number, withSecond: boolean) => {
      const state = cnnForwardState(weights, act, convs, input.x as tf.Tensor4D, withSecond);
      const output = loss.outputState(state.head.f, y, invN);
      const back = cnnBackward(state, bound, convs, output.delta);
      const transposes = layerTransposes(routes, state.head.inputs, back.head.deltas, null);
      return { state, output, back, transposes };
    };
    const chunkGradient = ({ state, output, back, transposes }: ReturnType<typeof pass>): ChunkGradient => ({
      f: state.head.f,
      lossSum: output.lossSum,
      gradient: cnnFlatGradient(
        state.convs.map((layer) => layer.input),
        back.convDeltas,
        convs,
        flatGradient(routes, state.head.inputs, back.head.deltas, transposes),
      ),
    });
    return {
      forward: (input) => cnnForward(weights, act, convs, input.x as tf.Tensor4D),
      lossAndGradient: (input, y, invN) => chunkGradient(pass(input, y, invN, false)),
      curvature(input, y, invN, withGradient) {
        const result = pass(input, y, invN, true);
        const { state, back } = result;
        const head = curvatureCache(routes, state.head, back.head, result.transposes, result.output.saved);
        const cache: CnnCurvatureCache = {
          convs: state.convs.map((layer, i) => ({
            input: layer.input,
            firstDerivative: layer.firstDerivative,
            curvature: layer.secondDerivative === null ? null : tf.mul<tf.Tensor4D>(back.convUpstream[i], layer.secondDerivative),
            delta: back.convDeltas[i],
            routing: layer.routing,
          })),
          head,
        };
        const tensors = [
          ...cache.convs.slice(1).map((layer) => layer.input),
          ...cache.convs.flatMap((layer) => [layer.firstDerivative, layer.curvature, layer.delta, layer.routing.weights]),
          ...curvatureCacheTensors(head, true),
        ].filter(notNull);
        return { cache, tensors, gradient: withGradient ? chunkGradient(result) : null };
      },
      direction: (v, first, offset) => bindCnnWeights(cnnWeightsFromFlat(layout, C, v, first, offset)),
      disposeDirection: (dir) => disposeBoundCnnWeights(dir),
      rOperator: (cache, dir, first, invN) => cnnROperator(cache, bound, dir, first, convs, loss, invN),
      dispose: () => disposeBoundCnnWeights(bound),
    };
  }
}

class AttentionModel implements Model {
  readonly layout: ParameterLayout;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly loss: LossOps;
  private readonly act: ActivationOps;
  private readonly shape: AttentionShape;
  private readonly vocabulary: number;
  private readonly blocks: number;

  constructor(spec: AttentionSpec) {
    this.layout = modelLayout(spec);
    ({ inputDim: this.inputDim, outputDim: this.outputDim } = modelDims(spec));
    this.shape = { sequenceLength: spec.sequenceLength, width: spec.width, heads: spec.heads, readout: spec.readout };
    this.vocabulary = spec.vocabulary;
    this.blocks = spec.blocks;
    this.act = activationOps(spec.activation);
    this.loss = lossOps(spec.loss);
  }

  /** The one-hot tokens X₁ [n·T, V] of rows of token ids [n, T]. */
  input(x: tf.Tensor2D): tf.Tensor {
    return oneHotTokens(x, this.vocabulary);
  }

  /** X₁ᵀ [V, n·T], for the token table's gradient. */
  backwardInput(x: tf.Tensor): tf.Tensor {
    return tf.transpose(x);
  }

  bind(theta: Float32Array): BoundModel<AttentionCurvatureCache, BoundAttentionWeights> {
    const { layout, act, loss, shape, blocks } = this;
    const bound = bindAttentionWeights(attentionWeightsFromFlat(layout, blocks, theta));
    const { weights } = bound;
    // The readout's first input is the pooled h_B (made per pass, never given transposed).
    const routes = gradientRoutes(weights.head, false);
    const pass = (input: ModelInput, y: tf.Tensor2D, invN: number, withSecond: boolean) => {
      const state = attentionForwardState(weights, act, shape, input.x as tf.Tensor2D, withSecond);
      const output = loss.outputState(state.head.f, y, invN);
      const back = attentionBackward(state, bound, shape.readout, output.delta);
      const transposes = layerTransposes(routes, state.head.inputs, back.head.deltas, null);
      return { state, output, back, transposes };
    };
    const chunkGradient = (input: ModelInput, { state, output, back, transposes }: ReturnType<typeof pass>): ChunkGradient => ({
      f: state.head.f,
      lossSum: output.lossSum,
      gradient: attentionFlatGradient(state, back, input.xT as tf.Tensor2D, flatGradient(routes, state.head.inputs, back.head.deltas, transposes)),
    });
    return {
      forward: (input) => attentionForward(weights, act, shape, input.x as tf.Tensor2D),
      lossAndGradient: (input, y, invN) => chunkGradient(input, pass(input, y, invN, false)),
      curvature(input, y, invN, withGradient) {
        const result = pass(input, y, invN, true);
        const { state, back } = result;
        const cache: AttentionCurvatureCache = {
          seq: state.seq,
          oneHot: input.x as tf.Tensor2D,
          oneHotT: input.xT as tf.Tensor2D,
          blocks: state.blocks.map((block, b) => ({ state: block, back: back.blocks[b] })),
          head: curvatureCache(routes, state.head, back.head, result.transposes, result.output.saved),
        };
        // A block's input h_0 is made per pass (embed), so every block tensor is the cache's own.
        const tensors = [...attentionCacheTensors(cache), ...curvatureCacheTensors(cache.head, true)];
        return { cache, tensors, gradient: withGradient ? chunkGradient(input, result) : null };
      },
      direction: (v, first, offset) => bindAttentionWeights(attentionWeightsFromFlat(layout, blocks, v, first, offset)),
      disposeDirection: (dir) => disposeBoundAttentionWeights(dir),
      rOperator: (cache, dir, first, invN) => rAttentionOperator(cache, bound, dir, first, shape.readout, loss, invN),
      dispose: () => disposeBoundAttentionWeights(bound),
    };
  }
}

/**
 * What the objective (objective.ts) needs from a model kind, so that it handles chunks, sums and the
 * curvature state once for every kind: the model's input tensor for rows x, and at a bound θ the forward
 * pass, loss + gradient, the per-chunk curvature cache and the R-operator on it.
 */
import * as tf from '@tensorflow/tfjs';
import { activationOps, type ActivationOps } from './activations';
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
import { cnnGeometry, isCnnSpec, modelDims, modelLayout, type CnnSpec, type ConvGeometry, type MlpSpec, type ModelSpec, type ParameterLayout } from './layout';
import { lossOps, type LossOps } from './losses';
import { backward, disposeWeights, flatGradient, forward, forwardState, rOperator, weightsFromFlat, type CurvatureCache, type ForwardState, type MlpWeights } from './mlp';

/** One chunk's input: the model's input tensor, and θ-independent tensors its backward pass reuses (the MLP's xᵀ). */
export interface ModelInput {
  x: tf.Tensor;
  /** Built on first need by Model.backwardInput, outside any tidy; null until then or when the model has none. */
  xT: tf.Tensor | null;
}

/**
 * A model at a fixed θ. Every method that returns tensors is called inside tf.tidy by the objective, which
 * keeps what it needs. The type parameters pair a cache and a direction with the model that made them.
 */
export interface BoundModel<Cache = unknown, Direction = unknown> {
  /** f = network output for one chunk. */
  forward(input: ModelInput): tf.Tensor2D;
  /** f, the chunk's loss sum and its share of ∇L (θ's order). */
  lossAndGradient(input: ModelInput, y: tf.Tensor2D, invN: number): { f: tf.Tensor2D; lossSum: tf.Scalar; gradient: tf.Tensor1D };
  /** The chunk's curvature cache and the tensors made for it (the caller keeps them; the input's are not among them). */
  curvature(input: ModelInput, y: tf.Tensor2D, invN: number): { cache: Cache; tensors: tf.Tensor[] };
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

  bind(theta: Float32Array): BoundModel<CurvatureCache, { weights: MlpWeights; kernelsT: tf.Tensor2D[] }> {
    const { layout, act, loss } = this;
    const weights = weightsFromFlat(layout, theta);
    const kernelsT = weights.kernels.map((w) => tf.transpose(w));
    const inputsT = (input: ModelInput, state: ForwardState) => [input.xT as tf.Tensor2D, ...state.inputs.slice(1).map((a) => tf.transpose(a))];
    return {
      forward: (input) => forward(weights, act, input.x as tf.Tensor2D),
      lossAndGradient(input, y, invN) {
        const state = forwardState(weights, act, input.x as tf.Tensor2D, false);
        const output = loss.outputState(state.f, y, invN);
        const { deltas } = backward(state, kernelsT, output.delta);
        return { f: state.f, lossSum: output.lossSum, gradient: flatGradient(inputsT(input, state), deltas) };
      },
      curvature(input, y, invN) {
        const state = forwardState(weights, act, input.x as tf.Tensor2D, true);
        const output = loss.outputState(state.f, y, invN);
        const { deltas, upstream } = backward(state, kernelsT, output.delta);
        const cache: CurvatureCache = {
          inputs: state.inputs,
          inputsT: inputsT(input, state),
          firstDerivatives: state.firstDerivatives,
          curvature: state.secondDerivatives.map((d2, l) => (d2 === null ? null : tf.mul<tf.Tensor2D>(upstream[l], d2))),
          deltas,
          lossSaved: output.saved,
        };
        const tensors = [
          ...cache.inputs.slice(1),
          ...cache.inputsT.slice(1),
          ...cache.firstDerivatives,
          ...cache.curvature,
          ...cache.deltas,
          cache.lossSaved,
        ].filter(notNull);
        return { cache, tensors };
      },
      direction(v, first, offset) {
        const dir = weightsFromFlat(layout, v, first, offset);
        return { weights: dir, kernelsT: dir.kernels.map((w) => tf.transpose(w)) };
      },
      disposeDirection(dir) {
        disposeWeights(dir.weights);
        for (const t of dir.kernelsT) t.dispose();
      },
      rOperator: (cache, dir, first, invN) => rOperator(cache, weights, kernelsT, dir.weights, dir.kernelsT, first, loss, invN),
      dispose() {
        disposeWeights(weights);
        for (const t of kernelsT) t.dispose();
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
    return {
      forward: (input) => cnnForward(weights, act, convs, input.x as tf.Tensor4D),
      lossAndGradient(input, y, invN) {
        const state = cnnForwardState(weights, act, convs, input.x as tf.Tensor4D, false);
        const output = loss.outputState(state.head.f, y, invN);
        const back = cnnBackward(state, bound, convs, output.delta);
        const headInputsT = state.head.inputs.map((a) => tf.transpose(a));
        const inputs = state.convs.map((layer) => layer.input);
        return { f: state.head.f, lossSum: output.lossSum, gradient: cnnFlatGradient(inputs, back.convDeltas, convs, headInputsT, back.head.deltas) };
      },
      curvature(input, y, invN) {
        const state = cnnForwardState(weights, act, convs, input.x as tf.Tensor4D, true);
        const output = loss.outputState(state.head.f, y, invN);
        const back = cnnBackward(state, bound, convs, output.delta);
        const head: CurvatureCache = {
          inputs: state.head.inputs,
          inputsT: state.head.inputs.map((a) => tf.transpose(a)),
          firstDerivatives: state.head.firstDerivatives,
          curvature: state.head.secondDerivatives.map((d2, l) => (d2 === null ? null : tf.mul<tf.Tensor2D>(back.head.upstream[l], d2))),
          deltas: back.head.deltas,
          lossSaved: output.saved,
        };
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
          ...head.inputs,
          ...head.inputsT,
          ...head.firstDerivatives,
          ...head.curvature,
          ...head.deltas,
          head.lossSaved,
        ].filter(notNull);
        return { cache, tensors };
      },
      direction: (v, first, offset) => bindCnnWeights(cnnWeightsFromFlat(layout, C, v, first, offset)),
      disposeDirection: (dir) => disposeBoundCnnWeights(dir),
      rOperator: (cache, dir, first, invN) => cnnROperator(cache, bound, dir, first, convs, loss, invN),
      dispose: () => disposeBoundCnnWeights(bound),
    };
  }
}

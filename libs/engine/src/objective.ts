/**
 * The full-batch objective of an MLP on a fixed batch: L(θ), ∇L(θ), outputs, and at a fixed θ a
 * curvature state whose HVPs (full, or the block of the last k layers) feed Lanczos in linalg.
 *
 * The batch is held in row chunks (option chunkSize) so memory stays bounded; each chunk's sums are read
 * back and added in float64 in JS, so the chunking changes results only by float32 rounding inside chunks.
 */
import * as tf from '@tensorflow/tfjs';
import { activationOps, type ActivationOps } from './activations';
import { lastLayersBlock, mlpLayout, type MlpSpec, type ParameterLayout } from './layout';
import { lossOps, type LossOps } from './losses';
import {
  backward,
  disposeWeights,
  flatGradient,
  forward,
  forwardState,
  rOperator,
  weightsFromFlat,
  type CurvatureCache,
  type MlpWeights,
} from './mlp';
import { checkBatch, type Batch } from './batch';

export type { Batch } from './batch';

/** accuracy: share of rows with argmax f = label (labels given, or argmax y when outputDim > 1), else null. */
export interface Evaluation {
  loss: number;
  accuracy: number | null;
}

/** The curvature of L at one θ; holds tensors until dispose(). */
export interface CurvatureState {
  /** Number of parameters P. */
  readonly size: number;
  /** H·v, v of length P. */
  hvp(v: Float64Array): Promise<Float64Array>;
  /** H_kk·v for the Hessian block of the last k layers' parameters (v of that block's length). */
  blockHvp(k: number): (v: Float64Array) => Promise<Float64Array>;
  /** HVP applications so far (full and block). */
  readonly hvpCount: number;
  dispose(): void;
}

export const DEFAULT_CHUNK_SIZE = 4096;

interface Chunk {
  rows: number;
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  labels: tf.Tensor1D | null;
  /** xᵀ, built on the first gradient or curvature use. */
  xT: tf.Tensor2D | null;
}

/** Class per row: the given labels, else argmax of y when outputDim > 1, else none. */
function classLabels(spec: MlpSpec, batch: Batch): Int32Array | null {
  if (batch.labels !== undefined) return batch.labels;
  if (spec.outputDim <= 1) return null;
  const labels = new Int32Array(batch.n);
  for (let n = 0; n < batch.n; n++) {
    let best = 0;
    for (let c = 1; c < spec.outputDim; c++) {
      if (batch.y[n * spec.outputDim + c] > batch.y[n * spec.outputDim + best]) best = c;
    }
    labels[n] = best;
  }
  return labels;
}

export class MlpObjective {
  readonly layout: ParameterLayout;
  private readonly spec: MlpSpec;
  private readonly act: ActivationOps;
  private readonly loss: LossOps;
  private readonly n: number;
  private readonly chunkSize: number;
  private readonly hasLabels: boolean;
  private chunks: Chunk[];
  private disposed = false;

  constructor(spec: MlpSpec, batch: Batch, options: { chunkSize?: number } = {}) {
    this.layout = mlpLayout(spec);
    checkBatch(spec, batch);
    this.spec = { ...spec, hidden: [...spec.hidden] };
    this.act = activationOps(spec.activation);
    this.loss = lossOps(spec.loss);
    this.n = batch.n;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) {
      throw new Error(`MlpObjective: chunkSize must be a positive integer, got ${options.chunkSize}`);
    }
    const labels = classLabels(spec, batch);
    this.hasLabels = labels !== null;
    this.chunks = [];
    const { inputDim, outputDim } = spec;
    for (let start = 0; start < batch.n; start += this.chunkSize) {
      const end = Math.min(batch.n, start + this.chunkSize);
      const rows = end - start;
      // slice() copies: a backend may keep the array it is given, and the caller's arrays stay theirs.
      this.chunks.push({
        rows,
        x: tf.tensor2d(batch.x.slice(start * inputDim, end * inputDim), [rows, inputDim]),
        y: tf.tensor2d(batch.y.slice(start * outputDim, end * outputDim), [rows, outputDim]),
        labels: labels === null ? null : tf.tensor1d(labels.slice(start, end), 'int32'),
        xT: null,
      });
    }
  }

  private live(): void {
    if (this.disposed) throw new Error('MlpObjective used after dispose()');
  }

  private weights(theta: Float32Array): MlpWeights {
    if (theta.length !== this.layout.size) {
      throw new Error(`θ has ${theta.length} entries, the layout has ${this.layout.size}`);
    }
    return weightsFromFlat(this.layout, theta);
  }

  private transposedInputs(chunk: Chunk): tf.Tensor2D {
    if (chunk.xT === null) chunk.xT = tf.transpose(chunk.x);
    return chunk.xT;
  }

  /** [lossSum] or [lossSum, correct] for one chunk. */
  private stats(f: tf.Tensor2D, lossSum: tf.Scalar, chunk: Chunk): tf.Tensor1D {
    if (chunk.labels === null) return tf.reshape(lossSum, [1]);
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(f, 1), chunk.labels), 'float32'));
    return tf.stack([lossSum, correct]) as tf.Tensor1D;
  }

  private evaluation(lossSum: number, correct: number): Evaluation {
    return { loss: lossSum / this.n, accuracy: this.hasLabels ? correct / this.n : null };
  }

  async evaluate(theta: Float32Array): Promise<Evaluation> {
    this.live();
    const weights = this.weights(theta);
    try {
      let lossSum = 0;
      let correct = 0;
      for (const chunk of this.chunks) {
        const out = tf.tidy(() => {
          const f = forward(weights, this.act, chunk.x);
          return this.stats(f, this.loss.lossSum(f, chunk.y), chunk);
        });
        const values = await out.data();
        out.dispose();
        lossSum += values[0];
        correct += values[1] ?? 0;
      }
      return this.evaluation(lossSum, correct);
    } finally {
      disposeWeights(weights);
    }
  }

  async lossAndGradient(theta: Float32Array): Promise<Evaluation & { gradient: Float32Array }> {
    this.live();
    const P = this.layout.size;
    const weights = this.weights(theta);
    const kernelsT = weights.kernels.map((w) => tf.transpose(w));
    const invN = 1 / this.n;
    try {
      const gradient = new Float64Array(P);
      let lossSum = 0;
      let correct = 0;
      for (const chunk of this.chunks) {
        const xT = this.transposedInputs(chunk);
        const out = tf.tidy(() => {
          const state = forwardState(weights, this.act, chunk.x, false);
          const output = this.loss.outputState(state.f, chunk.y, invN);
          const { deltas } = backward(state, kernelsT, output.delta);
          const inputsT = [xT, ...state.inputs.slice(1).map((a) => tf.transpose(a))];
          return tf.concat([flatGradient(inputsT, deltas), this.stats(state.f, output.lossSum, chunk)]);
        });
        const values = await out.data();
        out.dispose();
        for (let i = 0; i < P; i++) gradient[i] += values[i];
        lossSum += values[P];
        correct += values[P + 1] ?? 0;
      }
      return { ...this.evaluation(lossSum, correct), gradient: Float32Array.from(gradient) };
    } finally {
      disposeWeights(weights);
      for (const t of kernelsT) t.dispose();
    }
  }

  /** Network outputs f, n×outputDim row-major, for the objective's batch or for rows x. */
  async outputs(theta: Float32Array, x?: Float32Array, n?: number): Promise<Float32Array> {
    this.live();
    const { inputDim, outputDim } = this.spec;
    const rowsTotal = x === undefined ? this.n : (n ?? x.length / inputDim);
    if (x !== undefined && (!Number.isInteger(rowsTotal) || rowsTotal < 0 || x.length !== rowsTotal * inputDim)) {
      throw new Error(`outputs: x has ${x.length} values, not n·inputDim for n = ${rowsTotal}, inputDim = ${inputDim}`);
    }
    const weights = this.weights(theta);
    // The objective's own chunks, or chunks of x made here (and freed here).
    const inputs: { x: tf.Tensor2D; owned: boolean }[] = [];
    try {
      if (x === undefined) for (const chunk of this.chunks) inputs.push({ x: chunk.x, owned: false });
      else {
        for (let start = 0; start < rowsTotal; start += this.chunkSize) {
          const end = Math.min(rowsTotal, start + this.chunkSize);
          inputs.push({ x: tf.tensor2d(x.slice(start * inputDim, end * inputDim), [end - start, inputDim]), owned: true });
        }
      }
      const result = new Float32Array(rowsTotal * outputDim);
      let offset = 0;
      for (const input of inputs) {
        const f = tf.tidy(() => forward(weights, this.act, input.x));
        const values = await f.data();
        f.dispose();
        result.set(values, offset);
        offset += values.length;
      }
      return result;
    } finally {
      disposeWeights(weights);
      for (const input of inputs) if (input.owned) input.x.dispose();
    }
  }

  /**
   * The forward and backward state at θ, per chunk, kept for exact HVPs by the R-operator. Uses the
   * objective's data tensors: dispose the state before the objective.
   */
  async curvatureAt(theta: Float32Array): Promise<CurvatureState> {
    this.live();
    const weights = this.weights(theta);
    const kernelsT = weights.kernels.map((w) => tf.transpose(w));
    const owned: tf.Tensor[] = [...weights.kernels, ...weights.biases, ...kernelsT];
    const caches: CurvatureCache[] = [];
    const invN = 1 / this.n;
    try {
      this.buildCaches(weights, kernelsT, invN, caches, owned);
    } catch (error) {
      for (const t of owned) t.dispose();
      throw error;
    }
    return new MlpCurvature(this.layout, weights, kernelsT, caches, owned, this.loss, invN);
  }

  /** Appends each chunk's curvature cache to caches and every tensor it keeps to owned. */
  private buildCaches(weights: MlpWeights, kernelsT: tf.Tensor2D[], invN: number, caches: CurvatureCache[], owned: tf.Tensor[]): void {
    for (const chunk of this.chunks) {
      const xT = this.transposedInputs(chunk);
      // tidy frees the intermediates; the cache's own tensors are kept and owned by the state.
      tf.tidy(() => {
        const state = forwardState(weights, this.act, chunk.x, true);
        const output = this.loss.outputState(state.f, chunk.y, invN);
        const { deltas, upstream } = backward(state, kernelsT, output.delta);
        const built: CurvatureCache = {
          inputs: state.inputs,
          inputsT: [xT, ...state.inputs.slice(1).map((a) => tf.transpose(a))],
          firstDerivatives: state.firstDerivatives,
          curvature: state.secondDerivatives.map((d2, l) => (d2 === null ? null : tf.mul<tf.Tensor2D>(upstream[l], d2))),
          deltas,
          lossSaved: output.saved,
        };
        const kept = [
          ...built.inputs.slice(1),
          ...built.inputsT.slice(1),
          ...built.firstDerivatives,
          ...built.curvature,
          ...built.deltas,
          built.lossSaved,
        ].filter((t): t is tf.Tensor2D => t !== null);
        for (const t of kept) {
          tf.keep(t);
          owned.push(t);
        }
        caches.push(built);
      });
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const chunk of this.chunks) {
      for (const t of [chunk.x, chunk.y, chunk.labels, chunk.xT]) t?.dispose();
    }
    this.chunks = [];
  }
}

class MlpCurvature implements CurvatureState {
  readonly size: number;
  private count = 0;
  private disposed = false;

  constructor(
    private readonly layout: ParameterLayout,
    private readonly weights: MlpWeights,
    private readonly kernelsT: tf.Tensor2D[],
    private readonly caches: CurvatureCache[],
    private readonly owned: tf.Tensor[],
    private readonly loss: LossOps,
    private readonly invN: number,
  ) {
    this.size = layout.size;
  }

  get hvpCount(): number {
    return this.count;
  }

  hvp(v: Float64Array): Promise<Float64Array> {
    return this.apply(this.layout.layerCount, v);
  }

  blockHvp(k: number): (v: Float64Array) => Promise<Float64Array> {
    lastLayersBlock(this.layout, k); // validates k
    return (v) => this.apply(k, v);
  }

  /** H_kk·v for the block of the last k layers (k = layerCount: the full Hessian). */
  private async apply(k: number, v: Float64Array): Promise<Float64Array> {
    if (this.disposed) throw new Error('CurvatureState used after dispose()');
    const block = lastLayersBlock(this.layout, k);
    if (v.length !== block.size) {
      throw new Error(`HVP: v has ${v.length} entries, the ${k}-layer block has ${block.size}`);
    }
    const first = this.layout.layerCount - k;
    const dir = weightsFromFlat(this.layout, Float32Array.from(v), first, block.offset);
    const dirKernelsT = dir.kernels.map((w) => tf.transpose(w));
    try {
      const result = new Float64Array(block.size);
      for (const cache of this.caches) {
        const out = tf.tidy(() => rOperator(cache, this.weights, this.kernelsT, dir, dirKernelsT, first, this.loss, this.invN));
        const values = await out.data();
        out.dispose();
        for (let i = 0; i < block.size; i++) result[i] += values[i];
      }
      this.count++;
      return result;
    } finally {
      disposeWeights(dir);
      for (const t of dirKernelsT) t.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}

/**
 * The full-batch objective of a model (MLP or small CNN) on a fixed batch: L(θ), ∇L(θ), outputs, and at a
 * fixed θ a curvature state whose HVPs (full, or the block of the last k layers) feed Lanczos in linalg.
 * The model kind only enters through model.ts; everything here is the same for every kind.
 *
 * The batch is held in row chunks (option chunkSize) so memory stays bounded; each chunk's sums are read
 * back and added in float64 in JS, so the chunking changes results only by float32 rounding inside chunks.
 */
import * as tf from '@tensorflow/tfjs';
import { lastLayersBlock, modelDims, type MlpSpec, type ModelSpec, type ParameterLayout } from './layout';
import { createModel, type BoundModel, type Model, type ModelInput } from './model';
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

interface Chunk extends ModelInput {
  rows: number;
  y: tf.Tensor2D;
  labels: tf.Tensor1D | null;
}

/** Class per row: the given labels, else argmax of y when outputDim > 1, else none. */
function classLabels(outputDim: number, batch: Batch): Int32Array | null {
  if (batch.labels !== undefined) return batch.labels;
  if (outputDim <= 1) return null;
  const labels = new Int32Array(batch.n);
  for (let n = 0; n < batch.n; n++) {
    let best = 0;
    for (let c = 1; c < outputDim; c++) {
      if (batch.y[n * outputDim + c] > batch.y[n * outputDim + best]) best = c;
    }
    labels[n] = best;
  }
  return labels;
}

/** The model's input tensor for rows x [rows, inputDim]; frees x when the model made a new tensor of it. */
function modelInput(model: Model, x: tf.Tensor2D): tf.Tensor {
  const input = model.input(x);
  if (input !== x) x.dispose();
  return input;
}

export class ModelObjective {
  readonly layout: ParameterLayout;
  private readonly model: Model;
  private readonly n: number;
  private readonly chunkSize: number;
  private readonly hasLabels: boolean;
  private chunks: Chunk[];
  private disposed = false;

  constructor(spec: ModelSpec, batch: Batch, options: { chunkSize?: number } = {}) {
    this.model = createModel(spec);
    this.layout = this.model.layout;
    checkBatch(spec, batch);
    this.n = batch.n;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) {
      throw new Error(`${new.target.name}: chunkSize must be a positive integer, got ${options.chunkSize}`);
    }
    const { inputDim, outputDim } = modelDims(spec);
    const labels = classLabels(outputDim, batch);
    this.hasLabels = labels !== null;
    this.chunks = [];
    for (let start = 0; start < batch.n; start += this.chunkSize) {
      const end = Math.min(batch.n, start + this.chunkSize);
      const rows = end - start;
      // slice() copies: a backend may keep the array it is given, and the caller's arrays stay theirs.
      this.chunks.push({
        rows,
        x: modelInput(this.model, tf.tensor2d(batch.x.slice(start * inputDim, end * inputDim), [rows, inputDim])),
        y: tf.tensor2d(batch.y.slice(start * outputDim, end * outputDim), [rows, outputDim]),
        labels: labels === null ? null : tf.tensor1d(labels.slice(start, end), 'int32'),
        xT: null,
      });
    }
  }

  private live(): void {
    if (this.disposed) throw new Error(`${this.constructor.name} used after dispose()`);
  }

  private bind(theta: Float32Array): BoundModel {
    if (theta.length !== this.layout.size) {
      throw new Error(`θ has ${theta.length} entries, the layout has ${this.layout.size}`);
    }
    return this.model.bind(theta);
  }

  /** The chunk with its backward-pass input built (outside any tidy, kept with the chunk). */
  private withBackwardInput(chunk: Chunk): Chunk {
    if (chunk.xT === null) chunk.xT = this.model.backwardInput(chunk.x);
    return chunk;
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
    const bound = this.bind(theta);
    const loss = this.model.loss;
    try {
      let lossSum = 0;
      let correct = 0;
      for (const chunk of this.chunks) {
        const out = tf.tidy(() => {
          const f = bound.forward(chunk);
          return this.stats(f, loss.lossSum(f, chunk.y), chunk);
        });
        const values = await out.data();
        out.dispose();
        lossSum += values[0];
        correct += values[1] ?? 0;
      }
      return this.evaluation(lossSum, correct);
    } finally {
      bound.dispose();
    }
  }

  async lossAndGradient(theta: Float32Array): Promise<Evaluation & { gradient: Float32Array }> {
    this.live();
    const P = this.layout.size;
    const bound = this.bind(theta);
    const invN = 1 / this.n;
    try {
      const gradient = new Float64Array(P);
      let lossSum = 0;
      let correct = 0;
      for (const chunk of this.chunks) {
        this.withBackwardInput(chunk);
        const out = tf.tidy(() => {
          const result = bound.lossAndGradient(chunk, chunk.y, invN);
          return tf.concat([result.gradient, this.stats(result.f, result.lossSum, chunk)]);
        });
        const values = await out.data();
        out.dispose();
        for (let i = 0; i < P; i++) gradient[i] += values[i];
        lossSum += values[P];
        correct += values[P + 1] ?? 0;
      }
      return { ...this.evaluation(lossSum, correct), gradient: Float32Array.from(gradient) };
    } finally {
      bound.dispose();
    }
  }

  /** Network outputs f, n×outputDim row-major, for the objective's batch or for rows x (n×inputDim, the batch's layout). */
  async outputs(theta: Float32Array, x?: Float32Array, n?: number): Promise<Float32Array> {
    this.live();
    const { inputDim, outputDim } = this.model;
    const rowsTotal = x === undefined ? this.n : (n ?? x.length / inputDim);
    if (x !== undefined && (!Number.isInteger(rowsTotal) || rowsTotal < 0 || x.length !== rowsTotal * inputDim)) {
      throw new Error(`outputs: x has ${x.length} values, not n·inputDim for n = ${rowsTotal}, inputDim = ${inputDim}`);
    }
    const bound = this.bind(theta);
    // The objective's own chunks, or chunks of x made here (and freed here).
    const inputs: { input: ModelInput; owned: boolean }[] = [];
    try {
      if (x === undefined) for (const chunk of this.chunks) inputs.push({ input: chunk, owned: false });
      else {
        for (let start = 0; start < rowsTotal; start += this.chunkSize) {
          const end = Math.min(rowsTotal, start + this.chunkSize);
          const rows = tf.tensor2d(x.slice(start * inputDim, end * inputDim), [end - start, inputDim]);
          inputs.push({ input: { x: modelInput(this.model, rows), xT: null }, owned: true });
        }
      }
      const result = new Float32Array(rowsTotal * outputDim);
      let offset = 0;
      for (const { input } of inputs) {
        const f = tf.tidy(() => bound.forward(input));
        const values = await f.data();
        f.dispose();
        result.set(values, offset);
        offset += values.length;
      }
      return result;
    } finally {
      bound.dispose();
      for (const { input, owned } of inputs) if (owned) input.x.dispose();
    }
  }

  /**
   * The forward and backward state at θ, per chunk, kept for exact HVPs by the R-operator. Uses the
   * objective's data tensors: dispose the state before the objective.
   */
  async curvatureAt(theta: Float32Array): Promise<CurvatureState> {
    this.live();
    const bound = this.bind(theta);
    const owned: tf.Tensor[] = [];
    const caches: unknown[] = [];
    const invN = 1 / this.n;
    try {
      for (const chunk of this.chunks) {
        this.withBackwardInput(chunk);
        // tidy frees the intermediates; the cache's own tensors are kept and owned by the state.
        tf.tidy(() => {
          const { cache, tensors } = bound.curvature(chunk, chunk.y, invN);
          for (const t of tensors) {
            tf.keep(t);
            owned.push(t);
          }
          caches.push(cache);
        });
      }
    } catch (error) {
      bound.dispose();
      for (const t of owned) t.dispose();
      throw error;
    }
    return new ModelCurvature(this.layout, bound, caches, owned, invN);
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

/** The MLP's objective: ModelObjective for an MlpSpec (kept for callers written before the CNN). */
export class MlpObjective extends ModelObjective {
  constructor(spec: MlpSpec, batch: Batch, options: { chunkSize?: number } = {}) {
    super(spec, batch, options);
  }
}

class ModelCurvature implements CurvatureState {
  readonly size: number;
  private count = 0;
  private disposed = false;

  constructor(
    private readonly layout: ParameterLayout,
    private readonly bound: BoundModel,
    private readonly caches: unknown[],
    private readonly owned: tf.Tensor[],
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
    const dir = this.bound.direction(Float32Array.from(v), first, block.offset);
    try {
      const result = new Float64Array(block.size);
      for (const cache of this.caches) {
        const out = tf.tidy(() => this.bound.rOperator(cache, dir, first, this.invN));
        const values = await out.data();
        out.dispose();
        for (let i = 0; i < block.size; i++) result[i] += values[i];
      }
      this.count++;
      return result;
    } finally {
      this.bound.disposeDirection(dir);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.bound.dispose();
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}

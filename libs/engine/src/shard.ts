/**
 * A shard: the objective's computations on a contiguous block of the batch's rows, held on the backend of
 * the thread it lives on, returning raw sums (loss sum, correct count, and gradients and HVPs already scaled
 * by 1/N of the whole batch) that objective.ts adds over shards in float64. The whole batch in one shard is
 * the single-threaded objective; pool.ts runs further shards in worker threads (each with its own backend).
 *
 * The rows are held in chunks (chunkSize) so memory stays bounded; each chunk's sums are read back and added
 * in float64 in JS, so the chunking changes results only by float32 rounding inside chunks.
 */
import * as tf from '@tensorflow/tfjs';
import { modelDims, type ModelSpec, type ParameterLayout, type Scope } from './layout';
import { createModel, type BoundModel, type Model, type ModelInput } from './model';
import type { Batch } from './batch';

/** Loss sum (not divided by N) and count of rows with argmax f = label (0 without labels). */
export interface ShardSums {
  lossSum: number;
  correct: number;
}

export interface ShardGradient extends ShardSums {
  /** The shard's share of ∇L (scaled by 1/N of the whole batch). */
  gradient: Float64Array;
}

/** A shard's curvature at one θ: its share of H·v restricted to a scope (checked by objective.ts) of its layout. */
export interface ShardCurvature {
  apply(scope: Scope, v: Float64Array): Promise<Float64Array>;
  dispose(): void;
}

/** What objective.ts needs of a shard, in this thread (LocalShard) or in a worker (pool.ts). */
export interface Shard {
  readonly rows: number;
  evaluate(theta: Float32Array): Promise<ShardSums>;
  lossAndGradient(theta: Float32Array): Promise<ShardGradient>;
  /** Network outputs for the shard's own rows (x undefined) or for rows x (n×inputDim). */
  outputs(theta: Float32Array, x?: Float32Array): Promise<Float32Array>;
  /** The curvature state at θ; withGradient: also the sums of lossAndGradient, from the same pass. */
  curvature(theta: Float32Array, withGradient: boolean): Promise<{ curvature: ShardCurvature; sums: ShardGradient | null }>;
  /** Optional: takes back a gradient sum this shard returned, which its caller no longer reads, for reuse. */
  recycleGradient?(gradient: Float64Array): void;
  dispose(): void;
}

export const DEFAULT_CHUNK_SIZE = 4096;

interface Chunk extends ModelInput {
  rows: number;
  y: tf.Tensor2D;
  labels: tf.Tensor1D | null;
}

/** Class per row: the given labels, else argmax of y when outputDim > 1, else none. */
export function classLabels(outputDim: number, batch: Batch): Int32Array | null {
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

/** A shard in this thread, on the active backend. batch: the shard's rows (checked by the caller), labels resolved. */
export class LocalShard implements Shard {
  readonly layout: ParameterLayout;
  readonly rows: number;
  private readonly model: Model;
  private readonly invN: number;
  private chunks: Chunk[];
  /**
   * A float64 gradient sum handed back by its reader (recycleGradient), for the next call: a θ-sized allocation
   * per call is external memory to V8, whose pressure triggers full GCs (measured: ~2 ms per gradient of the
   * benchmark MLP). Each call takes it (or a new one), so no two calls ever share one.
   */
  private spareGradient: Float64Array | null = null;

  constructor(
    spec: ModelSpec,
    batch: Batch,
    private readonly chunkSize: number,
    /** N of the whole batch: every gradient and HVP is scaled by 1/N. */
    totalRows: number,
  ) {
    this.model = createModel(spec);
    this.layout = this.model.layout;
    this.rows = batch.n;
    this.invN = 1 / totalRows;
    const { inputDim, outputDim } = modelDims(spec);
    const labels = batch.labels ?? null;
    this.chunks = [];
    for (let start = 0; start < batch.n; start += chunkSize) {
      const end = Math.min(batch.n, start + chunkSize);
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

  private bind(theta: Float32Array): BoundModel {
    if (theta.length !== this.layout.size) {
      throw new Error(`θ has ${theta.length} entries, the layout has ${this.layout.size}`);
    }
    return this.model.bind(theta);
  }

  /** A zeroed float64 gradient sum: the recycled one when there is one, else a new one. */
  private gradientSum(): Float64Array {
    const spare = this.spareGradient;
    this.spareGradient = null;
    return spare === null ? new Float64Array(this.layout.size) : spare.fill(0);
  }

  /** Hands back a gradient sum this shard returned, once its reader is done with it (objective.ts). */
  recycleGradient(gradient: Float64Array): void {
    if (gradient.length === this.layout.size) this.spareGradient = gradient;
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

  async evaluate(theta: Float32Array): Promise<ShardSums> {
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
      return { lossSum, correct };
    } finally {
      bound.dispose();
    }
  }

  async lossAndGradient(theta: Float32Array): Promise<ShardGradient> {
    const P = this.layout.size;
    const bound = this.bind(theta);
    try {
      const sums = { lossSum: 0, correct: 0, gradient: this.gradientSum() };
      for (const chunk of this.chunks) {
        this.withBackwardInput(chunk);
        const out = tf.tidy(() => {
          const result = bound.lossAndGradient(chunk, chunk.y, this.invN);
          return tf.concat([result.gradient, this.stats(result.f, result.lossSum, chunk)]);
        });
        await this.accumulate(out, sums);
      }
      return sums;
    } finally {
      bound.dispose();
    }
  }

  /** Adds a chunk's [gradient, lossSum, correct?] to sums, and frees it. */
  private async accumulate(out: tf.Tensor1D, sums: ShardGradient): Promise<void> {
    const P = this.layout.size;
    const values = await out.data();
    out.dispose();
    const { gradient } = sums;
    for (let i = 0; i < P; i++) gradient[i] += values[i];
    sums.lossSum += values[P];
    sums.correct += values[P + 1] ?? 0;
  }

  async outputs(theta: Float32Array, x?: Float32Array): Promise<Float32Array> {
    const { inputDim, outputDim } = this.model;
    const bound = this.bind(theta);
    // The shard's own chunks, or chunks of x made here (and freed here).
    const inputs: { input: ModelInput; owned: boolean }[] = [];
    try {
      let rowsTotal = this.rows;
      if (x === undefined) for (const chunk of this.chunks) inputs.push({ input: chunk, owned: false });
      else {
        rowsTotal = x.length / inputDim;
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

  async curvature(theta: Float32Array, withGradient: boolean): Promise<{ curvature: ShardCurvature; sums: ShardGradient | null }> {
    const bound = this.bind(theta);
    const owned: tf.Tensor[] = [];
    const caches: unknown[] = [];
    const sums = withGradient ? { lossSum: 0, correct: 0, gradient: this.gradientSum() } : null;
    try {
      for (const chunk of this.chunks) {
        this.withBackwardInput(chunk);
        // tidy frees the intermediates; the cache's own tensors are kept and owned by the state.
        const out = tf.tidy((): tf.Tensor1D | undefined => {
          const result = bound.curvature(chunk, chunk.y, this.invN, withGradient);
          for (const t of result.tensors) {
            tf.keep(t);
            owned.push(t);
          }
          caches.push(result.cache);
          const g = result.gradient;
          return g === null ? undefined : tf.concat([g.gradient, this.stats(g.f, g.lossSum, chunk)]);
        });
        if (out !== undefined && sums !== null) await this.accumulate(out, sums);
      }
    } catch (error) {
      bound.dispose();
      for (const t of owned) t.dispose();
      throw error;
    }
    return { curvature: new LocalCurvature(this.layout, bound, caches, owned, this.invN), sums };
  }

  dispose(): void {
    for (const chunk of this.chunks) {
      for (const t of [chunk.x, chunk.y, chunk.labels, chunk.xT]) t?.dispose();
    }
    this.chunks = [];
  }
}

class LocalCurvature implements ShardCurvature {
  constructor(
    private readonly layout: ParameterLayout,
    private readonly bound: BoundModel,
    private readonly caches: unknown[],
    private readonly owned: tf.Tensor[],
    private readonly invN: number,
  ) {}

  async apply(scope: Scope, v: Float64Array): Promise<Float64Array> {
    // The scope's first layer: the R-operator's direction is zero below it.
    const first = scope.kind === 'full' ? 0 : this.layout.layerCount - scope.k;
    const dir = this.bound.direction(Float32Array.from(v), first, scope.offset);
    try {
      const result = new Float64Array(scope.size);
      for (const cache of this.caches) {
        const out = tf.tidy(() => this.bound.rOperator(cache, dir, first, this.invN));
        const values = await out.data();
        out.dispose();
        for (let i = 0; i < scope.size; i++) result[i] += values[i];
      }
      return result;
    } finally {
      this.bound.disposeDirection(dir);
    }
  }

  dispose(): void {
    this.bound.dispose();
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}

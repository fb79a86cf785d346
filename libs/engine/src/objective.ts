/**
 * The full-batch objective of a model (MLP or small CNN) on a fixed batch: L(θ), ∇L(θ), outputs, and at a
 * fixed θ its Curvature, whose HVPs on a Scope (all of θ, or the block of the last k layers) feed Lanczos in
 * linalg.
 * The model kind only enters through model.ts; everything here is the same for every kind.
 *
 * The batch's rows are held by shards (shard.ts): one in this thread, or with the option `workers` one per
 * thread, the others in worker threads (pool.ts). Each returns its sums; they are added here in float64, in
 * row order, so the split changes results only by float32 rounding inside shards (as chunking does inside a
 * shard).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend';
import { checkBatch, type Batch } from './batch';
import { checkScope, fullScope, lastLayersScope, modelDims, modelLayout, type MlpSpec, type ModelSpec, type ParameterLayout, type Scope } from './layout';
import { kernelStatus } from './native/kernels';
import { RemoteShard } from './pool';
import { classLabels, DEFAULT_CHUNK_SIZE, LocalShard, type Shard, type ShardCurvature, type ShardGradient, type ShardSums } from './shard';

export type { Batch } from './batch';
export { DEFAULT_CHUNK_SIZE } from './shard';

/** accuracy: share of rows with argmax f = label (labels given, or argmax y when outputDim > 1), else null. */
export interface Evaluation {
  loss: number;
  accuracy: number | null;
}

/** The curvature of L at one θ; holds tensors until dispose(). */
export interface Curvature {
  /** Number of parameters P. */
  readonly size: number;
  /** H·v, v of length P. */
  hvp(v: Float64Array): Promise<Float64Array>;
  /**
   * The Hessian operator on a scope of this model's layout (fullScope, lastLayersScope, modelScopes): H·v for
   * 'full', H_kk·v for the block of the last k layers' parameters; v of length scope.size. Throws at once for
   * a scope this layout did not make.
   */
  operator(scope: Scope): (v: Float64Array) => Promise<Float64Array>;
  /** HVP applications so far (every scope). */
  readonly hvpCount: number;
  dispose(): void;
}

export interface ObjectiveOptions {
  /** Rows per chunk on the backend (memory bound); default 4096. */
  chunkSize?: number;
  /**
   * Threads the batch's rows are split over: this one and workers − 1 worker threads, each holding its rows
   * on its own backend (the one active here), for the wasm and cpu backends, which compute on one core;
   * tensorflow(-gpu) use every core already and ignore it. Default: LRSCAPE_WORKERS, else 1.
   */
  workers?: number;
}

/** The `workers` option, else LRSCAPE_WORKERS, else 1; a positive integer. */
export function resolveWorkers(requested?: number): number {
  const env = process.env.LRSCAPE_WORKERS;
  const value = requested ?? (env === undefined || env === '' ? 1 : Number(env));
  if (!Number.isInteger(value) || value < 1) {
    const source = requested !== undefined ? 'workers' : 'LRSCAPE_WORKERS';
    throw new Error(`${source} must be a positive integer, got ${requested ?? env}`);
  }
  return value;
}

/** The backend shards in worker threads run: the active one, when it computes on one core (wasm, cpu). */
function poolableBackend(): BackendName | null {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu' ? name : null;
}

/** Rows [start, end) of batch (copies), labels resolved. */
function rowsOf(batch: Batch, labels: Int32Array | null, inputDim: number, outputDim: number, start: number, end: number): Batch {
  return {
    n: end - start,
    x: batch.x.slice(start * inputDim, end * inputDim),
    y: batch.y.slice(start * outputDim, end * outputDim),
    ...(labels === null ? {} : { labels: labels.slice(start, end) }),
  };
}

/** Splits n rows into `parts` contiguous counts differing by at most one. */
function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor((n * (i + 1)) / parts) - Math.floor((n * i) / parts));
}

function addInto(target: Float64Array, values: Float64Array): void {
  for (let i = 0; i < target.length; i++) target[i] += values[i];
}

export class ModelObjective {
  readonly layout: ParameterLayout;
  /** Threads the batch is split over (1: this thread only). */
  readonly workers: number;
  private readonly n: number;
  private readonly inputDim: number;
  private readonly outputDim: number;
  private readonly hasLabels: boolean;
  /** In row order; shards[0] is this thread's. */
  private shards: Shard[];
  private disposed = false;

  constructor(spec: ModelSpec, batch: Batch, options: ObjectiveOptions = {}) {
    this.layout = modelLayout(spec);
    checkBatch(spec, batch);
    this.n = batch.n;
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new Error(`${new.target.name}: chunkSize must be a positive integer, got ${options.chunkSize}`);
    }
    const requested = resolveWorkers(options.workers);
    const backend = poolableBackend();
    ({ inputDim: this.inputDim, outputDim: this.outputDim } = modelDims(spec));
    const labels = classLabels(this.outputDim, batch);
    this.hasLabels = labels !== null;
    this.workers = backend === null ? 1 : Math.min(requested, batch.n);
    if (this.workers === 1) {
      this.shards = [new LocalShard(spec, labels === null ? batch : { ...batch, labels }, chunkSize, batch.n)];
      return;
    }
    let start = 0;
    this.shards = split(batch.n, this.workers).map((rows, i) => {
      const shardBatch = rowsOf(batch, labels, this.inputDim, this.outputDim, start, start + rows);
      start += rows;
      if (i === 0) return new LocalShard(spec, shardBatch, chunkSize, batch.n);
      return new RemoteShard({ spec, batch: shardBatch, chunkSize, totalRows: batch.n, backend: backend!, kernels: backend === 'wasm' && kernelStatus().path === 'native' ? 'openblas' : 'wasm' });
    });
  }

  private live(): void {
    if (this.disposed) throw new Error(`${this.constructor.name} used after dispose()`);
  }

  private checkTheta(theta: Float32Array): void {
    if (theta.length !== this.layout.size) {
      throw new Error(`θ has ${theta.length} entries, the layout has ${this.layout.size}`);
    }
  }

  /** call on every shard, in row order, started last to first: the worker threads' requests go out before this thread computes its own. */
  private startOnShards<T>(call: (shard: Shard, index: number) => Promise<T>): Promise<T>[] {
    const results: Promise<T>[] = new Array(this.shards.length);
    for (let i = this.shards.length - 1; i >= 0; i--) results[i] = call(this.shards[i], i);
    return results;
  }

  private onShards<T>(call: (shard: Shard, index: number) => Promise<T>): Promise<T[]> {
    return Promise.all(this.startOnShards(call));
  }

  private evaluation(sums: ShardSums[]): Evaluation {
    let lossSum = 0;
    let correct = 0;
    for (const s of sums) {
      lossSum += s.lossSum;
      correct += s.correct;
    }
    return { loss: lossSum / this.n, accuracy: this.hasLabels ? correct / this.n : null };
  }

  private gradientEvaluation(sums: ShardGradient[]): Evaluation & { gradient: Float32Array } {
    const gradient = sums[0].gradient;
    for (let i = 1; i < sums.length; i++) addInto(gradient, sums[i].gradient);
    // new Float32Array(typed array) converts in one native pass; Float32Array.from iterates (~3× slower at P ≈ 200k).
    const result = { ...this.evaluation(sums), gradient: new Float32Array(gradient) };
    // Nothing reads the float64 sum after this: shards[0] (this thread's) may reuse it for its next call.
    this.shards[0]?.recycleGradient?.(gradient);
    return result;
  }

  async evaluate(theta: Float32Array): Promise<Evaluation> {
    this.live();
    this.checkTheta(theta);
    return this.evaluation(await this.onShards((shard) => shard.evaluate(theta)));
  }

  async lossAndGradient(theta: Float32Array): Promise<Evaluation & { gradient: Float32Array }> {
    this.live();
    this.checkTheta(theta);
    return this.gradientEvaluation(await this.onShards((shard) => shard.lossAndGradient(theta)));
  }

  /** Network outputs f, n×outputDim row-major, for the objective's batch or for rows x (n×inputDim, the batch's layout). */
  async outputs(theta: Float32Array, x?: Float32Array, n?: number): Promise<Float32Array> {
    this.live();
    const { inputDim, outputDim } = this;
    const rowsTotal = x === undefined ? this.n : (n ?? x.length / inputDim);
    if (x !== undefined && (!Number.isInteger(rowsTotal) || rowsTotal < 0 || x.length !== rowsTotal * inputDim)) {
      throw new Error(`outputs: x has ${x.length} values, not n·inputDim for n = ${rowsTotal}, inputDim = ${inputDim}`);
    }
    this.checkTheta(theta);
    let parts: Float32Array[];
    if (x === undefined) parts = await this.onShards((shard) => shard.outputs(theta));
    else if (this.shards.length === 1) parts = [await this.shards[0].outputs(theta, x.subarray(0, rowsTotal * inputDim))];
    else {
      const counts = split(rowsTotal, this.shards.length);
      const starts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
      parts = await this.onShards((shard, i) => (counts[i] === 0 ? Promise.resolve(new Float32Array(0)) : shard.outputs(theta, x.slice(starts[i] * inputDim, (starts[i] + counts[i]) * inputDim))));
    }
    if (parts.length === 1) return parts[0];
    const result = new Float32Array(rowsTotal * outputDim);
    let offset = 0;
    for (const part of parts) {
      result.set(part, offset);
      offset += part.length;
    }
    return result;
  }

  /**
   * The forward and backward state at θ, per chunk, kept for exact HVPs by the R-operator. Uses the
   * objective's data tensors: dispose the state before the objective.
   */
  async curvatureAt(theta: Float32Array): Promise<Curvature> {
    return (await this.curvatureState(theta, false)).curvature;
  }

  /**
   * lossAndGradient and curvatureAt at θ from one forward and backward pass per chunk: the loss, accuracy
   * and gradient of lossAndGradient (the same values), and the curvature state of curvatureAt (the same
   * HVPs), for the cost of the gradient and a few elementwise products. For a training step that also tracks
   * sharpness: the HVPs are then all that sharpness adds. Dispose the curvature state as curvatureAt's.
   */
  async lossGradientAndCurvature(theta: Float32Array): Promise<Evaluation & { gradient: Float32Array; curvature: Curvature }> {
    const { curvature, sums } = await this.curvatureState(theta, true);
    return { ...this.gradientEvaluation(sums as ShardGradient[]), curvature };
  }

  private async curvatureState(theta: Float32Array, withGradient: boolean): Promise<{ curvature: Curvature; sums: (ShardGradient | null)[] }> {
    this.live();
    this.checkTheta(theta);
    const settled = await Promise.allSettled(this.startOnShards((shard) => shard.curvature(theta, withGradient)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      for (const r of settled) if (r.status === 'fulfilled') r.value.curvature.dispose();
      throw failed.reason;
    }
    const states = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<Shard['curvature']>>>).value);
    return { curvature: new ModelCurvature(this.layout, states.map((s) => s.curvature)), sums: states.map((s) => s.sums) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const shard of this.shards) shard.dispose();
    this.shards = [];
  }
}

/** The MLP's objective: ModelObjective for an MlpSpec (kept for callers written before the CNN). */
export class MlpObjective extends ModelObjective {
  constructor(spec: MlpSpec, batch: Batch, options: ObjectiveOptions = {}) {
    super(spec, batch, options);
  }
}

class ModelCurvature implements Curvature {
  readonly size: number;
  private readonly full: Scope;
  private count = 0;
  private disposed = false;

  /** shards: in row order, shards[0] in this thread. */
  constructor(
    private readonly layout: ParameterLayout,
    private readonly shards: ShardCurvature[],
  ) {
    this.size = layout.size;
    this.full = fullScope(layout);
  }

  get hvpCount(): number {
    return this.count;
  }

  hvp(v: Float64Array): Promise<Float64Array> {
    return this.apply(this.full, v);
  }

  operator(scope: Scope): (v: Float64Array) => Promise<Float64Array> {
    checkScope(this.layout, scope, 'Curvature.operator');
    // The layout's own scope (equal to the checked one): later changes to the caller's object do not reach it.
    const own = scope.kind === 'full' ? this.full : lastLayersScope(this.layout, scope.k);
    return (v) => this.apply(own, v);
  }

  /** H·v restricted to a checked scope (v and the result of length scope.size). */
  private async apply(scope: Scope, v: Float64Array): Promise<Float64Array> {
    if (this.disposed) throw new Error('Curvature used after dispose()');
    if (v.length !== scope.size) {
      const name = scope.kind === 'full' ? 'the layout' : `the ${scope.k}-layer block`;
      throw new Error(`HVP: v has ${v.length} entries, ${name} has ${scope.size}`);
    }
    const parts: Promise<Float64Array>[] = new Array(this.shards.length);
    for (let i = this.shards.length - 1; i >= 0; i--) parts[i] = this.shards[i].apply(scope, v);
    const results = await Promise.all(parts);
    const result = results[0];
    for (let i = 1; i < results.length; i++) addInto(result, results[i]);
    this.count++;
    return result;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const shard of this.shards) shard.dispose();
  }
}

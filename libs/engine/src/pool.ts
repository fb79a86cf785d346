/**
 * Shards in worker threads (objective.ts, option `workers`). wasm runs on one core under Node (tfjs's own
 * wasm threads need a browser), so the batch's rows are split: this thread keeps one shard, each worker
 * thread holds another on its own backend, and every call posts θ (and v) to all and adds their sums here.
 *
 * A worker runs shard-worker.mjs, a plain ES module that registers tsx's loader for the engine's TypeScript
 * (so it starts the same whether the caller runs under tsx, vitest or anything else) and then shard-worker.ts.
 * Requests to one worker are answered in order; a worker holds the process open only while a request to it
 * is pending, so an objective that is never disposed does not keep a finished program alive.
 */
import { Worker } from 'node:worker_threads';
import type { BackendName } from './backend';
import type { Batch } from './batch';
import type { ModelSpec, Scope } from './layout';
import type { KernelRequest } from './native/kernels';
import type { Shard, ShardCurvature, ShardGradient, ShardSums } from './shard';

/** The init message of a worker (shard-worker.ts). */
export interface ShardInit {
  spec: ModelSpec;
  batch: Batch;
  chunkSize: number;
  totalRows: number;
  backend: BackendName;
  /** The kernel path of this thread's wasm backend, for the worker's: 'openblas' (native) or 'wasm'. */
  kernels: KernelRequest;
}

/** A request to a worker: op and its arguments. */
export type ShardRequest =
  | { op: 'init'; init: ShardInit }
  | { op: 'evaluate'; theta: Float32Array }
  | { op: 'lossAndGradient'; theta: Float32Array }
  | { op: 'outputs'; theta: Float32Array; x?: Float32Array }
  | { op: 'curvature'; theta: Float32Array; withGradient: boolean; state: number }
  | { op: 'apply'; state: number; scope: Scope; v: Float64Array }
  | { op: 'disposeCurvature'; state: number };

export type ShardReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

const WORKER_ENTRY = new URL('./shard-worker.mjs', import.meta.url);

/** A shard in a worker thread. */
export class RemoteShard implements Shard {
  readonly rows: number;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private nextState = 1;
  private failure: Error | null = null;

  constructor(init: ShardInit) {
    this.rows = init.batch.n;
    // execArgv [] : the entry registers its own loader, whatever flags (tsx's, vitest's) this process runs with.
    this.worker = new Worker(WORKER_ENTRY, { execArgv: [] });
    this.worker.unref();
    this.worker.on('message', (reply: ShardReply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(new Error(`shard worker failed: ${error.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`shard worker exited (code ${code})`)));
    const { x, y, labels } = init.batch;
    // The batch arrays are this shard's own copies (objective.ts slices them): move them, do not copy.
    // A failed init is kept and reported by every later request (the worker answers them with it too).
    void this.request({ op: 'init', init }, [x, y, ...(labels ? [labels] : [])].map((a) => a.buffer as ArrayBuffer)).catch((error: Error) => this.fail(error));
  }

  private request<T>(message: ShardRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, ...message }, transfer);
    });
  }

  private settle(reply: ShardReply): void {
    const waiting = this.pending.get(reply.id);
    if (waiting === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(new Error(reply.error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }

  evaluate(theta: Float32Array): Promise<ShardSums> {
    return this.request({ op: 'evaluate', theta });
  }

  lossAndGradient(theta: Float32Array): Promise<ShardGradient> {
    return this.request({ op: 'lossAndGradient', theta });
  }

  outputs(theta: Float32Array, x?: Float32Array): Promise<Float32Array> {
    return this.request({ op: 'outputs', theta, x });
  }

  async curvature(theta: Float32Array, withGradient: boolean): Promise<{ curvature: ShardCurvature; sums: ShardGradient | null }> {
    const state = this.nextState++;
    const sums = await this.request<ShardGradient | null>({ op: 'curvature', theta, withGradient, state });
    const curvature: ShardCurvature = {
      apply: (scope, v) => this.request({ op: 'apply', state, scope, v }),
      dispose: () => {
        if (this.failure === null) void this.request({ op: 'disposeCurvature', state }).catch(() => {});
      },
    };
    return { curvature, sums };
  }

  dispose(): void {
    this.fail(new Error('objective used after dispose()'));
    void this.worker.terminate();
  }
}

/**
 * A shard worker thread (pool.ts): holds one LocalShard on its own backend and answers the requests of the
 * thread that made it, one at a time, in order.
 */
import { parentPort } from 'node:worker_threads';
import { selectBackend } from './backend';
import { useKernels } from './native/kernels';
import type { ShardReply, ShardRequest } from './pool';
import { LocalShard, type ShardCurvature } from './shard';

const port = parentPort;
if (port === null) throw new Error('shard-worker.ts runs in a worker thread');

let shard: LocalShard | null = null;
/** Why init failed: every later request is answered with it. */
let initError: string | null = null;
const states = new Map<number, ShardCurvature>();

function ready(): LocalShard {
  if (shard === null) throw new Error(initError ?? 'shard worker: not initialised');
  return shard;
}

/** The result and the buffers to move with it rather than copy. */
async function handle(request: ShardRequest): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (request.op) {
    case 'init': {
      const { spec, batch, chunkSize, totalRows, backend, kernels } = request.init;
      try {
        const active = await selectBackend(backend);
        // The kernel path of the thread that made this worker: its shards' sums must come from the same kernels.
        if (active === 'wasm') await useKernels(kernels);
        shard = new LocalShard(spec, batch, chunkSize, totalRows);
        return { result: active, transfer: [] };
      } catch (error) {
        initError = `shard worker could not start: ${error instanceof Error ? error.message : String(error)}`;
        throw new Error(initError);
      }
    }
    case 'evaluate':
      return { result: await ready().evaluate(request.theta), transfer: [] };
    case 'lossAndGradient': {
      const sums = await ready().lossAndGradient(request.theta);
      return { result: sums, transfer: [sums.gradient.buffer as ArrayBuffer] };
    }
    case 'outputs': {
      const f = await ready().outputs(request.theta, request.x);
      return { result: f, transfer: [f.buffer as ArrayBuffer] };
    }
    case 'curvature': {
      const { curvature, sums } = await ready().curvature(request.theta, request.withGradient);
      states.set(request.state, curvature);
      return { result: sums, transfer: sums === null ? [] : [sums.gradient.buffer as ArrayBuffer] };
    }
    case 'apply': {
      const state = states.get(request.state);
      if (state === undefined) throw new Error('Curvature used after dispose()');
      const hv = await state.apply(request.scope, request.v);
      return { result: hv, transfer: [hv.buffer as ArrayBuffer] };
    }
    case 'disposeCurvature':
      states.get(request.state)?.dispose();
      states.delete(request.state);
      return { result: null, transfer: [] };
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ShardRequest & { id: number }) => {
  queue = queue.then(async () => {
    let reply: ShardReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const handled = await handle(message);
      reply = { id: message.id, ok: true, result: handled.result };
      transfer = handled.transfer;
    } catch (error) {
      reply = { id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply, transfer);
  });
});

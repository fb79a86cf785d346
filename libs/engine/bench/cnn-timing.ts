/**
 * Timing of the engine's small CNN on the selected backend (not a test): ms per lossAndGradient, per
 * curvatureAt (and the memory its state holds) and per HVP (full and every k-layer block scope), median of 5 after one warm-up, on 28×28×1 inputs:
 * conv 8 3×3 same → σ → pool → conv 16 3×3 same → σ → pool → dense 10 (P = 9 098), N = 1024.
 * Run: npx tsx libs/engine/bench/cnn-timing.ts [backend] [N] [chunkSize]   (default: LRSCAPE_BACKEND or auto, 1024, 4096)
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '@lrscape/linalg';
import { ModelObjective, initModelParameters, lastLayersScope, modelLayout, selectBackend, type BackendName, type CnnSpec } from '@lrscape/engine';

const N = Number(process.argv[3] ?? 1024);
const CHUNK = Number(process.argv[4] ?? 4096);
const REPEATS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function bench(spec: CnnSpec): Promise<void> {
  const rng = createRng(1);
  const [h, w, c] = spec.inputShape;
  const x = Float32Array.from({ length: N * h * w * c }, () => rng.normal());
  const y = new Float32Array(N * spec.outputDim);
  if (spec.loss === 'mse') for (let i = 0; i < y.length; i++) y[i] = rng.normal();
  else for (let n = 0; n < N; n++) y[n * spec.outputDim + rng.int(spec.outputDim)] = 1;
  const objective = new ModelObjective(spec, { x, y, n: N }, { chunkSize: CHUNK });
  const theta = initModelParameters(spec, 0);
  const layout = modelLayout(spec);
  const P = layout.size;
  const v = Float64Array.from({ length: P }, () => rng.normal());
  const evalMs = await time(() => objective.evaluate(theta));
  const gradMs = await time(() => objective.lossAndGradient(theta));
  const bytesBefore = tf.memory().numBytes;
  const t0 = performance.now();
  const curvature = await objective.curvatureAt(theta);
  const curvatureMs = performance.now() - t0;
  const stateMiB = (tf.memory().numBytes - bytesBefore) / 2 ** 20;
  const hvpMs = await time(() => curvature.hvp(v));
  const blocks: string[] = [];
  for (let k = 1; k < layout.layerCount; k++) {
    const scope = lastLayersScope(layout, k);
    const apply = curvature.operator(scope);
    const vk = v.slice(0, scope.size);
    blocks.push(`block k=${k} [${scope.layers}] ${(await time(() => apply(vk))).toFixed(1)} ms`);
  }
  curvature.dispose();
  objective.dispose();
  const name = `cnn ${spec.conv.map((l) => `${l.filters}@${l.kernelSize}`).join('-')} ${spec.pool} dense [${spec.dense}] → ${spec.outputDim} ${spec.activation}-${spec.loss}`;
  console.log(
    `${name}  P=${P} N=${N} chunk=${CHUNK}: evaluate ${evalMs.toFixed(1)} ms, lossAndGradient ${gradMs.toFixed(1)} ms, ` +
      `curvatureAt ${curvatureMs.toFixed(1)} ms (state ${stateMiB.toFixed(0)} MiB), hvp ${hvpMs.toFixed(1)} ms, ${blocks.join(', ')}`,
  );
}

const backend = await selectBackend(process.argv[2] as BackendName | undefined);
console.log(`backend: ${backend}`);
const base: CnnSpec = {
  kind: 'cnn',
  inputShape: [28, 28, 1],
  conv: [
    { filters: 8, kernelSize: 3, padding: 'same' },
    { filters: 16, kernelSize: 3, padding: 'same' },
  ],
  pool: 'avg',
  dense: [],
  outputDim: 10,
  activation: 'relu',
  loss: 'cross_entropy',
};
await bench(base);
await bench({ ...base, pool: 'max' });
await bench({ ...base, activation: 'tanh', loss: 'mse' });

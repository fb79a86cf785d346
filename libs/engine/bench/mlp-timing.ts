/**
 * Timing of the engine's MLP on the selected backend (not a test): ms per lossAndGradient, per curvatureAt,
 * per lossGradientAndCurvature (both from one pass), per HVP and per block HVP of the last layer, median of REPEATS after one
 * warm-up, wall clock (other processes on the machine count: run it on a quiet one, or compare side by side).
 * Run: npx tsx libs/engine/bench/mlp-timing.ts [backend] [N] [workers]   (default: LRSCAPE_BACKEND or auto, 2048, LRSCAPE_WORKERS or 1)
 */
import { createRng } from '@lrscape/linalg';
import { MlpObjective, initMlpParameters, lastLayersScope, mlpLayout, selectBackend, type BackendName, type MlpSpec } from '@lrscape/engine';

const N = Number(process.argv[3] ?? 2048);
const WORKERS = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const REPEATS = 7;

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

async function bench(spec: MlpSpec): Promise<void> {
  const rng = createRng(1);
  const x = Float32Array.from({ length: N * spec.inputDim }, () => rng.uniform());
  const y = new Float32Array(N * spec.outputDim);
  if (spec.loss === 'mse') for (let i = 0; i < y.length; i++) y[i] = rng.normal();
  else for (let n = 0; n < N; n++) y[n * spec.outputDim + rng.int(spec.outputDim)] = 1;
  const objective = new MlpObjective(spec, { x, y, n: N }, { workers: WORKERS });
  const theta = initMlpParameters(spec, 0);
  const layout = mlpLayout(spec);
  const P = layout.size;
  const v = Float64Array.from({ length: P }, () => rng.normal());
  const gradMs = await time(() => objective.lossAndGradient(theta));
  const curvatureMs = await time(async () => (await objective.curvatureAt(theta)).dispose());
  const fusedMs = await time(async () => (await objective.lossGradientAndCurvature(theta)).curvature.dispose());
  const curvature = await objective.curvatureAt(theta);
  const hvpMs = await time(() => curvature.hvp(v));
  const lastLayer = lastLayersScope(layout, 1);
  const block1 = curvature.operator(lastLayer);
  const v1 = v.slice(0, lastLayer.size);
  const block1Ms = await time(() => block1(v1));
  curvature.dispose();
  const threads = objective.workers;
  objective.dispose();
  const name = `${spec.inputDim}-${spec.hidden.join('-')}-${spec.outputDim} ${spec.activation}-${spec.loss}`;
  console.log(
    `${name}  P=${P} N=${N} threads=${threads}: lossAndGradient ${gradMs.toFixed(1)} ms, curvatureAt ${curvatureMs.toFixed(1)} ms, ` +
      `lossGradientAndCurvature ${fusedMs.toFixed(1)} ms, hvp ${hvpMs.toFixed(1)} ms, block k=1 ${block1Ms.toFixed(1)} ms`,
  );
}

const backend = await selectBackend(process.argv[2] as BackendName | undefined);
console.log(`backend: ${backend}`);
await bench({ inputDim: 784, hidden: [200, 200], outputDim: 10, activation: 'tanh', loss: 'cross_entropy' });
await bench({ inputDim: 784, hidden: [200, 200], outputDim: 10, activation: 'relu', loss: 'mse' });

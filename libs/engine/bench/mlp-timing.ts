/**
 * Timing of the engine's MLP on the selected backend (not a test): ms per lossAndGradient, per
 * curvatureAt and per HVP, median of 5 after one warm-up.
 * Run: npx tsx libs/engine/bench/mlp-timing.ts [backend]   (default: LRSCAPE_BACKEND or auto)
 */
import { createRng } from '@lrscape/linalg';
import { MlpObjective, initMlpParameters, mlpLayout, selectBackend, type BackendName, type MlpSpec } from '@lrscape/engine';

const N = 2048;
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

async function bench(spec: MlpSpec): Promise<void> {
  const rng = createRng(1);
  const x = Float32Array.from({ length: N * spec.inputDim }, () => rng.normal());
  const y = new Float32Array(N * spec.outputDim);
  if (spec.loss === 'mse') for (let i = 0; i < y.length; i++) y[i] = rng.normal();
  else for (let n = 0; n < N; n++) y[n * spec.outputDim + rng.int(spec.outputDim)] = 1;
  const objective = new MlpObjective(spec, { x, y, n: N });
  const theta = initMlpParameters(spec, 0);
  const P = mlpLayout(spec).size;
  const v = Float64Array.from({ length: P }, () => rng.normal());
  const gradMs = await time(() => objective.lossAndGradient(theta));
  let curvatureMs = 0;
  {
    const t0 = performance.now();
    const c = await objective.curvatureAt(theta);
    curvatureMs = performance.now() - t0;
    c.dispose();
  }
  const curvature = await objective.curvatureAt(theta);
  const hvpMs = await time(() => curvature.hvp(v));
  const block1 = curvature.blockHvp(1);
  const v1 = v.subarray(0, spec.hidden[spec.hidden.length - 1] * spec.outputDim + spec.outputDim);
  const block1Ms = await time(() => block1(Float64Array.from(v1)));
  curvature.dispose();
  objective.dispose();
  const name = `${spec.inputDim}-${spec.hidden.join('-')}-${spec.outputDim} ${spec.activation}-${spec.loss}`;
  console.log(
    `${name}  P=${P} N=${N}: lossAndGradient ${gradMs.toFixed(1)} ms, curvatureAt ${curvatureMs.toFixed(1)} ms, ` +
      `hvp ${hvpMs.toFixed(1)} ms, blockHvp(1) ${block1Ms.toFixed(1)} ms`,
  );
}

const backend = await selectBackend(process.argv[2] as BackendName | undefined);
console.log(`backend: ${backend}`);
await bench({ inputDim: 784, hidden: [200, 200], outputDim: 10, activation: 'tanh', loss: 'cross_entropy' });
await bench({ inputDim: 784, hidden: [200, 200], outputDim: 10, activation: 'relu', loss: 'mse' });

/**
 * The GPU check's first stage (tools/gpu/README.md): which engine runs (LRSCAPE_BACKEND, else auto for the bench
 * MLP's workload), its adapter, and whether its numbers are right — a tiny MLP's and CNN's loss, gradient and
 * H·v against the float64 hyper-dual reference, and the bench MLP's (784-200-200-10, N = 512) gradient and
 * H·v against tfjs's cpu backend on the same θ and v. Prints the figures and one line `RESULT {json}`; exits 1
 * when a relative error exceeds its bound (float32 rounding: 2e-5 tiny nets, 1e-4 the bench MLP).
 *
 *   smoke.ts                      the check above
 *   smoke.ts auto <P> <N>         what LRSCAPE_BACKEND=auto picks here for a workload of P parameters × N rows
 */
import * as tf from '@tensorflow/tfjs';
import {
  engineLabel,
  initMlpParameters,
  mlpLayout,
  modelDims,
  ModelObjective,
  modelLayout,
  referenceModelGradient,
  referenceModelHessian,
  referenceModelLoss,
  selectBackend,
  webgpuAdapter,
  type ModelSpec,
} from '@lrscape/engine';
import { createRng } from '@lrscape/linalg';
import { CASES, DATA_SEED, INIT_SEED, randomBatch, randomDirection, relativeError, specOf } from '../../bench/src/common';

const TINY_BOUND = 2e-5;
const BENCH_BOUND = 1e-4;

/** x ~ N(0,1), one-hot labels (cross-entropy) or y ~ N(0,1) (MSE); θ ~ N(0, 0.7²). */
function tinyProblem(spec: ModelSpec, n: number, seed: number) {
  const rng = createRng(seed);
  const { inputDim } = modelDims(spec);
  const x = Float32Array.from({ length: n * inputDim }, () => rng.normal());
  const y = new Float32Array(n * spec.outputDim);
  if (spec.loss === 'mse') for (let i = 0; i < y.length; i++) y[i] = rng.normal();
  else for (let r = 0; r < n; r++) y[r * spec.outputDim + rng.int(spec.outputDim)] = 1;
  const theta = Float32Array.from({ length: modelLayout(spec).size }, () => 0.7 * rng.normal());
  const v = Float64Array.from({ length: theta.length }, () => rng.normal());
  return { batch: { x, y, n }, theta, v };
}

function matVec(h: Float64Array, v: Float64Array): Float64Array {
  const n = v.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += h[i * n + j] * v[j];
    out[i] = s;
  }
  return out;
}

async function gradientAndHvp(spec: ModelSpec, batch: { x: Float32Array; y: Float32Array; n: number }, theta: Float32Array, v: Float64Array) {
  const objective = new ModelObjective(spec, batch);
  try {
    const { loss, gradient } = await objective.lossAndGradient(theta);
    const curvature = await objective.curvatureAt(theta);
    try {
      return { loss, gradient: Float64Array.from(gradient), hv: await curvature.hvp(v) };
    } finally {
      curvature.dispose();
    }
  } finally {
    objective.dispose();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const bench = specOf(CASES[0]);
  const benchSize = mlpLayout(bench).size;
  const backend = await selectBackend(undefined, { parameters: benchSize, rows: 2048 });
  const adapter = backend === 'webgpu' ? webgpuAdapter() : null;
  console.log(`engine ${engineLabel()} (${backend}${adapter ? `; ${adapter.description}; fallback adapter: ${adapter.fallback}` : ''}), selected in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const tiny: ModelSpec[] = [
    { inputDim: 3, hidden: [4, 3], outputDim: 2, activation: 'tanh', loss: 'mse' },
    { inputDim: 3, hidden: [4, 3], outputDim: 3, activation: 'relu', loss: 'cross_entropy' },
    { kind: 'cnn', inputShape: [5, 5, 2], conv: [{ filters: 3, kernelSize: 3, padding: 'same' }], pool: 'avg', dense: [4], outputDim: 3, activation: 'tanh', loss: 'cross_entropy' },
  ];
  const tinyErrors: { model: string; loss: number; gradient: number; hvp: number }[] = [];
  for (const [i, spec] of tiny.entries()) {
    const { batch, theta, v } = tinyProblem(spec, 6, 11 + i);
    const ours = await gradientAndHvp(spec, batch, theta, v);
    const f64 = Float64Array.from(theta);
    const model = 'kind' in spec && spec.kind === 'cnn' ? `cnn ${spec.activation}+${spec.loss}` : `mlp ${spec.activation}+${spec.loss}`;
    const errors = {
      model,
      loss: relativeError([ours.loss], [referenceModelLoss(spec, f64, batch)]),
      gradient: relativeError(ours.gradient, referenceModelGradient(spec, f64, batch)),
      hvp: relativeError(ours.hv, matVec(referenceModelHessian(spec, f64, batch), v)),
    };
    tinyErrors.push(errors);
    console.log(`  ${model}: relative error vs float64 reference: loss ${errors.loss.toExponential(1)}, gradient ${errors.gradient.toExponential(1)}, H·v ${errors.hvp.toExponential(1)}`);
  }

  // The bench MLP at N = 512: this engine against tfjs's cpu backend (both float32, different kernels).
  const data = randomBatch(512, DATA_SEED);
  const theta = initMlpParameters(bench, INIT_SEED);
  const v = randomDirection(benchSize, 7);
  let t = performance.now();
  const ours = await gradientAndHvp(bench, data, theta, v);
  const oursSeconds = (performance.now() - t) / 1000;
  const label = engineLabel();
  await selectBackend('cpu');
  t = performance.now();
  const cpu = await gradientAndHvp(bench, data, theta, v);
  const cpuSeconds = (performance.now() - t) / 1000;
  const benchErrors = { gradient: relativeError(ours.gradient, cpu.gradient), hvp: relativeError(ours.hv, cpu.hv) };
  console.log(
    `  bench MLP 784-200-200-10, N = 512, tanh + cross-entropy: ${label} vs tfjs cpu: gradient ${benchErrors.gradient.toExponential(1)}, H·v ${benchErrors.hvp.toExponential(1)} ` +
      `(first call incl. shader compilation ${oursSeconds.toFixed(1)} s; cpu ${cpuSeconds.toFixed(1)} s)`,
  );
  const worstTiny = Math.max(...tinyErrors.flatMap((e) => [e.loss, e.gradient, e.hvp]));
  const ok = worstTiny < TINY_BOUND && benchErrors.gradient < BENCH_BOUND && benchErrors.hvp < BENCH_BOUND;
  console.log(`RESULT ${JSON.stringify({ ok, label, backend, adapter, tiny: tinyErrors, bench: benchErrors, seconds: (performance.now() - started) / 1000, tfjs: tf.version.tfjs })}`);
  if (!ok) {
    console.error(`smoke: an error exceeds its bound (tiny nets ${TINY_BOUND}, bench MLP ${BENCH_BOUND})`);
    process.exitCode = 1;
  }
}

/** 'auto''s choice for a workload, in this process (a selection is per process). */
async function autoChoice(parameters: number, rows: number): Promise<void> {
  const backend = await selectBackend('auto', { parameters, rows });
  console.log(`auto for P = ${parameters}, N = ${rows} (P·N = ${(parameters * rows).toExponential(1)}): ${engineLabel()}`);
  console.log(`RESULT ${JSON.stringify({ auto: backend, label: engineLabel(), parameters, rows })}`);
}

const [mode, p, n] = process.argv.slice(2);
(mode === 'auto' ? autoChoice(Number(p), Number(n)) : main()).catch((error: unknown) => {
  console.error(`gpu smoke: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

/**
 * bench:sharpness — what tracking λmax costs during training (issue 5, goal 3), and how far the cheap
 * tracker is from a converged Lanczos. Side by side in one process: GD with no sharpness, with one power
 * step (one HVP) every step, and with warm-started Lanczos every 10 steps; errors measured afterwards at
 * sampled steps against Lanczos converged to 1e-8 at the same θ.
 */
import { MlpObjective, selectBackend } from '@lrscape/engine';
import { lanczosTopEigenpairs } from '@lrscape/linalg';
import { initMlpParameters } from '@lrscape/engine';
import { trainFullBatchGD, type SharpnessMethod } from '@lrscape/train';
import { CASES, randomBatch, specOf } from './common';

const STEPS = Number(process.env.BENCH_STEPS ?? 200);
const ROWS = Number(process.env.BENCH_ROWS ?? 1024);
const ETA = 0.05;
const SAMPLE_EVERY = 25;

const backend = await selectBackend();
const spec = specOf(CASES[0]); // tanh-CE, 784-200-200-10
const batch = randomBatch(ROWS, 1);
const objective = new MlpObjective(spec, batch);
const theta0 = initMlpParameters(spec, 0);

interface Mode {
  name: string;
  every: number;
  method: SharpnessMethod;
}
const modes: Mode[] = [
  { name: 'no sharpness', every: STEPS + 1, method: 'lanczos' },
  { name: 'power, every step', every: 1, method: 'power' },
  { name: 'lanczos, every 10 steps', every: 10, method: 'lanczos' },
  { name: 'lanczos, every step', every: 1, method: 'lanczos' },
];

console.log(`bench:sharpness — MLP 784-200-200-10 tanh-CE, N = ${ROWS}, ${STEPS} GD steps at η = ${ETA}, backend ${backend}`);
const results: { mode: Mode; seconds: number; hvps: number; errors: number[] }[] = [];
for (const mode of modes) {
  const thetas = new Map<number, Float32Array>();
  const started = performance.now();
  const result = await trainFullBatchGD({
    objective,
    theta0,
    schedule: { kind: 'constant', eta: ETA },
    stop: { kind: 'steps', steps: STEPS },
    testEvery: STEPS + 1,
    sharpnessEvery: mode.every,
    sharpnessIterations: 20,
    sharpnessMethod: mode.method,
    checkpointEvery: SAMPLE_EVERY,
    eventCheckpoints: null,
    divergenceFactor: 1e6,
    onCheckpoint: (step, theta) => void thetas.set(step, Float32Array.from(theta)),
  });
  const seconds = (performance.now() - started) / 1000;
  // Error of the tracked value against a converged Lanczos at the same θ (not timed).
  const errors: number[] = [];
  if (mode.every <= STEPS) {
    for (const record of result.records) {
      const theta = thetas.get(record.step);
      if (record.sharpness === null || !theta || record.step === 0) continue;
      const curvature = await objective.curvatureAt(theta);
      const exact = await lanczosTopEigenpairs((v) => curvature.hvp(v), theta.length, { count: 1, maxIterations: 80, tolerance: 1e-8, trueResiduals: false });
      curvature.dispose();
      errors.push(Math.abs(record.sharpness - exact.pairs[0].value) / exact.pairs[0].value);
    }
  }
  results.push({ mode, seconds, hvps: result.sharpnessHvps, errors });
  console.log(`  ${mode.name}: ${seconds.toFixed(1)} s, ${result.sharpnessHvps} HVPs`);
}

const base = results[0].seconds;
console.log('\n| mode | seconds | extra cost vs no sharpness | HVPs/step | median rel. error | max rel. error |');
console.log('|:--|--:|--:|--:|--:|--:|');
const row = (r: (typeof results)[number]) => {
  const sorted = [...r.errors].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  const max = sorted.length ? sorted[sorted.length - 1] : null;
  const fmt = (x: number | null) => (x === null ? '–' : x.toExponential(1));
  return { median, max, line: `| ${r.mode.name} | ${r.seconds.toFixed(1)} | ${((r.seconds - base) / base).toFixed(2)}× | ${(r.hvps / STEPS).toFixed(2)} | ${fmt(median)} | ${fmt(max)} |` };
};
const rows = results.map(row);
rows.forEach((r) => console.log(r.line));
const extra = (i: number) => Number(((results[i].seconds - base) / base).toFixed(3));
console.log(
  `BENCH ${JSON.stringify({
    backend,
    steps: STEPS,
    rows: ROWS,
    every_step_extra_cost: extra(1),
    every_step_median_rel_error: rows[1].median,
    every_10_extra_cost: extra(2),
    every_10_median_rel_error: rows[2].median,
    lanczos_every_step_extra_cost: extra(3),
  })}`,
);
objective.dispose();

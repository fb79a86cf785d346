/**
 * The GPU check's engine bench (tools/gpu/README.md): bench:engine's model and cases (tools/bench/src/common.ts:
 * MLP 784-200-200-10, tanh/relu × cross-entropy/MSE, seeded random images, LeCun-uniform θ) at a given N, on
 * the engine LRSCAPE_BACKEND selects, against PyTorch CUDA on the same files (python/bench_cuda.py); and the
 * size sweep that sets 'auto''s WEBGPU_MIN_WORK (where a tiny net runs faster on the CPU).
 *
 *   bench.ts data <dir> <n>          the batch, θ and v for N rows, as raw float32/int32 files (what both sides read)
 *   bench.ts time <dir> <tag>        ours on those files: gradient and HVP ms per case; RESULT {json}; <tag>-<case>-grad/-hvp.f32
 *   bench.ts compare <dir> <ours.json> <torch.json>   side by side: ms, ratios, agreement; BENCH {json}
 *   bench.ts sizes                   gradient and HVP ms of nets from W-reg's to the bench MLP at N = 10,000
 *
 * BENCH_REPEATS / BENCH_WARMUPS (default 10 / 2) set the timing; BENCH_CHUNK the engine's chunk size (default
 * the pipeline's, 4096 rows).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineLabel, initMlpParameters, mlpLayout, MlpObjective, selectBackend, type MlpSpec } from '@lrscape/engine';
import { writeEngineBenchData } from '../../bench/src/engine-data';
import { CASES, DATA_SEED, INIT_SEED, fmt, median, randomBatch, randomDirection, readFloat32, relativeError, specOf, table, writeArray } from '../../bench/src/common';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 10);
const WARMUPS = Number(process.env.BENCH_WARMUPS ?? 2);
const CHUNK = process.env.BENCH_CHUNK ? Number(process.env.BENCH_CHUNK) : undefined;

interface CaseTiming {
  grad_ms: number;
  hvp_ms: number;
  curvature_ms: number;
  /** The first call: on a GPU it includes compiling the kernels' shaders. */
  first_grad_ms: number;
  loss: number;
}

interface OursResult {
  label: string;
  n: number;
  chunk: number | null;
  repeats: number;
  cases: Record<string, CaseTiming>;
}

interface TorchResult {
  torch: string;
  device: string;
  n: number;
  repeats: number;
  cases: Record<string, { grad_ms: number; grad_to_host_ms: number; hvp_ms: number; hvp_retained_ms: number; loss: number }>;
}

async function timed(fn: () => Promise<unknown>, repeats = REPEATS, warmups = WARMUPS): Promise<number> {
  for (let i = 0; i < warmups; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}


async function timeOurs(dir: string, tag: string): Promise<void> {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { n: number };
  const spec = specOf(CASES[0]);
  await selectBackend(undefined, { parameters: mlpLayout(spec).size, rows: meta.n });
  const label = engineLabel()!;
  console.log(`engine ${label}, N = ${meta.n}, chunk ${CHUNK ?? 'default (4096)'}, median of ${REPEATS} after ${WARMUPS} warm-ups`);
  const batch = { x: readFloat32(join(dir, 'x.f32')), y: readFloat32(join(dir, 'y.f32')), n: meta.n };
  const theta = readFloat32(join(dir, 'theta.f32'));
  const v = Float64Array.from(readFloat32(join(dir, 'v.f32')));
  const cases: Record<string, CaseTiming> = {};
  for (const c of CASES) {
    const objective = new MlpObjective(specOf(c), batch, CHUNK === undefined ? {} : { chunkSize: CHUNK });
    try {
      let result = await (async () => {
        const start = performance.now();
        const r = await objective.lossAndGradient(theta);
        return { ...r, ms: performance.now() - start };
      })();
      const first = result.ms;
      const grad = await timed(async () => (result = { ...(await objective.lossAndGradient(theta)), ms: 0 }));
      const curvature = await timed(async () => (await objective.curvatureAt(theta)).dispose(), Math.min(REPEATS, 3), 1);
      const state = await objective.curvatureAt(theta);
      let hv: Float64Array = new Float64Array(0);
      try {
        const hvp = await timed(async () => (hv = await state.hvp(v)));
        cases[c.name] = { grad_ms: grad, hvp_ms: hvp, curvature_ms: curvature, first_grad_ms: first, loss: result.loss };
      } finally {
        state.dispose();
      }
      writeArray(dir, `${tag}-${c.name}-grad.f32`, result.gradient);
      writeArray(dir, `${tag}-${c.name}-hvp.f32`, Float32Array.from(hv));
      console.log(`  ${c.name}: gradient ${fmt(grad, 1)} ms (first ${fmt(first)} ms), HVP ${fmt(cases[c.name].hvp_ms, 1)} ms, curvatureAt ${fmt(curvature, 1)} ms`);
    } finally {
      objective.dispose();
    }
  }
  const out: OursResult = { label, n: meta.n, chunk: CHUNK ?? null, repeats: REPEATS, cases };
  console.log(`RESULT ${JSON.stringify(out)}`);
}

/** The RESULT line of a log (or the JSON file itself). */
function readResult<T>(path: string): T {
  const text = readFileSync(path, 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('RESULT '));
  return JSON.parse(line ? line.slice('RESULT '.length) : text) as T;
}

function compare(dir: string, oursPath: string, torchPath: string, tag: string): void {
  const ours = readResult<OursResult>(oursPath);
  const torch = readResult<TorchResult>(torchPath);
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined || !(b > 0) ? '–' : `${(a / b).toFixed(2)}×`);
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const c of CASES) {
    const o = ours.cases[c.name];
    const t = torch.cases[c.name];
    if (!o || !t) continue;
    const gradErr = relativeError(readFloat32(join(dir, `${tag}-${c.name}-grad.f32`)), readFloat32(join(dir, `torch-cuda-${c.name}-grad.f32`)));
    const hvpErr = relativeError(readFloat32(join(dir, `${tag}-${c.name}-hvp.f32`)), readFloat32(join(dir, `torch-cuda-${c.name}-hvp.f32`)));
    rows.push([
      c.name,
      `${fmt(t.grad_ms, 2)} / ${fmt(t.grad_to_host_ms, 2)}`,
      `${fmt(t.hvp_ms, 2)} / ${fmt(t.hvp_retained_ms, 2)}`,
      `${fmt(o.grad_ms, 2)} / ${fmt(o.hvp_ms, 2)}`,
      `${ratio(o.grad_ms, t.grad_ms)} / ${ratio(o.grad_ms, t.grad_to_host_ms)}`,
      `${ratio(o.hvp_ms, t.hvp_ms)} / ${ratio(o.hvp_ms, t.hvp_retained_ms)}`,
      `${gradErr.toExponential(1)} / ${hvpErr.toExponential(1)}`,
    ]);
    summary[c.name] = {
      ours_ms: [o.grad_ms, o.hvp_ms].map((x) => Number(x.toFixed(2))),
      torch_ms: [t.grad_ms, t.grad_to_host_ms, t.hvp_ms, t.hvp_retained_ms].map((x) => Number(x.toFixed(2))),
      grad_ratio: Number((o.grad_ms / t.grad_ms).toFixed(2)),
      hvp_ratio: Number((o.hvp_ms / t.hvp_ms).toFixed(2)),
      rel_err: [gradErr, hvpErr],
    };
  }
  console.log(`N = ${ours.n}: ${ours.label} (chunk ${ours.chunk ?? 4096}) vs PyTorch ${torch.torch} on ${torch.device}, ms (medians of ${ours.repeats} / ${torch.repeats})`);
  console.log(
    table(
      ['case', 'torch grad / grad+to host', 'torch HVP / on kept graph', 'ours grad / HVP', 'grad ratio (vs / vs+host)', 'HVP ratio (vs / vs kept)', '‖ours−torch‖/‖torch‖ grad / HVP'],
      rows,
    ),
  );
  console.log(`BENCH ${JSON.stringify({ n: ours.n, label: ours.label, torch: torch.torch, device: torch.device, cases: summary })}`);
}

/** From W-reg's net to the bench MLP at N = 10,000: where the GPU's per-kernel latency stops dominating. */
async function sizes(): Promise<void> {
  const nets: { name: string; spec: MlpSpec; n: number }[] = [
    { name: 'W-reg 1-32-32-1', spec: { inputDim: 1, hidden: [32, 32], outputDim: 1, activation: 'tanh', loss: 'mse' }, n: 160 },
    { name: 'SRC 2-32-32-2', spec: { inputDim: 2, hidden: [32, 32], outputDim: 2, activation: 'tanh', loss: 'mse' }, n: 320 },
    { name: 'fmnist 784-64-64-10', spec: { inputDim: 784, hidden: [64, 64], outputDim: 10, activation: 'tanh', loss: 'mse' }, n: 800 },
    { name: '784-200-200-10', spec: specOf(CASES[1]), n: 500 },
    { name: '784-200-200-10', spec: specOf(CASES[1]), n: 2048 },
    { name: '784-200-200-10', spec: specOf(CASES[1]), n: 10_000 },
  ];
  const maxWork = Number(process.env.BENCH_MAX_WORK ?? Infinity);
  await selectBackend();
  const label = engineLabel()!;
  const rows: string[][] = [];
  const result: { name: string; n: number; work: number; grad_ms: number; hvp_ms: number }[] = [];
  for (const net of nets) {
    const P = mlpLayout(net.spec).size;
    if (P * net.n > maxWork) continue;
    const batch = randomBatch(net.n, DATA_SEED);
    const x = net.spec.inputDim === 784 ? batch.x : batch.x.slice(0, net.n * net.spec.inputDim);
    const y = batch.y.slice(0, net.n * net.spec.outputDim);
    const objective = new MlpObjective(net.spec, { x, y, n: net.n }, CHUNK === undefined ? {} : { chunkSize: CHUNK });
    try {
      const theta = initMlpParameters(net.spec, INIT_SEED);
      const grad = await timed(() => objective.lossAndGradient(theta));
      const state = await objective.curvatureAt(theta);
      const v = randomDirection(P, 7);
      const hvp = await timed(() => state.hvp(v));
      state.dispose();
      rows.push([`${net.name}, N = ${net.n}`, String(P), (P * net.n).toExponential(1), fmt(grad, 2), fmt(hvp, 2)]);
      result.push({ name: net.name, n: net.n, work: P * net.n, grad_ms: Number(grad.toFixed(3)), hvp_ms: Number(hvp.toFixed(3)) });
    } finally {
      objective.dispose();
    }
  }
  console.log(`${label}: ms per call (median of ${REPEATS} after ${WARMUPS} warm-ups)`);
  console.log(table(['net', 'P', 'P·N', 'gradient ms', 'HVP ms'], rows));
  console.log(`RESULT ${JSON.stringify({ label, sizes: result })}`);
}

const [mode, ...args] = process.argv.slice(2);
const modes: Record<string, () => Promise<void> | void> = {
  data: () => writeEngineBenchData(args[0], Number(args[1])),
  time: () => timeOurs(args[0], args[1] ?? 'ours'),
  compare: () => compare(args[0], args[1], args[2], args[3] ?? 'ours'),
  sizes,
};
const run = modes[mode ?? ''];
if (run === undefined) {
  console.error('usage: bench.ts data <dir> <n> | time <dir> <tag> | compare <dir> <ours> <torch> [tag] | sizes');
  process.exit(2);
}
Promise.resolve(run()).catch((error: unknown) => {
  console.error(`gpu bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

/**
 * bench:engine — gradient and HVP times of our engines against PyTorch single-thread CPU (issue 5, goals
 * 1, 4 and 6), on the four cases, then a full-batch memory case.
 *
 * Each engine runs in its own child process (one tfjs backend per process, and its own peak RSS); the
 * batch, θ and the HVP direction are written once to a temporary folder that every child and the Python
 * side read, so all compute the same quantities, and their results are checked against each other.
 *
 *   tsx tools/bench/src/engine.ts            # the whole bench (what `nx run bench:engine` runs)
 *   tsx tools/bench/src/engine.ts --worker <auto|default|backend> <dir>
 *   tsx tools/bench/src/engine.ts --memory <auto|default|backend>
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  initMlpParameters,
  mlpLayout,
  MlpObjective,
  selectBackend,
  type BackendName,
} from '@lrscape/engine';
import {
  BATCH_ROWS,
  CASES,
  DATA_SEED,
  INIT_SEED,
  PYTHON_DIR,
  fmt,
  findPython,
  machineLine,
  makeWorkDir,
  median,
  peakRssMiB,
  printResult,
  randomBatch,
  randomDirection,
  readFloat32,
  relativeError,
  round,
  runChild,
  runSelf,
  specOf,
  table,
  timeIt,
  writeArray,
} from './common';

const SCRIPT = fileURLToPath(import.meta.url);
const ALL_BACKENDS: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const MEMORY_ROWS = 60_000;
const MEMORY_CHUNK = 4096;
const GIB = 1024 ** 3;

/** Repeats per timing (median taken) and untimed warm-up calls before them. cpu is ~2 s a call. */
function repeatsFor(backend: BackendName): { repeats: number; warmups: number } {
  return backend === 'cpu' ? { repeats: 3, warmups: 1 } : { repeats: 10, warmups: 2 };
}

interface CaseTiming {
  grad_ms: number;
  hvp_ms: number;
  curvature_ms: number;
  loss: number;
}

interface WorkerResult {
  available: boolean;
  backend?: BackendName;
  reason?: string;
  repeats?: number;
  warmups?: number;
  cases?: Record<string, CaseTiming>;
  peak_rss_mib?: number;
}

interface MemoryResult {
  available: boolean;
  reason?: string;
  backend?: BackendName;
  rows?: number;
  chunk?: number;
  first_ms?: number;
  second_ms?: number;
  loss?: number;
  peak_rss_mib?: number;
}

interface TorchResult {
  torch: string;
  threads: number;
  repeats: number;
  cases: Record<string, { grad_ms: number; hvp_ms: number; hvp_retained_ms: number; loss: number }>;
}

async function select(requested: string): Promise<BackendName> {
  // 'default' is what a pipeline task would get: LRSCAPE_BACKEND, else auto.
  return requested === 'default' ? selectBackend() : selectBackend(requested as 'auto' | BackendName);
}

// ---------------------------------------------------------------- child: one engine, four cases

async function worker(requested: string, dir: string): Promise<void> {
  let backend: BackendName;
  try {
    backend = await select(requested);
  } catch (error) {
    printResult({ available: false, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) } satisfies WorkerResult);
    return;
  }
  const { repeats, warmups } = repeatsFor(backend);
  const x = readFloat32(join(dir, 'x.f32'));
  const y = readFloat32(join(dir, 'y.f32'));
  const theta = readFloat32(join(dir, 'theta.f32'));
  const v = Float64Array.from(readFloat32(join(dir, 'v.f32')));
  const batch = { x, y, n: BATCH_ROWS };
  const cases: Record<string, CaseTiming> = {};
  for (const c of CASES) {
    const objective = new MlpObjective(specOf(c), batch);
    try {
      let gradient: Float32Array = new Float32Array(0);
      let loss = NaN;
      const gradOnce = async () => {
        const r = await objective.lossAndGradient(theta);
        gradient = r.gradient;
        loss = r.loss;
      };
      for (let i = 0; i < warmups; i++) await gradOnce();
      const gradTimes: number[] = [];
      for (let i = 0; i < repeats; i++) gradTimes.push(await timeIt(gradOnce));

      // curvatureAt: the per-θ forward/backward state every HVP at that θ reuses.
      for (let i = 0; i < warmups; i++) (await objective.curvatureAt(theta)).dispose();
      const curvatureTimes: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const start = performance.now();
        const s = await objective.curvatureAt(theta);
        curvatureTimes.push(performance.now() - start);
        s.dispose();
      }

      const state = await objective.curvatureAt(theta);
      let hv: Float64Array = new Float64Array(0);
      try {
        for (let i = 0; i < warmups; i++) hv = await state.hvp(v);
        const hvpTimes: number[] = [];
        for (let i = 0; i < repeats; i++) hvpTimes.push(await timeIt(async () => (hv = await state.hvp(v))));
        cases[c.name] = { grad_ms: median(gradTimes), hvp_ms: median(hvpTimes), curvature_ms: median(curvatureTimes), loss };
      } finally {
        state.dispose();
      }
      writeArray(dir, `${backend}-${c.name}-grad.f32`, gradient);
      writeArray(dir, `${backend}-${c.name}-hvp.f32`, Float32Array.from(hv));
    } finally {
      objective.dispose();
    }
  }
  printResult({ available: true, backend, repeats, warmups, cases, peak_rss_mib: peakRssMiB() } satisfies WorkerResult);
}

// ---------------------------------------------------------------- child: full-batch memory case

async function memoryWorker(requested: string): Promise<void> {
  let backend: BackendName;
  try {
    backend = await select(requested);
  } catch (error) {
    printResult({ available: false, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) } satisfies MemoryResult);
    return;
  }
  const spec = specOf(CASES[0]);
  const batch = randomBatch(MEMORY_ROWS, DATA_SEED + 1);
  const theta = initMlpParameters(spec, INIT_SEED);
  const objective = new MlpObjective(spec, batch, { chunkSize: MEMORY_CHUNK });
  let loss = NaN;
  const once = async () => (loss = (await objective.lossAndGradient(theta)).loss);
  // The first call also builds each chunk's transposed inputs (kept for later calls).
  const first = await timeIt(once);
  const second = await timeIt(once);
  objective.dispose();
  printResult({
    available: true,
    backend,
    rows: MEMORY_ROWS,
    chunk: MEMORY_CHUNK,
    first_ms: first,
    second_ms: second,
    loss,
    peak_rss_mib: peakRssMiB(),
  } satisfies MemoryResult);
}

// ---------------------------------------------------------------- parent: run everything, print

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || !(b > 0) ? null : a / b;
}

function maxOf(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === values.length && present.length > 0 ? Math.max(...present) : null;
}

async function main(): Promise<void> {
  console.log(`bench:engine — ${machineLine()}`);
  console.log(`MLP 784-200-200-10, N = ${BATCH_ROWS} random inputs (x ~ U[0,1), random labels, one-hot y), float32, θ = LeCun-uniform init`);
  const dir = makeWorkDir('engine');
  try {
    const spec = specOf(CASES[0]);
    const batch = randomBatch(BATCH_ROWS, DATA_SEED);
    const size = mlpLayout(spec).size;
    writeArray(dir, 'x.f32', batch.x);
    writeArray(dir, 'y.f32', batch.y);
    writeArray(dir, 'labels.i32', batch.labels);
    writeArray(dir, 'theta.f32', initMlpParameters(spec, INIT_SEED));
    writeArray(dir, 'v.f32', Float32Array.from(randomDirection(size, 7)));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ n: BATCH_ROWS, input_dim: 784, hidden: [200, 200], classes: 10, cases: CASES, size }));

    // The engine a pipeline task would use first (LRSCAPE_BACKEND, else auto), then every other one.
    console.log(`\n[1/4] our engines (each in its own process; LRSCAPE_BACKEND=${process.env.LRSCAPE_BACKEND ?? '(unset: auto)'})`);
    const engines: { backend: BackendName; result: WorkerResult }[] = [];
    const unavailable: string[] = [];
    console.log('  default engine …');
    const first = await runSelf<WorkerResult>(SCRIPT, ['--worker', 'default', dir]);
    if (!first.result?.available || !first.result.backend) {
      throw new Error(`the default engine did not run: ${first.result?.reason ?? first.error}`);
    }
    const chosen = first.result.backend;
    console.log(`  default engine resolved to '${chosen}'`);
    engines.push({ backend: chosen, result: first.result });
    for (const name of ALL_BACKENDS) {
      if (name === chosen) continue;
      console.log(`  ${name} …`);
      const r = await runSelf<WorkerResult>(SCRIPT, ['--worker', name, dir]);
      if (r.result?.available && r.result.backend) engines.push({ backend: r.result.backend, result: r.result });
      else unavailable.push(`${name}: ${r.result?.reason ?? r.error}`);
    }

    console.log(`\n[2/4] memory case: full-batch gradient, ${MEMORY_ROWS} × 784 inputs, chunks of ${MEMORY_CHUNK}, on '${chosen}'`);
    const memory = (await runSelf<MemoryResult>(SCRIPT, ['--memory', chosen])).result;

    console.log('\n[3/4] PyTorch peer');
    const probe = findPython(['torch', 'numpy']);
    let torch: TorchResult | null = null;
    if (probe.python === null) {
      console.log(`  PyTorch not available (${probe.reason}); the bench installs nothing — our figures only.`);
    } else {
      console.log(`  ${probe.python}: torch ${probe.versions.torch}, numpy ${probe.versions.numpy}`);
      const r = await runChild<TorchResult>(probe.python, [join(PYTHON_DIR, 'engine_torch.py'), dir], { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' });
      torch = r.result;
      if (torch === null) console.log(`  PyTorch run failed: ${r.error}`);
    }

    console.log('\n[4/4] results');
    report(engines, unavailable, chosen, torch, memory, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(
  engines: { backend: BackendName; result: WorkerResult }[],
  unavailable: string[],
  chosen: BackendName,
  torch: TorchResult | null,
  memory: MemoryResult | null,
  dir: string,
): void {
  const names = CASES.map((c) => c.name);
  const gh = (g?: number, h?: number) => `${fmt(g)} / ${fmt(h)}`;
  const rt = (r: number | null) => (r === null ? '–' : `${r.toFixed(1)}×`);

  // Table 1: the table, ms gradient / HVP, with ratios to PyTorch.
  const rows: string[][] = [];
  if (torch) {
    rows.push([`PyTorch ${torch.torch} CPU, ${torch.threads} thread`, ...names.map((n) => gh(torch.cases[n]?.grad_ms, torch.cases[n]?.hvp_ms))]);
    rows.push([`PyTorch, HVP on a kept graph`, ...names.map((n) => gh(torch.cases[n]?.grad_ms, torch.cases[n]?.hvp_retained_ms))]);
  }
  for (const { backend, result } of engines) {
    const tag = backend === chosen ? `${backend} (default)` : backend;
    rows.push([`${tag}, median of ${result.repeats}`, ...names.map((n) => gh(result.cases?.[n]?.grad_ms, result.cases?.[n]?.hvp_ms))]);
  }
  if (torch) {
    for (const { backend, result } of engines) {
      rows.push([
        `${backend} ÷ PyTorch`,
        ...names.map((n) => `${rt(ratio(result.cases?.[n]?.grad_ms, torch.cases[n]?.grad_ms))} / ${rt(ratio(result.cases?.[n]?.hvp_ms, torch.cases[n]?.hvp_ms))}`),
      ]);
    }
  }
  console.log('\nms per call, gradient / HVP (our HVP: curvatureAt(θ) once, then hvp; PyTorch HVP: forward, grad with create_graph, grad of g·v)');
  console.log(table(['engine', ...names], rows));
  for (const u of unavailable) console.log(`  not available here: ${u}`);

  // Table 2: per-θ setup, HVP/gradient, agreement with PyTorch, peak RSS.
  const rows2: string[][] = [];
  for (const { backend, result } of engines) {
    const cells = names.map((n) => {
      const c = result.cases?.[n];
      if (!c) return '–';
      return `${fmt(c.curvature_ms)} · ${fmt(c.hvp_ms / c.grad_ms, 2)} · ${fmt((c.hvp_ms + c.curvature_ms) / c.grad_ms, 2)}`;
    });
    rows2.push([backend, ...cells, fmt(result.peak_rss_mib)]);
  }
  if (torch) {
    rows2.push([
      'PyTorch',
      ...names.map((n) => {
        const c = torch.cases[n];
        return c ? `– · ${fmt(c.hvp_ms / c.grad_ms, 2)} · ${fmt(c.hvp_retained_ms / c.grad_ms, 2)}*` : '–';
      }),
      '–',
    ]);
  }
  console.log('\ncurvatureAt ms · HVP/grad · (curvatureAt + HVP)/grad   (PyTorch: – · full HVP/grad · kept-graph HVP/grad*)');
  console.log(table(['engine', ...names, 'peak RSS MiB'], rows2));

  // Agreement: our gradient and HVP against PyTorch's on the same data, θ and v.
  let maxGradErr: number | null = null;
  let maxHvpErr: number | null = null;
  if (torch) {
    const rows3: string[][] = [];
    for (const { backend } of engines) {
      const cells = names.map((n) => {
        const g = relativeError(readFloat32(join(dir, `${backend}-${n}-grad.f32`)), readFloat32(join(dir, `torch-${n}-grad.f32`)));
        const h = relativeError(readFloat32(join(dir, `${backend}-${n}-hvp.f32`)), readFloat32(join(dir, `torch-${n}-hvp.f32`)));
        maxGradErr = Math.max(maxGradErr ?? 0, g);
        maxHvpErr = Math.max(maxHvpErr ?? 0, h);
        return `${g.toExponential(1)} / ${h.toExponential(1)}`;
      });
      rows3.push([backend, ...cells]);
    }
    console.log('\nagreement with PyTorch on identical data, θ, v: ‖ours − torch‖/‖torch‖, gradient / HVP');
    console.log(table(['engine', ...names], rows3));
  }

  // Memory case.
  const underLimit = memory?.available ? (memory.peak_rss_mib ?? Infinity) * 1024 * 1024 < 4 * GIB : null;
  if (memory?.available) {
    console.log(
      `\nmemory: full-batch gradient on ${memory.rows} × 784 (${memory.chunk}-row chunks) on ${memory.backend}: ` +
        `first call ${fmt(memory.first_ms)} ms (builds the transposed chunks), second ${fmt(memory.second_ms)} ms; ` +
        `peak RSS ${fmt(memory.peak_rss_mib)} MiB — ${underLimit ? 'under' : 'NOT under'} 4 GiB`,
    );
  } else {
    console.log(`\nmemory case did not run: ${memory?.reason ?? 'no result'}`);
  }

  // BENCH line: ratios of the default engine, max over the four cases.
  const best = engines.find((e) => e.backend === chosen)!.result;
  const gradRatio = torch ? maxOf(names.map((n) => ratio(best.cases?.[n]?.grad_ms, torch.cases[n]?.grad_ms))) : null;
  const hvpRatio = torch ? maxOf(names.map((n) => ratio(best.cases?.[n]?.hvp_ms, torch.cases[n]?.hvp_ms))) : null;
  const hvpRetainedRatio = torch ? maxOf(names.map((n) => ratio(best.cases?.[n]?.hvp_ms, torch.cases[n]?.hvp_retained_ms))) : null;
  const hvpOverGrad = maxOf(engines.flatMap((e) => names.map((n) => ratio(e.result.cases?.[n]?.hvp_ms, e.result.cases?.[n]?.grad_ms))));
  const perEngine = Object.fromEntries(
    engines.map((e) => [
      e.backend,
      Object.fromEntries(names.map((n) => [n, e.result.cases?.[n] ? [round(e.result.cases[n].grad_ms, 1), round(e.result.cases[n].hvp_ms, 1)] : null])),
    ]),
  );
  const bench = {
    hvp_ratio_vs_torch: hvpRatio === null ? null : round(hvpRatio, 2),
    grad_ratio_vs_torch: gradRatio === null ? null : round(gradRatio, 2),
    hvp_over_grad: hvpOverGrad === null ? null : round(hvpOverGrad, 2),
    backend: chosen,
    hvp_ratio_vs_torch_kept_graph: hvpRetainedRatio === null ? null : round(hvpRetainedRatio, 2),
    torch: torch ? torch.torch : null,
    torch_ms: torch ? Object.fromEntries(names.map((n) => [n, [round(torch.cases[n].grad_ms, 1), round(torch.cases[n].hvp_ms, 1)]])) : null,
    ms: perEngine,
    max_rel_err_vs_torch: torch ? { grad: maxGradErr, hvp: maxHvpErr } : null,
    peak_rss_mib: Math.round(Math.max(...engines.map((e) => e.result.peak_rss_mib ?? 0))),
    memory: memory?.available
      ? { rows: memory.rows, chunk: memory.chunk, ms: Math.round(memory.second_ms ?? NaN), peak_rss_mib: Math.round(memory.peak_rss_mib ?? NaN), under_4gib: underLimit }
      : null,
  };
  console.log(`\nBENCH ${JSON.stringify(bench)}`);
}

const [mode, arg, dirArg] = process.argv.slice(2);
const run = mode === '--worker' ? () => worker(arg, dirArg) : mode === '--memory' ? () => memoryWorker(arg) : main;
run().catch((error: unknown) => {
  console.error(`bench:engine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});

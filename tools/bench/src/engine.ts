/**
 * bench:engine — gradient and HVP times of our engines against PyTorch CPU (issues 5 and 13), on the four
 * cases of the benchmark MLP, then a full-batch memory case.
 *
 * Both sides run twice (issue 13, "the environment is respected"): with the environment as set (this workplace
 * sets OPENBLAS_CORETYPE=Haswell, which pins OpenBLAS to its AVX2 kernels) and with OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE unset for those child processes alone (OpenBLAS then picks its kernels for this CPU), so each
 * comparison is like with like. Each pass reports the OpenBLAS core in use. Our engines: the default (what a
 * pipeline task gets: LRSCAPE_BACKEND, else auto; on wasm the native OpenBLAS kernels where they load) at one
 * thread (LRSCAPE_BLAS_THREADS=1, against PyTorch at one) and at two (against PyTorch at two), the wasm backend
 * with tfjs's own kernels (LRSCAPE_KERNELS=wasm), and every other backend that loads.
 *
 * Each engine runs in its own child process (one tfjs backend per process, and its own peak RSS); the batch, θ
 * and the HVP direction are written once to a temporary folder that every child and the Python side read, so
 * all compute the same quantities, and their results are checked against each other.
 *
 * Then the attention model (issue 12): its exact HVP (the hand-written R-operator) against its gradient on the
 * default engine, as a ratio — the seq-attention experiment's model and training set, and a wider, deeper one.
 *
 *   tsx tools/bench/src/engine.ts            # the whole bench (what `nx run bench:engine` runs)
 *   tsx tools/bench/src/engine.ts --worker <auto|default|backend> <dir> <tag>
 *   tsx tools/bench/src/engine.ts --memory <auto|default|backend>
 *   tsx tools/bench/src/engine.ts --attention <auto|default|backend>
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  engineLabel,
  initMlpParameters,
  initModelParameters,
  ModelObjective,
  type AttentionSpec,
  kernelStatus,
  MlpObjective,
  nativeThreads,
  selectBackend,
  type BackendName,
  type KernelStatus,
} from '@lrscape/engine';
import { createRng } from '@lrscape/linalg';
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
  timeWallAndCpu,
  writeArray,
  type ChildEnv,
} from './common';
import { writeEngineBenchData } from './engine-data';

const SCRIPT = fileURLToPath(import.meta.url);
const OTHER_BACKENDS: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'cpu'];
const MEMORY_ROWS = 60_000;
const MEMORY_CHUNK = 4096;
const GIB = 1024 ** 3;

/** The two environments of every comparison: as set, and with OpenBLAS's two variables unset (children only). */
type Pass = 'set' | 'unset';
const PASSES: readonly Pass[] = ['set', 'unset'];
const UNSET: ChildEnv = { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined };
const passEnv = (pass: Pass): ChildEnv => (pass === 'set' ? {} : UNSET);
const passTitle = (pass: Pass): string =>
  pass === 'set'
    ? `environment as set (OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}, OPENBLAS_L2_SIZE=${process.env.OPENBLAS_L2_SIZE ?? '(unset)'})`
    : 'OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (for these child processes only)';

/** Repeats per timing (median taken) and untimed warm-up calls before them. cpu is ~2 s a call. */
function repeatsFor(backend: BackendName): { repeats: number; warmups: number } {
  return backend === 'cpu' ? { repeats: 3, warmups: 1 } : { repeats: 10, warmups: 2 };
}

interface CaseTiming {
  grad_ms: number;
  hvp_ms: number;
  curvature_ms: number;
  /** Medians of the CPU time of the same calls (process.cpuUsage: every thread of the process). */
  grad_cpu_ms: number;
  hvp_cpu_ms: number;
  loss: number;
}

interface WorkerResult {
  available: boolean;
  backend?: BackendName;
  /** engineLabel(): the backend with its kernel path, e.g. 'wasm+openblas/Haswell'. */
  label?: string;
  kernels?: KernelStatus;
  threads?: number;
  reason?: string;
  repeats?: number;
  warmups?: number;
  cases?: Record<string, CaseTiming>;
  peak_rss_mib?: number;
}

interface MemoryResult {
  available: boolean;
  reason?: string;
  label?: string;
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
  cases: Record<string, { grad_ms: number; hvp_ms: number; hvp_retained_ms: number; grad_cpu_ms: number; hvp_cpu_ms: number; hvp_retained_cpu_ms: number; loss: number }>;
}

async function select(requested: string): Promise<BackendName> {
  // 'default' is what a pipeline task would get: LRSCAPE_BACKEND, else auto.
  return requested === 'default' ? selectBackend() : selectBackend(requested as 'auto' | BackendName);
}

// ---------------------------------------------------------------- child: one engine, four cases

async function worker(requested: string, dir: string, tag: string): Promise<void> {
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
      const gradTimes: { wall: number; cpu: number }[] = [];
      for (let i = 0; i < repeats; i++) gradTimes.push(await timeWallAndCpu(gradOnce));

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
        const hvpTimes: { wall: number; cpu: number }[] = [];
        for (let i = 0; i < repeats; i++) hvpTimes.push(await timeWallAndCpu(async () => (hv = await state.hvp(v))));
        cases[c.name] = {
          grad_ms: median(gradTimes.map((t) => t.wall)),
          hvp_ms: median(hvpTimes.map((t) => t.wall)),
          curvature_ms: median(curvatureTimes),
          grad_cpu_ms: median(gradTimes.map((t) => t.cpu)),
          hvp_cpu_ms: median(hvpTimes.map((t) => t.cpu)),
          loss,
        };
      } finally {
        state.dispose();
      }
      writeArray(dir, `${tag}-${c.name}-grad.f32`, gradient);
      writeArray(dir, `${tag}-${c.name}-hvp.f32`, Float32Array.from(hv));
    } finally {
      objective.dispose();
    }
  }
  printResult({
    available: true,
    backend,
    label: engineLabel() ?? backend,
    kernels: kernelStatus(),
    threads: nativeThreads(),
    repeats,
    warmups,
    cases,
    peak_rss_mib: peakRssMiB(),
  } satisfies WorkerResult);
}

// ---------------------------------------------------------------- child: full-batch memory case

async function memoryWorker(requested: string): Promise<void> {
  try {
    await select(requested);
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
    label: engineLabel() ?? undefined,
    rows: MEMORY_ROWS,
    chunk: MEMORY_CHUNK,
    first_ms: first,
    second_ms: second,
    loss,
    peak_rss_mib: peakRssMiB(),
  } satisfies MemoryResult);
}

// ---------------------------------------------------------------- child: the attention model's HVP against its gradient

/** The seq-attention experiment's model on its 320 training sequences, and a wider, deeper one on more. */
const ATTENTION_CASES: readonly { name: string; n: number; spec: AttentionSpec }[] = [
  {
    name: 'seq-attention',
    n: 320,
    spec: { kind: 'attention', sequenceLength: 12, vocabulary: 8, width: 16, heads: 1, blocks: 1, readout: 'first', dense: [], outputDim: 2, activation: 'tanh', loss: 'mse' },
  },
  {
    name: '2 blocks × 4 heads, d = 32',
    n: 1024,
    spec: { kind: 'attention', sequenceLength: 16, vocabulary: 16, width: 32, heads: 4, blocks: 2, readout: 'mean', dense: [32], outputDim: 4, activation: 'tanh', loss: 'cross_entropy' },
  },
];

interface AttentionTiming {
  name: string;
  n: number;
  parameters: number;
  grad_ms: number;
  curvature_ms: number;
  hvp_ms: number;
  hvp_over_grad: number;
}

interface AttentionResult {
  available: boolean;
  reason?: string;
  label?: string;
  repeats?: number;
  cases?: AttentionTiming[];
}

async function attentionWorker(requested: string): Promise<void> {
  let backend: BackendName;
  try {
    backend = await select(requested);
  } catch (error) {
    printResult({ available: false, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) } satisfies AttentionResult);
    return;
  }
  const { repeats, warmups } = repeatsFor(backend);
  const cases: AttentionTiming[] = [];
  for (const { name, n, spec } of ATTENTION_CASES) {
    const rng = createRng(DATA_SEED);
    const x = Float32Array.from({ length: n * spec.sequenceLength }, () => rng.int(spec.vocabulary));
    const labels = Int32Array.from({ length: n }, () => rng.int(spec.outputDim));
    const y = new Float32Array(n * spec.outputDim);
    labels.forEach((c, row) => (y[row * spec.outputDim + c] = 1));
    const objective = new ModelObjective(spec, { x, y, n, labels });
    const theta = initModelParameters(spec, INIT_SEED);
    const v = randomDirection(theta.length, 7);
    try {
      const timed = async (fn: () => Promise<unknown>) => {
        for (let i = 0; i < warmups; i++) await fn();
        const times: number[] = [];
        for (let i = 0; i < repeats; i++) times.push(await timeIt(fn));
        return median(times);
      };
      const grad = await timed(() => objective.lossAndGradient(theta));
      const curvature = await timed(async () => (await objective.curvatureAt(theta)).dispose());
      const state = await objective.curvatureAt(theta);
      const hvp = await timed(() => state.hvp(v));
      state.dispose();
      cases.push({ name, n, parameters: theta.length, grad_ms: grad, curvature_ms: curvature, hvp_ms: hvp, hvp_over_grad: hvp / grad });
    } finally {
      objective.dispose();
    }
  }
  printResult({ available: true, label: engineLabel() ?? backend, repeats, cases } satisfies AttentionResult);
}

// ---------------------------------------------------------------- parent: run everything, print

/** One of our engine runs: which engine, in which environment, its result and where its outputs are. */
interface EngineRun {
  pass: Pass;
  /** Row name: 'ours ×1', 'ours ×2', 'wasm kernels', 'cpu', … */
  name: string;
  tag: string;
  result: WorkerResult;
}

interface TorchRun {
  pass: Pass;
  threads: number;
  result: TorchResult;
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || !(b > 0) ? null : a / b;
}

function maxOf(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === values.length && present.length > 0 ? Math.max(...present) : null;
}

async function runEngine(runs: EngineRun[], unavailable: string[], pass: Pass, name: string, requested: string, dir: string, env: ChildEnv): Promise<EngineRun | null> {
  const tag = `${pass}-${name.replace(/[^a-z0-9]+/gi, '_')}`;
  console.log(`  ${name} …`);
  const r = await runSelf<WorkerResult>(SCRIPT, ['--worker', requested, dir, tag], { ...passEnv(pass), ...env });
  if (r.result?.available && r.result.backend) {
    const run = { pass, name, tag, result: r.result };
    runs.push(run);
    const k = r.result.kernels;
    console.log(`    → ${r.result.label}${k?.path === 'native' ? `, ${r.result.threads} thread(s), ${k.config}` : k?.reason ? ` (native kernels not used: ${k.reason})` : ''}`);
    return run;
  }
  unavailable.push(`${name} (${pass}): ${r.result?.reason ?? r.error}`);
  return null;
}

async function main(): Promise<void> {
  console.log(`bench:engine — ${machineLine()}`);
  console.log(`MLP 784-200-200-10, N = ${BATCH_ROWS} random inputs (x ~ U[0,1), random labels, one-hot y), float32, θ = LeCun-uniform init`);
  const dir = makeWorkDir('engine');
  try {
    writeEngineBenchData(dir, BATCH_ROWS);

    const probe = findPython(['torch', 'numpy']);
    if (probe.python === null) console.log(`PyTorch not available (${probe.reason}); the bench installs nothing — our figures only.`);
    else console.log(`PyTorch peer: ${probe.python}: torch ${probe.versions.torch}, numpy ${probe.versions.numpy}`);

    const runs: EngineRun[] = [];
    const torchRuns: TorchRun[] = [];
    const unavailable: string[] = [];
    let chosen: BackendName | null = null;
    for (const pass of PASSES) {
      console.log(`\n[${pass === 'set' ? 1 : 2}/3] ${passTitle(pass)}; LRSCAPE_BACKEND=${process.env.LRSCAPE_BACKEND ?? '(unset: auto)'}`);
      // The engine a pipeline task would use (LRSCAPE_BACKEND, else auto), at one thread, then at two.
      const one = await runEngine(runs, unavailable, pass, 'ours ×1', 'default', dir, { LRSCAPE_BLAS_THREADS: '1' });
      if (one === null) throw new Error(`the default engine did not run: ${unavailable.at(-1)}`);
      chosen ??= one.result.backend!;
      if (one.result.kernels?.path === 'native') await runEngine(runs, unavailable, pass, 'ours ×2', 'default', dir, { LRSCAPE_BLAS_THREADS: '2' });
      if (pass === 'set') {
        // Engines that do not read OpenBLAS's variables: once.
        if (chosen === 'wasm' && one.result.kernels?.path === 'native') await runEngine(runs, unavailable, pass, 'wasm kernels', 'wasm', dir, { LRSCAPE_KERNELS: 'wasm' });
        for (const name of OTHER_BACKENDS) if (name !== chosen) await runEngine(runs, unavailable, pass, name, name, dir, {});
      }
      if (probe.python !== null) {
        for (const threads of [1, 2]) {
          console.log(`  PyTorch, ${threads} thread(s) …`);
          const r = await runChild<TorchResult>(probe.python, [join(PYTHON_DIR, 'engine_torch.py'), dir, String(threads), pass], {
            ...passEnv(pass),
            OMP_NUM_THREADS: String(threads),
            MKL_NUM_THREADS: String(threads),
            // Debian's torch runs its matrix products on the pthread OpenBLAS, whose threads torch.set_num_threads
            // does not reach (measured: 2 BLAS threads under set_num_threads(1)); without this, "PyTorch ×1" ran
            // its products on both cores.
            OPENBLAS_NUM_THREADS: String(threads),
            PYTHONDONTWRITEBYTECODE: '1',
          });
          if (r.result !== null) torchRuns.push({ pass, threads, result: r.result });
          else console.log(`  PyTorch run failed: ${r.error}`);
        }
      }
    }

    console.log(`\n[3/3] memory case: full-batch gradient, ${MEMORY_ROWS} × 784 inputs, chunks of ${MEMORY_CHUNK}, on the default engine`);
    const memory = (await runSelf<MemoryResult>(SCRIPT, ['--memory', 'default'])).result;

    console.log('\nattention model: exact HVP (R-operator) against the gradient, on the default engine');
    const attention = (await runSelf<AttentionResult>(SCRIPT, ['--attention', 'default'])).result;

    report(runs, torchRuns, unavailable, chosen!, memory, attention, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(runs: EngineRun[], torchRuns: TorchRun[], unavailable: string[], chosen: BackendName, memory: MemoryResult | null, attention: AttentionResult | null, dir: string): void {
  const names = CASES.map((c) => c.name);
  const gh = (g?: number, h?: number) => `${fmt(g)} / ${fmt(h)}`;
  const rt = (r: number | null) => (r === null ? '–' : `${r.toFixed(2)}×`);
  const torchOf = (pass: Pass, threads: number) => torchRuns.find((t) => t.pass === pass && t.threads === threads)?.result ?? null;
  /** The PyTorch run an engine run is compared with: same pass, same thread count (×2 rows against 2 threads). */
  const peerOf = (run: EngineRun) => torchOf(run.pass, run.name === 'ours ×2' ? 2 : 1);

  for (const pass of PASSES) {
    const passRuns = runs.filter((r) => r.pass === pass);
    if (passRuns.length === 0) continue;
    const core = passRuns.find((r) => r.result.kernels?.path === 'native')?.result.kernels?.corename;
    console.log(`\n${passTitle(pass)} — OpenBLAS core in use: ${core ?? '(native kernels not used)'}`);
    const rows: string[][] = [];
    for (const threads of [1, 2]) {
      const t = torchOf(pass, threads);
      if (t) {
        rows.push([`PyTorch ${t.torch} CPU, ${t.threads} thread${t.threads > 1 ? 's' : ''}`, ...names.map((n) => gh(t.cases[n]?.grad_ms, t.cases[n]?.hvp_ms))]);
        rows.push([`PyTorch ×${threads}, HVP on a kept graph`, ...names.map((n) => gh(t.cases[n]?.grad_ms, t.cases[n]?.hvp_retained_ms))]);
      }
    }
    for (const run of passRuns) {
      const { result } = run;
      rows.push([`${run.name}: ${result.label}${run.result.backend === chosen && run.name.startsWith('ours') ? ' (default)' : ''}, median of ${result.repeats}`, ...names.map((n) => gh(result.cases?.[n]?.grad_ms, result.cases?.[n]?.hvp_ms))]);
    }
    for (const run of passRuns) {
      const peer = peerOf(run);
      if (!peer) continue;
      rows.push([
        `${run.name} ÷ PyTorch ×${peer.threads}`,
        ...names.map((n) => `${rt(ratio(run.result.cases?.[n]?.grad_ms, peer.cases[n]?.grad_ms))} / ${rt(ratio(run.result.cases?.[n]?.hvp_ms, peer.cases[n]?.hvp_ms))}`),
      ]);
    }
    console.log('ms per call, gradient / HVP (our HVP: curvatureAt(θ) once, then hvp; PyTorch HVP: forward, grad with create_graph, grad of g·v)');
    console.log(table(['engine', ...names], rows));

    const rows2: string[][] = [];
    for (const run of passRuns) {
      const cells = names.map((n) => {
        const c = run.result.cases?.[n];
        return c ? `${fmt(c.curvature_ms)} · ${fmt(c.hvp_ms / c.grad_ms, 2)} · ${fmt((c.hvp_ms + c.curvature_ms) / c.grad_ms, 2)}` : '–';
      });
      rows2.push([run.name, ...cells, fmt(run.result.peak_rss_mib)]);
    }
    const t1 = torchOf(pass, 1);
    if (t1) rows2.push(['PyTorch ×1', ...names.map((n) => (t1.cases[n] ? `– · ${fmt(t1.cases[n].hvp_ms / t1.cases[n].grad_ms, 2)} · ${fmt(t1.cases[n].hvp_retained_ms / t1.cases[n].grad_ms, 2)}*` : '–')), '–']);
    console.log('curvatureAt ms · HVP/grad · (curvatureAt + HVP)/grad   (PyTorch: – · full HVP/grad · kept-graph HVP/grad*)');
    console.log(table(['engine', ...names, 'peak RSS MiB'], rows2));

    // One-thread runs by CPU time: what the other jobs on a shared machine change least.
    if (t1) {
      const rows4: string[][] = [[`PyTorch ×1`, ...names.map((n) => gh(t1.cases[n]?.grad_cpu_ms, t1.cases[n]?.hvp_cpu_ms))]];
      for (const run of passRuns.filter((r) => r.name !== 'ours ×2' && r.result.backend !== 'cpu')) {
        rows4.push([run.name, ...names.map((n) => gh(run.result.cases?.[n]?.grad_cpu_ms, run.result.cases?.[n]?.hvp_cpu_ms))]);
        rows4.push([
          `${run.name} ÷ PyTorch ×1`,
          ...names.map((n) => `${rt(ratio(run.result.cases?.[n]?.grad_cpu_ms, t1.cases[n]?.grad_cpu_ms))} / ${rt(ratio(run.result.cases?.[n]?.hvp_cpu_ms, t1.cases[n]?.hvp_cpu_ms))}`),
        ]);
      }
      console.log('CPU ms per call (median), gradient / HVP, one-thread runs');
      console.log(table(['engine', ...names], rows4));
    }
  }
  for (const u of unavailable) console.log(`  not available here: ${u}`);

  // Agreement: each engine's gradient and HVP against PyTorch's (one thread, same pass) on the same data, θ and v.
  let maxGradErr: number | null = null;
  let maxHvpErr: number | null = null;
  const rows3: string[][] = [];
  for (const run of runs) {
    const peer = torchOf(run.pass, 1);
    if (!peer) continue;
    const cells = names.map((n) => {
      const g = relativeError(readFloat32(join(dir, `${run.tag}-${n}-grad.f32`)), readFloat32(join(dir, `torch-${run.pass}-1-${n}-grad.f32`)));
      const h = relativeError(readFloat32(join(dir, `${run.tag}-${n}-hvp.f32`)), readFloat32(join(dir, `torch-${run.pass}-1-${n}-hvp.f32`)));
      maxGradErr = Math.max(maxGradErr ?? 0, g);
      maxHvpErr = Math.max(maxHvpErr ?? 0, h);
      return `${g.toExponential(1)} / ${h.toExponential(1)}`;
    });
    rows3.push([`${run.name} (${run.pass})`, ...cells]);
  }
  if (rows3.length > 0) {
    console.log('\nagreement with PyTorch (1 thread, same environment) on identical data, θ, v: ‖ours − torch‖/‖torch‖, gradient / HVP');
    console.log(table(['engine', ...names], rows3));
  }

  const underLimit = memory?.available ? (memory.peak_rss_mib ?? Infinity) * 1024 * 1024 < 4 * GIB : null;
  if (memory?.available) {
    console.log(
      `\nmemory: full-batch gradient on ${memory.rows} × 784 (${memory.chunk}-row chunks) on ${memory.label}: ` +
        `first call ${fmt(memory.first_ms)} ms (builds the transposed chunks), second ${fmt(memory.second_ms)} ms; ` +
        `peak RSS ${fmt(memory.peak_rss_mib)} MiB — ${underLimit ? 'under' : 'NOT under'} 4 GiB`,
    );
  } else {
    console.log(`\nmemory case did not run: ${memory?.reason ?? 'no result'}`);
  }

  if (attention?.available && attention.cases) {
    console.log(`\nattention model on ${attention.label}, median of ${attention.repeats} (HVP: curvatureAt(θ) once, then hvp)`);
    console.log(
      table(
        ['model', 'sequences', 'P', 'gradient ms', 'curvatureAt ms', 'HVP ms', 'HVP/grad'],
        attention.cases.map((c) => [c.name, String(c.n), String(c.parameters), fmt(c.grad_ms, 1), fmt(c.curvature_ms, 1), fmt(c.hvp_ms, 1), fmt(c.hvp_over_grad, 2)]),
      ),
    );
  } else {
    console.log(`\nattention case did not run: ${attention?.reason ?? 'no result'}`);
  }

  // BENCH: ratios (max over the four cases) of each engine run against its PyTorch peer.
  const ratios = (run: EngineRun | undefined) => {
    const peer = run ? peerOf(run) : null;
    if (!run || !peer) return null;
    const of = (ours: (c: CaseTiming) => number, theirs: (c: TorchResult['cases'][string]) => number) =>
      maxOf(names.map((n) => ratio(run.result.cases?.[n] ? ours(run.result.cases[n]) : undefined, peer.cases[n] ? theirs(peer.cases[n]) : undefined)));
    const r2 = (x: number | null) => (x === null ? null : round(x, 2));
    return {
      grad_ratio_vs_torch: r2(of((c) => c.grad_ms, (c) => c.grad_ms)),
      hvp_ratio_vs_torch: r2(of((c) => c.hvp_ms, (c) => c.hvp_ms)),
      hvp_ratio_vs_torch_kept_graph: r2(of((c) => c.hvp_ms, (c) => c.hvp_retained_ms)),
      torch_threads: peer.threads,
      ...(peer.threads === 1
        ? {
            cpu_time_grad_ratio_vs_torch: r2(of((c) => c.grad_cpu_ms, (c) => c.grad_cpu_ms)),
            cpu_time_hvp_ratio_vs_torch: r2(of((c) => c.hvp_cpu_ms, (c) => c.hvp_cpu_ms)),
          }
        : {}),
    };
  };
  const find = (pass: Pass, name: string) => runs.find((r) => r.pass === pass && r.name === name);
  const msOf = (run: EngineRun | undefined) =>
    run ? Object.fromEntries(names.map((n) => [n, run.result.cases?.[n] ? [round(run.result.cases[n].grad_ms, 1), round(run.result.cases[n].hvp_ms, 1)] : null])) : null;
  const primary = find('set', 'ours ×1')!;
  const mainRatios = ratios(primary);
  const torchSet = torchOf('set', 1);
  const hvpOverGrad = maxOf(runs.flatMap((e) => names.map((n) => ratio(e.result.cases?.[n]?.hvp_ms, e.result.cases?.[n]?.grad_ms))));
  const passSummary = (pass: Pass) => {
    const one = find(pass, 'ours ×1');
    const two = find(pass, 'ours ×2');
    return {
      kernels: one?.result.label ?? null,
      corename: one?.result.kernels?.corename ?? null,
      one_thread: ratios(one),
      two_threads: ratios(two),
      ms: msOf(one),
      ms_two_threads: msOf(two),
      torch_ms: torchOf(pass, 1) ? Object.fromEntries(names.map((n) => [n, [round(torchOf(pass, 1)!.cases[n].grad_ms, 1), round(torchOf(pass, 1)!.cases[n].hvp_ms, 1)]])) : null,
    };
  };
  const bench = {
    hvp_ratio_vs_torch: mainRatios?.hvp_ratio_vs_torch ?? null,
    grad_ratio_vs_torch: mainRatios?.grad_ratio_vs_torch ?? null,
    hvp_over_grad: hvpOverGrad === null ? null : round(hvpOverGrad, 2),
    backend: chosen,
    kernels: primary.result.label ?? null,
    corename: primary.result.kernels?.corename ?? null,
    hvp_ratio_vs_torch_kept_graph: mainRatios?.hvp_ratio_vs_torch_kept_graph ?? null,
    torch: torchSet ? torchSet.torch : null,
    env_as_set: passSummary('set'),
    env_unset: passSummary('unset'),
    wasm_kernels: ratios(find('set', 'wasm kernels')),
    wasm_kernels_ms: msOf(find('set', 'wasm kernels')),
    max_rel_err_vs_torch: maxGradErr === null ? null : { grad: maxGradErr, hvp: maxHvpErr },
    peak_rss_mib: Math.round(Math.max(...runs.map((e) => e.result.peak_rss_mib ?? 0))),
    memory: memory?.available
      ? { kernels: memory.label, rows: memory.rows, chunk: memory.chunk, ms: Math.round(memory.second_ms ?? NaN), peak_rss_mib: Math.round(memory.peak_rss_mib ?? NaN), under_4gib: underLimit }
      : null,
    attention: attention?.available
      ? {
          kernels: attention.label,
          hvp_over_grad: round(Math.max(...attention.cases!.map((c) => c.hvp_over_grad)), 2),
          cases: Object.fromEntries(attention.cases!.map((c) => [c.name, { n: c.n, parameters: c.parameters, ms: [round(c.grad_ms, 1), round(c.hvp_ms, 1)], hvp_over_grad: round(c.hvp_over_grad, 2) }])),
        }
      : null,
  };
  console.log(`\nBENCH ${JSON.stringify(bench)}`);
}

const [mode, arg, dirArg, tagArg] = process.argv.slice(2);
const run = mode === '--worker' ? () => worker(arg, dirArg, tagArg) : mode === '--memory' ? () => memoryWorker(arg) : mode === '--attention' ? () => attentionWorker(arg) : main;
run().catch((error: unknown) => {
  console.error(`bench:engine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});

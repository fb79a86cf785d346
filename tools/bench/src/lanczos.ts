/**
 * bench:lanczos — top-20 Hessian eigenpairs of the benchmark MLP (tanh-CE, N = 2048): HVPs and wall time
 * of our lanczosTopEigenpairs against scipy's eigsh (ARPACK, which='LA') on PyTorch HVPs, both run until
 * every pair has a true relative residual ‖Hu − λu‖/|λ| ≤ 1e-4 (issue 5, goal 2); then the warm start at
 * the next GD iterate from the previous eigenvectors.
 *
 * Both sides pick, from the same grid of tolerances, the loosest one whose result meets the target, the
 * true residual being measured by each side with extra HVPs that are not counted. θ, θ' and the batch are
 * written to a temporary folder that the Python side reads, so both work on the identical Hessian.
 *
 * Lanczos's own work (reorthogonalisation, Ritz vectors) runs on linalg's basis kernels: the JS ones, or the
 * native BLAS ones (libs/engine/src/native/linalg.ts) where linalg has the `setBasisKernels` hook and the native
 * kernels run. The bench times the cold run at θ with each (side by side, the same HVPs), and times the kernels
 * alone at the run's basis size.
 *
 *   tsx tools/bench/src/lanczos.ts
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineLabel, initMlpParameters, kernelStatus, MlpObjective, nativeVectorKernels, selectBackend, type Curvature, type VectorKernels } from '@lrscape/engine';
import * as linalg from '@lrscape/linalg';
import { lanczosTopEigenpairs, type LinearOperator, type RitzPair } from '@lrscape/linalg';
// The JS basis kernels themselves, for the side-by-side measurement of Lanczos's own work (not exported by the lib).
import { combineInto as combineIntoJs, projectInto as projectIntoJs, subtractCombination as subtractCombinationJs } from '../../../libs/linalg/src/vector';
import {
  BATCH_ROWS,
  CASES,
  DATA_SEED,
  INIT_SEED,
  PYTHON_DIR,
  findPython,
  fmt,
  machineLine,
  makeWorkDir,
  randomBatch,
  round,
  runChild,
  specOf,
  table,
  writeArray,
} from './common';

/** The Hessian: tanh-CE at θ = 5 GD steps of η = 0.05 from the init (9 outliers above a bulk), θ' one step on. */
const BENCH_CASE = CASES[0];
const GD_STEPS = 5;
const GD_LR = 0.05;
const COUNT = 20;
const TARGET = 1e-4;
/** Tolerances tried by both sides, loosest first; each side takes the first whose result meets TARGET. */
const TOLERANCE_GRID = [1e-3, 5e-4, 2e-4, 1e-4, 5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6];
/** Cap on the Krylov dimension (our side), well beyond what the target needs. */
const MAX_ITERATIONS = 400;
const SEED = 0;

/**
 * Records the HVPs of one Lanczos run and replays them to a rerun with the same seed, which asks for the
 * same vectors in the same order: reruns at a tighter tolerance or another maxIterations then cost no
 * HVPs, and the counts stay those of a fresh run. (The HVP reads v as float32, so that is the key.)
 */
class ReplayOperator {
  private inputs: Float32Array[] = [];
  private outputs: Float64Array[] = [];
  private cursor = 0;

  constructor(private readonly op: LinearOperator) {}

  rewind(): void {
    this.cursor = 0;
  }

  /** Operator applications the current run has asked for. */
  get calls(): number {
    return this.cursor;
  }

  readonly apply: LinearOperator = async (v) => {
    const key = Float32Array.from(v);
    const i = this.cursor++;
    if (i < this.inputs.length) {
      const recorded = this.inputs[i];
      let same = recorded.length === key.length;
      for (let j = 0; same && j < key.length; j++) same = recorded[j] === key[j];
      if (same) return Float64Array.from(this.outputs[i]);
      this.inputs.length = i; // diverged from the recording: drop the rest
      this.outputs.length = i;
    }
    const out = await this.op(v);
    this.inputs.push(key);
    this.outputs.push(Float64Array.from(out));
    return out;
  };
}

/** max over pairs of ‖Hu − λu‖/|λ|, with HVPs of its own (not counted anywhere). */
async function worstRelativeResidual(state: Curvature, pairs: RitzPair[]): Promise<number> {
  let worst = 0;
  for (const { value, vector } of pairs) {
    const hu = await state.hvp(vector);
    let s = 0;
    for (let i = 0; i < hu.length; i++) s += (hu[i] - value * vector[i]) ** 2;
    worst = Math.max(worst, Math.sqrt(s) / Math.abs(value));
  }
  return worst;
}

interface ScanStep {
  tolerance: number;
  hvps: number;
  worst: number;
  converged: boolean;
}

interface OursResult {
  tolerance: number | null;
  hvps: number | null;
  worst: number | null;
  scan: ScanStep[];
  /** Smallest maxIterations (Krylov dimension) whose Ritz pairs meet the target. */
  minIterations: number | null;
  seconds: number | null;
  /** The timed run's seconds: curvatureAt, inside the HVPs, and the rest (reorthogonalisation, T, Ritz vectors). */
  split: { curvature: number; hvp: number; lanczos: number } | null;
  pairs: RitzPair[];
}

/**
 * Our side at one θ: the tolerance scan and the smallest Krylov dimension (both on replayed HVPs), then
 * one clean, timed run at the chosen tolerance: curvatureAt(θ) + lanczosTopEigenpairs, as the hessian
 * stage would do it (without the default true-residual HVPs, which the target check replaces).
 */
async function ours(objective: MlpObjective, theta: Float32Array, warmVectors: Float64Array[] | undefined, timed: boolean, label: string): Promise<OursResult> {
  const size = theta.length;
  const options = (tolerance: number, maxIterations = MAX_ITERATIONS) => ({ count: COUNT, tolerance, maxIterations, seed: SEED, trueResiduals: false, warmVectors });
  const state = await objective.curvatureAt(theta);
  const result: OursResult = { tolerance: null, hvps: null, worst: null, scan: [], minIterations: null, seconds: null, split: null, pairs: [] };
  try {
    const replay = new ReplayOperator((v) => state.hvp(v));
    for (const tolerance of TOLERANCE_GRID) {
      replay.rewind();
      const r = await lanczosTopEigenpairs(replay.apply, size, options(tolerance));
      const worst = await worstRelativeResidual(state, r.pairs);
      result.scan.push({ tolerance, hvps: r.operatorCalls, worst, converged: r.converged });
      console.log(`  ${label}: tolerance ${tolerance.toExponential(0)} → ${r.operatorCalls} HVPs, worst true relative residual ${worst.toExponential(2)}`);
      if (worst <= TARGET) {
        Object.assign(result, { tolerance, hvps: r.operatorCalls, worst, pairs: r.pairs });
        break;
      }
    }
    if (result.hvps === null) return result;
    // Smallest Krylov dimension that meets the target (an oracle: a real run cannot know it in advance).
    // A looser tolerance's run that failed was the Krylov space of its dimension: the answer lies above it.
    const failed = result.scan.filter((step) => step.worst > TARGET).map((step) => step.hvps);
    let lo = Math.max(COUNT, ...failed.map((k) => k + 1));
    let hi = result.hvps;
    while (lo < hi) {
      const k = (lo + hi) >> 1;
      replay.rewind();
      const r = await lanczosTopEigenpairs(replay.apply, size, options(0, k));
      if ((await worstRelativeResidual(state, r.pairs)) <= TARGET) hi = k;
      else lo = k + 1;
    }
    result.minIterations = hi;
    console.log(`  ${label}: smallest Krylov dimension meeting the target: ${hi}`);
  } finally {
    state.dispose();
  }
  if (timed && result.tolerance !== null) {
    const start = performance.now();
    const s = await objective.curvatureAt(theta);
    const setup = performance.now() - start;
    let inHvp = 0;
    const op: LinearOperator = async (v) => {
      const t = performance.now();
      const hv = await s.hvp(v);
      inHvp += performance.now() - t;
      return hv;
    };
    const r = await lanczosTopEigenpairs(op, size, options(result.tolerance));
    result.seconds = (performance.now() - start) / 1000;
    result.split = { curvature: setup / 1000, hvp: inHvp / 1000, lanczos: result.seconds - (setup + inHvp) / 1000 };
    s.dispose();
    if (r.operatorCalls !== result.hvps) console.log(`  note: timed run used ${r.operatorCalls} HVPs, the scan ${result.hvps}`);
    result.pairs = r.pairs;
    console.log(
      `  ${label}: timed run ${result.seconds.toFixed(1)} s = curvatureAt ${result.split.curvature.toFixed(1)} s + ` +
        `${r.operatorCalls} HVPs ${result.split.hvp.toFixed(1)} s + Lanczos's own work ${result.split.lanczos.toFixed(1)} s`,
    );
  }
  return result;
}

/** linalg's hook for its basis kernels, where it has one (docs in libs/engine/src/native/kernels.ts). */
function basisHook(): ((kernels: VectorKernels | null) => unknown) | null {
  const hook = (linalg as unknown as Record<string, unknown>).setBasisKernels;
  return typeof hook === 'function' ? (hook as (kernels: VectorKernels | null) => unknown) : null;
}

interface KernelTimes {
  /** ms of one projectInto and one subtractCombination over a basis of `basis` vectors (one reorthogonalisation pass). */
  pass_ms: number;
  /** ms of combineInto of COUNT Ritz vectors from `basis` vectors. */
  ritz_ms: number;
}

/** The basis kernels alone at P entries and `basis` vectors: JS and native, median of 5. */
function timeBasisKernels(size: number, basis: number): { js: KernelTimes; native: KernelTimes | null } {
  const vectors = Array.from({ length: basis }, (_, i) => Float64Array.from({ length: size }, (_, t) => Math.sin(i * 7.1 + t * 0.37)));
  const w = Float64Array.from({ length: size }, (_, t) => Math.cos(t * 0.11));
  const outputs = Array.from({ length: COUNT }, () => new Float64Array(size));
  const coefficients = Float64Array.from({ length: basis * COUNT }, (_, i) => Math.sin(i));
  const measure = (k: VectorKernels): KernelTimes => {
    const pass: number[] = [];
    const ritz: number[] = [];
    const c = new Float64Array(basis);
    for (let r = 0; r < 5; r++) {
      const target = Float64Array.from(w);
      let t = performance.now();
      k.projectInto(c, vectors, target, 0, basis);
      k.subtractCombination(target, vectors, c, 0, basis);
      pass.push(performance.now() - t);
      t = performance.now();
      k.combineInto(outputs, vectors, coefficients);
      ritz.push(performance.now() - t);
    }
    const med = (x: number[]) => [...x].sort((a, b) => a - b)[2];
    return { pass_ms: round(med(pass), 1), ritz_ms: round(med(ritz), 1) };
  };
  const hook = basisHook();
  const previous = hook?.(null); // the JS kernels below are linalg's own, whatever is installed
  try {
    const js = measure({ projectInto: projectIntoJs, subtractCombination: subtractCombinationJs, combineInto: combineIntoJs });
    const native = nativeVectorKernels();
    return { js, native: native === null ? null : measure(native) };
  } finally {
    if (hook && previous !== undefined) hook(previous as VectorKernels | null);
  }
}

interface ArpackRun {
  tol: number | null;
  hvps: number | null;
  seconds: number | null;
  /** The chosen run's seconds: grad with create_graph at θ, inside the HVPs, and ARPACK's own work. */
  split: { setup: number; hvp: number; arpack: number } | null;
  worst: number | null;
  values: number[];
  scan: { tol: number; hvps: number; seconds: number; worst: number }[];
}

interface ScipyResult {
  torch: string;
  scipy: string;
  at_theta: ArpackRun;
  next_warm: ArpackRun;
  next_cold: ArpackRun;
}

function relativeSpread(a: number[], b: number[]): number | null {
  if (a.length === 0 || a.length !== b.length) return null;
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));
}

async function main(): Promise<void> {
  console.log(`bench:lanczos — ${machineLine()}`);
  const backend = await selectBackend();
  const kernels = kernelStatus();
  const hook = basisHook();
  console.log(`engine: ${engineLabel()} (LRSCAPE_BACKEND=${process.env.LRSCAPE_BACKEND ?? '(unset: auto)'}, LRSCAPE_KERNELS=${process.env.LRSCAPE_KERNELS ?? '(unset: auto)'})${kernels.path === 'native' ? `, ${kernels.config}` : kernels.reason ? `; native kernels not used: ${kernels.reason}` : ''}`);
  console.log(
    `Lanczos's basis kernels: ${kernels.basisKernels ? 'native BLAS (ddot/daxpy per chunk, dgemm for Ritz vectors)' : 'JS'}` +
      (hook === null ? " (@lrscape/linalg has no setBasisKernels hook: its own JS kernels run)" : ''),
  );
  const spec = specOf(BENCH_CASE);
  const batch = randomBatch(BATCH_ROWS, DATA_SEED);
  const objective = new MlpObjective(spec, batch);
  const dir = makeWorkDir('lanczos');
  try {
    // θ: a few GD steps from the init; θ' = one more step.
    const theta = initMlpParameters(spec, INIT_SEED);
    const step = async (at: Float32Array): Promise<Float32Array> => {
      const { gradient } = await objective.lossAndGradient(at);
      return at.map((w, i) => w - GD_LR * gradient[i]);
    };
    let current = theta;
    for (let s = 0; s < GD_STEPS; s++) current = await step(current);
    const next = await step(current);
    console.log(`MLP 784-200-200-10 ${BENCH_CASE.name}, N = ${BATCH_ROWS}, P = ${theta.length}; θ = ${GD_STEPS} GD steps of η = ${GD_LR} from the init, θ' = one more step`);
    console.log(`target: top ${COUNT} pairs, every one with ‖Hu − λu‖/|λ| ≤ ${TARGET} (measured with extra HVPs, not counted)`);

    writeArray(dir, 'x.f32', batch.x);
    writeArray(dir, 'y.f32', batch.y);
    writeArray(dir, 'labels.i32', batch.labels);
    writeArray(dir, 'theta.f32', current);
    writeArray(dir, 'theta_next.f32', next);
    writeFileSync(
      join(dir, 'meta.json'),
      JSON.stringify({
        n: BATCH_ROWS, input_dim: 784, hidden: [200, 200], classes: 10, activation: BENCH_CASE.activation, loss: BENCH_CASE.loss,
        count: COUNT, target: TARGET, tolerances: TOLERANCE_GRID, seed: SEED,
      }),
    );

    console.log('\n[1/3] our Lanczos at θ (cold, seeded random start)');
    const cold = await ours(objective, current, undefined, true, 'θ cold');
    console.log("\n[2/3] our Lanczos at θ' (warm: started from θ's eigenvectors; and cold for reference)");
    const warm = await ours(objective, next, cold.pairs.length > 0 ? cold.pairs.map((p) => p.vector) : undefined, true, "θ' warm");
    const coldNext = await ours(objective, next, undefined, false, "θ' cold");
    // The same cold run at θ with linalg's JS basis kernels, where the native ones ran above (same HVPs, same tolerance).
    let coldJs: OursResult | null = null;
    if (hook !== null && kernels.basisKernels) {
      console.log("\n[2b/3] our Lanczos at θ again, cold, with linalg's JS basis kernels (side by side with the native ones above)");
      const previous = hook(null);
      try {
        coldJs = await ours(objective, current, undefined, true, 'θ cold, JS basis kernels');
      } finally {
        hook(previous as VectorKernels | null);
      }
    }
    const basisSize = cold.hvps ?? COUNT;
    console.log(`\nthe basis kernels alone, P = ${theta.length}, ${basisSize} vectors (the cold run's basis at its end):`);
    const kernelTimes = timeBasisKernels(theta.length, basisSize);
    console.log(
      `  one reorthogonalisation pass (projectInto + subtractCombination): JS ${fmt(kernelTimes.js.pass_ms, 1)} ms, native ${fmt(kernelTimes.native?.pass_ms, 1)} ms; ` +
        `${COUNT} Ritz vectors (combineInto): JS ${fmt(kernelTimes.js.ritz_ms, 1)} ms, native ${fmt(kernelTimes.native?.ritz_ms, 1)} ms`,
    );

    console.log('\n[3/3] scipy eigsh (ARPACK) on PyTorch HVPs, same θ, θ\' and batch');
    const probe = findPython(['torch', 'scipy', 'numpy']);
    let peer: ScipyResult | null = null;
    if (probe.python === null) {
      console.log(`  PyTorch + SciPy not available (${probe.reason}); the bench installs nothing — our figures only.`);
    } else {
      console.log(`  ${probe.python}: torch ${probe.versions.torch}, scipy ${probe.versions.scipy}, numpy ${probe.versions.numpy}`);
      const r = await runChild<ScipyResult>(probe.python, [join(PYTHON_DIR, 'lanczos_scipy.py'), dir], { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' });
      peer = r.result;
      if (peer === null) console.log(`  eigsh run failed: ${r.error}`);
    }

    report({ backend, label: engineLabel() ?? backend, corename: kernels.corename, basisKernels: kernels.basisKernels ? 'native' : 'js', hook: hook !== null }, cold, warm, coldNext, coldJs, kernelTimes, peer);
  } finally {
    objective.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface EngineInfo {
  backend: string;
  label: string;
  corename: string | null;
  basisKernels: 'native' | 'js';
  hook: boolean;
}

function report(
  engine: EngineInfo,
  cold: OursResult,
  warm: OursResult,
  coldNext: OursResult,
  coldJs: OursResult | null,
  kernelTimes: { js: KernelTimes; native: KernelTimes | null },
  peer: ScipyResult | null,
): void {
  const { backend } = engine;
  const e = (x: number | null) => (x === null ? '–' : x.toExponential(1));
  const rows: string[][] = [
    [`ours, Lanczos (full reorth.), cold, ${engine.basisKernels} basis kernels`, 'θ', e(cold.tolerance), fmt(cold.hvps), fmt(cold.minIterations), fmt(cold.seconds, 1), e(cold.worst)],
    ...(coldJs ? [['ours, the same with JS basis kernels', 'θ', e(coldJs.tolerance), fmt(coldJs.hvps), '–', fmt(coldJs.seconds, 1), e(coldJs.worst)]] : []),
    ["ours, warm from θ's eigenvectors", "θ'", e(warm.tolerance), fmt(warm.hvps), fmt(warm.minIterations), fmt(warm.seconds, 1), e(warm.worst)],
    ['ours, cold', "θ'", e(coldNext.tolerance), fmt(coldNext.hvps), '–', '–', e(coldNext.worst)],
  ];
  if (peer) {
    const row = (name: string, at: string, r: ArpackRun) => [name, at, e(r.tol), fmt(r.hvps), '–', fmt(r.seconds, 1), e(r.worst)];
    rows.push(row('eigsh (ARPACK, ncv 41), cold', 'θ', peer.at_theta));
    rows.push(row("eigsh, v0 = Σ θ's eigenvectors", "θ'", peer.next_warm));
    rows.push(row('eigsh, cold', "θ'", peer.next_cold));
  }
  console.log(`\ntop ${COUNT} eigenpairs to true relative residual ≤ ${TARGET}; seconds include the per-θ setup (curvatureAt / grad with create_graph)`);
  console.log(table(['method', 'at', 'tolerance', 'HVPs', 'min k', 'seconds', 'worst rel. res.'], rows));
  for (const [name, r] of [['θ cold', cold], ['θ cold, JS basis kernels', coldJs], ["θ' warm", warm]] as const) {
    if (r === null) continue;
    if (r.split) {
      console.log(`ours ${name}: ${fmt(r.seconds, 1)} s = curvatureAt ${fmt(r.split.curvature, 1)} s + HVPs ${fmt(r.split.hvp, 1)} s (${fmt((1000 * r.split.hvp) / (r.hvps ?? NaN))} ms each) + Lanczos's own work ${fmt(r.split.lanczos, 1)} s`);
    }
  }
  if (peer?.at_theta.split) {
    const r = peer.at_theta;
    const sp = r.split!;
    console.log(`eigsh θ cold: ${fmt(r.seconds, 1)} s = grad with create_graph ${fmt(sp.setup, 1)} s + HVPs ${fmt(sp.hvp, 1)} s (${fmt((1000 * sp.hvp) / (r.hvps ?? NaN))} ms each) + ARPACK's own work ${fmt(sp.arpack, 1)} s`);
  }
  if (cold.pairs.length > 0) {
    console.log(`our top ${COUNT} at θ: ${cold.pairs.map((p) => p.value.toPrecision(4)).join(' ')}`);
  }
  const valueDiff = peer ? relativeSpread(cold.pairs.map((p) => p.value), peer.at_theta.values) : null;
  if (peer) console.log(`eigenvalues, ours vs ARPACK at θ: max relative difference ${e(valueDiff)}`);
  if (!peer) console.log('(no eigsh peer: ratios are null)');

  const secondsRatio = peer && cold.seconds !== null && peer.at_theta.seconds ? cold.seconds / peer.at_theta.seconds : null;
  const warmSecondsRatio = peer && warm.seconds !== null && peer.next_warm.seconds ? warm.seconds / peer.next_warm.seconds : null;
  const bench = {
    hvps: cold.hvps,
    arpack_hvps: peer ? peer.at_theta.hvps : null,
    seconds_ratio_vs_eigsh: secondsRatio === null ? null : round(secondsRatio, 2),
    warm_hvps: warm.hvps,
    backend,
    kernels: engine.label,
    corename: engine.corename,
    basis_kernels: engine.basisKernels,
    linalg_basis_hook: engine.hook,
    seconds_js_basis_kernels: coldJs?.seconds == null ? null : round(coldJs.seconds, 2),
    seconds_split_js_basis_kernels: coldJs?.split ? { curvature: round(coldJs.split.curvature, 2), hvp: round(coldJs.split.hvp, 2), lanczos: round(coldJs.split.lanczos, 2) } : null,
    basis_kernel_ms: kernelTimes,
    count: COUNT,
    target_rel_residual: TARGET,
    hvps_min_iterations: cold.minIterations,
    warm_hvps_min_iterations: warm.minIterations,
    cold_next_hvps: coldNext.hvps,
    seconds: cold.seconds === null ? null : round(cold.seconds, 2),
    warm_seconds: warm.seconds === null ? null : round(warm.seconds, 2),
    eigsh_seconds: peer?.at_theta.seconds == null ? null : round(peer.at_theta.seconds, 2),
    seconds_split: cold.split ? { curvature: round(cold.split.curvature, 2), hvp: round(cold.split.hvp, 2), lanczos: round(cold.split.lanczos, 2) } : null,
    arpack_warm_hvps: peer ? peer.next_warm.hvps : null,
    arpack_cold_next_hvps: peer ? peer.next_cold.hvps : null,
    warm_seconds_ratio_vs_eigsh_warm: warmSecondsRatio === null ? null : round(warmSecondsRatio, 2),
    tolerance: cold.tolerance,
    arpack_tol: peer ? peer.at_theta.tol : null,
    worst_rel_residual: cold.worst,
    arpack_worst_rel_residual: peer ? peer.at_theta.worst : null,
    eigenvalue_rel_diff_vs_arpack: valueDiff,
  };
  console.log(`\nBENCH ${JSON.stringify(bench)}`);
}

main().catch((error: unknown) => {
  console.error(`bench:lanczos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});

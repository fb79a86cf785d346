/**
 * Native matrix products for tfjs's wasm backend (libs/engine/native/README.md): BatchMatMul and
 * _FusedMatMul (linear activation, optional bias) registered for 'wasm' in place of the XNNPACK kernels, running
 * OpenBLAS on the tensors' own bytes in the wasm heap. Everything else stays wasm.
 *
 * Which path runs: `LRSCAPE_KERNELS=auto|openblas|wasm` (default auto: native where the addon and the library
 * load and pass the self-test, else wasm with a logged reason; `openblas` refuses to run without them; `wasm`
 * keeps tfjs's kernels). `kernelStatus()` says which path runs and why; it is printed by the stages and enters
 * every compute task's cache key through tools/lrscape/bin/backend-fingerprint.mjs.
 *
 * Private tfjs internals this relies on (tfjs-backend-wasm 4.22.0, pinned in package.json; checked here at
 * install and tested in native.test.ts): `backend.wasm.HEAPU8` (the heap view, replaced by emscripten when the
 * memory grows: its `.buffer` is read anew on every call, after the output is allocated), `backend.dataIdMap.get
 * (dataId).memoryOffset` (a tensor's byte offset in the heap), `backend.makeOutput(shape, dtype)` (allocates an
 * output there). The addon checks every operand's bytes against the heap, so a stale view or a tensor whose
 * bytes are not where the backend says is a thrown error, never a product of the wrong bytes.
 *
 * Products the native kernels do not take (non-float32 operands, batch shapes that broadcast in more than one
 * operand, fused activations other than linear, a PReLU, a bias that is not one value per column) are handed to
 * the wasm kernel they replaced, unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchMatMul, _FusedMatMul, broadcast_util, getKernel, registerKernel, unregisterKernel, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import * as linalg from '@lrscape/linalg';
import { loadAddon, type BlasAddon } from './addon';
import { nativeVectorKernels, type VectorKernels } from './linalg';
import { ThreadPolicy } from './threads';

export type KernelRequest = 'auto' | 'openblas' | 'wasm';
export const KERNEL_REQUESTS: readonly KernelRequest[] = Object.freeze(['auto', 'openblas', 'wasm'] as const);
/** The tfjs-backend-wasm whose internals the native kernels are written against. */
export const PINNED_WASM_VERSION = '4.22.0';

export interface KernelStatus {
  requested: KernelRequest;
  /** What runs the wasm backend's matrix products: 'native' (the BLAS below) or 'wasm' (XNNPACK). */
  path: 'native' | 'wasm';
  /** The BLAS of the native path, as the library reports itself (null on the wasm path). */
  library: 'openblas' | 'accelerate' | null;
  /** OpenBLAS's core (kernel family) in use, e.g. 'Haswell' under OPENBLAS_CORETYPE=Haswell, 'SkylakeX' unset. */
  corename: string | null;
  config: string | null;
  /** Why the native path does not run (null when it runs, or when the wasm path was asked for). */
  reason: string | null;
  /**
   * Whether Lanczos's float64 basis kernels (reorthogonalisation, Ritz vectors) run on the native BLAS too: with
   * the native path, where @lrscape/linalg offers the hook `setBasisKernels` (linalg.ts here has the kernels).
   */
  basisKernels: boolean;
}

/** The wasm backend's internals the kernels use (tfjs-backend-wasm 4.22's BackendWasm). */
interface WasmTensorData {
  memoryOffset: number | null;
  shape: number[];
  dtype: string;
}
export interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

const NAMES = [BatchMatMul, _FusedMatMul] as const;
type KernelName = (typeof NAMES)[number];

/**
 * The wasm kernels replaced, kept on globalThis: tfjs's kernel registry is global to the process's tfjs, and a
 * re-evaluated copy of this module (vitest's resetModules) must still find the kernels to restore or delegate to.
 */
interface Registry {
  originals: Partial<Record<KernelName, KernelConfig>>;
  installed: boolean;
}
const REGISTRY_KEY = Symbol.for('lrscape.engine.nativeKernels');
function registry(): Registry {
  const global = globalThis as { [REGISTRY_KEY]?: Registry };
  return (global[REGISTRY_KEY] ??= { originals: {}, installed: false });
}

let status: KernelStatus = { requested: 'auto', path: 'wasm', library: null, corename: null, config: null, reason: 'no backend selected yet', basisKernels: false };
let addon: BlasAddon | null = null;
let policy: ThreadPolicy | null = null;
let warned = false;

/** LRSCAPE_KERNELS (default auto); throws on an unknown value, listing the valid ones. */
export function kernelRequestFromEnv(env: NodeJS.ProcessEnv = process.env): KernelRequest {
  const value = env.LRSCAPE_KERNELS;
  if (value === undefined || value === '') return 'auto';
  if (!(KERNEL_REQUESTS as readonly string[]).includes(value)) {
    throw new Error(`unknown LRSCAPE_KERNELS '${value}' (valid: ${KERNEL_REQUESTS.join(', ')})`);
  }
  return value as KernelRequest;
}

/** Which path runs the wasm backend's matrix products, and why. */
export function kernelStatus(): KernelStatus {
  return { ...status };
}

/** The loaded addon while the native path runs (for the float64 kernels of linalg.ts), else null. */
export function activeAddon(): BlasAddon | null {
  return status.path === 'native' ? addon : null;
}

/** True while the active backend's matrix products take a transposed operand at no cost (the native path). */
export function transposedProductsAreFree(): boolean {
  return status.path === 'native' && tf.getBackend() === 'wasm';
}

/** Threads per native product now (0 on the wasm path). */
export function nativeThreads(): number {
  return status.path === 'native' && policy !== null ? policy.threads : 0;
}

// ------------------------------------------------------------------------------------------- the kernels

function original(name: KernelName): KernelConfig {
  const config = registry().originals[name];
  if (config === undefined) throw new Error(`native kernels: the wasm kernel ${name} was not saved before it was replaced`);
  return config;
}

/** A product the native kernel takes: C = op(A)·op(B) over a batch, each operand broadcast or not. */
interface Plan {
  m: number;
  n: number;
  k: number;
  batch: number;
  aStride: number;
  bStride: number;
  outShape: number[];
}

/** The plan of a (batched) product, or null when the wasm kernel should take it (see the file comment). */
function planProduct(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Plan | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return null; // the wasm kernel throws tfjs's own message
  let outer: number[];
  try {
    outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return null;
  }
  const batch = util.sizeFromShape(outer);
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  return { m, n, k, batch, aStride: batchA === 1 ? 0 : m * k, bStride: batchB === 1 ? 0 : k * n, outShape: [...outer, m, n] };
}

function offsetOf(backend: WasmBackendInternals, t: TensorInfo, role: string): number {
  const data = backend.dataIdMap.get(t.dataId);
  const offset = data?.memoryOffset;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new Error(`native MatMul: the ${role} tensor [${t.shape}] has no byte offset in the wasm heap (dataIdMap gives ${JSON.stringify(offset)}): its bytes are not where the backend says`);
  }
  return offset;
}

function runProduct(backend: WasmBackendInternals, a: TensorInfo, b: TensorInfo, bias: TensorInfo | null, plan: Plan, transposeA: boolean, transposeB: boolean): TensorInfo {
  policy?.tick();
  const out = backend.makeOutput(plan.outShape, 'float32');
  try {
    // After makeOutput, which may grow the wasm memory: the heap's buffer as it is now.
    const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
    addon!.sgemm(
      heap,
      transposeA,
      transposeB,
      plan.m,
      plan.n,
      plan.k,
      plan.batch,
      offsetOf(backend, a, 'left'),
      plan.aStride,
      offsetOf(backend, b, 'right'),
      plan.bStride,
      offsetOf(backend, out, 'output'),
      bias === null ? -1 : offsetOf(backend, bias, 'bias'),
      bias === null ? 0 : util.sizeFromShape(bias.shape),
    );
  } catch (error) {
    backend.disposeData(out.dataId, true);
    const message = (error as Error).message;
    throw new Error(`${message.startsWith('native MatMul') ? '' : 'native MatMul (OpenBLAS) refused its operands: '}${message} (LRSCAPE_KERNELS=wasm runs the wasm kernels instead)`);
  }
  return out;
}

const batchMatMul: KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const plan = planProduct(a, b, transposeA, transposeB);
  if (plan === null) return original(BatchMatMul).kernelFunc(args);
  return runProduct(args.backend as WasmBackendInternals, a, b, null, plan, transposeA, transposeB);
};

const fusedMatMul: KernelFunc = (args) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation: string };
  const plan = activation === 'linear' && preluActivationWeights == null ? planProduct(a, b, transposeA, transposeB) : null;
  const biasTaken = bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && (bias.shape[0] === plan?.n || bias.shape[0] === 1));
  if (plan === null || !biasTaken) return original(_FusedMatMul).kernelFunc(args);
  return runProduct(args.backend as WasmBackendInternals, a, b, bias ?? null, plan, transposeA, transposeB);
};

const NATIVE: Record<KernelName, KernelFunc> = { [BatchMatMul]: batchMatMul, [_FusedMatMul]: fusedMatMul };

/** True while tfjs's registry holds the native kernels for 'wasm' (both of them). */
export function nativeKernelsInstalled(): boolean {
  return NAMES.every((name) => getKernel(name, 'wasm')?.kernelFunc === NATIVE[name]);
}

function install(): void {
  const reg = registry();
  for (const name of NAMES) {
    if (!reg.installed) {
      const config = getKernel(name, 'wasm');
      if (config === undefined) throw new Error(`native kernels: tfjs has no wasm kernel ${name} to replace`);
      reg.originals[name] = config;
    }
    const saved = original(name);
    unregisterKernel(name, 'wasm');
    registerKernel({ kernelName: name, backendName: 'wasm', setupFunc: saved.setupFunc, disposeFunc: saved.disposeFunc, kernelFunc: NATIVE[name] });
  }
  reg.installed = true;
}

/**
 * Hands Lanczos's float64 basis kernels to @lrscape/linalg where it has the hook (`setBasisKernels`; null: its JS
 * kernels). Read from the namespace so that this lib works with a linalg without the hook. Returns whether the
 * native ones are now in use.
 */
function setBasisKernels(kernels: VectorKernels | null): boolean {
  const hook = (linalg as unknown as Record<string, unknown>).setBasisKernels;
  if (typeof hook !== 'function') return false;
  (hook as (k: VectorKernels | null) => unknown)(kernels);
  return kernels !== null;
}

function uninstall(): void {
  setBasisKernels(null);
  const reg = registry();
  if (!reg.installed) return;
  for (const name of NAMES) {
    unregisterKernel(name, 'wasm');
    registerKernel(original(name));
  }
  reg.installed = false;
}

// ------------------------------------------------------------------------------------------- checks

/** What is wrong with the wasm backend's internals for the native kernels, or null. */
export function internalsProblem(backend: unknown, wasmVersion: string): string | null {
  if (wasmVersion !== PINNED_WASM_VERSION) {
    return `the native kernels are written against @tensorflow/tfjs-backend-wasm ${PINNED_WASM_VERSION}'s internals; ${wasmVersion} is installed`;
  }
  const b = backend as Partial<WasmBackendInternals> | null;
  if (!(b?.wasm?.HEAPU8 instanceof Uint8Array)) return 'the wasm backend has no wasm.HEAPU8 heap view';
  if (typeof b.dataIdMap?.get !== 'function') return 'the wasm backend has no dataIdMap';
  if (typeof b.makeOutput !== 'function' || typeof b.disposeData !== 'function') return 'the wasm backend has no makeOutput/disposeData';
  return null;
}

/** The float64 product of two small row-major matrices, for the self-test. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias: Float32Array): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias[j];
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}

/** Runs a fused product with a bias and a transposed product through the installed kernels; the problem or null. */
function selfTest(): string | null {
  const [m, k, n] = [5, 7, 3];
  const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 37) % 11) / 11 - 0.5);
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 53) % 13) / 13 - 0.5);
  const bias = Float32Array.from({ length: n }, (_, i) => i - 1);
  const expected = reference(a, b, m, k, n, bias);
  const got = tf.tidy(() => {
    const ta = tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, [k, n]);
    const fused = tf.fused.matMul({ a: ta, b: tb, bias: tf.tensor1d(bias) });
    // (bᵀ aᵀ)ᵀ through the transposed path: the same product without its bias.
    const plain = tf.transpose(tf.matMul(tb, ta, true, true));
    return [fused.dataSync(), plain.dataSync()];
  });
  for (let i = 0; i < m * n; i++) {
    const j = i % n;
    if (Math.abs(got[0][i] - expected[i]) > 1e-5 || Math.abs(got[1][i] - (expected[i] - bias[j])) > 1e-5) {
      return `the self-test product differs from its float64 reference at entry ${i} (${got[0][i]} / ${got[1][i]} vs ${expected[i]})`;
    }
  }
  return null;
}

// ------------------------------------------------------------------------------------------- selection

/**
 * Puts the wasm backend's matrix products on the requested path; called by selectBackend once 'wasm' is
 * active. 'auto' falls back to the wasm kernels, saying why once per process; 'openblas' throws instead.
 * Returns the status.
 */
export async function useKernels(request: KernelRequest = kernelRequestFromEnv(), options: { addonPath?: string } = {}): Promise<KernelStatus> {
  if (tf.getBackend() !== 'wasm') throw new Error(`useKernels: the active tfjs backend is '${tf.getBackend()}', not 'wasm'`);
  if (request === status.requested && (request === 'wasm' ? status.path === 'wasm' && !registry().installed : status.path === 'native' && registry().installed)) {
    return kernelStatus(); // already so
  }
  if (request === 'wasm') {
    uninstall();
    status = { requested: request, path: 'wasm', library: null, corename: null, config: null, reason: null, basisKernels: false };
    return kernelStatus();
  }
  const problem = await nativeProblem(request, options.addonPath);
  if (problem === null) return kernelStatus();
  uninstall();
  status = { requested: request, path: 'wasm', library: null, corename: null, config: null, reason: problem, basisKernels: false };
  if (request === 'openblas') {
    throw new Error(`LRSCAPE_KERNELS=openblas: the native kernels cannot run: ${problem} (unset LRSCAPE_KERNELS, or set it to auto or wasm)`);
  }
  if (!warned) {
    warned = true;
    console.warn(`lrscape engine: the wasm backend's matrix products run on the wasm kernels: ${problem}`);
  }
  return kernelStatus();
}

/** Loads, checks and installs the native kernels; the reason they cannot run, or null once they run. */
async function nativeProblem(request: KernelRequest, addonPath: string | undefined): Promise<string | null> {
  const load = loadAddon(addonPath);
  if (!load.ok) return load.reason;
  let wasmVersion: string;
  try {
    const specifier = '@tensorflow/tfjs-backend-wasm';
    wasmVersion = String(((await import(/* @vite-ignore */ specifier)) as { version_wasm?: string }).version_wasm);
  } catch (error) {
    return `cannot read @tensorflow/tfjs-backend-wasm's version: ${(error as Error).message.split('\n')[0]}`;
  }
  const internals = internalsProblem(tf.backend(), wasmVersion);
  if (internals !== null) return internals;
  if (policy === null) {
    const created = new ThreadPolicy((threads) => load.addon.setThreads(threads));
    policy = created;
    // This thread's entry in the registry goes with it (else it stops counting after 2 s anyway).
    process.once('exit', () => created.release());
  }
  const previous = addon;
  addon = load.addon;
  install();
  let failed: string | null;
  try {
    failed = selfTest();
  } catch (error) {
    failed = `the self-test product failed: ${(error as Error).message.split('\n')[0]}`;
  }
  if (failed !== null) {
    uninstall();
    addon = previous;
    return failed;
  }
  const info = load.addon.info();
  const basis = setBasisKernels(nativeVectorKernels(addonPath));
  status = { requested: request, path: 'native', library: info.library, corename: info.corename, config: info.config, reason: null, basisKernels: basis };
  return null;
}

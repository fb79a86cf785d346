/**
 * Backend selection (docs/architecture.md, "Engines"): `LRSCAPE_BACKEND=auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu`.
 *
 * tfjs falls back to another backend with only a console warning when one fails to start; here every
 * selection is checked against `tf.getBackend()` so that a run never silently computes on a backend other
 * than the one it records.
 *
 * On 'wasm', the matrix products then go to the native kernels where they load (native/kernels.ts,
 * `LRSCAPE_KERNELS=auto|openblas|wasm`); on 'webgpu' (webgpu.ts) the adapter is part of the engine:
 * `engineLabel()` names the backend with its kernel path or adapter.
 */
import * as tf from '@tensorflow/tfjs';
import { kernelRequestFromEnv, kernelStatus, useKernels } from './native/kernels';
import { probeWebgpu, registerWebgpu, webgpuAdapter, webgpuLabel } from './webgpu';
import { gpuDeviceNodes } from './webgpu-devices';

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
/** In the order 'auto' tries them. */
export const BACKENDS: readonly BackendName[] = Object.freeze(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const);

/** What a task will compute: 'auto' takes webgpu only for work large enough to gain from a GPU. */
export interface Workload {
  /** Parameters P of the model. */
  parameters: number;
  /** Rows N of the batch a gradient or HVP runs over (the training set, or the Hessian's subset). */
  rows: number;
}

/**
 * The least P·N for which 'auto' takes webgpu on a hardware adapter (docs/architecture.md, "Engines"). Below it
 * a gradient is a few dozen small kernels whose dispatch and read-back through tfjs-backend-webgpu and Dawn (a
 * floor of 5–20 ms a gradient on lavapipe, where such kernels cost nothing) exceed what wasm + OpenBLAS spends
 * on the whole gradient, about P·N / (0.5–1·10¹⁰) s on one core: the shipped W-reg and SRC nets (P·N ≈ 2–4·10⁵,
 * ~1 ms) and Fashion-MNIST net (4.4·10⁷, ~20 ms) stay on the CPU; 784-200-200-10 at N = 10,000 (2·10⁹, ~360 ms)
 * goes to the GPU. tools/gpu's size sweep measures the floor on a hardware GPU.
 */
export const WEBGPU_MIN_WORK = 5e7;

interface BackendSource {
  /** Module that registers the backend with tfjs when imported (none: built into the umbrella package). */
  module: string | null;
  /** Name the backend registers under in tfjs. */
  tfName: string;
}

const SOURCES: Record<BackendName, BackendSource> = {
  'tensorflow-gpu': { module: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow' },
  // Registered by webgpu.ts (Dawn's globals first, then the module), not by a plain import.
  webgpu: { module: null, tfName: 'webgpu' },
  tensorflow: { module: '@tensorflow/tfjs-node', tfName: 'tensorflow' },
  wasm: { module: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  cpu: { module: null, tfName: 'cpu' },
};

let active: BackendName | null = null;
/** tfjs-node and tfjs-node-gpu both register 'tensorflow': whichever is imported first owns it for the process. */
let nativeLoaded: 'tensorflow' | 'tensorflow-gpu' | null = null;

function isBackendName(name: string): name is BackendName {
  return (BACKENDS as readonly string[]).includes(name);
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

async function activate(name: BackendName): Promise<void> {
  const { module, tfName } = SOURCES[name];
  if (name === 'tensorflow-gpu' && nativeLoaded === 'tensorflow') {
    throw new Error(`backend 'tensorflow-gpu' cannot be loaded: @tensorflow/tfjs-node already registered tfjs's 'tensorflow' backend in this process`);
  }
  if (name === 'webgpu') {
    try {
      await registerWebgpu();
    } catch (error) {
      throw new Error(`backend 'webgpu' cannot be loaded: ${describe(error)}`);
    }
  }
  // tfjs-node-gpu's backend on a machine without a usable GPU is TensorFlow on the CPU: that is 'tensorflow'.
  const reuseNative = name === 'tensorflow' && nativeLoaded === 'tensorflow-gpu';
  if (module !== null && !reuseNative) {
    try {
      // A variable specifier keeps bundlers and tsc from requiring the optional packages to exist.
      const specifier: string = module;
      await import(/* @vite-ignore */ specifier);
    } catch (error) {
      throw new Error(`backend '${name}' cannot be loaded: import of ${module} failed: ${describe(error)}`);
    }
    if (name === 'tensorflow' || name === 'tensorflow-gpu') nativeLoaded = name;
  }
  if (tf.findBackendFactory(tfName) == null) {
    throw new Error(
      `backend '${name}' cannot be loaded: ${module ?? (name === 'webgpu' ? '@tensorflow/tfjs-backend-webgpu' : '@tensorflow/tfjs')} did not register '${tfName}' with this @tensorflow/tfjs ` +
        `(a second copy of @tensorflow/tfjs-core in node_modules?)`,
    );
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
    await tf.ready();
  } catch (error) {
    throw new Error(`backend '${name}' cannot be loaded: tf.setBackend('${tfName}') failed: ${describe(error)}`);
  }
  const current = tf.getBackend();
  if (!ok || current !== tfName) {
    throw new Error(`backend '${name}' cannot be loaded: tf.setBackend('${tfName}') left tfjs on '${current}'`);
  }
  if (name === 'tensorflow-gpu' && (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice !== true) {
    throw new Error(`backend 'tensorflow-gpu' cannot be loaded: @tensorflow/tfjs-node-gpu loaded but TensorFlow uses no GPU device`);
  }
}

/** On wasm, puts the matrix products on LRSCAPE_KERNELS's path; LRSCAPE_KERNELS=openblas without them throws. */
async function chosen(name: BackendName): Promise<BackendName> {
  if (name === 'wasm') {
    try {
      await useKernels(kernelRequestFromEnv());
    } catch (error) {
      active = null;
      throw error;
    }
  }
  active = name;
  return name;
}

/**
 * Why 'auto' passes over webgpu here, or null where it takes it: only a hardware adapter (a fallback one such
 * as lavapipe is far slower than the CPU backends), only for a workload of at least WEBGPU_MIN_WORK, and Dawn
 * is started only where a GPU device node exists (so a CPU-only machine never pays for it).
 */
async function webgpuPassedOver(workload: Workload | undefined): Promise<string | null> {
  if (workload === undefined) return 'webgpu: not tried (auto takes it only for a stated workload: selectBackend(requested, { parameters, rows }))';
  const work = workload.parameters * workload.rows;
  if (!(work >= WEBGPU_MIN_WORK)) return `webgpu: not tried (P·N = ${work.toExponential(1)} < ${WEBGPU_MIN_WORK.toExponential(0)}: too small to gain from a GPU)`;
  if (gpuDeviceNodes().length === 0) return 'webgpu: not tried (no GPU device node)';
  const probe = await probeWebgpu();
  if (!probe.ok) return `webgpu: ${probe.reason}`;
  if (probe.adapter.fallback) return `webgpu: not taken: only a fallback (software) adapter, ${webgpuLabel(probe.adapter)}`;
  return null;
}

/**
 * Selects and initialises a backend and returns the one in use. `undefined` reads `LRSCAPE_BACKEND`
 * (default 'auto'); 'auto' takes the first of tensorflow-gpu, webgpu (on a hardware adapter, for a
 * `workload` of at least WEBGPU_MIN_WORK), tensorflow, wasm, cpu that loads.
 * An explicit request that cannot load throws, naming the backend, the cause and where the request came from
 * (LRSCAPE_BACKEND or the caller). Calling again is cheap.
 */
export async function selectBackend(requested?: 'auto' | BackendName, workload?: Workload): Promise<BackendName> {
  const fromEnv = requested === undefined && process.env.LRSCAPE_BACKEND !== undefined;
  const wanted: string = requested ?? process.env.LRSCAPE_BACKEND ?? 'auto';
  if (wanted !== 'auto' && !isBackendName(wanted)) {
    throw new Error(`unknown backend '${wanted}'${fromEnv ? ' in LRSCAPE_BACKEND' : ''} (valid: auto, ${BACKENDS.join(', ')})`);
  }
  if (active !== null && (wanted === 'auto' || wanted === active) && tf.getBackend() === SOURCES[active].tfName) {
    return active;
  }
  if (wanted !== 'auto') {
    try {
      await activate(wanted);
    } catch (error) {
      // Say where the request came from and how to let the first backend that loads be taken instead.
      const source = fromEnv
        ? `LRSCAPE_BACKEND=${wanted} asks for it; unset LRSCAPE_BACKEND or set it to auto`
        : `the caller asked for it by name, which overrides LRSCAPE_BACKEND; ask for 'auto'`;
      throw new Error(`${(error as Error).message} (${source} to take the first of ${BACKENDS.join(', ')} that loads)`);
    }
    return chosen(wanted);
  }
  const failures: string[] = [];
  for (const name of BACKENDS) {
    if (name === 'webgpu') {
      const why = await webgpuPassedOver(workload);
      if (why !== null) {
        failures.push(why);
        continue;
      }
    }
    try {
      await activate(name);
    } catch (error) {
      failures.push(describe(error));
      continue;
    }
    return chosen(name);
  }
  throw new Error(`no backend could be loaded:\n  ${failures.join('\n  ')}`);
}

/** The backend chosen by the last successful `selectBackend`, or null before any. */
export function activeBackend(): BackendName | null {
  return active;
}

/**
 * The active backend with, on wasm, the path of its matrix products: 'wasm' (tfjs's kernels),
 * 'wasm+openblas/<core>' (OpenBLAS with that core's kernels: results differ in the last bits between cores),
 * 'wasm+accelerate/accelerate'; on webgpu its adapter, 'webgpu/<vendor>/<architecture>/<device>'; the
 * backend's name otherwise; null before any selectBackend. What a run records as its engine.
 */
export function engineLabel(): string | null {
  if (active === null) return null;
  if (active === 'webgpu') {
    const adapter = webgpuAdapter();
    return adapter === null ? 'webgpu' : webgpuLabel(adapter);
  }
  if (active !== 'wasm') return active;
  const kernels = kernelStatus();
  return kernels.path === 'native' ? `wasm+${kernels.library}/${kernels.corename}` : 'wasm';
}

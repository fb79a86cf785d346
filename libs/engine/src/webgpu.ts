/**
 * The webgpu backend (docs/architecture.md, "Engines"): @tensorflow/tfjs-backend-webgpu on Dawn (the npm
 * package `webgpu`, whose prebuilt dawn.node ships inside it) over Vulkan — a GPU's own driver, or Mesa's
 * lavapipe on a CPU (a fallback adapter: slow, for tests).
 *
 * tfjs-backend-webgpu registers its backend only if `navigator.gpu` exists when its module loads, so Dawn's
 * globals are set first and the module is imported after. Its factory is then replaced by ours, which takes
 * the adapter already probed (so 'auto' knows whether it is hardware before any device exists) and watches
 * the device: once the device is lost or reports an error, every read from it throws with the adapter's
 * message, since what a broken device computes is garbage or nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { describeGpuEnvironment } from './webgpu-devices';

/** What Dawn says its adapter is (GPUAdapterInfo). */
export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A fallback (software) adapter, e.g. lavapipe: correct but slow. */
  fallback: boolean;
}

export type WebgpuProbe = { ok: true; adapter: WebgpuAdapterInfo } | { ok: false; reason: string };

// The parts of Dawn's WebGPU objects used here (the `webgpu` package's own types need @webgpu/types).
interface GpuAdapter {
  readonly info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
  readonly limits: Record<string, number>;
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<GpuDevice>;
}
interface GpuDevice {
  readonly lost: Promise<{ reason: string; message: string }>;
  addEventListener(type: 'uncapturederror', listener: (event: { error?: { message?: string } }) => void): void;
  destroy(): void;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}
type WebgpuBackendClass = new (device: GpuDevice, adapterInfo?: unknown) => tf.KernelBackend;

/** The device the running backend computes on, and what went wrong with it (null: nothing). */
interface DeviceState {
  device: GpuDevice;
  label: string;
  failure: string | null;
}

let probe: Promise<{ result: WebgpuProbe; adapter: GpuAdapter | null }> | null = null;
/** The probe's answer once it has come. */
let probed: WebgpuProbe | null = null;
let registered = false;
let state: DeviceState | null = null;

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

function infoOf(adapter: GpuAdapter): WebgpuAdapterInfo {
  const { vendor, architecture, device, description } = adapter.info;
  return { vendor, architecture, device, description, fallback: adapter.info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false };
}

/** One part of the label: Dawn's text with what would break a path or a column ('/', spaces) made '-'. */
function labelPart(text: string): string {
  const part = text.trim().replace(/[\s/]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return part === '' ? 'unknown' : part;
}

/** 'webgpu/<vendor>/<architecture>/<device>', e.g. 'webgpu/mesa/software/llvmpipe-llvm-15-0-6-256-bits'. */
export function webgpuLabel(info: WebgpuAdapterInfo): string {
  return `webgpu/${labelPart(info.vendor)}/${labelPart(info.architecture)}/${labelPart(info.device)}`;
}

/** Sets `navigator.gpu` (Node 20 has no navigator; Node ≥ 21 has one without gpu) and Dawn's GPU* globals. */
function installGlobals(dawn: DawnModule, gpu: Gpu): void {
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
}

async function probeOnce(): Promise<{ result: WebgpuProbe; adapter: GpuAdapter | null }> {
  let dawn: DawnModule;
  try {
    // A variable specifier: the package is optional (a native binary per platform), and stays outside bundles.
    const specifier: string = 'webgpu';
    dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (error) {
    return { result: { ok: false, reason: `the npm package webgpu (Dawn) does not load: ${firstLine(error)}` }, adapter: null };
  }
  let adapter: GpuAdapter | null;
  try {
    const gpu = dawn.create([]);
    installGlobals(dawn, gpu);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { result: { ok: false, reason: `Dawn could not look for an adapter: ${firstLine(error)} (${describeGpuEnvironment()})` }, adapter: null };
  }
  if (adapter === null) return { result: { ok: false, reason: `Dawn found no WebGPU adapter (${describeGpuEnvironment()})` }, adapter: null };
  return { result: { ok: true, adapter: infoOf(adapter) }, adapter };
}

/**
 * Loads Dawn and asks it for an adapter (once per process; later calls return the same answer). Starts Dawn:
 * callers that only want to know whether a GPU could be there look at webgpu-devices.ts first.
 */
export async function probeWebgpu(): Promise<WebgpuProbe> {
  probe ??= probeOnce().then((answer) => {
    probed = answer.result;
    return answer;
  });
  return (await probe).result;
}

/** The error a read from a broken device throws. */
function deviceError(current: DeviceState): Error {
  return new Error(`webgpu: ${current.failure} (adapter ${current.label})`);
}

/**
 * Makes every read of the backend fail once its device is lost or has reported an error. A read that fails
 * waits briefly for the device's loss to be reported (Dawn rejects the read first), so the error names it.
 */
function guardReads(backend: tf.KernelBackend, current: DeviceState): void {
  const read = backend.read.bind(backend);
  const readSync = backend.readSync.bind(backend);
  backend.read = async (dataId: object) => {
    if (current.failure !== null) throw deviceError(current);
    let values: tf.backend_util.BackendValues;
    try {
      values = await read(dataId);
    } catch (error) {
      await Promise.race([current.device.lost, new Promise((resolve) => setTimeout(resolve, 1000))]);
      if (current.failure !== null) throw deviceError(current);
      throw error;
    }
    if (current.failure !== null) throw deviceError(current);
    return values;
  };
  backend.readSync = (dataId: object) => {
    if (current.failure !== null) throw deviceError(current);
    return readSync(dataId);
  };
}

async function createBackend(): Promise<tf.KernelBackend> {
  const { adapter } = await probe!;
  if (adapter === null) throw new Error('webgpu: no adapter');
  const module = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend: WebgpuBackendClass };
  // The limits tfjs-backend-webgpu asks for (its base.ts): the adapter's own, not WebGPU's small defaults.
  const limits = adapter.limits;
  const requiredLimits: Record<string, number> = {};
  for (const name of [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ]) {
    requiredLimits[name] = limits[name];
  }
  const device = await adapter.requestDevice({ requiredLimits });
  const current: DeviceState = { device, label: webgpuLabel(infoOf(adapter)), failure: null };
  device.lost.then((info) => {
    current.failure ??= `device lost (${info.reason}): ${info.message || '(no message)'}`;
  });
  device.addEventListener('uncapturederror', (event) => {
    current.failure ??= `the device reported an error: ${event.error?.message ?? '(no message)'}`;
  });
  const backend = new module.WebGPUBackend(device, adapter.info);
  guardReads(backend, current);
  state = current;
  return backend;
}

/**
 * Registers tfjs's 'webgpu' backend on the probed adapter (our factory in place of tfjs-backend-webgpu's);
 * throws, saying what was found, where there is no adapter.
 */
export async function registerWebgpu(): Promise<void> {
  const result = await probeWebgpu();
  if (!result.ok) throw new Error(result.reason);
  if (registered && tf.findBackendFactory('webgpu') != null) return;
  // After probeWebgpu set navigator.gpu: the module registers its kernels, and (with navigator.gpu) its factory.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu') != null) tf.removeBackend('webgpu');
  // Priority 0: never taken by tfjs on its own, only by setBackend('webgpu').
  tf.registerBackend('webgpu', createBackend, 0);
  registered = true;
}

/** The adapter Dawn gave (null before a successful probeWebgpu). */
export function webgpuAdapter(): WebgpuAdapterInfo | null {
  return probed?.ok ? probed.adapter : null;
}

/** The running device's failure (lost, or an error it reported), or null; null before any device. */
export function webgpuFailure(): string | null {
  return state?.failure ?? null;
}

/** For tests: the device the running backend computes on (to lose it on purpose). */
export function webgpuDeviceForTests(): GpuDevice | null {
  return state?.device ?? null;
}

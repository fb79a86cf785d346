/**
 * selectBackend's rules, whatever is installed here: where a test needs the optional native packages
 * (@tensorflow/tfjs-node, -gpu) present or absent, it mocks them, so the tests hold with or without them.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { selectBackend } from './backend';

const NODE = '@tensorflow/tfjs-node';
const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const WASM = '@tensorflow/tfjs-backend-wasm';

/** What a native package registers, reduced to what selectBackend looks at: a 'tensorflow' backend, on a GPU or not. */
class StubNativeBackend extends tf.KernelBackend {
  constructor(readonly isUsingGpuDevice: boolean) {
    super();
  }
  override dispose(): void {}
}

/** Module imports the mocks saw, in order. */
let imported: string[] = [];

function mockMissing(module: string): void {
  vi.doMock(module, () => {
    imported.push(module);
    throw new Error(`${module} is not installed (mocked)`);
  });
}

/** A native package that loads and registers tfjs's 'tensorflow' backend, as tfjs-node(-gpu) do. */
function mockNative(module: string, factory: () => tf.KernelBackend): void {
  vi.doMock(module, () => {
    imported.push(module);
    tf.registerBackend('tensorflow', factory);
    return {};
  });
}

/** backend.ts with no backend chosen yet (its module state is per process). */
async function freshBackendModule(): Promise<typeof import('./backend')> {
  vi.resetModules();
  const fresh = await import('./backend');
  expect(fresh.activeBackend()).toBe(null);
  return fresh;
}

describe('selectBackend', () => {
  const savedEnv = process.env.LRSCAPE_BACKEND;
  afterEach(async () => {
    for (const module of [NODE, NODE_GPU, WASM]) vi.doUnmock(module);
    imported = [];
    if (savedEnv === undefined) delete process.env.LRSCAPE_BACKEND;
    else process.env.LRSCAPE_BACKEND = savedEnv;
    // A stub 'tensorflow' backend has no kernels: leave it and drop it.
    if (tf.getBackend() === 'tensorflow' || tf.findBackendFactory('tensorflow') != null) {
      await tf.setBackend('wasm');
      tf.removeBackend('tensorflow');
    }
  });
  afterAll(async () => {
    await selectBackend('wasm');
  });

  it('selects cpu and wasm, returning the backend tf.getBackend() then reports', async () => {
    expect(await selectBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await selectBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.tensor([1, 2, 3]).sum().dataSync()[0]).toBe(6);
  });

  it('is idempotent: a second call returns the active backend', async () => {
    expect(await selectBackend('wasm')).toBe('wasm');
    expect(await selectBackend('auto')).toBe('wasm');
  });

  it('re-selects when tfjs was switched behind its back, so the answer is always tf.getBackend()', async () => {
    expect(await selectBackend('wasm')).toBe('wasm');
    await tf.setBackend('cpu');
    expect(await selectBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it("'auto' tries tensorflow-gpu, then tensorflow, then wasm, then cpu, and takes the first that loads", async () => {
    await tf.setBackend('cpu');
    mockMissing(NODE_GPU);
    mockMissing(NODE);
    expect(await (await freshBackendModule()).selectBackend('auto')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(imported).toEqual([NODE_GPU, NODE]);

    imported = [];
    mockMissing(WASM);
    expect(await (await freshBackendModule()).selectBackend('auto')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(imported).toEqual([NODE_GPU, NODE, WASM]);
  });

  it("'auto' takes tfjs-node-gpu on a GPU as tensorflow-gpu, before trying anything else", async () => {
    mockNative(NODE_GPU, () => new StubNativeBackend(true));
    mockMissing(NODE);
    expect(await (await freshBackendModule()).selectBackend('auto')).toBe('tensorflow-gpu');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(imported).toEqual([NODE_GPU]);
  });

  it("'auto' takes tfjs-node-gpu without a GPU as 'tensorflow' (TensorFlow on the CPU), not importing tfjs-node over it", async () => {
    mockNative(NODE_GPU, () => new StubNativeBackend(false));
    mockMissing(NODE);
    const fresh = await freshBackendModule();
    expect(await fresh.selectBackend('auto')).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(imported).toEqual([NODE_GPU]);
    // Asked for by name, the GPU backend is refused: this TensorFlow uses no GPU.
    await expect(fresh.selectBackend('tensorflow-gpu')).rejects.toThrow(/backend 'tensorflow-gpu' cannot be loaded: @tensorflow\/tfjs-node-gpu loaded but TensorFlow uses no GPU device/);
  });

  it("'auto' takes tfjs-node as 'tensorflow' when tfjs-node-gpu does not load", async () => {
    mockMissing(NODE_GPU);
    mockNative(NODE, () => new StubNativeBackend(false));
    expect(await (await freshBackendModule()).selectBackend('auto')).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(imported).toEqual([NODE_GPU, NODE]);
  });

  it('a forced backend that cannot load throws, naming it, the cause and LRSCAPE_BACKEND, and leaves tfjs as it was', async () => {
    await selectBackend('wasm');
    mockMissing(NODE);
    const fresh = await freshBackendModule();
    process.env.LRSCAPE_BACKEND = 'tensorflow';
    await expect(fresh.selectBackend()).rejects.toThrow(
      /^backend 'tensorflow' cannot be loaded: import of @tensorflow\/tfjs-node failed: .*\(LRSCAPE_BACKEND=tensorflow asks for it; unset LRSCAPE_BACKEND or set it to auto to take the first of tensorflow-gpu, tensorflow, wasm, cpu that loads\)$/,
    );
    expect(tf.getBackend()).toBe('wasm');
    // By name, the caller's request overrides LRSCAPE_BACKEND, and the message says so.
    process.env.LRSCAPE_BACKEND = 'cpu';
    await expect(fresh.selectBackend('tensorflow')).rejects.toThrow(/import of @tensorflow\/tfjs-node failed: .*\(the caller asked for it by name, which overrides LRSCAPE_BACKEND; ask for 'auto'/);
    expect(tf.getBackend()).toBe('wasm');
    expect(fresh.activeBackend()).toBe(null);
  });

  it('refuses a backend that registers but does not start, rather than computing on another', async () => {
    await selectBackend('wasm');
    mockNative(NODE, () => {
      throw new Error('libtensorflow failed to start (mocked)');
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {}); // tfjs reports the failed start itself
    try {
      await expect((await freshBackendModule()).selectBackend('tensorflow')).rejects.toThrow(/backend 'tensorflow' cannot be loaded: tf.setBackend\('tensorflow'\) left tfjs on 'wasm'/);
    } finally {
      warn.mockRestore();
    }
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown name, listing the valid ones', async () => {
    await expect(selectBackend('webgpu' as never)).rejects.toThrow(/^unknown backend 'webgpu' \(valid: auto, tensorflow-gpu, tensorflow, wasm, cpu\)$/);
  });

  it('reads LRSCAPE_BACKEND when no name is given', async () => {
    process.env.LRSCAPE_BACKEND = 'cpu';
    expect(await selectBackend()).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.LRSCAPE_BACKEND = 'bogus';
    await expect(selectBackend()).rejects.toThrow(/^unknown backend 'bogus' in LRSCAPE_BACKEND \(valid: auto, /);
  });
});

import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from './backend';

describe('selectBackend', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });
  it('selects cpu and wasm and tfjs reports the same backend', async () => {
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
  it('throws naming the backend and the cause when an explicit one cannot load', async () => {
    // tfjs-node is an optional dependency, not installed in this workspace.
    await expect(selectBackend('tensorflow')).rejects.toThrow(/backend 'tensorflow' cannot be loaded: import of @tensorflow\/tfjs-node failed/);
    expect(tf.getBackend()).toBe('wasm');
  });
  it('rejects an unknown name, listing the valid ones', async () => {
    await expect(selectBackend('webgpu' as never)).rejects.toThrow(/unknown backend 'webgpu' \(valid: auto, tensorflow-gpu, tensorflow, wasm, cpu\)/);
  });
  it("'auto' takes the first that loads: wasm here, where tfjs-node(-gpu) are not installed", async () => {
    await tf.setBackend('cpu');
    vi.resetModules();
    const fresh = await import('./backend');
    expect(fresh.activeBackend()).toBe(null);
    expect(await fresh.selectBackend('auto')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
  it('reads LRSCAPE_BACKEND when no name is given', async () => {
    const saved = process.env.LRSCAPE_BACKEND;
    try {
      process.env.LRSCAPE_BACKEND = 'cpu';
      expect(await selectBackend()).toBe('cpu');
      process.env.LRSCAPE_BACKEND = 'bogus';
      await expect(selectBackend()).rejects.toThrow(/unknown backend 'bogus'/);
    } finally {
      if (saved === undefined) delete process.env.LRSCAPE_BACKEND;
      else process.env.LRSCAPE_BACKEND = saved;
    }
  });
});

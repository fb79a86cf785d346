/**
 * webgpu.ts on the adapter Dawn gives here (lavapipe on a CPU-only machine): what the adapter says, its label,
 * the error where there is no adapter, and a device that breaks mid-run (lost, or reporting an error), which
 * fails every read after it with the adapter's message. Where Dawn gives no adapter the suites that need one
 * are skipped, saying why; in CI (CI=true, or LRSCAPE_EXPECT_WEBGPU=1) backend.test.ts fails instead.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { MlpSpec } from './layout';
import { randomTheta, tinyBatch } from './testing/fixtures';
import { probeWebgpu, webgpuLabel } from './webgpu';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BACKEND = fileURLToPath(new URL('./backend.ts', import.meta.url));

const dawnInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('webgpu');
    return true;
  } catch {
    return false;
  }
})();
const probe = await probeWebgpu();
const unavailable = probe.ok ? null : probe.reason;

/** backend.ts and webgpu.ts afresh (a new Dawn instance and device), on webgpu. */
async function freshWebgpu(): Promise<{ backend: typeof import('./backend'); webgpu: typeof import('./webgpu'); objective: typeof import('./objective') }> {
  vi.resetModules();
  const backend = await import('./backend');
  const webgpu = await import('./webgpu');
  const objective = await import('./objective');
  expect(await backend.selectBackend('webgpu')).toBe('webgpu');
  return { backend, webgpu, objective };
}

const SPEC: MlpSpec = { inputDim: 3, hidden: [4], outputDim: 2, activation: 'tanh', loss: 'mse' };

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('webgpuLabel', () => {
  it("is 'webgpu/<vendor>/<architecture>/<device>', each part without '/' or spaces", () => {
    const info = { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'x', fallback: false };
    expect(webgpuLabel(info)).toBe('webgpu/nvidia/hopper/NVIDIA-H200');
    expect(webgpuLabel({ ...info, vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-' })).toBe('webgpu/mesa/software/llvmpipe-llvm-15-0-6-256-bits');
    expect(webgpuLabel({ ...info, architecture: '', device: 'a/b  c' })).toBe('webgpu/nvidia/unknown/a-b-c');
  });
});

describe.skipIf(!dawnInstalled)('with no Vulkan driver (VK_DRIVER_FILES names none)', () => {
  it('LRSCAPE_BACKEND=webgpu fails, naming the variable, the device nodes and the drivers it found', () => {
    const code = `import(${JSON.stringify(BACKEND)}).then((m) => m.selectBackend()).then((b) => console.log('CHOSE ' + b), (e) => console.log('ERROR ' + e.message))`;
    const out = execFileSync(`${ROOT}node_modules/.bin/tsx`, ['-e', code], {
      cwd: ROOT,
      env: { ...process.env, LRSCAPE_BACKEND: 'webgpu', VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: undefined, VK_ADD_DRIVER_FILES: undefined },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(out.trim().split('\n').pop()).toMatch(
      /^ERROR backend 'webgpu' cannot be loaded: Dawn found no WebGPU adapter \(GPU device nodes: [^;]+; Vulkan drivers \(ICD files\): none\) \(LRSCAPE_BACKEND=webgpu asks for it; /,
    );
  });
});

describe.skipIf(unavailable !== null)(unavailable === null ? "on Dawn's adapter here" : `on Dawn's adapter: skipped, ${unavailable}`, () => {
  it('describes the adapter: vendor, architecture, device, and whether it is a fallback (lavapipe is)', async () => {
    if (!probe.ok) throw new Error(probe.reason);
    const { vendor, architecture, device, description, fallback } = probe.adapter;
    for (const text of [vendor, architecture, device, description]) expect(typeof text).toBe('string');
    if (/llvmpipe/.test(`${device} ${description}`)) expect(fallback).toBe(true);
    const { backend, webgpu } = await freshWebgpu();
    expect(backend.engineLabel()).toBe(webgpuLabel(webgpu.webgpuAdapter()!));
    expect(backend.engineLabel()).toBe(webgpuLabel(probe.adapter));
  });

  it('an error the device reports fails the next read, with its message and the adapter', async () => {
    const { webgpu, objective } = await freshWebgpu();
    const batch = tinyBatch(SPEC, 4, 1);
    const theta = randomTheta(SPEC, 2).f32;
    const model = new objective.MlpObjective(SPEC, batch);
    expect(Number.isFinite((await model.lossAndGradient(theta)).loss)).toBe(true);
    // A buffer WebGPU forbids (MAP_READ with STORAGE): Dawn reports a validation error, asynchronously.
    const device = webgpu.webgpuDeviceForTests() as unknown as { createBuffer(d: { size: number; usage: number }): unknown };
    const usage = globalThis as unknown as { GPUBufferUsage: { MAP_READ: number; STORAGE: number } };
    device.createBuffer({ size: 4, usage: usage.GPUBufferUsage.MAP_READ | usage.GPUBufferUsage.STORAGE });
    for (let i = 0; i < 100 && webgpu.webgpuFailure() === null; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(webgpu.webgpuFailure()).toMatch(/^the device reported an error: .*MapRead/);
    await expect(model.lossAndGradient(theta)).rejects.toThrow(/^webgpu: the device reported an error: .*MapRead.* \(adapter webgpu\/[^)]+\)$/s);
    await expect(model.evaluate(theta)).rejects.toThrow(/^webgpu: the device reported an error/);
    model.dispose();
  });

  it("a device lost mid-run fails the computation with the adapter's message, and every read after it", async () => {
    const { webgpu, objective } = await freshWebgpu();
    const batch = tinyBatch(SPEC, 4, 3);
    const theta = randomTheta(SPEC, 4).f32;
    const model = new objective.MlpObjective(SPEC, batch);
    const curvature = await model.curvatureAt(theta);
    expect(Number.isFinite((await model.lossAndGradient(theta)).loss)).toBe(true);
    // Losing a device on purpose: destroy() (a driver reset or a removed GPU take the same path, with their reason).
    webgpu.webgpuDeviceForTests()!.destroy();
    await expect(model.lossAndGradient(theta)).rejects.toThrow(/^webgpu: device lost \(destroyed\): .+ \(adapter webgpu\/[^)]+\)$/);
    await expect(curvature.hvp(new Float64Array(curvature.size).fill(1))).rejects.toThrow(/^webgpu: device lost \(destroyed\)/);
    expect(webgpu.webgpuFailure()).toMatch(/^device lost \(destroyed\): /);
    model.dispose();
  });
});

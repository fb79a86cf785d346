/**
 * The backend matrix (as tfjs-core's describeWithFlags over ALL_ENVS): the engine's gradient and HVP against
 * the float64 reference on every backend that runs here — cpu, wasm (its kernels as LRSCAPE_KERNELS says;
 * mlp.test.ts covers both paths), tensorflow(-gpu) where installed, webgpu on whatever adapter Dawn gives
 * (lavapipe on a CPU-only machine, tiny nets: it is slow). A backend that cannot run is skipped, saying why;
 * in CI (CI=true, or LRSCAPE_EXPECT_WEBGPU=1 as .ci/run sets) a webgpu without an adapter is a failure.
 *
 * Then selectBackend's rules, whatever is installed here: where a test needs the optional packages
 * (@tensorflow/tfjs-node, -gpu, webgpu) present or absent, or a GPU device node visible, it mocks them, so the
 * tests hold with or without them.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKENDS, engineLabel, selectBackend, type BackendName } from './backend';
import { isCnnSpec, lastLayersScope, modelLayout, type CnnSpec, type ModelSpec } from './layout';
import { ModelObjective } from './objective';
import { referenceModelGradient, referenceModelHessianVector, referenceModelLoss } from './reference';
import { CNN_FLOAT32_TOL, MLP_FLOAT32_TOL, randomTheta, randomVector, relError, tinyBatch } from './testing/fixtures';

// ------------------------------------------------------------------------------------------ the matrix

/**
 * relError allowed on webgpu: 2.5× the CPU backends' (testing/fixtures.ts). Its kernels are float32 like theirs,
 * but WGSL allows exp (so tanh, softmax, gelu's erf) an error of 3 + 2|x| ulp where V8's is within 1, and a
 * GPU's matMul sums in another order. Measured on lavapipe (Mesa 25.0.7, 2026-12-01): worst relError over this
 * matrix's cases 4.7e-7 (cpu 3.1e-7, wasm 2.9e-7); over 24 MLP and 18 CNN draws with other seeds 5.4e-6 / 7.1e-6
 * (wasm 8.2e-6 / 6.1e-6): the size of the CPU backends' rounding; the margin is for a GPU's own exp.
 */
const WEBGPU_TOL = { mlp: 2.5 * MLP_FLOAT32_TOL, cnn: 2.5 * CNN_FLOAT32_TOL };
const tolerance = (name: BackendName, spec: ModelSpec) => (isCnnSpec(spec) ? (name === 'webgpu' ? WEBGPU_TOL.cnn : CNN_FLOAT32_TOL) : name === 'webgpu' ? WEBGPU_TOL.mlp : MLP_FLOAT32_TOL);

const expectWebgpu = process.env.CI === 'true' || process.env.LRSCAPE_EXPECT_WEBGPU === '1';

/** Whether each backend loads here, and why not (tried once, before any suite; left on wasm). */
const availability = new Map<BackendName, string | null>();
for (const name of BACKENDS) {
  try {
    await selectBackend(name);
    availability.set(name, null);
  } catch (error) {
    availability.set(name, (error as Error).message.split(' (')[0]);
  }
}
await selectBackend('wasm');
/** Whether Dawn gives an adapter here (the rule tests below present it as hardware or fallback). */
const webgpuRuns = availability.get('webgpu') === null;

const MATRIX_CASES: { name: string; spec: ModelSpec; n: number; chunkSize?: number }[] = [
  { name: 'MLP tanh + MSE', spec: { inputDim: 3, hidden: [4, 3], outputDim: 2, activation: 'tanh', loss: 'mse' }, n: 6 },
  { name: 'MLP relu + cross-entropy', spec: { inputDim: 3, hidden: [4, 3], outputDim: 2, activation: 'relu', loss: 'cross_entropy' }, n: 6 },
  { name: 'MLP gelu + cross-entropy, chunks of 4 + 2 rows', spec: { inputDim: 3, hidden: [4, 3], outputDim: 3, activation: 'gelu', loss: 'cross_entropy' }, n: 6, chunkSize: 4 },
  { name: 'MLP linear + MSE', spec: { inputDim: 3, hidden: [4], outputDim: 2, activation: 'linear', loss: 'mse' }, n: 5 },
  {
    name: 'CNN tanh + cross-entropy, conv 3×3 same, avg pool',
    spec: { kind: 'cnn', inputShape: [5, 5, 2], conv: [{ filters: 3, kernelSize: 3, padding: 'same' }], pool: 'avg', dense: [4], outputDim: 3, activation: 'tanh', loss: 'cross_entropy' } satisfies CnnSpec,
    n: 4,
  },
];

describe('backend matrix: gradient and HVP against the float64 reference', () => {
  it(`webgpu has an adapter here${expectWebgpu ? ' (required: CI)' : ''}`, () => {
    // .ci/run installs the Vulkan loader and Mesa's lavapipe from bookworm-backports: there, no adapter is a failure.
    if (expectWebgpu) expect(availability.get('webgpu')).toBe(null);
  });

  for (const name of BACKENDS) {
    const unavailable = availability.get(name) ?? null;
    const suite = unavailable === null ? describe : describe.skip;
    suite(unavailable === null ? `on ${name}` : `on ${name}: skipped, ${unavailable}`, () => {
      beforeAll(async () => {
        expect(await selectBackend(name)).toBe(name);
      });
      afterAll(async () => {
        await selectBackend('wasm');
        // tfjs-node(-gpu) registered 'tensorflow' for real: the mocked packages below register their own.
        if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
      });

      it('computes on that backend, and engineLabel names it', () => {
        expect(tf.getBackend()).toBe(name === 'tensorflow-gpu' ? 'tensorflow' : name);
        expect(engineLabel()).toMatch(name === 'webgpu' ? /^webgpu\/[^/]+\/[^/]+\/[^/]+$/ : name === 'wasm' ? /^wasm(\+|$)/ : new RegExp(`^${name}$`));
      });

      for (const c of MATRIX_CASES) {
        it(`${c.name}: loss, gradient, H·v and every last-k-layer block H·v`, async () => {
          const layout = modelLayout(c.spec);
          const P = layout.size;
          const tol = tolerance(name, c.spec);
          const batch = tinyBatch(c.spec, c.n, 21);
          const theta = randomTheta(c.spec, 8);
          const objective = new ModelObjective(c.spec, batch, c.chunkSize === undefined ? {} : { chunkSize: c.chunkSize });
          const curvature = await objective.curvatureAt(theta.f32);
          try {
            const { loss, gradient } = await objective.lossAndGradient(theta.f32);
            expect(relError([loss], [referenceModelLoss(c.spec, theta.f64, batch)])).toBeLessThan(tol);
            expect(relError(gradient, referenceModelGradient(c.spec, theta.f64, batch))).toBeLessThan(tol);
            const v = randomVector(P, 3);
            expect(relError(await curvature.hvp(v), referenceModelHessianVector(c.spec, theta.f64, batch, v))).toBeLessThan(tol);
            for (let k = 1; k <= layout.layerCount; k++) {
              const scope = lastLayersScope(layout, k);
              const w = randomVector(scope.size, 10 + k);
              const padded = new Float64Array(P);
              padded.set(w, scope.offset);
              const exact = referenceModelHessianVector(c.spec, theta.f64, batch, padded).subarray(scope.offset);
              expect(relError(await curvature.operator(scope)(w), exact)).toBeLessThan(tol);
            }
          } finally {
            curvature.dispose();
            objective.dispose();
          }
        });
      }
    });
  }
});

// ------------------------------------------------------------------------------------------ the rules

const NODE = '@tensorflow/tfjs-node';
const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const WASM = '@tensorflow/tfjs-backend-wasm';
const DAWN = 'webgpu';
const DEVICES = './webgpu-devices';
/** P·N of the bench MLP (784-200-200-10) at N = 10,000: large enough for a GPU. */
const LARGE = { parameters: 199_210, rows: 10_000 };
/** W-reg's net on its 160 points. */
const SMALL = { parameters: 1153, rows: 160 };

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

/** The GPU device nodes webgpu-devices.ts reports (the rest of that module as it is). */
function mockDeviceNodes(nodes: string[]): void {
  vi.doMock(DEVICES, async (importOriginal) => ({ ...(await importOriginal<typeof import('./webgpu-devices')>()), gpuDeviceNodes: () => nodes }));
}

interface DawnModule {
  create(flags: string[]): { requestAdapter(options?: object): Promise<object | null> };
  globals: Record<string, unknown>;
}

/**
 * The `webgpu` package with Dawn's real adapter (here: lavapipe), its info presented as a hardware or a
 * fallback adapter (architecture 'test-hardware' / 'test-fallback'), or with no adapter at all. The device and
 * its kernels are Dawn's own.
 */
function mockDawn(kind: 'hardware' | 'fallback' | 'none'): void {
  vi.doMock(DAWN, async () => {
    imported.push(DAWN);
    // No adapter: nothing of the real package is needed (it may not be installed).
    if (kind === 'none') return { create: () => ({ requestAdapter: async () => null }), globals: {} };
    const real = await vi.importActual<DawnModule>(DAWN);
    const create = (flags: string[]) => {
      const gpu = real.create(flags);
      return {
        requestAdapter: async (options?: object) => {
          const adapter = (await gpu.requestAdapter(options)) as { info: Record<string, unknown> } | null;
          if (adapter === null) return null;
          const { vendor, device, description } = adapter.info;
          const info = { vendor, device, description, architecture: `test-${kind}`, isFallbackAdapter: kind === 'fallback' };
          // Dawn's methods check their receiver: call them on the adapter itself.
          return new Proxy(adapter, {
            get: (target, prop) => {
              if (prop === 'info') return info;
              const value = Reflect.get(target, prop, target);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
        },
      };
    };
    return { create, globals: real.globals };
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
    for (const module of [NODE, NODE_GPU, WASM, DAWN, DEVICES]) vi.doUnmock(module);
    imported = [];
    if (savedEnv === undefined) delete process.env.LRSCAPE_BACKEND;
    else process.env.LRSCAPE_BACKEND = savedEnv;
    if (tf.getBackend() === 'webgpu') await tf.setBackend('wasm');
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

  it("'auto' with no workload tries tensorflow-gpu, then tensorflow, then wasm, then cpu (not webgpu), and takes the first that loads", async () => {
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

  it("'auto' for a large workload on a machine with no GPU device node takes wasm, without starting Dawn", async () => {
    mockMissing(NODE_GPU);
    mockMissing(NODE);
    mockDawn('hardware');
    mockDeviceNodes([]);
    expect(await (await freshBackendModule()).selectBackend('auto', LARGE)).toBe('wasm');
    expect(imported).toEqual([NODE_GPU, NODE]);
  });

  it("'auto' on this machine: wasm where no GPU device node is visible (a CPU-only machine, lavapipe or not), else as Dawn's adapter says", async () => {
    mockMissing(NODE_GPU);
    mockMissing(NODE);
    const { gpuDeviceNodes } = await import('./webgpu-devices');
    const fresh = await freshBackendModule();
    const chosen = await fresh.selectBackend('auto', LARGE);
    if (gpuDeviceNodes().length === 0) expect(chosen).toBe('wasm');
    else {
      const { probeWebgpu } = await import('./webgpu');
      const probe = await probeWebgpu();
      expect(chosen).toBe(probe.ok && !probe.adapter.fallback ? 'webgpu' : 'wasm');
    }
  });

  describe.skipIf(!webgpuRuns)("webgpu in 'auto' (Dawn's adapter here, presented as hardware or as a fallback)", () => {
    it('takes webgpu on a hardware adapter for a large workload, after tensorflow-gpu and before tensorflow', async () => {
      mockMissing(NODE_GPU);
      mockMissing(NODE);
      mockDawn('hardware');
      mockDeviceNodes(['/dev/nvidia0']);
      const fresh = await freshBackendModule();
      expect(await fresh.selectBackend('auto', LARGE)).toBe('webgpu');
      expect(tf.getBackend()).toBe('webgpu');
      expect(imported).toEqual([NODE_GPU, DAWN]);
      expect(fresh.engineLabel()).toMatch(/^webgpu\/[^/]+\/test-hardware\/[^/]+$/);
      expect((await tf.sum(tf.tensor([1, 2, 3])).data())[0]).toBe(6);
      // The chosen backend is kept: a second 'auto' returns it.
      expect(await fresh.selectBackend('auto', LARGE)).toBe('webgpu');
    });

    it('passes webgpu over for a small workload (dispatch-bound: the CPU is faster), without starting Dawn', async () => {
      mockMissing(NODE_GPU);
      mockMissing(NODE);
      mockDawn('hardware');
      mockDeviceNodes(['/dev/nvidia0']);
      expect(await (await freshBackendModule()).selectBackend('auto', SMALL)).toBe('wasm');
      expect(imported).toEqual([NODE_GPU, NODE]);
    });

    it('passes a fallback (software) adapter over, as lavapipe is', async () => {
      mockMissing(NODE_GPU);
      mockMissing(NODE);
      mockDawn('fallback');
      mockDeviceNodes(['/dev/dri/renderD128']);
      mockMissing(WASM);
      const fresh = await freshBackendModule();
      expect(await fresh.selectBackend('auto', LARGE)).toBe('cpu');
      expect(imported).toEqual([NODE_GPU, DAWN, NODE, WASM]);
    });

    it('LRSCAPE_BACKEND=webgpu takes a fallback adapter too (tests run on lavapipe)', async () => {
      mockDawn('fallback');
      process.env.LRSCAPE_BACKEND = 'webgpu';
      const fresh = await freshBackendModule();
      expect(await fresh.selectBackend()).toBe('webgpu');
      expect(fresh.engineLabel()).toMatch(/^webgpu\/[^/]+\/test-fallback\/[^/]+$/);
    });
  });

  it('LRSCAPE_BACKEND=webgpu where Dawn finds no adapter throws, naming the variable and what was found', async () => {
    mockDawn('none');
    mockDeviceNodes([]);
    process.env.LRSCAPE_BACKEND = 'webgpu';
    const fresh = await freshBackendModule();
    await expect(fresh.selectBackend()).rejects.toThrow(
      /^backend 'webgpu' cannot be loaded: Dawn found no WebGPU adapter \(GPU device nodes: none; Vulkan drivers \(ICD files\): .*\) \(LRSCAPE_BACKEND=webgpu asks for it; unset LRSCAPE_BACKEND or set it to auto to take the first of tensorflow-gpu, webgpu, tensorflow, wasm, cpu that loads\)$/,
    );
    expect(fresh.activeBackend()).toBe(null);
  });

  it('LRSCAPE_BACKEND=webgpu without the webgpu package throws, saying so', async () => {
    mockMissing(DAWN);
    process.env.LRSCAPE_BACKEND = 'webgpu';
    await expect((await freshBackendModule()).selectBackend()).rejects.toThrow(/^backend 'webgpu' cannot be loaded: the npm package webgpu \(Dawn\) does not load: .*\(LRSCAPE_BACKEND=webgpu asks/);
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
      /^backend 'tensorflow' cannot be loaded: import of @tensorflow\/tfjs-node failed: .*\(LRSCAPE_BACKEND=tensorflow asks for it; unset LRSCAPE_BACKEND or set it to auto to take the first of tensorflow-gpu, webgpu, tensorflow, wasm, cpu that loads\)$/,
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
    await expect(selectBackend('webgl' as never)).rejects.toThrow(/^unknown backend 'webgl' \(valid: auto, tensorflow-gpu, webgpu, tensorflow, wasm, cpu\)$/);
  });

  it('reads LRSCAPE_BACKEND when no name is given', async () => {
    process.env.LRSCAPE_BACKEND = 'cpu';
    expect(await selectBackend()).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.LRSCAPE_BACKEND = 'bogus';
    await expect(selectBackend()).rejects.toThrow(/^unknown backend 'bogus' in LRSCAPE_BACKEND \(valid: auto, /);
  });
});

/**
 * The native kernels (kernels.ts, the addon in libs/engine/native): every product shape class and transpose the
 * engine produces against the float64 product of the same float32 operands, entry by entry within the
 * rounding-error bound of a float32 sum, and against tfjs's wasm kernels; their bits independent of the thread
 * count; the products they hand back to the wasm kernels; the private tfjs internals they use; and the bad
 * inputs (a grown heap, bytes not where the backend says, a library that does not load). The float64 basis
 * kernels against plain float64 loops; the thread policy with a fake clock.
 *
 * Where the addon is not built here the native suites are skipped (saying why), unless LRSCAPE_EXPECT_NATIVE=1
 * (CI, .ci/run), where that is a failure.
 */
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRng } from '@lrscape/linalg';
import { activeBackend, engineLabel, selectBackend } from '../backend';
import { DEFAULT_ADDON_PATH, loadAddon } from './addon';
import { internalsProblem, kernelRequestFromEnv, kernelStatus, nativeKernelsInstalled, PINNED_WASM_VERSION, useKernels, type WasmBackendInternals } from './kernels';
import { nativeVectorKernels } from './linalg';
import { fixedThreadsFromEnv, ThreadPolicy } from './threads';
import { NATIVE_UNAVAILABLE } from '../testing/kernels';

const native = NATIVE_UNAVAILABLE === null;
const describeNative = native ? describe : describe.skip;
const ROOT_PACKAGE = new URL('../../../../package.json', import.meta.url);
/** Unit roundoff of float32. */
const U = 2 ** -24;

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('the native addon in this checkout', () => {
  it(native ? 'loads' : `is not available here: ${NATIVE_UNAVAILABLE}`, () => {
    // CI installs libopenblas-dev and sets LRSCAPE_EXPECT_NATIVE=1: there, a missing native path is a failure.
    if (process.env.LRSCAPE_EXPECT_NATIVE === '1') expect(NATIVE_UNAVAILABLE).toBe(null);
    expect(loadAddon().ok).toBe(native);
  });
});

// ------------------------------------------------------------------------------------------- products

interface Case {
  name: string;
  /** Shapes of a and b as given to the op. */
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
  /** tf.fused.matMul with a bias of one value per column (or a single value). */
  bias?: 'column' | 'scalar';
  /** Why tfjs's wasm kernel is not held to the bound here (a wrong answer of tfjs-backend-wasm 4.22, measured). */
  wasmWrong?: string;
}

/** The engine's product classes (mlp.ts, cnn.ts, columnSums), at odd, 1-row, empty, tiled and engine sizes. */
function cases(): Case[] {
  const out: Case[] = [];
  // [rows n, in, out]: odd; one row; no rows (empty batch); an empty inner sum; tiled by rows (m ≥ n, ≥ 4 MFLOP);
  // tiled by columns (m < n); the benchmark's layer on 512 rows.
  const sizes: [number, number, number][] = [[7, 13, 5], [1, 29, 11], [0, 9, 4], [6, 0, 3], [257, 300, 129], [33, 150, 700], [512, 784, 200]];
  const emptyInner = 'an empty inner dimension: XNNPACK leaves the output uninitialised';
  for (const [n, inDim, outDim] of sizes) {
    const tag = `n ${n}, ${inDim} → ${outDim}`;
    const wasmWrong = inDim === 0 && n > 0 ? emptyInner : undefined;
    out.push({ name: `dense forward a·W + b (fused), ${tag}`, a: [n, inDim], b: [inDim, outDim], bias: 'column', wasmWrong });
    out.push({ name: `plain product a·B, ${tag}`, a: [n, inDim], b: [inDim, outDim], wasmWrong });
    out.push({ name: `weight gradient aᵀ·δ (transposeA), ${tag}`, a: [n, inDim], b: [n, outDim], transposeA: true });
    out.push({ name: `backward δ·Wᵀ (transposeB), ${tag}`, a: [n, outDim], b: [inDim, outDim], transposeB: true });
    out.push({ name: `both transposed aᵀ·Bᵀ, ${tag}`, a: [inDim, n], b: [outDim, inDim], transposeA: true, transposeB: true });
  }
  out.push({ name: 'column sums 1ᵀ·m, 1 × 2048 · 2048 × 200', a: [1, 2048], b: [2048, 200] });
  out.push({ name: 'column sums of no rows', a: [1, 0], b: [0, 5], wasmWrong: emptyInner });
  out.push({ name: 'fused with a single bias value', a: [5, 3], b: [3, 4], bias: 'scalar', wasmWrong: 'a length-1 bias: the wasm kernel reads one bias value per column' });
  // Batched (BatchMatMul with batch dimensions): both batched, B shared (folded into one product), A shared, 4-D, transposes.
  out.push({ name: 'batched [3,5,7]·[3,7,4]', a: [3, 5, 7], b: [3, 7, 4] });
  out.push({ name: 'batched, B shared [4,65,33]·[1,33,70] (folded)', a: [4, 65, 33], b: [1, 33, 70] });
  out.push({ name: 'batched, A shared [1,6,9]·[5,9,3]', a: [1, 6, 9], b: [5, 9, 3] });
  out.push({ name: 'batched 4-D [2,3,4,5]·[2,3,5,6], both transposed', a: [2, 3, 5, 4], b: [2, 3, 6, 5], transposeA: true, transposeB: true });
  out.push({ name: 'batched with an empty batch [0,4,5]·[0,5,3]', a: [0, 4, 5], b: [0, 5, 3] });
  out.push({ name: 'batched, B shared and transposed, tiled [3,200,100]·[1,300,100]', a: [3, 200, 100], b: [1, 300, 100], transposeB: true });
  return out;
}

function randomArray(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => rng.normal());
}

const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** Element (i, j) of op(X) for a row-major batch entry of X with shape [..., r, c]. */
function entry(x: Float32Array, offset: number, rows: number, cols: number, transposed: boolean, i: number, j: number): number {
  return transposed ? x[offset + j * cols + i] : x[offset + i * cols + j];
}

/** The float64 product of the float32 operands and, per entry, Σ|a||b| (+|bias|): the scale of its rounding error. */
function reference(c: Case, a: Float32Array, b: Float32Array, bias: Float32Array | null): { values: Float64Array; scale: Float64Array; k: number; shape: number[] } {
  const [ar, ac] = c.a.slice(-2);
  const [br, bc] = c.b.slice(-2);
  const m = c.transposeA ? ac : ar;
  const k = c.transposeA ? ar : ac;
  const n = c.transposeB ? br : bc;
  const batchA = sizeOf(c.a.slice(0, -2));
  const batchB = sizeOf(c.b.slice(0, -2));
  const outer = c.a.length > c.b.length || batchA >= batchB ? c.a.slice(0, -2) : c.b.slice(0, -2);
  const batch = Math.max(batchA, batchB) * (batchA === 0 || batchB === 0 ? 0 : 1);
  const values = new Float64Array(batch * m * n);
  const scale = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const ao = (batchA === 1 ? 0 : p) * ar * ac;
    const bo = (batchB === 1 ? 0 : p) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = bias === null ? 0 : bias.length === 1 ? bias[0] : bias[j];
        let t = Math.abs(s);
        for (let q = 0; q < k; q++) {
          const x = entry(a, ao, ar, ac, !!c.transposeA, i, q) * entry(b, bo, br, bc, !!c.transposeB, q, j);
          s += x;
          t += Math.abs(x);
        }
        values[(p * m + i) * n + j] = s;
        scale[(p * m + i) * n + j] = t;
      }
    }
  }
  return { values, scale, k: k + (bias === null ? 0 : 1), shape: [...outer, m, n] };
}

/** The op on the active kernels: [values, shape]. */
function product(c: Case, a: Float32Array, b: Float32Array, bias: Float32Array | null): { values: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const ta = tf.tensor(a, c.a);
    const tb = tf.tensor(b, c.b);
    const out =
      c.bias === undefined
        ? tf.matMul(ta, tb, c.transposeA, c.transposeB)
        : tf.fused.matMul({ a: ta as tf.Tensor2D, b: tb as tf.Tensor2D, bias: tf.tensor1d(bias!), transposeA: c.transposeA, transposeB: c.transposeB });
    return { values: out.dataSync() as Float32Array, shape: out.shape };
  });
}

/**
 * The largest ratio, over entries, of |computed − exact| to the bound γ_k·Σ|a||b| of a float32 sum of k products
 * in any order (Higham, Accuracy and Stability, §3.1): ≤ 1 for a correct product. An entry of an empty sum must be
 * exactly its bias (or 0).
 */
function worstBoundRatio(values: Float32Array, ref: { values: Float64Array; scale: Float64Array; k: number }): number {
  const gamma = (ref.k * U) / (1 - ref.k * U);
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const error = Math.abs(values[i] - ref.values[i]);
    const bound = gamma * ref.scale[i] + 1e-300;
    worst = Math.max(worst, error / bound);
  }
  return worst;
}

describeNative('native products against the float64 product and the wasm kernels', () => {
  afterAll(async () => {
    await useKernels('auto');
  });

  it.each(cases())('$name', async (c) => {
    const a = randomArray(sizeOf(c.a), 11);
    const b = randomArray(sizeOf(c.b), 12);
    const columns = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
    const bias = c.bias === undefined ? null : randomArray(c.bias === 'scalar' ? 1 : columns, 13);
    const ref = reference(c, a, b, bias);

    await useKernels('openblas');
    expect(kernelStatus().path).toBe('native');
    const ours = product(c, a, b, bias);
    await useKernels('wasm');
    const wasm = product(c, a, b, bias);

    expect(ours.shape).toEqual(ref.shape);
    expect(wasm.shape).toEqual(ref.shape);
    expect(ours.values.length).toBe(ref.values.length);
    expect(worstBoundRatio(ours.values, ref)).toBeLessThanOrEqual(1);
    if (c.wasmWrong === undefined) {
      expect(worstBoundRatio(wasm.values, ref)).toBeLessThanOrEqual(1);
      if (ref.k <= 1) expect(Array.from(ours.values)).toEqual(Array.from(wasm.values)); // no sum: no rounding freedom
    }
  });

  it('gives every product the same bits whatever the thread count (tiles by shape alone)', async () => {
    await useKernels('openblas');
    const addon = loadAddon();
    if (!addon.ok) throw new Error(addon.reason);
    const shapes: Case[] = [
      { name: 'rows', a: [2048, 784], b: [784, 200] },
      { name: 'gradient', a: [2048, 200], b: [2048, 200], transposeA: true },
      { name: 'columns', a: [40, 300], b: [300, 900] },
      { name: 'batched', a: [3, 200, 100], b: [1, 300, 100], transposeB: true },
    ];
    try {
      for (const c of shapes) {
        const a = randomArray(sizeOf(c.a), 21);
        const b = randomArray(sizeOf(c.b), 22);
        const results = [1, 2, 3].map((threads) => {
          addon.addon.setThreads(threads);
          expect(addon.addon.threads().pool).toBe(threads);
          return product(c, a, b, null).values;
        });
        expect(results[1]).toEqual(results[0]);
        expect(results[2]).toEqual(results[0]);
      }
      expect(addon.addon.threads().library).toBe(1); // OpenBLAS's own threading stays off
    } finally {
      addon.addon.setThreads(1);
    }
  });

  it('hands the products it does not take to the wasm kernels, unchanged', async () => {
    const a = randomArray(6 * 4, 31);
    const b = randomArray(4 * 5, 32);
    const run = () =>
      tf.tidy(() => {
        const ta = tf.tensor2d(a, [6, 4]);
        const tb = tf.tensor2d(b, [4, 5]);
        return [
          tf.fused.matMul({ a: ta, b: tb, bias: tf.ones([5]), activation: 'relu' }).dataSync(),
          tf.fused.matMul({ a: ta, b: tb, activation: 'elu' }).dataSync(),
        ];
      });
    await useKernels('wasm');
    const wasm = run();
    await useKernels('openblas');
    const ours = run();
    expect(ours[0]).toEqual(wasm[0]);
    expect(ours[1]).toEqual(wasm[1]);
    // Non-float32 operands: the wasm kernel's own refusal.
    const ints = () => tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([1, 0, 0, 1], [2, 2], 'int32')));
    expect(ints).toThrow(/non-float32|non non-float32/);
    // A bias of another length than the columns: handed to the wasm kernel (which broadcasts or refuses as tfjs does).
    const wrongBias = () => tf.tidy(() => tf.fused.matMul({ a: tf.ones([2, 3]), b: tf.ones([3, 4]), bias: tf.ones([2, 1]) }).dataSync());
    await useKernels('wasm');
    let expected: unknown;
    try {
      expected = wrongBias();
    } catch (error) {
      expected = (error as Error).message;
    }
    await useKernels('openblas');
    let got: unknown;
    try {
      got = wrongBias();
    } catch (error) {
      got = (error as Error).message;
    }
    expect(got).toEqual(expected);
  });

  it('frees its outputs like the wasm kernels (no tensor or heap leak)', async () => {
    await useKernels('openblas');
    const a = tf.randomNormal([64, 32]);
    const b = tf.randomNormal([64, 16]);
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 5; i++) {
      tf.tidy(() => {
        tf.fused.matMul({ a: tf.transpose(a) as tf.Tensor2D, b: b as tf.Tensor2D, bias: tf.ones([16]) });
        tf.matMul(a, b, true, false);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
    tf.dispose([a, b]);
  });
});

// ------------------------------------------------------------------------------------------- internals

describe("the wasm backend's private internals the native kernels use (tfjs-backend-wasm pinned)", () => {
  it('are pinned at the version the kernels are written for', async () => {
    const pkg = JSON.parse(readFileSync(ROOT_PACKAGE, 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['@tensorflow/tfjs-backend-wasm']).toBe(PINNED_WASM_VERSION);
    const wasmModule = (await import('@tensorflow/tfjs-backend-wasm')) as { version_wasm: string };
    expect(wasmModule.version_wasm).toBe(PINNED_WASM_VERSION);
  });

  it('backend.wasm.HEAPU8, dataIdMap.get(dataId).memoryOffset and makeOutput mean what the kernels assume', async () => {
    await selectBackend('wasm');
    const backend = tf.backend() as unknown as WasmBackendInternals;
    expect(internalsProblem(backend, PINNED_WASM_VERSION)).toBe(null);
    const values = Float32Array.from([1.5, -2, 3.25, 4, 5, 6]);
    const t = tf.tensor2d(values, [2, 3]);
    const offset = backend.dataIdMap.get(t.dataId)!.memoryOffset!;
    // The tensor's bytes are at its memoryOffset in the heap's buffer, read through a fresh view.
    expect(Array.from(new Float32Array(backend.wasm.HEAPU8.buffer, offset, 6))).toEqual(Array.from(values));
    // makeOutput allocates in the heap; what is written at its offset is the tensor's value.
    const info = backend.makeOutput([2, 2], 'float32');
    const out = backend.dataIdMap.get(info.dataId)!.memoryOffset!;
    expect(out + 16).toBeLessThanOrEqual(backend.wasm.HEAPU8.buffer.byteLength);
    new Float32Array(backend.wasm.HEAPU8.buffer, out, 4).set([7, 8, 9, 10]);
    const made = tf.engine().makeTensorFromTensorInfo(info);
    expect(Array.from(made.dataSync())).toEqual([7, 8, 9, 10]);
    tf.dispose([t, made]);
  });

  it('are refused, with the reason, when they are not what the kernels assume', () => {
    expect(internalsProblem(tf.backend(), '4.21.0')).toMatch(/written against @tensorflow\/tfjs-backend-wasm 4\.22\.0's internals; 4\.21\.0 is installed/);
    expect(internalsProblem({ wasm: {}, dataIdMap: new Map(), makeOutput: () => null }, PINNED_WASM_VERSION)).toMatch(/no wasm\.HEAPU8/);
    expect(internalsProblem({ wasm: { HEAPU8: new Uint8Array(4) } }, PINNED_WASM_VERSION)).toMatch(/no dataIdMap/);
  });
});

// ------------------------------------------------------------------------------------------- bad input

describeNative('bad input', () => {
  afterEach(async () => {
    await useKernels('auto');
  });

  it('a wasm memory that grows while the output is allocated: the product reads the new heap', async () => {
    await useKernels('openblas');
    const backend = tf.backend() as unknown as WasmBackendInternals;
    const heapBefore = backend.wasm.HEAPU8.buffer;
    // An outer product (k = 1: each entry one rounding) whose output alone is larger than the whole heap.
    const side = Math.ceil(Math.sqrt(heapBefore.byteLength / 4)) + 64;
    const a = randomArray(side, 41);
    const b = randomArray(side, 42);
    const ta = tf.tensor2d(a, [side, 1]);
    const tb = tf.tensor2d(b, [1, side]);
    const c = tf.matMul(ta, tb);
    expect(backend.wasm.HEAPU8.buffer).not.toBe(heapBefore); // it grew, detaching the old view
    expect(heapBefore.byteLength).toBe(0);
    const values = c.dataSync();
    let mismatches = 0;
    for (let i = 0; i < side; i += 97) for (let j = 0; j < side; j += 89) if (values[i * side + j] !== Math.fround(a[i] * b[j])) mismatches++;
    expect(mismatches).toBe(0);
    tf.dispose([ta, tb, c]);
  });

  it('a heap view taken before the memory grew: a clear error from the addon, no product', () => {
    const addon = loadAddon();
    if (!addon.ok) throw new Error(addon.reason);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const stale = memory.buffer;
    memory.grow(1);
    expect(() => addon.addon.sgemm(stale, false, false, 2, 2, 2, 1, 0, 0, 16, 0, 32, -1, 0)).toThrow(/detached \(the wasm memory grew since this view was taken\)/);
    const heap = memory.buffer;
    expect(() => addon.addon.sgemm(heap, false, false, 2, 2, 2, 1, 0, 0, 16, 0, heap.byteLength - 8, -1, 0)).toThrow(/C \(output\)'s bytes .* lie outside the 131072-byte wasm heap/);
    expect(() => addon.addon.sgemm(heap, false, false, 2, 2, 2, 1, 2, 0, 16, 0, 32, -1, 0)).toThrow(/A's byte offset 2 is not float32-aligned/);
    expect(() => addon.addon.sgemm(heap, false, false, 2, 2, 2, 1, 0, 0, 16, 0, 8, -1, 0)).toThrow(/the output's bytes overlap an input's/);
    expect(() => addon.addon.sgemm(heap, false, false, 2, 3, 2, 1, 0, 0, 16, 0, 64, 48, 2)).toThrow(/bias has 2 values, expected 3/);
    expect(() => addon.addon.sgemm(heap, false, false, 2.5, 2, 2, 1, 0, 0, 16, 0, 64, -1, 0)).toThrow(/m must be an integer/);
    expect(() => addon.addon.sgemm(new Uint8Array(8) as unknown as ArrayBuffer, false, false, 1, 1, 1, 1, 0, 0, 4, 0, 8, -1, 0)).toThrow(/heap must be an ArrayBuffer/);
  });

  it('a tensor whose bytes are not where the backend says: a clear error naming it, never a product', async () => {
    await useKernels('openblas');
    const backend = tf.backend() as unknown as WasmBackendInternals;
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const data = backend.dataIdMap.get(a.dataId)!;
    const saved = data.memoryOffset;
    const before = tf.memory().numTensors;
    try {
      data.memoryOffset = backend.wasm.HEAPU8.buffer.byteLength + 64;
      expect(() => tf.matMul(a, b)).toThrow(/native MatMul \(OpenBLAS\) refused its operands: .*A's bytes .* lie outside the .*-byte wasm heap \(the tensor's bytes are not where the backend says/);
      data.memoryOffset = null;
      expect(() => tf.matMul(a, b)).toThrow(/the left tensor \[2,2\] has no byte offset in the wasm heap .*: its bytes are not where the backend says/);
      expect(tf.memory().numTensors).toBe(before); // the refused output was freed
    } finally {
      data.memoryOffset = saved;
    }
    expect(Array.from(tf.matMul(a, b).dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([a, b]);
  });

  it('an addon or library that fails to load: auto falls back to the wasm kernels saying why, openblas refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrscape-native-'));
    const notAnAddon = join(dir, 'broken.node');
    writeFileSync(notAnAddon, 'not an ELF file');
    try {
      expect(loadAddon(join(dir, 'missing.node'))).toMatchObject({ ok: false, reason: expect.stringMatching(/is not built \(.*missing\.node is missing\)/) });
      const broken = loadAddon(notAnAddon);
      expect(broken).toMatchObject({ ok: false, reason: expect.stringMatching(/^the native addon failed to load: /) });

      await useKernels('wasm');
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        const status = await useKernels('auto', { addonPath: notAnAddon });
        expect(status).toMatchObject({ requested: 'auto', path: 'wasm', reason: expect.stringMatching(/failed to load/) });
        expect(nativeKernelsInstalled()).toBe(false);
        // The fallback is said once per process (it may have been said already by this file's first selectBackend).
        expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
      } finally {
        warn.mockRestore();
      }
      await expect(useKernels('openblas', { addonPath: notAnAddon })).rejects.toThrow(/^LRSCAPE_KERNELS=openblas: the native kernels cannot run: the native addon failed to load: .*\(unset LRSCAPE_KERNELS, or set it to auto or wasm\)$/);
      expect(kernelStatus().path).toBe('wasm');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------------- selection

describe('the kernel path: LRSCAPE_KERNELS, the status and the label', () => {
  const saved = process.env.LRSCAPE_KERNELS;
  afterAll(async () => {
    if (saved === undefined) delete process.env.LRSCAPE_KERNELS;
    else process.env.LRSCAPE_KERNELS = saved;
    await selectBackend('cpu');
    await selectBackend('wasm');
  });

  it('reads LRSCAPE_KERNELS, refusing an unknown value', () => {
    expect(kernelRequestFromEnv({})).toBe('auto');
    expect(kernelRequestFromEnv({ LRSCAPE_KERNELS: 'wasm' })).toBe('wasm');
    expect(kernelRequestFromEnv({ LRSCAPE_KERNELS: 'openblas' })).toBe('openblas');
    expect(() => kernelRequestFromEnv({ LRSCAPE_KERNELS: 'mkl' })).toThrow(/^unknown LRSCAPE_KERNELS 'mkl' \(valid: auto, openblas, wasm\)$/);
  });

  // The CI test of the wasm path: LRSCAPE_KERNELS=wasm keeps tfjs's kernels whatever is installed.
  it('LRSCAPE_KERNELS=wasm: selectBackend keeps the wasm kernels, labelled plain wasm', async () => {
    process.env.LRSCAPE_KERNELS = 'wasm';
    await selectBackend('cpu');
    expect(await selectBackend('wasm')).toBe('wasm');
    expect(kernelStatus()).toEqual({ requested: 'wasm', path: 'wasm', library: null, corename: null, config: null, reason: null, basisKernels: false });
    expect(engineLabel()).toBe('wasm');
    expect(nativeKernelsInstalled()).toBe(false);
    expect(Array.from(tf.matMul(tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([3, 4], [2, 1])).dataSync())).toEqual([11]);
  });

  it.skipIf(!native)('auto (default) takes the native kernels where they load, labelled with the library and its core', async () => {
    delete process.env.LRSCAPE_KERNELS;
    await selectBackend('cpu');
    expect(engineLabel()).toBe('cpu');
    expect(await selectBackend('wasm')).toBe('wasm');
    const status = kernelStatus();
    expect(status).toMatchObject({ requested: 'auto', path: 'native', reason: null });
    expect(status.library === 'openblas' || status.library === 'accelerate').toBe(true);
    expect(engineLabel()).toBe(`wasm+${status.library}/${status.corename}`);
    // The core the library reports is the one the environment asks for, when it asks (OPENBLAS_CORETYPE is read, never set).
    const coretype = process.env.OPENBLAS_CORETYPE;
    if (status.library === 'openblas' && coretype) expect(status.corename?.toLowerCase()).toBe(coretype.toLowerCase());
    expect(nativeKernelsInstalled()).toBe(true);
    expect(activeBackend()).toBe('wasm');
  });

  it('LRSCAPE_KERNELS=openblas where the native kernels cannot run: selectBackend throws, naming why', async () => {
    process.env.LRSCAPE_KERNELS = 'openblas';
    await selectBackend('cpu');
    if (native) {
      expect(await selectBackend('wasm')).toBe('wasm');
      expect(kernelStatus().path).toBe('native');
    } else {
      await expect(selectBackend('wasm')).rejects.toThrow(/^LRSCAPE_KERNELS=openblas: the native kernels cannot run: /);
    }
    delete process.env.LRSCAPE_KERNELS;
  });
});

// ------------------------------------------------------------------------------------------- float64 kernels

describeNative('the float64 basis kernels (Lanczos reorthogonalisation) against plain float64 loops', () => {
  const kernels = nativeVectorKernels()!;
  // n: under one chunk, several chunks with a remainder; k vectors, an odd number.
  for (const n of [5, 10_007]) {
    const k = 7;
    const rng = createRng(n);
    const basis = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rng.normal()));
    const w = Float64Array.from({ length: n }, () => rng.normal());
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);

    it(`projectInto, n = ${n}: out[i − from] = vectors[i]ᵀw over [from, to)`, () => {
      const out = new Float64Array(k).fill(NaN);
      expect(kernels.projectInto(out, basis, w, 2, 6)).toBe(out);
      for (let i = 2; i < 6; i++) expect(out[i - 2]).toBeCloseTo(dot(basis[i], w), 9);
      expect(Number.isNaN(out[4])).toBe(true); // only to − from entries written
      const all = kernels.projectInto(new Float64Array(k), basis, w);
      for (let i = 0; i < k; i++) expect(Math.abs(all[i] - dot(basis[i], w))).toBeLessThan(1e-12 * n);
    });

    it(`subtractCombination, n = ${n}: w − Σ cᵢ qᵢ in place, returning its squared norm`, () => {
      const c = Float64Array.from({ length: k }, (_, i) => (i - 3) / 7);
      const target = Float64Array.from(w);
      const expected = Float64Array.from(w);
      for (let i = 1; i < 5; i++) for (let t = 0; t < n; t++) expected[t] -= c[i - 1] * basis[i][t];
      const squares = kernels.subtractCombination(target, basis, c, 1, 5);
      for (let t = 0; t < n; t++) expect(Math.abs(target[t] - expected[t])).toBeLessThan(1e-13);
      expect(squares).toBeCloseTo(dot(expected, expected), 8);
    });

    it(`combineInto, n = ${n}: outputs[o] = Σ coefficients[i·m + o]·inputs[i] (dgemm per chunk)`, () => {
      const m = 3;
      const coefficients = Float64Array.from({ length: k * m }, (_, i) => Math.sin(i + 1));
      const outputs = Array.from({ length: m }, () => new Float64Array(n).fill(NaN));
      kernels.combineInto(outputs, basis, coefficients);
      for (let o = 0; o < m; o++) {
        for (let t = 0; t < n; t += Math.max(1, Math.floor(n / 50))) {
          let s = 0;
          for (let i = 0; i < k; i++) s += coefficients[i * m + o] * basis[i][t];
          expect(Math.abs(outputs[o][t] - s)).toBeLessThan(1e-13);
        }
      }
    });
  }

  it('refuses aliased or mismatched vectors, with a clear error', () => {
    const v = [new Float64Array(4), new Float64Array(4)];
    expect(() => kernels.subtractCombination(v[0], v, new Float64Array(2))).toThrow(/w aliases vectors\[0\]/);
    expect(() => kernels.combineInto([v[1]], v, new Float64Array(2))).toThrow(/outputs\[0\] aliases inputs\[1\]/);
    expect(() => kernels.projectInto(new Float64Array(2), [new Float64Array(3), new Float64Array(4)], new Float64Array(4))).toThrow(/vector lengths differ: vectors\[0\] has 3 entries, expected 4/);
    expect(() => kernels.projectInto(new Float64Array(1), v, new Float64Array(4))).toThrow(/out has 1 entries for 2 products/);
    expect(() => kernels.combineInto([new Float64Array(4)], v, new Float64Array(3))).toThrow(/3 coefficients for 2 × 1/);
    const empty = [new Float64Array(4).fill(7)];
    kernels.combineInto(empty, [], new Float64Array(0));
    expect(Array.from(empty[0])).toEqual([0, 0, 0, 0]); // an empty combination is zero
  });
});

// ------------------------------------------------------------------------------------------- threads

describe('the thread policy: cores shared by the threads computing now', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lrscape-threads-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes every core alone, one each when two compute, recounting at most every interval, and frees its entry', () => {
    let now = 1_000_000;
    const applied: number[] = [];
    const policy = new ThreadPolicy((n) => (applied.push(n), n), { cores: 2, dir, id: 'a', fixed: null, now: () => now });
    policy.tick();
    expect(policy.threads).toBe(2);
    const other = new ThreadPolicy((n) => n, { cores: 2, dir, id: 'b', fixed: null, now: () => now });
    other.tick();
    expect(other.threads).toBe(1);
    policy.tick(); // within the interval: no recount
    expect(policy.threads).toBe(2);
    now += 600;
    policy.tick();
    expect(policy.threads).toBe(1);
    expect(policy.sharing).toBe(2);
    // The other stops computing: its entry goes stale (file times are real; age it by hand).
    utimesSync(join(dir, 'b'), new Date(now - 5000), new Date(now - 5000));
    now += 600;
    policy.tick();
    expect(policy.threads).toBe(2);
    expect(applied).toEqual([2, 1, 2]);
    other.release();
    policy.release();
  });

  it('LRSCAPE_BLAS_THREADS fixes the count; a bad value is refused', () => {
    expect(fixedThreadsFromEnv({ LRSCAPE_BLAS_THREADS: '3' })).toBe(3);
    expect(fixedThreadsFromEnv({})).toBe(null);
    expect(() => fixedThreadsFromEnv({ LRSCAPE_BLAS_THREADS: '0' })).toThrow(/LRSCAPE_BLAS_THREADS must be a positive integer, got 0/);
    const applied: number[] = [];
    const policy = new ThreadPolicy((n) => (applied.push(n), n), { cores: 2, dir, id: 'fixed', fixed: 3 });
    policy.tick();
    expect(policy.threads).toBe(3);
    expect(applied).toEqual([3]);
  });

  it('an unusable registry: one thread, saying why', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const policy = new ThreadPolicy((n) => n, { cores: 2, dir: file, id: 'x', fixed: null });
    policy.tick();
    expect(policy.threads).toBe(1);
    expect(policy.problem).toMatch(/the thread registry .* is unusable .*: 1 thread/);
  });
});

describe('the addon path', () => {
  it('is the build output of libs/engine/native', () => {
    expect(DEFAULT_ADDON_PATH.replaceAll('\\', '/')).toMatch(/libs\/engine\/native\/build\/Release\/lrscape_blas\.node$/);
  });
});

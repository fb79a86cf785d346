import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@lrscape/linalg';
import { selectBackend } from './backend';
import { convBiasGradient, convForward, convInputAdjoint, convKernelGradient, flipKernel } from './conv';
import { cnnGeometry, type ConvGeometry } from './layout';
import { relError } from './testing/fixtures';

beforeAll(async () => {
  await selectBackend('wasm');
});

function geometry(h: number, w: number, c: number, filters: number, kernelSize: number, padding: 'same' | 'valid'): ConvGeometry {
  return cnnGeometry({
    kind: 'cnn',
    inputShape: [h, w, c],
    conv: [{ filters, kernelSize, padding }],
    pool: 'none',
    dense: [],
    outputDim: 1,
    activation: 'linear',
    loss: 'mse',
  }).convs[0];
}

/** conv(a, K) in float64 by the definition (zero outside the input). */
function naiveConv(a: Float64Array, K: Float64Array, n: number, g: ConvGeometry): Float64Array {
  const { inH, inW, inC, kernel: k, filters, outH, outW } = g;
  const z = new Float64Array(n * outH * outW * filters);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        for (let o = 0; o < filters; o++) {
          let s = 0;
          for (let dy = 0; dy < k; dy++) {
            for (let dx = 0; dx < k; dx++) {
              const [iy, ix] = [y + dy - g.padTop, x + dx - g.padLeft];
              if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
              for (let c = 0; c < inC; c++) s += a[((b * inH + iy) * inW + ix) * inC + c] * K[((dy * k + dx) * inC + c) * filters + o];
            }
          }
          z[((b * outH + y) * outW + x) * filters + o] = s;
        }
      }
    }
  }
  return z;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normals(length: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length }, () => rng.normal());
}

// 'same' odd (symmetric pads), 'same' even (the extra pad at the bottom/right), 'valid', on a non-square input.
// Tolerance 1e-6 ≈ 16u (u = 2⁻²⁴): float32 sums of ≤ 27 products (a window) or ≤ 72 (a kernel gradient over
// images × positions) against float64 on the same float32 inputs; worst measured 2.2e-7 (the bias gradient).
const CASES = [
  { name: "3×3 'same'", h: 5, w: 6, c: 2, filters: 3, k: 3, padding: 'same' as const },
  { name: "2×2 'same'", h: 5, w: 4, c: 2, filters: 3, k: 2, padding: 'same' as const },
  { name: "4×4 'same'", h: 6, w: 5, c: 1, filters: 2, k: 4, padding: 'same' as const },
  { name: "3×3 'valid'", h: 6, w: 5, c: 3, filters: 2, k: 3, padding: 'valid' as const },
];

describe.each(CASES)('conv layer maps, $name', ({ h, w, c, filters, k, padding }) => {
  const n = 2;
  const g = geometry(h, w, c, filters, k, padding);
  const a = normals(n * h * w * c, 1);
  const K = normals(k * k * c * filters, 2);
  const delta = normals(n * g.outH * g.outW * filters, 3);

  it('forward matches the definition, bias added per filter', async () => {
    const bias = normals(filters, 4);
    const z = tf.tidy(() =>
      convForward(tf.tensor4d(a, [n, h, w, c]), tf.tensor4d(K, [k, k, c, filters]), tf.tensor1d(bias), g),
    );
    expect(z.shape).toEqual([n, g.outH, g.outW, filters]);
    const expected = naiveConv(Float64Array.from(a), Float64Array.from(K), n, g).map((v, i) => v + bias[i % filters]);
    expect(relError(await z.data(), expected)).toBeLessThan(1e-6);
    z.dispose();
  });

  it('convInputAdjoint and convKernelGradient are the adjoints: ⟨conv(a,K), δ⟩ = ⟨a, convᵀ_K δ⟩ = ⟨K, gK(a, δ)⟩', async () => {
    const [gA, gK, gb] = tf.tidy(() => {
      const kernel = tf.tensor4d(K, [k, k, c, filters]);
      const d = tf.tensor4d(delta, [n, g.outH, g.outW, filters]);
      return [convInputAdjoint(d, flipKernel(kernel), g), convKernelGradient(tf.tensor4d(a, [n, h, w, c]), d, g), convBiasGradient(d)];
    });
    expect(gA.shape).toEqual([n, h, w, c]);
    expect(gK.shape).toEqual([k, k, c, filters]);
    const zDelta = dot(naiveConv(Float64Array.from(a), Float64Array.from(K), n, g), delta);
    expect(relError([dot(a, await gA.data())], [zDelta])).toBeLessThan(1e-6);
    expect(relError([dot(K, await gK.data())], [zDelta])).toBeLessThan(1e-6);
    // Entry by entry, against the adjoint built from the definition: the column of conv for unit inputs.
    const unitA = new Float64Array(n * h * w * c);
    const gAExpected = new Float64Array(unitA.length);
    for (let i = 0; i < unitA.length; i++) {
      unitA.fill(0);
      unitA[i] = 1;
      gAExpected[i] = dot(naiveConv(unitA, Float64Array.from(K), n, g), delta);
    }
    expect(relError(await gA.data(), gAExpected)).toBeLessThan(1e-6);
    const gbExpected = new Float64Array(filters);
    delta.forEach((v, i) => (gbExpected[i % filters] += v));
    expect(relError(await gb.data(), gbExpected)).toBeLessThan(1e-6);
    for (const t of [gA, gK, gb]) t.dispose();
  });
});

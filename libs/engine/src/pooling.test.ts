import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@lrscape/linalg';
import { selectBackend } from './backend';
import { cnnGeometry, type ConvGeometry, type Pooling } from './layout';
import { poolAdjoint, poolForward, poolR, poolRouting } from './pooling';
import { relError } from './testing/fixtures';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** The geometry of a 'same' 1×1 conv on h×w×c followed by `pool`: the pooling sees an h×w×c map. */
function geometry(h: number, w: number, c: number, pool: Pooling): ConvGeometry {
  return cnnGeometry({ kind: 'cnn', inputShape: [h, w, c], conv: [{ filters: c, kernelSize: 1 }], pool, dense: [], outputDim: 1, activation: 'linear', loss: 'mse' })
    .convs[0];
}

/** Window (y, x, ch) of s [n, h, w, c] as its four values, row-major within the window. */
function windowOf(s: ArrayLike<number>, g: ConvGeometry, b: number, y: number, x: number, ch: number): number[] {
  const at = (dy: number, dx: number) => s[((b * g.outH + 2 * y + dy) * g.outW + 2 * x + dx) * g.filters + ch];
  return [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// Even and odd sizes (an odd last row/column is dropped).
describe.each([
  { h: 4, w: 6, c: 2 },
  { h: 5, w: 3, c: 3 },
])('2×2 pooling of a $h×$w×$c map', ({ h, w, c }) => {
  const n = 2;
  const rng = createRng(h * 10 + w);
  const s = Float32Array.from({ length: n * h * w * c }, () => rng.normal());
  const r = Float32Array.from({ length: s.length }, () => rng.normal());

  for (const pool of ['avg', 'max'] as const) {
    it(`${pool}: forward is the window's ${pool}, poolR its derivative along r, poolAdjoint its adjoint`, async () => {
      const g = geometry(h, w, c, pool);
      const [H2, W2] = [Math.floor(h / 2), Math.floor(w / 2)];
      expect([g.pooledH, g.pooledW]).toEqual([H2, W2]);
      const gOut = Float32Array.from({ length: n * H2 * W2 * c }, () => rng.normal());
      const [out, rOut, adj] = tf.tidy(() => {
        const st = tf.tensor4d(s, [n, h, w, c]);
        const o = poolForward(st, g);
        const routing = poolRouting(st, o, g);
        return [o, poolR(tf.tensor4d(r, [n, h, w, c]), routing, g), poolAdjoint(tf.tensor4d(gOut, [n, H2, W2, c]), routing, g)];
      });
      expect(out.shape).toEqual([n, H2, W2, c]);
      expect(adj.shape).toEqual([n, h, w, c]);
      const [outV, rOutV] = [await out.data(), await rOut.data()];
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < H2; y++) {
          for (let x = 0; x < W2; x++) {
            for (let ch = 0; ch < c; ch++) {
              const i = ((b * H2 + y) * W2 + x) * c + ch;
              const sw = windowOf(s, g, b, y, x, ch);
              const rw = windowOf(r, g, b, y, x, ch);
              if (pool === 'avg') {
                expect(outV[i]).toBeCloseTo((sw[0] + sw[1] + sw[2] + sw[3]) / 4, 6);
                expect(rOutV[i]).toBeCloseTo((rw[0] + rw[1] + rw[2] + rw[3]) / 4, 6);
              } else {
                const arg = sw.indexOf(Math.max(...sw));
                expect(outV[i]).toBe(sw[arg]);
                expect(rOutV[i]).toBe(rw[arg]); // routing weight 1 on the argmax, 0 elsewhere: exact
              }
            }
          }
        }
      }
      // ⟨poolR(r), g⟩ = ⟨r, poolAdjoint(g)⟩ (float32 sums of ≤ 4 terms; worst measured 2.4e-8); the dropped row/column gets nothing.
      expect(relError([dot(r, await adj.data())], [dot(rOutV, gOut)])).toBeLessThan(1e-6);
      const adjV = await adj.data();
      for (let i = 0; i < adjV.length; i++) {
        const [y, x] = [Math.floor(i / (w * c)) % h, Math.floor(i / c) % w];
        if (y >= 2 * H2 || x >= 2 * W2) expect(adjV[i]).toBe(0);
      }
      for (const t of [out, rOut, adj]) t.dispose();
    });
  }

  it('max: poolR is the derivative of max pooling (central differences along r, no ties)', async () => {
    const g = geometry(h, w, c, 'max');
    const eps = 1e-3;
    const [rOut, up, down] = tf.tidy(() => {
      const st = tf.tensor4d(s, [n, h, w, c]);
      const rt = tf.tensor4d(r, [n, h, w, c]);
      const routing = poolRouting(st, poolForward(st, g), g);
      return [poolR(rt, routing, g), poolForward(tf.add(st, tf.mul(rt, eps)), g), poolForward(tf.sub(st, tf.mul(rt, eps)), g)];
    });
    const [u, d] = [await up.data(), await down.data()];
    const fd = Float64Array.from(u, (v, i) => (v - d[i]) / (2 * eps));
    // Max pooling is linear between ties, so the difference is exact but for rounding s ± eps·r to float32:
    // ≈ u·|s|/eps ≈ 6e-5 (u = 2⁻²⁴); worst measured 4.7e-5.
    expect(relError(await rOut.data(), fd)).toBeLessThan(2e-4);
    for (const t of [rOut, up, down]) t.dispose();
  });
});

describe('max pooling at a tie', () => {
  it('splits the routing weight equally among the tied positions', async () => {
    const g = geometry(2, 2, 1, 'max');
    const [out, weights, adj] = tf.tidy(() => {
      const s = tf.tensor4d([1, 3, 3, -2], [1, 2, 2, 1]);
      const o = poolForward(s, g);
      const routing = poolRouting(s, o, g);
      return [o, routing.weights!, poolAdjoint(tf.tensor4d([4], [1, 1, 1, 1]), routing, g)];
    });
    expect(Array.from(await out.data())).toEqual([3]);
    expect(Array.from(await weights.data())).toEqual([0, 0.5, 0.5, 0]);
    expect(Array.from(await adj.data())).toEqual([0, 2, 2, 0]);
    for (const t of [out, weights, adj]) t.dispose();
  });
});

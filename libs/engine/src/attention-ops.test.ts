/**
 * The attention model's ops one by one (attention-ops.ts): the row softmax's backward pass and R-operators
 * against hyper-dual numbers in float64 (the exact gradient and Hessian-vector product of a scalar function of
 * the scores), and the linear ops' adjoints by ⟨op(x), g⟩ = ⟨x, opᵀ(g)⟩ and their definitions.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@lrscape/linalg';
import {
  embed,
  embedGradient,
  mergeHeads,
  oneHotTokens,
  readoutPool,
  readoutPoolAdjoint,
  rowSoftmax,
  rowSoftmaxBackward,
  rowSoftmaxBackwardR,
  rowSoftmaxR,
  splitHeads,
  type SequenceShape,
} from './attention-ops';
import { selectBackend } from './backend';
import { HYPER_DUALS, HyperDual, REALS, type Arithmetic } from './hyperdual';
import { relError } from './testing/fixtures';

beforeAll(async () => {
  await selectBackend('wasm');
});

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

async function values(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

describe('row softmax: backward and R-operators against hyper-duals', () => {
  // g(S) = Σ_ij c_ij A_ij + ½ Σ_ij A_ij², A = softmax over each row of S ([batch, rows, cols]): dg/dA = c + A.
  const [batch, rows, cols] = [2, 3, 4];
  const size = batch * rows * cols;
  const rng = createRng(5);
  // Scores up to ±4: rows far from uniform, where A(1 − A) is small and float32 cancellation shows.
  const scores = Float32Array.from({ length: size }, () => 2 * rng.normal());
  const c = Float32Array.from({ length: size }, () => rng.normal());
  const r = Float32Array.from({ length: size }, () => rng.normal());

  function g<T>(ar: Arithmetic<T>, s: (i: number) => T): T {
    let total = ar.constant(0);
    for (let row = 0; row < batch * rows; row++) {
      const base = row * cols;
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, ar.real(s(base + j)));
      const e = Array.from({ length: cols }, (_, j) => ar.exp(ar.sub(s(base + j), ar.constant(m))));
      const sum = e.reduce((a, b) => ar.add(a, b));
      e.forEach((x, j) => {
        const a = ar.div(x, sum);
        total = ar.add(total, ar.add(ar.scale(a, c[base + j]), ar.scale(ar.mul(a, a), 0.5)));
      });
    }
    return total;
  }
  /** ∂g/∂S_i and (H_S·r)_i, exactly. */
  const exact = () => {
    const gradient = new Float64Array(size);
    const hr = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      gradient[i] = g(HYPER_DUALS, (k) => new HyperDual(scores[k], k === i ? 1 : 0)).b;
      hr[i] = g(HYPER_DUALS, (k) => new HyperDual(scores[k], k === i ? 1 : 0, r[k])).d;
    }
    return { gradient, hr };
  };

  it('forward is exp(s − max)/Σ, dS = A ⊙ (dA − rowsum(dA ⊙ A)), and R{dS} is the Hessian of g times r', async () => {
    const { gradient, hr } = exact();
    const [aT, dST, rdST] = tf.tidy(() => {
      const s = tf.tensor3d(scores, [batch, rows, cols]);
      const a = rowSoftmax(s);
      const dA = tf.add<tf.Tensor3D>(tf.tensor3d(c, [batch, rows, cols]), a);
      const { dS, centred } = rowSoftmaxBackward(a, dA);
      const rA = rowSoftmaxR(a, tf.tensor3d(r, [batch, rows, cols]));
      // d(dA)/dS along r = R{A}: the ½A² term.
      return [a, dS, rowSoftmaxBackwardR(a, dA, centred, rA, rA)];
    });
    const a = await values(aT);
    const softmax = Float64Array.from({ length: size }, (_, i) => {
      const base = i - (i % cols);
      const row = Array.from(scores.subarray(base, base + cols));
      const m = Math.max(...row);
      return Math.exp(scores[i] - m) / row.reduce((sum, x) => sum + Math.exp(x - m), 0);
    });
    expect(relError(a, softmax)).toBeLessThan(1e-6);
    expect(REALS.real(g(REALS, (k) => scores[k]))).toBeCloseTo(dot(c, softmax) + 0.5 * dot(softmax, softmax), 5);
    const [dS, rdS] = [await values(dST), await values(rdST)];
    expect(relError(dS, gradient)).toBeLessThan(2e-6);
    expect(relError(rdS, hr)).toBeLessThan(2e-6);
    // g depends on S only through A, whose rows sum to 1: dS and R{dS} sum to 0 over each row.
    for (let row = 0; row < batch * rows; row++) {
      expect(Math.abs(dS.subarray(row * cols, (row + 1) * cols).reduce((x, y) => x + y))).toBeLessThan(1e-6);
      expect(Math.abs(rdS.subarray(row * cols, (row + 1) * cols).reduce((x, y) => x + y))).toBeLessThan(1e-6);
    }
    expect(Math.max(...hr.map(Math.abs))).toBeGreaterThan(1e-2);
  });
});

describe('the linear ops and their adjoints', () => {
  const seq: SequenceShape = { n: 2, T: 3, d: 4, heads: 2 };
  const rng = createRng(9);
  const rowsOf = (count: number) => Float32Array.from({ length: count }, () => rng.normal());

  it('splitHeads puts columns j·d/H … of every position in head j; mergeHeads inverts it and is its adjoint', async () => {
    const x = rowsOf(seq.n * seq.T * seq.d);
    const y = rowsOf(x.length);
    const [split, back, adjoint] = tf.tidy(() => {
      const s = splitHeads(tf.tensor2d(x, [seq.n * seq.T, seq.d]), seq);
      return [s, mergeHeads(s, seq), mergeHeads(tf.tensor3d(y, [seq.n * seq.heads, seq.T, seq.d / seq.heads]), seq)];
    });
    expect(split.shape).toEqual([4, 3, 2]);
    const s = await values(split);
    // Sequence 1, head 1, position 2, column 0 ↔ row 1·3 + 2, column 1·2 + 0.
    expect(s[((1 * 2 + 1) * 3 + 2) * 2 + 0]).toBe(x[(1 * 3 + 2) * 4 + 2]);
    expect(Array.from(await values(back))).toEqual(Array.from(x));
    expect(dot(s, y)).toBeCloseTo(dot(x, await values(adjoint)), 4);
  });

  it('embed reads each token row of E and adds P; embedGradient is its adjoint in E and in P', async () => {
    const V = 3;
    const ids = Float32Array.from([2, 0, 1, 1, 1, 0]);
    const E = rowsOf(V * seq.d);
    const Pos = rowsOf(seq.T * seq.d);
    const g = rowsOf(seq.n * seq.T * seq.d);
    const [hT, gE, gP] = tf.tidy(() => {
      const oneHot = oneHotTokens(tf.tensor2d(ids, [seq.n, seq.T]), V);
      const h = embed(oneHot, tf.tensor2d(E, [V, seq.d]), tf.tensor2d(Pos, [seq.T, seq.d]), seq);
      const grad = embedGradient(tf.transpose(oneHot), tf.tensor2d(g, [seq.n * seq.T, seq.d]), seq);
      return [h, grad.token, grad.position];
    });
    const h = await values(hT);
    for (let row = 0; row < seq.n * seq.T; row++) {
      for (let j = 0; j < seq.d; j++) expect(h[row * seq.d + j]).toBeCloseTo(E[ids[row] * seq.d + j] + Pos[(row % seq.T) * seq.d + j], 6);
    }
    // ⟨embed(E, P), g⟩ is linear in (E, P): its gradient is (gE, gP).
    const [dE, dP] = [rowsOf(E.length), rowsOf(Pos.length)];
    const moved = tf.tidy(() =>
      embed(oneHotTokens(tf.tensor2d(ids, [seq.n, seq.T]), V), tf.tensor2d(dE, [V, seq.d]), tf.tensor2d(dP, [seq.T, seq.d]), seq),
    );
    expect(dot(await values(moved), g)).toBeCloseTo(dot(dE, await values(gE)) + dot(dP, await values(gP)), 4);
  });

  for (const readout of ['first', 'mean'] as const) {
    it(`readoutPool '${readout}' and its adjoint`, async () => {
      const h = rowsOf(seq.n * seq.T * seq.d);
      const g = rowsOf(seq.n * seq.d);
      const [uT, adjT] = tf.tidy(() => [readoutPool(tf.tensor2d(h, [seq.n * seq.T, seq.d]), readout, seq), readoutPoolAdjoint(tf.tensor2d(g, [seq.n, seq.d]), readout, seq)]);
      const u = await values(uT);
      for (let b = 0; b < seq.n; b++) {
        for (let j = 0; j < seq.d; j++) {
          const column = Array.from({ length: seq.T }, (_, t) => h[(b * seq.T + t) * seq.d + j]);
          expect(u[b * seq.d + j]).toBeCloseTo(readout === 'first' ? column[0] : column.reduce((s, x) => s + x) / seq.T, 6);
        }
      }
      expect(dot(u, g)).toBeCloseTo(dot(h, await values(adjT)), 5);
    });
  }
});

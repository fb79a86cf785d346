import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@lrscape/linalg';
import { selectBackend } from './backend';
import { LOSSES, type LossKind } from './layout';
import { crossEntropy, lossOps, mse } from './losses';
import { relError } from './testing';

const ROWS = 5;
const COLS = 3;
const INV_N = 1 / 8; // the chunk is part of a batch of 8

/** Per-chunk loss sum and its gradient ∂/∂f of (1/N)·sum, in float64. */
function lossSum64(kind: LossKind, f: number[], y: number[]): number {
  let total = 0;
  for (let r = 0; r < ROWS; r++) {
    const row = f.slice(r * COLS, (r + 1) * COLS);
    const target = y.slice(r * COLS, (r + 1) * COLS);
    if (kind === 'mse') total += row.reduce((s, v, c) => s + 0.5 * (v - target[c]) ** 2, 0);
    else {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      total += row.reduce((s, v, c) => s + target[c] * (lse - v), 0);
    }
  }
  return total;
}

function gradient64(kind: LossKind, f: number[], y: number[]): number[] {
  const h = 1e-6;
  return f.map((_, i) => {
    const up = f.slice();
    const down = f.slice();
    up[i] += h;
    down[i] -= h;
    return ((lossSum64(kind, up, y) - lossSum64(kind, down, y)) / (2 * h)) * INV_N;
  });
}

function problem(kind: LossKind, seed: number, scale = 1): { f: number[]; y: number[]; rf: number[] } {
  const rng = createRng(seed);
  const f = Array.from({ length: ROWS * COLS }, () => scale * rng.normal());
  const rf = Array.from({ length: ROWS * COLS }, () => rng.normal());
  const y = new Array<number>(ROWS * COLS).fill(0);
  for (let r = 0; r < ROWS; r++) {
    if (kind === 'mse') for (let c = 0; c < COLS; c++) y[r * COLS + c] = rng.normal();
    else y[r * COLS + rng.int(COLS)] = 1;
  }
  return { f, y, rf };
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe.each(LOSSES)('loss %s', (kind) => {
  const ops = lossOps(kind);

  it('loss sum, dL/df and R{dL/df} match float64 (R by central differences of the gradient)', async () => {
    const { f, y, rf } = problem(kind, 3);
    const [lossSum, lossOnly, delta, rDelta] = tf.tidy(() => {
      const state = ops.outputState(tf.tensor2d(f, [ROWS, COLS]), tf.tensor2d(y, [ROWS, COLS]), INV_N);
      const r = ops.rDelta(state.saved, tf.tensor2d(rf, [ROWS, COLS]), INV_N);
      const only = ops.lossSum(tf.tensor2d(f, [ROWS, COLS]), tf.tensor2d(y, [ROWS, COLS]));
      return [state.lossSum, only, state.delta, r].map((t) => Array.from(t.dataSync()));
    });
    const expected = lossSum64(kind, f, y);
    expect(Math.abs(lossSum[0] - expected) / expected).toBeLessThan(1e-6);
    expect(Math.abs(lossOnly[0] - expected) / expected).toBeLessThan(1e-6);
    expect(relError(delta, gradient64(kind, f, y))).toBeLessThan(1e-5);
    const h = 1e-4;
    const shifted = (s: number) => gradient64(kind, f.map((v, i) => v + s * h * rf[i]), y);
    const up = shifted(1);
    const down = shifted(-1);
    const fdR = up.map((v, i) => (v - down[i]) / (2 * h));
    expect(relError(rDelta, fdR)).toBeLessThan(1e-4);
  });
});

describe('cross-entropy', () => {
  it('is stable at huge logits (log-sum-exp)', () => {
    const value = tf.tidy(() => crossEntropy.lossSum(tf.tensor2d([[1000, -1000, 0]]), tf.tensor2d([[0, 1, 0]])).dataSync()[0]);
    expect(value).toBeCloseTo(2000, 2);
  });
  it('needs the saved softmax for its R-operator; MSE does not', () => {
    tf.tidy(() => {
      expect(() => crossEntropy.rDelta(null, tf.zeros([1, 2]), 1)).toThrow(/softmax/);
      expect(Array.from(mse.rDelta(null, tf.ones([1, 2]), 0.5).dataSync())).toEqual([0.5, 0.5]);
    });
  });
  it('lossOps rejects an unknown name', () => {
    expect(() => lossOps('hinge' as never)).toThrow(/unknown loss 'hinge'/);
  });
});

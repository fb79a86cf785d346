import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@lrscape/linalg';
import { selectBackend } from './backend';
import { LOSSES, type LossKind } from './layout';
import { crossEntropy, lossOps, mse } from './losses';
import { relError } from './testing/fixtures';

const ROWS = 5;
const COLS = 3;
const INV_N = 1 / 8; // the chunk is part of a batch of 8

/** Per-chunk loss sum, in float64, by the definitions. */
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

/** softmax of each row, float64. */
function softmax64(f: number[]): number[] {
  const p = new Array<number>(f.length);
  for (let r = 0; r < ROWS; r++) {
    const row = f.slice(r * COLS, (r + 1) * COLS);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => (p[r * COLS + c] = v / sum));
  }
  return p;
}

/**
 * ∂/∂f of (1/N)·lossSum and its derivative along rf (R{dL/df} = ∇²_f L · rf), in float64, differentiated from
 * the definitions by hand: mse ℓ = ½‖f − y‖²: ∇ = f − y, ∇² = I. Cross-entropy ℓ = Σ_c y_c (lse(f) − f_c):
 * ∇_c = s·p_c − y_c with s = Σ_c y_c, ∇² = s·(diag p − p pᵀ), p = softmax(f).
 */
function derivatives64(kind: LossKind, f: number[], y: number[], rf: number[]): { gradient: number[]; rGradient: number[] } {
  if (kind === 'mse') return { gradient: f.map((v, i) => (v - y[i]) * INV_N), rGradient: rf.map((v) => v * INV_N) };
  const p = softmax64(f);
  const gradient = new Array<number>(f.length);
  const rGradient = new Array<number>(f.length);
  for (let r = 0; r < ROWS; r++) {
    const at = (c: number) => r * COLS + c;
    let s = 0;
    let pDotRf = 0;
    for (let c = 0; c < COLS; c++) {
      s += y[at(c)];
      pDotRf += p[at(c)] * rf[at(c)];
    }
    for (let c = 0; c < COLS; c++) {
      gradient[at(c)] = (s * p[at(c)] - y[at(c)]) * INV_N;
      rGradient[at(c)] = s * p[at(c)] * (rf[at(c)] - pDotRf) * INV_N;
    }
  }
  return { gradient, rGradient };
}

/** f, y, rf as float32 values (what the tensors hold), so float64 and float32 see the same inputs. */
function problem(kind: LossKind, seed: number): { f: number[]; y: number[]; rf: number[] } {
  const rng = createRng(seed);
  const f = Array.from({ length: ROWS * COLS }, () => Math.fround(rng.normal()));
  const rf = Array.from({ length: ROWS * COLS }, () => Math.fround(rng.normal()));
  const y = new Array<number>(ROWS * COLS).fill(0);
  for (let r = 0; r < ROWS; r++) {
    if (kind === 'mse') for (let c = 0; c < COLS; c++) y[r * COLS + c] = Math.fround(rng.normal());
    else y[r * COLS + rng.int(COLS)] = 1;
  }
  return { f, y, rf };
}

beforeAll(async () => {
  await selectBackend('wasm');
});

// The same float32 inputs on both sides: float32 rounding of sums over ≤ 5 rows or 3 columns and one exp or log per
// entry, a few u (u = 2⁻²⁴ ≈ 6e-8); worst measured 2.2e-7 ≈ 4u (cross-entropy's R{dL/df}).
const TOL = 1e-6;

describe.each(LOSSES)('loss %s', (kind) => {
  const ops = lossOps(kind);

  it('loss sum, dL/df and R{dL/df} match their float64 closed forms', async () => {
    const { f, y, rf } = problem(kind, 3);
    const [lossSum, lossOnly, delta, rDelta] = tf.tidy(() => {
      const state = ops.outputState(tf.tensor2d(f, [ROWS, COLS]), tf.tensor2d(y, [ROWS, COLS]), INV_N);
      const r = ops.rDelta(state.saved, tf.tensor2d(rf, [ROWS, COLS]), INV_N);
      const only = ops.lossSum(tf.tensor2d(f, [ROWS, COLS]), tf.tensor2d(y, [ROWS, COLS]));
      return [state.lossSum, only, state.delta, r].map((t) => Array.from(t.dataSync()));
    });
    const expected = lossSum64(kind, f, y);
    const { gradient, rGradient } = derivatives64(kind, f, y, rf);
    expect(relError(lossSum, [expected])).toBeLessThan(TOL);
    expect(relError(lossOnly, [expected])).toBeLessThan(TOL);
    expect(relError(delta, gradient)).toBeLessThan(TOL);
    expect(relError(rDelta, rGradient)).toBeLessThan(TOL);
  });
});

describe('the float64 closed forms of this test', () => {
  it.each(LOSSES)('%s: are the central differences of the loss sum and of the gradient', (kind) => {
    // Checks the hand derivation above, in float64 only (difference error ~h², h = 1e-4).
    const { f, y, rf } = problem(kind, 5);
    const h = 1e-4;
    const { gradient, rGradient } = derivatives64(kind, f, y, rf);
    const shifted = (i: number, by: number) => f.map((v, j) => (j === i ? v + by : v));
    const fdGradient = f.map((_, i) => ((lossSum64(kind, shifted(i, h), y) - lossSum64(kind, shifted(i, -h), y)) / (2 * h)) * INV_N);
    expect(relError(gradient, fdGradient)).toBeLessThan(1e-7);
    const along = (by: number) => f.map((v, i) => v + by * rf[i]);
    const up = derivatives64(kind, along(h), y, rf).gradient;
    const down = derivatives64(kind, along(-h), y, rf).gradient;
    expect(relError(rGradient, up.map((v, i) => (v - down[i]) / (2 * h)))).toBeLessThan(1e-7);
  });
});

describe('cross-entropy', () => {
  it('is stable at huge logits (log-sum-exp)', () => {
    const value = tf.tidy(() => crossEntropy.lossSum(tf.tensor2d([[1000, -1000, 0]]), tf.tensor2d([[0, 1, 0]])).dataSync()[0]);
    // lse = 1000 + log(1 + e⁻¹⁰⁰⁰ + e⁻²⁰⁰⁰) = 1000 in float32, so ℓ = 1000 − (−1000), every step exact.
    expect(value).toBe(2000);
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

/**
 * Small problems and dense helpers shared by this lib's tests (not exported from the lib). Under testing/ so
 * that editing it does not change the hash of the lib's production sources; no production file imports it.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { createRng, type Rng } from '@lrscape/linalg';
import { lastLayersScope, modelDims, modelLayout, type ModelSpec } from '../layout';
import type { Batch } from '../batch';
import type { ModelObjective } from '../objective';

/** A tiny batch: x ~ N(0,1); y ~ N(0,1) for MSE, one-hot of random labels for cross-entropy. */
export function tinyBatch(spec: ModelSpec, n: number, seed: number): Batch {
  const rng = createRng(seed);
  const { inputDim } = modelDims(spec);
  const x = Float32Array.from({ length: n * inputDim }, () => rng.normal());
  return { x, n, ...randomTargets(rng, n, spec) };
}

/** The targets of n rows, drawn from rng after the inputs: y ~ N(0,1) for MSE, one-hot of random labels for cross-entropy. */
export function randomTargets(rng: Rng, n: number, spec: Pick<ModelSpec, 'outputDim' | 'loss'>): { y: Float32Array; labels?: Int32Array } {
  const y = new Float32Array(n * spec.outputDim);
  if (spec.loss === 'mse') {
    for (let i = 0; i < y.length; i++) y[i] = rng.normal();
    return { y };
  }
  const labels = Int32Array.from({ length: n }, () => rng.int(spec.outputDim));
  labels.forEach((c, row) => (y[row * spec.outputDim + c] = 1));
  return { y, labels };
}

/** θ with every entry (biases too) drawn N(0, scale²), stored in float32 and returned in both widths. */
export function randomTheta(spec: ModelSpec, seed: number, scale = 0.7): { f32: Float32Array; f64: Float64Array } {
  const rng = createRng(seed);
  const f32 = Float32Array.from({ length: modelLayout(spec).size }, () => scale * rng.normal());
  return { f32, f64: Float64Array.from(f32) };
}

/**
 * relError allowed between the float32 engine and the float64 reference on the tests' tiny nets. θ and x are
 * float32 values that both receive exactly, so the difference is the engine's float32 rounding alone (unit
 * roundoff u = 2⁻²⁴ ≈ 6e-8 per operation), which grows with the length of the sums and with cancellation in
 * the result (H·v of an indefinite H). The MLPs' sums run over ≤ 7 terms (rows, widths): worst measured
 * 7.4e-7 ≈ 12u (a block HVP). The CNNs' run over up to ~100 (a conv kernel's gradient sums over images ×
 * positions): worst 2.1e-6 ≈ 35u (H·v of the linear + cross-entropy net). Each tolerance is ~2.5× its worst.
 */
export const MLP_FLOAT32_TOL = 2e-6;
export const CNN_FLOAT32_TOL = 5e-6;

export function randomVector(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** (rows×cols row-major) · v. */
export function matVec(m: Float64Array, rows: number, cols: number, v: Float64Array): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += m[i * cols + j] * v[j];
    out[i] = s;
  }
  return out;
}

/** The square sub-block [offset, offset+size)² of an n×n row-major matrix. */
export function subBlock(m: Float64Array, n: number, offset: number, size: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i++) out.set(m.subarray((offset + i) * n + offset, (offset + i) * n + offset + size), i * size);
  return out;
}

/** ‖a − b‖ / ‖b‖ (‖a − b‖ when b = 0). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return n === 0 ? Math.sqrt(d) : Math.sqrt(d / n);
}

/**
 * A curvature state at θ holds its tensors while an HVP and each last-k-layer operator run (they leave nothing
 * behind), and its dispose() frees them all: back to the count before it was made.
 */
export async function expectCurvatureFreesItsTensors(objective: ModelObjective, theta: Float32Array, ks: readonly number[]): Promise<void> {
  const before = tf.memory().numTensors;
  const curvature = await objective.curvatureAt(theta);
  const held = tf.memory().numTensors;
  await curvature.hvp(randomVector(curvature.size, 1));
  for (const k of ks) {
    const scope = lastLayersScope(objective.layout, k);
    await curvature.operator(scope)(randomVector(scope.size, 2));
  }
  expect(tf.memory().numTensors).toBe(held);
  curvature.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

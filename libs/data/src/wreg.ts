/**
 * W-reg (docs/architecture.md, "Science definitions as implemented"): 1-D regression of the W-shaped target f(x) = ||x| − 2| (dips at ±2, peaks of
 * height 2 at 0 and ±4) with x ~ U[−4, 4] and additive Gaussian noise.
 */
import { createRng } from '@lrscape/linalg';
import type { Dataset } from './dataset';

export interface WregOptions {
  n: number;
  /** Standard deviation of the additive Gaussian noise on the targets. */
  noise: number;
  seed: number;
}

export const WREG_RANGE = 4;

/** The noiseless target. */
export function wregTarget(x: number): number {
  return Math.abs(Math.abs(x) - 2);
}

export function generateWreg({ n, noise, seed }: WregOptions): Dataset {
  if (!Number.isInteger(n) || n < 0) throw new Error(`generateWreg: n = ${n} is not a non-negative integer`);
  if (!(noise >= 0)) throw new Error(`generateWreg: noise = ${noise} must be ≥ 0`);
  const rng = createRng(seed);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  // All inputs first, then all noise draws: the inputs of a seed do not depend on the noise level.
  for (let i = 0; i < n; i++) x[i] = -WREG_RANGE + 2 * WREG_RANGE * rng.uniform();
  // The target is taken of the stored (float32) input, so that noise = 0 gives y = f(x) exactly.
  for (let i = 0; i < n; i++) y[i] = wregTarget(x[i]) + noise * rng.normal();
  return { name: 'wreg', task: 'regression', n, inputDim: 1, outputDim: 1, x, y };
}

/**
 * SRC (docs/architecture.md, "Science definitions as implemented"): two interleaved Swiss rolls in the plane, one per class.
 *
 * Class 0 lies on the Archimedean spiral r = φ/φ_end for φ ∈ [φ_start, φ_end],
 * φ_start = 1.5π and φ_end = φ_start + 2π·turns, with φ uniform; this is scikit-learn's
 * make_swiss_roll (t cos t, t sin t), t ∈ [1.5π, 4.5π] for the default 1.5 turns, divided by
 * φ_end so that the roll fits in the unit disc. Class 1 is class 0 rotated by π, so that the two
 * arms alternate along every ray. Each coordinate then gets Gaussian noise of std `noise`
 * (in these unit-disc units). Classes are balanced (sizes differ by at most one) and the
 * examples come in a seeded random order.
 */
import { createRng, permutation } from '@lrscape/linalg';
import { type Dataset, oneHot } from './dataset';

export interface SrcOptions {
  n: number;
  /** Standard deviation of the Gaussian noise on each input coordinate (unit-disc units). */
  noise: number;
  seed: number;
  /** Turns of each spiral; default 1.5. */
  turns?: number;
}

export const SRC_START_ANGLE = 1.5 * Math.PI;
export const SRC_DEFAULT_TURNS = 1.5;
const CLASSES = 2;

export function generateSrc({ n, noise, seed, turns = SRC_DEFAULT_TURNS }: SrcOptions): Dataset {
  if (!Number.isInteger(n) || n < 0) throw new Error(`generateSrc: n = ${n} is not a non-negative integer`);
  if (!(noise >= 0)) throw new Error(`generateSrc: noise = ${noise} must be ≥ 0`);
  if (!(turns > 0)) throw new Error(`generateSrc: turns = ${turns} must be > 0`);
  const rng = createRng(seed);
  const endAngle = SRC_START_ANGLE + 2 * Math.PI * turns;

  // Balanced labels (0, 1, 0, 1, …) in a seeded random order.
  const order = permutation(n, rng);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[order[i]] = i % CLASSES;

  // All angles first, then all noise draws: the clean roll of a seed does not depend on the noise level.
  const angles = new Float64Array(n);
  for (let i = 0; i < n; i++) angles[i] = SRC_START_ANGLE + (endAngle - SRC_START_ANGLE) * rng.uniform();
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const radius = angles[i] / endAngle;
    const rotated = angles[i] + labels[i] * Math.PI;
    x[2 * i] = radius * Math.cos(rotated) + noise * rng.normal();
    x[2 * i + 1] = radius * Math.sin(rotated) + noise * rng.normal();
  }
  return { name: 'src', task: 'classification', n, inputDim: 2, outputDim: CLASSES, x, y: oneHot(labels, CLASSES), labels };
}

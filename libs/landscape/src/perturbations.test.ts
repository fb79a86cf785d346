import { describe, expect, it } from 'vitest';
import { classPerturbationRows, directionalOutputChange, gridPerturbationRows } from './perturbations';

describe('directionalOutputChange', () => {
  it('is exact for outputs linear in θ and O(ε²) for quadratic ones', async () => {
    // f(θ) = [θ0 + 2θ1, θ1²] at θ = (1, 3), u = (0.6, 0.8): ∂f/∂u = [0.6 + 1.6, 2·3·0.8]
    const f = async (t: Float32Array) => Float32Array.from([t[0] + 2 * t[1], t[1] * t[1]]);
    const change = await directionalOutputChange(f, Float32Array.from([1, 3]), Float64Array.from([0.6, 0.8]), 1e-2);
    expect(change[0]).toBeCloseTo(2.2, 3);
    expect(change[1]).toBeCloseTo(4.8, 3);
  });
});

describe('perturbation rows', () => {
  it('averages each class over the examples, and takes its root mean square', () => {
    const change = Float64Array.from([1, 10, 3, 20]); // 2 examples × 2 classes
    expect(classPerturbationRows('r', 5, 1, change, 2)).toEqual([
      { run: 'r', step: 5, direction: 1, class_or_x: 0, delta: 2, rms: Math.sqrt(5) },
      { run: 'r', step: 5, direction: 1, class_or_x: 1, delta: 15, rms: Math.sqrt(250) },
    ]);
  });
  it('keeps the RMS where opposite responses cancel the mean', () => {
    const change = Float64Array.from([3, -3, -3, 3]); // class 0: +3, −3; class 1: −3, +3
    const rows = classPerturbationRows('r', 0, 1, change, 2);
    expect(rows.map((r) => [r.delta, r.rms])).toEqual([[0, 3], [0, 3]]);
  });
  it('keeps one row per x for regression, rms = |delta|', () => {
    const rows = gridPerturbationRows('r', 0, 2, Float64Array.from([0.5, -1]), Float32Array.from([-4, 4]));
    expect(rows.map((r) => [r.class_or_x, r.delta, r.rms])).toEqual([[-4, 0.5, 0.5], [4, -1, 1]]);
  });
});

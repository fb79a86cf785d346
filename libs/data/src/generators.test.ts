import { describe, expect, it } from 'vitest';
import { checkDataset, generateSrc, generateWreg, SRC_START_ANGLE, wregTarget } from './index';

describe('generateWreg', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = generateWreg({ n: 500, noise: 0.1, seed: 3 });
    const b = generateWreg({ n: 500, noise: 0.1, seed: 3 });
    const c = generateWreg({ n: 500, noise: 0.1, seed: 4 });
    expect(a).toEqual(b);
    expect(a.x).not.toEqual(c.x);
    expect({ ...a, x: undefined, y: undefined }).toMatchObject({ name: 'wreg', task: 'regression', n: 500, inputDim: 1, outputDim: 1 });
    checkDataset(a);
  });

  it('draws x uniformly in [−4, 4] and gives y = f(x) exactly without noise', () => {
    const ds = generateWreg({ n: 4000, noise: 0, seed: 1 });
    let mean = 0;
    for (let i = 0; i < ds.n; i++) {
      expect(ds.x[i]).toBeGreaterThanOrEqual(-4);
      expect(ds.x[i]).toBeLessThanOrEqual(4);
      expect(ds.y[i]).toBe(Math.fround(Math.abs(Math.abs(ds.x[i]) - 2)));
      mean += ds.x[i] / ds.n;
    }
    expect(Math.abs(mean)).toBeLessThan(0.15);
    // Each quarter of the range holds about a quarter of the inputs.
    for (let q = 0; q < 4; q++) {
      const inQuarter = ds.x.filter((x) => x >= -4 + 2 * q && x < -2 + 2 * q).length;
      expect(inQuarter / ds.n).toBeGreaterThan(0.22);
      expect(inQuarter / ds.n).toBeLessThan(0.28);
    }
  });

  it('has the W shape: dips to 0 at ±2, peaks of 2 at 0 and ±4', () => {
    expect([-4, -2, 0, 2, 4].map(wregTarget)).toEqual([2, 0, 2, 0, 2]);
    expect(wregTarget(-1)).toBe(1);
    expect(wregTarget(3)).toBe(1);
    const ds = generateWreg({ n: 2000, noise: 0, seed: 2 });
    const near = (c: number) => Array.from(ds.y).filter((_, i) => Math.abs(ds.x[i] - c) < 0.1);
    for (const dip of [-2, 2]) expect(Math.max(...near(dip))).toBeLessThan(0.1);
    for (const peak of [0]) expect(Math.min(...near(peak))).toBeGreaterThan(1.9);
  });

  it('adds noise of the requested size, on the same inputs', () => {
    const clean = generateWreg({ n: 5000, noise: 0, seed: 7 });
    const noisy = generateWreg({ n: 5000, noise: 0.3, seed: 7 });
    expect(noisy.x).toEqual(clean.x);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < clean.n; i++) {
      const e = noisy.y[i] - clean.y[i];
      sum += e;
      sumSq += e * e;
    }
    expect(Math.abs(sum / clean.n)).toBeLessThan(0.02);
    expect(Math.sqrt(sumSq / clean.n)).toBeCloseTo(0.3, 1);
  });
});

describe('generateSrc', () => {
  const radius = (ds: { x: Float32Array }, i: number) => Math.hypot(ds.x[2 * i], ds.x[2 * i + 1]);

  it('is deterministic per seed', () => {
    expect(generateSrc({ n: 300, noise: 0.05, seed: 9 })).toEqual(generateSrc({ n: 300, noise: 0.05, seed: 9 }));
    expect(generateSrc({ n: 300, noise: 0.05, seed: 9 }).x).not.toEqual(generateSrc({ n: 300, noise: 0.05, seed: 10 }).x);
  });

  it('has balanced classes and one-hot targets consistent with the labels', () => {
    for (const n of [400, 401]) {
      const ds = generateSrc({ n, noise: 0.05, seed: 1 });
      expect(ds).toMatchObject({ name: 'src', task: 'classification', n, inputDim: 2, outputDim: 2 });
      const ones = ds.labels!.filter((l) => l === 1).length;
      expect(Math.abs(ds.n - 2 * ones)).toBeLessThanOrEqual(1);
      for (let i = 0; i < n; i++) {
        expect([ds.y[2 * i], ds.y[2 * i + 1]]).toEqual(ds.labels![i] === 0 ? [1, 0] : [0, 1]);
      }
      checkDataset(ds);
      // Not sorted by class: both classes occur in the first tenth.
      expect(new Set(ds.labels!.subarray(0, n / 10)).size).toBe(2);
    }
  });

  it('puts noiseless points on the spiral r = φ/φ_end, class 1 rotated by π, inside the unit disc', () => {
    const turns = 1.5;
    const end = SRC_START_ANGLE + 2 * Math.PI * turns;
    const ds = generateSrc({ n: 500, noise: 0, seed: 2, turns });
    for (let i = 0; i < ds.n; i++) {
      const r = radius(ds, i);
      expect(r).toBeGreaterThanOrEqual(SRC_START_ANGLE / end - 1e-6);
      expect(r).toBeLessThanOrEqual(1 + 1e-6);
      const phi = r * end + (ds.labels![i] === 1 ? Math.PI : 0);
      const angle = Math.atan2(ds.x[2 * i + 1], ds.x[2 * i]);
      const wrapped = Math.abs(Math.atan2(Math.sin(phi - angle), Math.cos(phi - angle)));
      expect(wrapped).toBeLessThan(1e-4);
    }
  });

  it('interleaves the two rolls: both classes at every radius band, alternating along a ray', () => {
    const ds = generateSrc({ n: 4000, noise: 0.02, seed: 3 });
    const radii = Array.from({ length: ds.n }, (_, i) => radius(ds, i));
    const lo = Math.min(...radii);
    const hi = Math.max(...radii);
    const bands = 6;
    for (let b = 0; b < bands; b++) {
      const inBand = radii.map((r, i) => (r >= lo + ((hi - lo) * b) / bands && r <= lo + ((hi - lo) * (b + 1)) / bands ? ds.labels![i] : -1));
      const zeros = inBand.filter((l) => l === 0).length;
      const ones = inBand.filter((l) => l === 1).length;
      expect(zeros).toBeGreaterThan(0.25 * (zeros + ones));
      expect(ones).toBeGreaterThan(0.25 * (zeros + ones));
    }
    // Along the ray at angle 0 the arms go class 0, 1, 0 outwards (r ≈ 0.44, 0.67, 0.89).
    const onRay = radii
      .map((r, i) => ({ r, label: ds.labels![i], angle: Math.atan2(ds.x[2 * i + 1], ds.x[2 * i]) }))
      .filter((p) => Math.abs(p.angle) < 0.1)
      .sort((a, b) => a.r - b.r);
    const runs = onRay.map((p) => p.label).filter((label, k, all) => k === 0 || label !== all[k - 1]);
    expect(runs).toEqual([0, 1, 0]);
  });

  it('adds Gaussian noise of std `noise` to each coordinate of the same clean roll', () => {
    const clean = generateSrc({ n: 3000, noise: 0, seed: 5 });
    const noisy = generateSrc({ n: 3000, noise: 0.1, seed: 5 });
    expect(noisy.labels).toEqual(clean.labels);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < noisy.x.length; i++) {
      const e = noisy.x[i] - clean.x[i];
      sum += e;
      sumSq += e * e;
    }
    expect(Math.abs(sum / noisy.x.length)).toBeLessThan(0.01);
    expect(Math.sqrt(sumSq / noisy.x.length)).toBeCloseTo(0.1, 2);
  });
});

import { describe, expect, it } from 'vitest';
import { checkDataset, type Dataset, generateSrc, generateWreg, inputStatistics, selectExamples, splitDataset, standardize } from './index';

/** Rows of a dataset as strings, to compare example multisets across a split. */
const rows = (ds: Dataset) =>
  Array.from({ length: ds.n }, (_, i) =>
    [...ds.x.subarray(i * ds.inputDim, (i + 1) * ds.inputDim), '|', ...ds.y.subarray(i * ds.outputDim, (i + 1) * ds.outputDim), '|', ds.labels?.[i] ?? ''].join(','),
  );

describe('splitDataset', () => {
  it('splits regression data deterministically, losing and duplicating nothing', () => {
    const ds = generateWreg({ n: 1001, noise: 0.1, seed: 1 });
    const a = splitDataset(ds, { testFraction: 0.2, seed: 5 });
    const b = splitDataset(ds, { testFraction: 0.2, seed: 5 });
    const c = splitDataset(ds, { testFraction: 0.2, seed: 6 });
    expect(a).toEqual(b);
    expect(a.testIndices).not.toEqual(c.testIndices);
    expect(a.test.n).toBe(200);
    expect(a.train.n).toBe(801);
    expect([...rows(a.train), ...rows(a.test)].sort()).toEqual(rows(ds).sort());
    expect(new Set([...a.trainIndices, ...a.testIndices]).size).toBe(ds.n);
    expect(rows(a.test)).toEqual(Array.from(a.testIndices, (i) => rows(ds)[i]));
    checkDataset(a.train);
    checkDataset(a.test);
  });

  it('stratifies classification data by label', () => {
    // Unbalanced on purpose: 300 examples of class 0, 100 of class 1, in the generator's order.
    const src = generateSrc({ n: 800, noise: 0.05, seed: 2 });
    const all = Array.from(src.labels!.keys());
    const zeros = all.filter((i) => src.labels![i] === 0).slice(0, 300);
    const ones = all.filter((i) => src.labels![i] === 1).slice(0, 100);
    const ds = selectExamples(src, [...zeros, ...ones].sort((p, q) => p - q));
    const { train, test } = splitDataset(ds, { testFraction: 0.25, seed: 3 });
    const count = (d: Dataset, c: number) => d.labels!.filter((l) => l === c).length;
    expect([count(test, 0), count(test, 1)]).toEqual([75, 25]);
    expect([count(train, 0), count(train, 1)]).toEqual([225, 75]);
    expect([...rows(train), ...rows(test)].sort()).toEqual(rows(ds).sort());
    checkDataset(train);
    checkDataset(test);
  });

  it('hits round(f·n) exactly when class quotas are fractional', () => {
    const ds = generateSrc({ n: 101, noise: 0.05, seed: 4 });
    const { train, test } = splitDataset(ds, { testFraction: 0.3, seed: 1 });
    expect(test.n).toBe(30);
    expect(train.n).toBe(71);
    const ones = test.labels!.filter((l) => l === 1).length;
    expect(Math.abs(ones - (test.n - ones))).toBeLessThanOrEqual(1);
  });

  it('allows an empty test set and refuses a fraction outside [0, 1)', () => {
    const ds = generateWreg({ n: 10, noise: 0, seed: 1 });
    expect(splitDataset(ds, { testFraction: 0, seed: 1 }).test.n).toBe(0);
    expect(() => splitDataset(ds, { testFraction: 1, seed: 1 })).toThrow(/testFraction/);
  });
});

describe('standardize', () => {
  it('centres and scales both sets by the training statistics', () => {
    const ds = generateSrc({ n: 1000, noise: 0.1, seed: 8 });
    const shifted: Dataset = { ...ds, x: ds.x.map((v, k) => (k % 2 === 0 ? 3 * v + 5 : 0.5 * v - 2)) };
    const { train, test } = splitDataset(shifted, { testFraction: 0.2, seed: 1 });
    const result = standardize(train, test);
    const trainStats = inputStatistics(result.train);
    for (let j = 0; j < 2; j++) {
      expect(trainStats.mean[j]).toBeCloseTo(0, 5);
      expect(trainStats.std[j]).toBeCloseTo(1, 5);
    }
    // The test set is mapped with the train statistics, not its own.
    const raw = inputStatistics(train);
    expect(Array.from(result.stats.mean)).toEqual(Array.from(raw.mean));
    expect(result.test.x[0]).toBeCloseTo((test.x[0] - raw.mean[0]) / raw.std[0], 5);
    expect(result.test.x[1]).toBeCloseTo((test.x[1] - raw.mean[1]) / raw.std[1], 5);
    expect(result.train.y).toEqual(train.y);
    expect(result.test.labels).toEqual(test.labels);
    // Inputs of the originals are untouched.
    expect(train.x).not.toEqual(result.train.x);
  });

  it('leaves a constant feature centred but unscaled', () => {
    const ds: Dataset = { name: 'const', task: 'regression', n: 3, inputDim: 1, outputDim: 1, x: new Float32Array([2, 2, 2]), y: new Float32Array(3) };
    const { train, stats } = standardize(ds, ds);
    expect(Array.from(train.x)).toEqual([0, 0, 0]);
    expect(stats.std[0]).toBe(1);
  });
});

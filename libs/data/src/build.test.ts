import { describe, expect, it } from 'vitest';
import { buildDataset, checkDataset, generateSrc, takeExamples } from './index';

describe('buildDataset', () => {
  it('generates and splits the configured dataset, deterministically', async () => {
    const spec = { kind: 'src', n: 400, noise: 0.05, seed: 2, turns: 1.5, testFraction: 0.2 } as const;
    const a = await buildDataset(spec);
    expect(await buildDataset(spec)).toEqual(a);
    expect([a.train.n, a.test.n]).toEqual([320, 80]);
    expect(a.test.labels!.filter((l) => l === 1).length).toBe(40);
    checkDataset(a.train);
    const w = await buildDataset({ kind: 'wreg', n: 200, noise: 0.1, seed: 1, testFraction: 0.25 });
    expect([w.train.n, w.test.n, w.train.name]).toEqual([150, 50, 'wreg']);
  });
});

describe('takeExamples', () => {
  it('keeps the first examples, or all when asked for more', () => {
    const ds = generateSrc({ n: 50, noise: 0.05, seed: 1 });
    const first = takeExamples(ds, 10);
    expect(first.n).toBe(10);
    expect(first.x).toEqual(ds.x.subarray(0, 20));
    expect(first.labels).toEqual(ds.labels!.subarray(0, 10));
    expect(takeExamples(ds, 500)).toEqual(ds);
  });
});

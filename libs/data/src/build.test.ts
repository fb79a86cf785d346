import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDataset, channelStatistics, checkDataset, datasetStatus, type DatasetSpec, generateSrc, generateWreg, takeExamples } from './index';
import { idxLabel, writeCifar10, writeIdxDataset } from './testing/fixtures';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lrscape-build-'));
  await mkdir(join(root, 'idx'));
  await writeIdxDataset(join(root, 'idx'), { gzip: true });
  await mkdir(join(root, 'cifar'));
  await writeCifar10(join(root, 'cifar'), 4);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

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

describe('buildDataset on real-data specs', () => {
  it('loads Fashion-MNIST with a per-class subset and a stratified split', async () => {
    const { train, test } = await buildDataset({ kind: 'fmnist', perClass: 20, seed: 1, testFraction: 0.25 });
    expect([train.n, test.n, train.inputDim, train.outputDim, train.name]).toEqual([150, 50, 784, 10, 'fmnist']);
    expect(test.labels!.filter((l) => l === 9).length).toBe(5);
  });

  it('loads IDX files with the official split, resolving a relative dir against the working directory', async () => {
    vi.spyOn(process, 'cwd').mockReturnValue(root);
    const { train, test } = await buildDataset({ kind: 'idx', dir: 'idx', trainSubset: 10, standardize: false });
    expect([train.n, test.n, train.inputDim, train.name]).toEqual([10, 5, 12, 'idx']);
    expect(train.labels![3]).toBe(idxLabel(0, 3));
    expect(datasetStatus({ kind: 'idx', dir: 'idx' })).toEqual({ available: true });
    expect(datasetStatus({ kind: 'idx', dir: 'elsewhere' })).toMatchObject({ available: false, reason: expect.stringContaining(join(root, 'elsewhere')) });
  });

  it('loads CIFAR-10, standardized per channel unless told otherwise', async () => {
    const spec: DatasetSpec = { kind: 'cifar10', dir: join(root, 'cifar'), subset: 10 };
    const { train, test } = await buildDataset(spec);
    expect([train.n, test.n, train.inputDim, train.name]).toEqual([10, 4, 3072, 'cifar10']);
    const stats = channelStatistics(train, 3);
    for (let c = 0; c < 3; c++) expect(stats.mean[c]).toBeCloseTo(0, 5);
    const raw = await buildDataset({ ...spec, standardize: 'none' });
    expect(Math.min(...raw.train.x)).toBeGreaterThanOrEqual(0);
    vi.stubEnv('LRSCAPE_CIFAR10_DIR', join(root, 'cifar'));
    expect((await buildDataset({ kind: 'cifar10', testSubset: 2 })).test.n).toBe(2);
  });

  it('reports which data is on this machine', () => {
    expect(datasetStatus({ kind: 'wreg', n: 10, noise: 0, seed: 1, testFraction: 0.2 })).toEqual({ available: true });
    expect(datasetStatus({ kind: 'src', n: 10, noise: 0, seed: 1, testFraction: 0.2 })).toEqual({ available: true });
    expect(datasetStatus({ kind: 'fmnist', seed: 1, testFraction: 0.2 })).toEqual({ available: true });
    expect(datasetStatus({ kind: 'cifar10', dir: join(root, 'cifar') })).toEqual({ available: true });
    const missing = datasetStatus({ kind: 'cifar10', dir: join(root, 'no-cifar') });
    expect(missing.available).toBe(false);
    expect(missing.reason).toContain(join(root, 'no-cifar', 'data_batch_1.bin'));
    expect(missing.reason).toContain('https://www.cs.toronto.edu/~kriz/cifar.html');
  });
});

describe('checkDataset', () => {
  it('refuses NaN or infinite inputs and targets, and labels outside [0, classes), naming the source and the first bad index', () => {
    const ds = generateSrc({ n: 10, noise: 0.1, seed: 1 });
    ds.x[9] = Number.NaN;
    ds.x[13] = Infinity;
    expect(() => checkDataset(ds, 'src.arrow')).toThrow('src.arrow: example 4 has input 1 = NaN (x[9]); inputs must be finite');
    const reg = generateWreg({ n: 5, noise: 0.1, seed: 1 });
    reg.y[3] = -Infinity;
    expect(() => checkDataset(reg)).toThrow('wreg: example 3 has target 0 = -Infinity (y[3]); targets must be finite');
    const bad = generateSrc({ n: 10, noise: 0.1, seed: 1 });
    bad.labels![6] = 2;
    expect(() => checkDataset(bad, 'loader')).toThrow('loader: example 6 has label 2 outside [0, 2)');
    bad.labels![6] = -1;
    expect(() => checkDataset(bad, 'loader')).toThrow('loader: example 6 has label -1 outside [0, 2)');
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

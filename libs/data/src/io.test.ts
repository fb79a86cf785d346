import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDatasetTable, type TableMetadata } from '@lrscape/artifacts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dataset, decodeDataset, encodeDataset, generateSrc, generateWreg, readDataset, splitDataset, standardize, writeDataset } from './index';

const metadata: TableMetadata = { experiment: 'src-mlp', config_hash: 'ab12', code_version: 'dev', backend: 'none' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lrscape-data-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

function expectBitExact(back: Dataset, ds: Dataset) {
  expect({ ...back, x: null, y: null, labels: null }).toEqual({ ...ds, x: null, y: null, labels: null });
  expect(bits(back.x)).toEqual(bits(ds.x));
  expect(bits(back.y)).toEqual(bits(ds.y));
  expect(back.labels).toEqual(ds.labels);
}

describe('dataset Arrow files', () => {
  it('round-trips a classification dataset bit for bit', async () => {
    const { train } = splitDataset(generateSrc({ n: 500, noise: 0.07, seed: 1 }), { testFraction: 0.2, seed: 1 });
    const ds = standardize(train, train).train;
    const path = join(dir, 'train.arrow');
    await writeDataset(path, ds, metadata);
    const back = await readDataset(path);
    expectBitExact(back.dataset, ds);
    expect(back.dataset.labels).toBeInstanceOf(Int32Array);
    expect(back.metadata).toEqual(metadata);
  });

  it('round-trips a regression dataset (no labels), odd float values and an empty dataset', async () => {
    const ds = generateWreg({ n: 64, noise: 0.3, seed: 2 });
    // Odd but finite values: negative zero, the smallest subnormal, the largest float32, a negative subnormal.
    ds.y.set([-0, 1e-45, 3.4028234663852886e38, -1.1754942106924411e-38], 0);
    const back = decodeDataset(encodeDataset(ds, metadata));
    expectBitExact(back.dataset, ds);
    expect(back.dataset.labels).toBeUndefined();
    const empty = generateSrc({ n: 0, noise: 0, seed: 1 });
    expectBitExact(decodeDataset(encodeDataset(empty, metadata)).dataset, empty);
  });

  it('round-trips wider inputs and outputs', () => {
    const n = 5;
    const ds: Dataset = {
      name: 'wide', task: 'regression', n, inputDim: 7, outputDim: 3,
      x: Float32Array.from({ length: n * 7 }, (_, i) => Math.sin(i)), y: Float32Array.from({ length: n * 3 }, (_, i) => i / 3),
    };
    expectBitExact(decodeDataset(encodeDataset(ds, metadata)).dataset, ds);
  });

  it('names the file when it is truncated', async () => {
    const path = join(dir, 'truncated.arrow');
    await writeDataset(path, generateWreg({ n: 20, noise: 0, seed: 1 }), metadata);
    await truncate(path, (await readFile(path)).length - 9);
    await expect(readDataset(path)).rejects.toThrow(path);
  });

  it('refuses NaN or infinite inputs and targets, on write and on read, naming the first bad index', async () => {
    const ds = generateWreg({ n: 8, noise: 0.1, seed: 3 });
    ds.y[5] = Number.NaN;
    ds.y[6] = Infinity;
    expect(() => encodeDataset(ds, metadata)).toThrow(/example 5 has target 0 = NaN/);
    await expect(writeDataset(join(dir, 'nan.arrow'), ds, metadata)).rejects.toThrow(/nan\.arrow: example 5/);
    // A file written by something else that lets NaN through is refused when read.
    const src = generateSrc({ n: 6, noise: 0.1, seed: 3 });
    src.x[7] = -Infinity;
    expect(() => decodeDataset(encodeDatasetTable(src, metadata), 'crafted.arrow')).toThrow(/crafted\.arrow: example 3 has input 1 = -Infinity/);
  });

  it('refuses an inconsistent dataset', async () => {
    const ds = generateSrc({ n: 10, noise: 0, seed: 1 });
    ds.y[0] = 0.5;
    await expect(writeDataset(join(dir, 'bad.arrow'), ds, metadata)).rejects.toThrow(/one-hot/);
  });
});

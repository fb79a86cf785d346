import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CIFAR10_RECORD_BYTES, cifar10Files, cifar10Status, channelStatistics, checkDataset, loadCifar10 } from './index';
import { cifarBatchBytes, cifarLabel, cifarPixel, writeCifar10 } from './testing/fixtures';

const RECORDS = 20;
let root: string;
let dir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lrscape-cifar-'));
  dir = join(root, 'complete');
  await mkdir(dir);
  await writeCifar10(dir, RECORDS);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

async function freshCopy(): Promise<string> {
  const copy = await mkdtemp(join(root, 'case-'));
  await writeCifar10(copy, RECORDS);
  return copy;
}

describe('loadCifar10', () => {
  it('puts pixel (channel c, row, col) of record r at x[r·3072 + c·1024 + row·32 + col], as byte/255', async () => {
    const { train, test, standardization } = await loadCifar10({ dir, standardize: 'none' });
    expect(standardization).toBeUndefined();
    expect([train.n, test.n, train.inputDim, train.outputDim, train.name]).toEqual([5 * RECORDS, RECORDS, 3072, 10, 'cifar10']);
    for (const [ds, files] of [[train, [0, 1, 2, 3, 4]], [test, [5]]] as const) {
      for (let i = 0; i < ds.n; i++) {
        const f = files[Math.floor(i / RECORDS)];
        const r = i % RECORDS;
        expect(ds.labels![i]).toBe(cifarLabel(f, r));
        expect(ds.y[i * 10 + cifarLabel(f, r)]).toBe(1);
        for (const [c, row, col] of [[0, 0, 0], [1, 5, 31], [2, 31, 7], [2, 31, 31]]) {
          const k = c * 1024 + row * 32 + col;
          expect(ds.x[i * 3072 + k]).toBe(Math.fround(cifarPixel(f, r, k) / 255));
        }
      }
      checkDataset(ds);
    }
    // Every value in [0, 1].
    expect(Math.min(...train.x.subarray(0, 3072 * 3))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...train.x.subarray(0, 3072 * 3))).toBeLessThanOrEqual(1);
  });

  it('standardizes per channel with the training statistics: train mean 0 and std 1 in each channel', async () => {
    const raw = await loadCifar10({ dir, standardize: 'none' });
    const { train, test, standardization } = await loadCifar10({ dir, standardize: 'per-channel' });
    const after = channelStatistics(train, 3);
    for (let c = 0; c < 3; c++) {
      expect(after.mean[c]).toBeCloseTo(0, 5);
      expect(after.std[c]).toBeCloseTo(1, 5);
    }
    const before = channelStatistics(raw.train, 3);
    expect(Array.from(standardization!.mean)).toEqual(Array.from(before.mean));
    // The channels differ, so one statistic for all would not do.
    expect(new Set(Array.from(before.mean, (m) => m.toFixed(3))).size).toBe(3);
    // The test set uses the training statistics, channel by channel, in the same layout.
    for (const k of [0, 1500, 3071]) {
      const c = Math.floor(k / 1024);
      expect(test.x[3072 * 4 + k]).toBeCloseTo((raw.test.x[3072 * 4 + k] - before.mean[c]) / before.std[c], 5);
    }
  });

  it('takes the first N training (and test) examples, across batch files', async () => {
    const { train, test } = await loadCifar10({ dir, subset: 25, testSubset: 7, standardize: 'none' });
    expect([train.n, test.n]).toEqual([25, 7]);
    expect(Array.from(train.labels!)).toEqual(Array.from({ length: 25 }, (_, i) => cifarLabel(Math.floor(i / RECORDS), i % RECORDS)));
    expect(train.x[24 * 3072 + 100]).toBe(Math.fround(cifarPixel(1, 4, 100) / 255));
    const all = await loadCifar10({ dir, subset: 10_000, standardize: 'none' });
    expect(all.train.n).toBe(5 * RECORDS);
  });

  it('reads the directory from LRSCAPE_CIFAR10_DIR, and looks into cifar-10-batches-bin/', async () => {
    vi.stubEnv('LRSCAPE_CIFAR10_DIR', dir);
    expect((await loadCifar10({ subset: 3, standardize: 'none' })).train.n).toBe(3);
    const outer = await mkdtemp(join(root, 'archive-'));
    await mkdir(join(outer, 'cifar-10-batches-bin'));
    await writeCifar10(join(outer, 'cifar-10-batches-bin'), 2);
    expect(cifar10Status(outer)).toEqual({ available: true });
    expect((await loadCifar10({ dir: outer, standardize: 'none' })).train.n).toBe(10);
  });

  it('names a truncated file and the record size', async () => {
    const copy = await freshCopy();
    const path = join(copy, 'data_batch_3.bin');
    await truncate(path, RECORDS * CIFAR10_RECORD_BYTES - 100);
    const message = `${path}: ${RECORDS * CIFAR10_RECORD_BYTES - 100} bytes, not a positive multiple of the 3073-byte CIFAR-10 record`;
    await expect(loadCifar10({ dir: copy, standardize: 'none' })).rejects.toThrow(message);
    expect(cifar10Status(copy)).toMatchObject({ available: false, reason: expect.stringContaining(message) });
  });

  it('names a missing file, the directory searched and how to get the data', async () => {
    const copy = await freshCopy();
    await rm(join(copy, 'test_batch.bin'));
    await rm(join(copy, 'data_batch_2.bin'));
    const status = cifar10Status(copy);
    expect(status.available).toBe(false);
    expect(status.reason).toContain(`CIFAR-10 files missing: ${join(copy, 'data_batch_2.bin')}, ${join(copy, 'test_batch.bin')}`);
    expect(status.reason).toContain(`searched ${copy}`);
    expect(status.reason).toContain('download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract, and set LRSCAPE_CIFAR10_DIR or dataset.dir');
    await expect(loadCifar10({ dir: copy, standardize: 'none' })).rejects.toThrow(status.reason);
    expect(cifar10Status(dir)).toEqual({ available: true });
  });

  it('says when no directory is given at all', async () => {
    vi.stubEnv('LRSCAPE_CIFAR10_DIR', '');
    expect(cifar10Status().reason).toMatch(/no directory given \(dataset\.dir is unset and so is LRSCAPE_CIFAR10_DIR\); download cifar-10-binary/);
    await expect(loadCifar10({ standardize: 'none' })).rejects.toThrow(/no directory given/);
  });

  it('refuses a label outside 0–9, naming the file and the record', async () => {
    const copy = await freshCopy();
    const bytes = cifarBatchBytes(0, RECORDS);
    bytes[7 * CIFAR10_RECORD_BYTES] = 10;
    await writeFile(join(copy, 'data_batch_1.bin'), bytes);
    await expect(loadCifar10({ dir: copy, standardize: 'none' })).rejects.toThrow(`${join(copy, 'data_batch_1.bin')}: record 7 has label 10, expected 0–9`);
  });

  it('lists the six expected files', () => {
    expect(cifar10Files('/data/c10')).toEqual(['1', '2', '3', '4', '5'].map((k) => `/data/c10/data_batch_${k}.bin`).concat('/data/c10/test_batch.bin'));
  });
});

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataset, IDX_FILE_NAMES, idxFiles, idxStatus, inputStatistics, loadIdxDataset, readIdxImages, readIdxLabels } from './index';
import { idxImageBytes, idxLabel, idxLabelBytes, idxPixel, writeIdxDataset } from './testing/fixtures';

let root: string;
let plain: string;
let gzipped: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lrscape-idx-'));
  plain = join(root, 'plain');
  gzipped = join(root, 'gzipped');
  await mkdir(plain);
  await mkdir(gzipped);
  await writeIdxDataset(plain);
  await writeIdxDataset(gzipped, { gzip: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh directory holding one file of the given bytes. */
async function oneFile(name: string, bytes: Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(root, 'case-'));
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('readIdxImages / readIdxLabels', () => {
  it('round-trips the files the test wrote, plain and gzipped (detected by magic, not name)', async () => {
    for (const images of [join(plain, IDX_FILE_NAMES.trainImages), join(gzipped, `${IDX_FILE_NAMES.trainImages}.gz`)]) {
      const read = await readIdxImages(images);
      expect({ count: read.count, rows: read.rows, cols: read.cols }).toEqual({ count: 12, rows: 4, cols: 3 });
      expect(Array.from(read.pixels)).toEqual(Array.from({ length: 12 * 12 }, (_, k) => idxPixel(0, Math.floor(k / 12), k % 12)));
    }
    for (const labels of [join(plain, IDX_FILE_NAMES.testLabels), join(gzipped, `${IDX_FILE_NAMES.testLabels}.gz`)]) {
      expect(Array.from(await readIdxLabels(labels))).toEqual(Array.from({ length: 5 }, (_, i) => idxLabel(1, i)));
    }
    // A gzipped file without the .gz name is still recognized.
    const renamed = await oneFile('labels-without-suffix', gzipSync(idxLabelBytes([3, 1, 4])));
    expect(Array.from(await readIdxLabels(renamed))).toEqual([3, 1, 4]);
  });

  it('refuses a wrong magic number, naming the file and the expected number', async () => {
    const labelsAsImages = await oneFile('train-images-idx3-ubyte', idxLabelBytes([1, 2]));
    await expect(readIdxImages(labelsAsImages)).rejects.toThrow(`${labelsAsImages}: magic number 2049 (that of a label file), expected 2051`);
    const imagesAsLabels = await oneFile('train-labels-idx1-ubyte', idxImageBytes(2, 2, 2, () => 0));
    await expect(readIdxLabels(imagesAsLabels)).rejects.toThrow(`${imagesAsLabels}: magic number 2051 (that of an image file), expected 2049`);
    const junk = await oneFile('junk', new Uint8Array(40).fill(7));
    await expect(readIdxImages(junk)).rejects.toThrow(new RegExp(`${junk}: magic number \\d+, expected 2051`));
  });

  it('refuses files shorter or longer than their header says, and headers cut short', async () => {
    const full = idxImageBytes(3, 2, 2, (i, k) => i + k);
    const short = await oneFile('short-images', full.subarray(0, full.length - 1));
    await expect(readIdxImages(short)).rejects.toThrow(`${short}: header says 3 images of 2×2 (12 pixel bytes after the 16-byte header), file has 11 (truncated)`);
    const long = await oneFile('long-images.gz', gzipSync(new Uint8Array([...full, 0])));
    await expect(readIdxImages(long)).rejects.toThrow(`${long}: header says 3 images of 2×2 (12 pixel bytes after the 16-byte header), file has 13 (trailing bytes)`);
    const labels = idxLabelBytes([1, 2, 3]);
    const shortLabels = await oneFile('short-labels', labels.subarray(0, 10));
    await expect(readIdxLabels(shortLabels)).rejects.toThrow(`${shortLabels}: header says 3 labels (3 bytes after the 8-byte header), file has 2 (truncated)`);
    const stub = await oneFile('stub', new Uint8Array([0, 0, 8, 3, 0]));
    await expect(readIdxImages(stub)).rejects.toThrow(`${stub}: 5 bytes, shorter than the 16-byte header`);
    const badGzip = await oneFile('bad.gz', new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    await expect(readIdxLabels(badGzip)).rejects.toThrow(`${badGzip}: starts with the gzip magic 1f 8b but does not decompress`);
  });

  it('refuses labels outside 0–9 and a missing file, naming the file', async () => {
    const path = await oneFile('labels', idxLabelBytes([0, 9, 10, 3]));
    await expect(readIdxLabels(path)).rejects.toThrow(`${path}: label 10 at index 2 outside 0–9`);
    expect(Array.from(await readIdxLabels(path, 11))).toEqual([0, 9, 10, 3]);
    const missing = join(root, 'nowhere', 'train-images-idx3-ubyte');
    await expect(readIdxImages(missing)).rejects.toThrow(`${missing}: no such file`);
  });
});

describe('loadIdxDataset', () => {
  it('loads the official split as byte/255 inputs, one-hot targets and labels, from a directory or four paths', async () => {
    for (const dir of [plain, gzipped]) {
      const { train, test } = await loadIdxDataset({ dir });
      expect([train.n, test.n, train.inputDim, train.outputDim, train.name]).toEqual([12, 5, 12, 10, 'idx']);
      for (const [part, ds] of [[0, train], [1, test]] as const) {
        for (let i = 0; i < ds.n; i++) {
          expect(ds.labels![i]).toBe(idxLabel(part, i));
          for (const k of [0, 5, 11]) expect(ds.x[i * 12 + k]).toBe(Math.fround(idxPixel(part, i, k) / 255));
        }
        checkDataset(ds);
      }
    }
    const byPaths = await loadIdxDataset({ ...idxFiles(gzipped), name: 'fashion-idx' });
    const byDir = await loadIdxDataset({ dir: plain, name: 'fashion-idx' });
    expect(byPaths).toEqual(byDir);
  });

  it('keeps the first examples when asked for subsets, and standardizes with the training statistics', async () => {
    const { train, test } = await loadIdxDataset({ dir: plain, trainSubset: 7, testSubset: 2, standardize: true });
    expect([train.n, test.n]).toEqual([7, 2]);
    expect(Array.from(train.labels!)).toEqual(Array.from({ length: 7 }, (_, i) => idxLabel(0, i)));
    const stats = inputStatistics(train);
    for (let j = 0; j < 12; j++) {
      expect(stats.mean[j]).toBeCloseTo(0, 5);
      expect(stats.std[j]).toBeCloseTo(1, 5);
    }
    const raw = await loadIdxDataset({ dir: plain, trainSubset: 7, testSubset: 2 });
    const rawStats = inputStatistics(raw.train);
    expect(test.x[3]).toBeCloseTo((raw.test.x[3] - rawStats.mean[3]) / rawStats.std[3], 5);
  });

  it('names the missing file, and the label file whose count differs from its images', async () => {
    const dir = await mkdtemp(join(root, 'partial-'));
    await writeIdxDataset(dir);
    await rm(join(dir, IDX_FILE_NAMES.testLabels));
    await expect(loadIdxDataset({ dir })).rejects.toThrow(`${join(dir, IDX_FILE_NAMES.testLabels)}: no such file, nor ${join(dir, IDX_FILE_NAMES.testLabels)}.gz (expected the IDX file of the test labels)`);
    expect(idxStatus(dir)).toMatchObject({ available: false, reason: expect.stringContaining(`missing in ${dir}: t10k-labels-idx1-ubyte`) });
    expect(idxStatus(plain)).toEqual({ available: true });
    await writeFile(join(dir, IDX_FILE_NAMES.testLabels), idxLabelBytes([1, 2, 3, 4]));
    const images = join(dir, IDX_FILE_NAMES.testImages);
    const labels = join(dir, IDX_FILE_NAMES.testLabels);
    await expect(loadIdxDataset({ dir })).rejects.toThrow(`${images} has 5 images but ${labels} has 4 labels`);
  });

  it('refuses test images of another size than the training images', async () => {
    const dir = await mkdtemp(join(root, 'sizes-'));
    await writeIdxDataset(dir);
    await writeFile(join(dir, IDX_FILE_NAMES.testImages), idxImageBytes(5, 3, 3, () => 1));
    await expect(loadIdxDataset({ dir })).rejects.toThrow(`${join(dir, IDX_FILE_NAMES.testImages)}: images of 3×3, expected 4×3`);
    // Sanity: the file on disk is the one just written.
    expect((await readFile(join(dir, IDX_FILE_NAMES.testImages))).length).toBe(16 + 45);
  });
});

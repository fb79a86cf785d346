import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assembleFashionMnist,
  checkDataset,
  type Dataset,
  fashionMnistDir,
  type FashionMnistClass,
  inputStatistics,
  loadFashionMnist,
  parseFashionMnistClass,
  readFashionMnistClasses,
} from './index';

const encode = (text: string) => new TextEncoder().encode(text);
const countOf = (ds: Dataset, c: number) => ds.labels!.filter((l) => l === c).length;
/** (class, position in its file) of every example, as strings. */
const provenance = (ds: Dataset, origin: Int32Array) => Array.from(origin, (p, i) => `${ds.labels![i]}:${p}`);

describe('parseFashionMnistClass', () => {
  const image = (v: number) => Array.from({ length: 784 }, (_, k) => (k * 7 + v) % 256);

  it('reads 784-value images, skipping empty arrays but keeping their positions, whitespace allowed', () => {
    const text = ` { "data" : [ [${image(1).join(', ')}],\n[], [${image(2).join(',')}] ] }\n`;
    const parsed = parseFashionMnistClass(encode(text), 'x.json');
    expect(parsed.count).toBe(2);
    expect(Array.from(parsed.positions)).toEqual([0, 2]);
    expect(Array.from(parsed.pixels)).toEqual([...image(1), ...image(2)]);
    expect(parseFashionMnistClass(encode('{"data":[]}'), 'e.json').count).toBe(0);
  });

  it('refuses anything else, naming the source', () => {
    const bad = (data: string) => () => parseFashionMnistClass(encode(`{"data":[${data}]}`), 'bad.json');
    expect(bad('[1,2,3]')).toThrow('bad.json: image 0 has 3 values, expected 784 (28×28)');
    expect(bad(`[${[256, ...image(0).slice(1)].join(',')}]`)).toThrow(/bad\.json: pixel value 256 outside 0–255 at byte/);
    expect(bad(`[${[0.5, ...image(0).slice(1)].join(',')}]`)).toThrow(/bad\.json: expected "," or "\]" after a pixel value/);
    expect(bad(`[${image(0).join(',')},1]`)).toThrow('bad.json: image 0 has more than 784 values');
    expect(() => parseFashionMnistClass(encode('{"pixels":[]}'), 'bad.json')).toThrow(/bad\.json: expected "\\"data\\"" at byte 1/);
    expect(() => parseFashionMnistClass(encode('{"data":[]} x'), 'bad.json')).toThrow(/bad\.json: unexpected content/);
  });
});

describe('assembleFashionMnist', () => {
  // Ten tiny classes of 6 images whose every pixel is the class·10 + image index.
  const classes: FashionMnistClass[] = Array.from({ length: 10 }, (_, c) => ({
    count: 6,
    pixels: Uint8Array.from({ length: 6 * 784 }, (_, k) => c * 10 + Math.floor(k / 784)),
    positions: Int32Array.from({ length: 6 }, (_, i) => i),
  }));

  it('refuses a perClass larger than a class, or not a positive integer, and a bad testFraction', () => {
    expect(() => assembleFashionMnist(classes, { perClass: 7, seed: 1, testFraction: 0.2 })).toThrow('perClass = 7 exceeds the 6 images of class 0 (T-shirt/top)');
    expect(() => assembleFashionMnist(classes, { perClass: 0, seed: 1, testFraction: 0.2 })).toThrow('perClass = 0 must be an integer ≥ 1');
    expect(() => assembleFashionMnist(classes, { seed: 1, testFraction: 1 })).toThrow('testFraction = 1 must lie in [0, 1)');
  });

  it('maps each example back to its image through the origin', () => {
    const { train, test, trainOrigin, testOrigin } = assembleFashionMnist(classes, { perClass: 4, seed: 2, testFraction: 0.25 });
    for (const [ds, origin] of [[train, trainOrigin], [test, testOrigin]] as const) {
      for (let i = 0; i < ds.n; i++) expect(ds.x[i * 784 + 300]).toBe(Math.fround((ds.labels![i] * 10 + origin[i]) / 255));
    }
  });
});

// The real package: parsed once per process (≈1 s), shared by the tests below.
describe('loadFashionMnist', () => {
  it('is deterministic per seed and differs across seeds', async () => {
    const a = await loadFashionMnist({ perClass: 40, seed: 3, testFraction: 0.2 });
    const b = await loadFashionMnist({ perClass: 40, seed: 3, testFraction: 0.2 });
    const c = await loadFashionMnist({ perClass: 40, seed: 4, testFraction: 0.2 });
    expect(a).toEqual(b);
    expect(provenance(a.train, a.trainOrigin)).not.toEqual(provenance(c.train, c.trainOrigin));
    expect(a.train.x).not.toEqual(c.train.x);
  });

  it('stratifies the split and takes perClass images of each class, nested across sizes for a seed', async () => {
    const { train, test, trainOrigin, testOrigin } = await loadFashionMnist({ perClass: 60, seed: 5, testFraction: 0.25 });
    expect([train.n, test.n, train.inputDim, train.outputDim, train.name]).toEqual([450, 150, 784, 10, 'fmnist']);
    for (let c = 0; c < 10; c++) expect([countOf(train, c), countOf(test, c)]).toEqual([45, 15]);
    checkDataset(train);
    checkDataset(test);
    // No image twice, within or across the sets.
    const all = [...provenance(train, trainOrigin), ...provenance(test, testOrigin)];
    expect(new Set(all).size).toBe(600);
    // The subset of perClass 30 for the same seed lies inside that of perClass 60.
    const smaller = await loadFashionMnist({ perClass: 30, seed: 5, testFraction: 0.25 });
    const inside = new Set(all);
    for (const key of [...provenance(smaller.train, smaller.trainOrigin), ...provenance(smaller.test, smaller.testOrigin)]) expect(inside.has(key)).toBe(true);
    // Classes are mixed in order: the first 40 training examples hold most classes.
    expect(new Set(train.labels!.subarray(0, 40)).size).toBeGreaterThanOrEqual(7);
  });

  it('gives the package raw bytes / 255, in [0, 1]', async () => {
    const { train, test, trainOrigin, testOrigin } = await loadFashionMnist({ perClass: 100, seed: 7, testFraction: 0.1 });
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    // Class 0's file holds two empty arrays; compare against the package's own JSON, positions included.
    for (const [ds, origin, i] of [[train, trainOrigin, 0], [train, trainOrigin, 123], [test, testOrigin, 5]] as const) {
      const label = ds.labels![i];
      const raw = JSON.parse(await readFile(join(fashionMnistDir(), `${label}.json`), 'utf8')).data[origin[i]] as number[];
      expect(raw).toHaveLength(784);
      expect(Array.from(ds.x.subarray(i * 784, (i + 1) * 784))).toEqual(raw.map((v) => Math.fround(v / 255)));
    }
  });

  it('loads all 70,000 images by default; standardizes each pixel with the training statistics', async () => {
    const classes = await readFashionMnistClasses();
    expect(classes.map((c) => c.count)).toEqual(new Array(10).fill(7000));
    const full = await loadFashionMnist({ seed: 1, testFraction: 1 / 7 });
    expect([full.train.n, full.test.n]).toEqual([60_000, 10_000]);
    for (let c = 0; c < 10; c++) expect(countOf(full.test, c)).toBe(1000);

    const raw = await loadFashionMnist({ perClass: 50, seed: 2, testFraction: 0.2 });
    const std = await loadFashionMnist({ perClass: 50, seed: 2, testFraction: 0.2, standardize: true });
    const stats = inputStatistics(std.train);
    const rawStats = inputStatistics(raw.train);
    for (const j of [0, 100, 406, 783]) {
      expect(stats.mean[j]).toBeCloseTo(0, 5);
      // 1 also for a pixel constant over the subset: centred to 0 and left unscaled.
      expect(stats.std[j]).toBeCloseTo(1, 5);
      expect(std.test.x[3 * 784 + j]).toBeCloseTo((raw.test.x[3 * 784 + j] - rawStats.mean[j]) / rawStats.std[j], 5);
    }
    expect(std.train.labels).toEqual(raw.train.labels);
  });
});

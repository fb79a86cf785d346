import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset, checkDataset, datasetStatus, generateSequences, MAX_REPEATS, readDataset, writeDataset } from './index';

/** The label from the tokens alone: does the first token of row i appear again later? */
function firstTokenRepeated(x: Float32Array, length: number, i: number): boolean {
  const row = x.subarray(i * length, (i + 1) * length);
  return row.subarray(1).includes(row[0]);
}

describe('generateSequences', () => {
  const options = { n: 400, length: 12, vocabulary: 8, seed: 3 };

  it('is deterministic per seed, differs across seeds, and is a balanced two-class dataset of token ids', () => {
    const a = generateSequences(options);
    expect(generateSequences(options)).toEqual(a);
    expect(generateSequences({ ...options, seed: 4 }).x).not.toEqual(a.x);
    expect({ ...a, x: undefined, y: undefined, labels: undefined }).toMatchObject({ name: 'sequence', task: 'classification', n: 400, inputDim: 12, outputDim: 2 });
    checkDataset(a);
    expect(a.labels!.filter((l) => l === 1).length).toBe(200);
    expect(Array.from(a.x).every((id) => Number.isInteger(id) && id >= 0 && id < 8)).toBe(true);
  });

  it('labels 1 exactly the sequences whose first token appears again, 1 to 3 times', () => {
    const ds = generateSequences(options);
    const repeats = new Set<number>();
    for (let i = 0; i < ds.n; i++) {
      expect(firstTokenRepeated(ds.x, ds.inputDim, i)).toBe(ds.labels![i] === 1);
      const row = ds.x.subarray(i * 12, (i + 1) * 12);
      if (ds.labels![i] === 1) repeats.add(row.subarray(1).filter((id) => id === row[0]).length);
    }
    expect([...repeats].sort()).toEqual([1, 2, 3]);
    expect(MAX_REPEATS).toBe(3);
  });

  it('draws the first token and the other tokens uniformly, so that no position alone gives the class away', () => {
    const ds = generateSequences({ ...options, n: 4000 });
    const counts = (t: number, label: number) => {
      const c = new Array(8).fill(0);
      for (let i = 0; i < ds.n; i++) if (ds.labels![i] === label) c[ds.x[i * 12 + t]]++;
      return c.map((x) => x / 2000);
    };
    for (const label of [0, 1]) {
      for (const t of [0, 5, 11]) for (const share of counts(t, label)) expect(Math.abs(share - 1 / 8)).toBeLessThan(0.03);
    }
  });

  it('holds at the smallest sizes: two tokens of two ids', () => {
    const ds = generateSequences({ n: 20, length: 2, vocabulary: 2, seed: 1 });
    for (let i = 0; i < ds.n; i++) expect(ds.x[2 * i + 1] === ds.x[2 * i]).toBe(ds.labels![i] === 1);
  });

  it('refuses sizes it cannot honour', () => {
    expect(() => generateSequences({ ...options, length: 1 })).toThrow('generateSequences: length = 1 must be an integer ≥ 2 (a first token and a later one)');
    expect(() => generateSequences({ ...options, vocabulary: 1 })).toThrow(/vocabulary = 1 must be an integer ≥ 2/);
    expect(() => generateSequences({ ...options, task: 'majority' as 'first-repeated' })).toThrow(/unknown task 'majority' \(valid: first-repeated\)/);
  });
});

describe('the sequence dataset through buildDataset and Arrow', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lrscape-sequence-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits stratified like the other synthetic sets and round-trips bit for bit', async () => {
    const spec = { kind: 'sequence', n: 400, length: 12, vocabulary: 8, seed: 2, testFraction: 0.2 } as const;
    expect(datasetStatus(spec)).toEqual({ available: true });
    const { train, test } = await buildDataset(spec);
    expect(await buildDataset(spec)).toEqual({ train, test });
    expect([train.n, test.n, train.inputDim, train.name]).toEqual([320, 80, 12, 'sequence']);
    expect(test.labels!.filter((l) => l === 1).length).toBe(40);
    const path = join(dir, 'train.arrow');
    await writeDataset(path, train, { experiment: 'seq', config_hash: 'ab12', code_version: 'dev', backend: 'none' });
    const back = await readDataset(path);
    expect(back.dataset).toEqual(train);
  });
});

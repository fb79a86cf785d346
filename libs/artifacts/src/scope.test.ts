import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeScope, encodeScope, readEigenvectors, readSafetensors, sameScope, writeEigenvectors, writeSafetensors } from './index';

describe('scope codec', () => {
  it('encodes and decodes full and block scopes as each other’s inverse', () => {
    expect(encodeScope({ kind: 'full' })).toBe('full');
    expect(encodeScope({ kind: 'block', k: 2 })).toBe('k2');
    for (const text of ['full', 'k1', 'k2', 'k12']) expect(encodeScope(decodeScope(text))).toBe(text);
    expect(decodeScope('k3')).toEqual({ kind: 'block', k: 3 });
  });

  it('refuses strings that are not scopes, naming where they came from', () => {
    for (const text of ['k0', 'k', 'K1', 'k1.5', 'full ', 'k01', '']) {
      expect(() => decodeScope(text, 'spectra.arrow: column `scope`')).toThrow(/spectra\.arrow: column `scope`: .* is not a scope/);
    }
    expect(() => encodeScope({ kind: 'block', k: 0 })).toThrow(/integer k ≥ 1/);
  });

  it('compares scopes by identity', () => {
    expect(sameScope({ kind: 'block', k: 1 }, { kind: 'block', k: 1 })).toBe(true);
    expect(sameScope({ kind: 'block', k: 1 }, { kind: 'block', k: 2 })).toBe(false);
    expect(sameScope({ kind: 'full' }, { kind: 'block', k: 1 })).toBe(false);
  });
});

describe('eigenvector files', () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('round-trips typed scopes and ranks, ordered by scope as written and by rank', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lrscape-eig-'));
    const path = join(dir, 'step-000010.safetensors');
    const v = (...xs: number[]) => Float64Array.from(xs);
    await writeEigenvectors(path, [
      { scope: { kind: 'full' }, rank: 2, vector: v(0, 1, 0) },
      { scope: { kind: 'full' }, rank: 1, vector: v(1, 0, 0) },
      { scope: { kind: 'block', k: 1 }, rank: 1, vector: v(0.6, 0.8) },
      // rank 10 sorts after rank 2 (numeric, not text order)
      { scope: { kind: 'full' }, rank: 10, vector: v(0, 0, 1) },
    ], { step: '10' });
    const read = await readEigenvectors(path);
    expect(read.map((e) => [encodeScope(e.scope), e.rank])).toEqual([['full', 1], ['full', 2], ['full', 10], ['k1', 1]]);
    expect([...read[3].vector]).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect((await readSafetensors(path)).metadata).toEqual({ step: '10' });
  });

  it('refuses a duplicate (scope, rank) and a tensor whose key is not <scope>/<rank>', async () => {
    const path = join(dir, 'bad.safetensors');
    const unit = Float64Array.of(1);
    await expect(writeEigenvectors(path, [{ scope: { kind: 'full' }, rank: 1, vector: unit }, { scope: { kind: 'full' }, rank: 1, vector: unit }])).rejects.toThrow(/full\/1 given twice/);
    await writeSafetensors(path, { 'x7/1': { shape: [1], data: Float32Array.of(1) } });
    await expect(readEigenvectors(path)).rejects.toThrow(/bad\.safetensors: tensor `x7\/1`: `x7` is not a scope/);
    await writeSafetensors(path, { full: { shape: [1], data: Float32Array.of(1) } });
    await expect(readEigenvectors(path)).rejects.toThrow(/tensor `full` is not named <scope>\/<rank>/);
  });
});

/**
 * The files bench:engine and the GPU check's bench give both sides (ours and PyTorch): the seeded batch of N rows,
 * θ (LeCun-uniform init), a direction v, and meta.json, for the bench MLP 784-200-200-10 (common.ts's cases).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initMlpParameters, mlpLayout } from '@lrscape/engine';
import { CASES, DATA_SEED, INIT_SEED, randomBatch, randomDirection, specOf, writeArray } from './common';

export function writeEngineBenchData(dir: string, n: number): void {
  const spec = specOf(CASES[0]);
  const batch = randomBatch(n, DATA_SEED);
  const size = mlpLayout(spec).size;
  writeArray(dir, 'x.f32', batch.x);
  writeArray(dir, 'y.f32', batch.y);
  writeArray(dir, 'labels.i32', batch.labels);
  writeArray(dir, 'theta.f32', initMlpParameters(spec, INIT_SEED));
  writeArray(dir, 'v.f32', Float32Array.from(randomDirection(size, 7)));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ n, input_dim: 784, hidden: [200, 200], classes: 10, cases: CASES, size }));
}

/**
 * From the dataset section of an experiment config to the train and test sets the `prepare`
 * task writes.
 */
import type { Dataset } from './dataset';
import { splitDataset } from './split';
import { generateSrc } from './src';
import { generateWreg } from './wreg';

export type DatasetSpec =
  | { kind: 'wreg'; n: number; noise: number; seed: number; testFraction: number }
  | { kind: 'src'; n: number; noise: number; seed: number; turns?: number; testFraction: number };

/**
 * Offset between the generator's seed and the split's, so that the split's shuffle does not
 * replay the random stream that placed the examples.
 */
export const SPLIT_SEED_OFFSET = 7919;

/**
 * Generates the dataset of `spec` and splits it (stratified for classification). Inputs are
 * not standardised: W-reg keeps x in [−4, 4] (dips at ±2) and SRC already lies in the unit disc.
 * Async so that loaders of files (Fashion-MNIST, CIFAR-10) fit the same signature.
 */
export async function buildDataset(spec: DatasetSpec): Promise<{ train: Dataset; test: Dataset }> {
  const full = generate(spec);
  const { train, test } = splitDataset(full, { testFraction: spec.testFraction, seed: spec.seed + SPLIT_SEED_OFFSET });
  return { train, test };
}

function generate(spec: DatasetSpec): Dataset {
  switch (spec.kind) {
    case 'wreg':
      return generateWreg(spec);
    case 'src':
      return generateSrc(spec);
  }
}

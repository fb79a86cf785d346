/**
 * Writers of small binary fixtures for the loader tests (IDX files, CIFAR-10 batches), so that no
 * binary fixture is committed: each test writes its own into a temporary directory.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CIFAR10_PIXELS, CIFAR10_RECORD_BYTES, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES } from '../cifar10';
import { IDX_FILE_NAMES, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from '../idx';

/** Bytes of an IDX image file; pixel(i, k) gives byte k (row-major) of image i. */
export function idxImageBytes(count: number, rows: number, cols: number, pixel: (i: number, k: number) => number, magic = IDX_IMAGES_MAGIC): Uint8Array {
  const bytes = new Uint8Array(16 + count * rows * cols);
  const view = new DataView(bytes.buffer);
  [magic, count, rows, cols].forEach((v, k) => view.setUint32(4 * k, v));
  for (let i = 0; i < count; i++) for (let k = 0; k < rows * cols; k++) bytes[16 + i * rows * cols + k] = pixel(i, k);
  return bytes;
}

/** Bytes of an IDX label file. */
export function idxLabelBytes(labels: ArrayLike<number>, magic = IDX_LABELS_MAGIC): Uint8Array {
  const bytes = new Uint8Array(8 + labels.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, labels.length);
  bytes.set(Array.from(labels), 8);
  return bytes;
}

/** The pixel bytes of the IDX fixtures: image i of the train (0) or test (1) part. */
export const idxPixel = (part: number, i: number, k: number) => (part * 101 + i * 17 + k * 3) % 256;
export const idxLabel = (part: number, i: number) => (part * 3 + i) % 10;

/** Writes the four IDX files of a tiny dataset (rows×cols images) into `dir`, gzipped as `<name>.gz` when asked. */
export async function writeIdxDataset(dir: string, { train = 12, test = 5, rows = 4, cols = 3, gzip = false } = {}): Promise<void> {
  const write = (name: string, bytes: Uint8Array) => writeFile(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  const label = (part: number, n: number) => Array.from({ length: n }, (_, i) => idxLabel(part, i));
  await write(IDX_FILE_NAMES.trainImages, idxImageBytes(train, rows, cols, (i, k) => idxPixel(0, i, k)));
  await write(IDX_FILE_NAMES.trainLabels, idxLabelBytes(label(0, train)));
  await write(IDX_FILE_NAMES.testImages, idxImageBytes(test, rows, cols, (i, k) => idxPixel(1, i, k)));
  await write(IDX_FILE_NAMES.testLabels, idxLabelBytes(label(1, test)));
}

/** Pixel byte k (channel-major) and label of record r of CIFAR-10 fixture file f (0–4 training batches, 5 the test batch). */
export function cifarPixel(f: number, r: number, k: number): number {
  const v = f * 31 + r * 7 + k * 5;
  // Channels of different ranges (so different means and stds): red 0–255, green 0–127, blue 100–163.
  return [v % 256, v % 128, 100 + (v % 64)][k >> 10];
}
export const cifarLabel = (f: number, r: number) => (f * 3 + r) % 10;

/** Bytes of a CIFAR-10 batch of `records` records of fixture file f. */
export function cifarBatchBytes(f: number, records: number): Uint8Array {
  const bytes = new Uint8Array(records * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < records; r++) {
    bytes[r * CIFAR10_RECORD_BYTES] = cifarLabel(f, r);
    for (let k = 0; k < CIFAR10_PIXELS; k++) bytes[r * CIFAR10_RECORD_BYTES + 1 + k] = cifarPixel(f, r, k);
  }
  return bytes;
}

/** Writes the six batch files, `records` records each, into `dir`. */
export async function writeCifar10(dir: string, records = 20): Promise<void> {
  const names = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  for (let f = 0; f < names.length; f++) await writeFile(join(dir, names[f]), cifarBatchBytes(f, records));
}

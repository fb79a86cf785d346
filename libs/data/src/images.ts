/**
 * Shared pieces of the image loaders (Fashion-MNIST, IDX, CIFAR-10): bytes to floats in [0, 1],
 * count checks, file checks with messages that name the file, per-channel standardization.
 */
import { stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import type { Dataset } from './dataset';

/** byte/255 for every byte value, as float32: the one place where pixels become inputs. */
const UNIT_OF_BYTE = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** Writes `bytes[k]/255` to `out[offset + k]` for every k. */
export function bytesToUnit(bytes: Uint8Array, out: Float32Array, offset = 0): void {
  for (let k = 0; k < bytes.length; k++) out[offset + k] = UNIT_OF_BYTE[bytes[k]];
}

/** One-hot targets of byte-sized labels, checked against `classes` (the caller names the source). */
export function classificationDataset(name: string, x: Float32Array, labels: Int32Array, inputDim: number, classes: number): Dataset {
  const n = labels.length;
  const y = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) y[i * classes + labels[i]] = 1;
  return { name, task: 'classification', n, inputDim, outputDim: classes, x, y, labels };
}

/** Throws unless `value` is an integer ≥ `min` (undefined passes: the option is absent). */
export function checkCount(what: string, value: number | undefined, min = 0): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw new Error(`${what} = ${value} must be an integer ≥ ${min}`);
}

/** Size of the file at `path`, or undefined when there is none (other errors propagate). */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Synchronous {@link fileSize}, for the status checks. */
export function fileSizeSync(path: string): number | undefined {
  try {
    const info = statSync(path);
    return info.isFile() ? info.size : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

export interface ChannelStatistics {
  /** Mean of each channel over all training pixels of that channel. */
  mean: Float64Array;
  /** Population standard deviation of each channel (1 where it is 0). */
  std: Float64Array;
}

/**
 * Per-channel mean and std of channel-major inputs (each example: channel 0's `plane` values,
 * then channel 1's, …), in float64, two passes.
 */
export function channelStatistics(ds: Dataset, channels: number): ChannelStatistics {
  const plane = ds.inputDim / channels;
  if (!Number.isInteger(plane)) throw new Error(`channelStatistics: inputDim ${ds.inputDim} is not a multiple of ${channels} channels`);
  const mean = new Float64Array(channels);
  const std = new Float64Array(channels);
  if (ds.n === 0) return { mean, std: std.fill(1) };
  const count = ds.n * plane;
  for (let i = 0; i < ds.n; i++) {
    for (let c = 0; c < channels; c++) {
      const base = i * ds.inputDim + c * plane;
      let sum = 0;
      for (let p = 0; p < plane; p++) sum += ds.x[base + p];
      mean[c] += sum;
    }
  }
  for (let c = 0; c < channels; c++) mean[c] /= count;
  for (let i = 0; i < ds.n; i++) {
    for (let c = 0; c < channels; c++) {
      const base = i * ds.inputDim + c * plane;
      let sum = 0;
      for (let p = 0; p < plane; p++) {
        const centred = ds.x[base + p] - mean[c];
        sum += centred * centred;
      }
      std[c] += sum;
    }
  }
  for (let c = 0; c < channels; c++) std[c] = Math.sqrt(std[c] / count) || 1;
  return { mean, std };
}

/** Maps channel-major inputs to (x − mean_c)/std_c in place. */
export function applyChannelStatistics(ds: Dataset, channels: number, { mean, std }: ChannelStatistics): void {
  const plane = ds.inputDim / channels;
  for (let i = 0; i < ds.n; i++) {
    for (let c = 0; c < channels; c++) {
      const base = i * ds.inputDim + c * plane;
      for (let p = 0; p < plane; p++) ds.x[base + p] = (ds.x[base + p] - mean[c]) / std[c];
    }
  }
}

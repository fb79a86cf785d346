/**
 * The attention model's own ops (attention.ts), each with its forward, its adjoint (backward) and its
 * R-operator side by side, written with tfjs ops and no tfjs autodiff (tfjs's second derivatives through
 * softmax are wrong: its softmax gradient uses the saved output as a constant).
 *
 * Row softmax A = softmax(S) over the last axis:
 *   backward  dS = A ⊙ (dA − rowsum(dA ⊙ A))
 *   R-forward R{A} = A ⊙ (R{S} − rowsum(A ⊙ R{S}))
 *   R-backward R{dS} = R{A} ⊙ (dA − c) + A ⊙ (R{dA} − R{c}),  c = rowsum(dA ⊙ A), R{c} = rowsum(R{dA} ⊙ A + dA ⊙ R{A}).
 * Everything else (head split and merge, token embedding by a one-hot product, the readout's pooling over
 * positions) is linear at θ: its R-operator is itself and its adjoint is its transpose.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttentionReadout } from './layout';

/** A = softmax(S) over the last axis (tfjs subtracts the row max). */
export function rowSoftmax<T extends tf.Tensor>(s: T): T {
  return tf.softmax(s) as T;
}

/** rowsum(x) over the last axis, kept as a column. */
function rowSum<T extends tf.Tensor>(x: T): T {
  return tf.sum(x, -1, true) as T;
}

/** What the softmax's backward pass keeps for its R-operator: dA and dA − rowsum(dA ⊙ A). */
export interface SoftmaxBackward {
  /** dL/dS. */
  dS: tf.Tensor3D;
  /** dA − rowsum(dA ⊙ A). */
  centred: tf.Tensor3D;
}

/** dL/dS from dL/dA at A = softmax(S). */
export function rowSoftmaxBackward(a: tf.Tensor3D, dA: tf.Tensor3D): SoftmaxBackward {
  const centred = tf.sub<tf.Tensor3D>(dA, rowSum(tf.mul<tf.Tensor3D>(dA, a)));
  return { dS: tf.mul<tf.Tensor3D>(a, centred), centred };
}

/** R{A} for rS = R{S}. */
export function rowSoftmaxR(a: tf.Tensor3D, rS: tf.Tensor3D): tf.Tensor3D {
  return tf.mul<tf.Tensor3D>(a, tf.sub<tf.Tensor3D>(rS, rowSum(tf.mul<tf.Tensor3D>(a, rS))));
}

/** R{dS} from R{A} = rA, R{dA} = rdA and the backward pass's dA and centred dA at θ. */
export function rowSoftmaxBackwardR(a: tf.Tensor3D, dA: tf.Tensor3D, centred: tf.Tensor3D, rA: tf.Tensor3D, rdA: tf.Tensor3D): tf.Tensor3D {
  const rc = rowSum(tf.add<tf.Tensor3D>(tf.mul<tf.Tensor3D>(rdA, a), tf.mul<tf.Tensor3D>(dA, rA)));
  return tf.add<tf.Tensor3D>(tf.mul<tf.Tensor3D>(rA, centred), tf.mul<tf.Tensor3D>(a, tf.sub<tf.Tensor3D>(rdA, rc)));
}

/** The shape of a chunk's sequences: n sequences of T positions, width d split into H heads of d/H. */
export interface SequenceShape {
  n: number;
  T: number;
  d: number;
  heads: number;
}

/**
 * Rows [n·T, d] (position-major within each sequence) → per-head matrices [n·H, T, d/H]: head j holds columns
 * j·d/H … (j+1)·d/H − 1. A permutation of entries, so its adjoint is its inverse (mergeHeads).
 */
export function splitHeads(x: tf.Tensor2D, { n, T, d, heads }: SequenceShape): tf.Tensor3D {
  if (heads === 1) return tf.reshape(x, [n, T, d]);
  const dh = d / heads;
  return tf.reshape(tf.transpose(tf.reshape(x, [n, T, heads, dh]), [0, 2, 1, 3]), [n * heads, T, dh]);
}

/** The inverse (and adjoint) of splitHeads: [n·H, T, d/H] → [n·T, d]. */
export function mergeHeads(x: tf.Tensor3D, { n, T, d, heads }: SequenceShape): tf.Tensor2D {
  if (heads === 1) return tf.reshape(x, [n * T, d]);
  return tf.reshape(tf.transpose(tf.reshape(x, [n, heads, T, d / heads]), [0, 2, 1, 3]), [n * T, d]);
}

/** Token ids [n, T] (float values, checked integers in [0, V) by checkBatch) → one-hot rows [n·T, V]. */
export function oneHotTokens(x: tf.Tensor2D, vocabulary: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(tf.reshape(x, [-1]), 'int32'), vocabulary), 'float32') as tf.Tensor2D);
}

/** h_0 = X₁E + P: the one-hot rows X₁ [n·T, V] times the token table E [V, d], plus the positional table P [T, d] at each position. */
export function embed(oneHot: tf.Tensor2D, token: tf.Tensor2D, position: tf.Tensor2D, { n, T, d }: SequenceShape): tf.Tensor2D {
  return tf.reshape(tf.add(tf.reshape(tf.matMul(oneHot, token), [n, T, d]), position), [n * T, d]);
}

/** The adjoint of embed for dL/dh_0 = g [n·T, d]: dE = X₁ᵀ g (from X₁ᵀ [V, n·T], built once per chunk), dP = Σ over sequences of g. */
export function embedGradient(oneHotT: tf.Tensor2D, g: tf.Tensor2D, { n, T, d }: SequenceShape): { token: tf.Tensor2D; position: tf.Tensor2D } {
  return { token: tf.matMul(oneHotT, g), position: tf.sum(tf.reshape(g, [n, T, d]), 0) };
}

/** The readout's features u [n, d]: h at position 0 ('first') or the mean over positions ('mean'). */
export function readoutPool(h: tf.Tensor2D, readout: AttentionReadout, { n, T, d }: SequenceShape): tf.Tensor2D {
  const h3 = tf.reshape(h, [n, T, d]);
  if (readout === 'mean') return tf.mean(h3, 1);
  return tf.reshape(tf.slice(h3, [0, 0, 0], [n, 1, d]), [n, d]);
}

/** The adjoint of readoutPool: g [n, d] → [n·T, d] (g at position 0, or g/T at every position). */
export function readoutPoolAdjoint(g: tf.Tensor2D, readout: AttentionReadout, { n, T, d }: SequenceShape): tf.Tensor2D {
  const g3 = tf.reshape(g, [n, 1, d]);
  const spread = readout === 'mean' ? tf.tile(tf.mul(g3, 1 / T), [1, T, 1]) : tf.pad(g3, [[0, 0], [0, T - 1], [0, 0]]);
  return tf.reshape(spread, [n * T, d]);
}

/**
 * Losses on the network output f (rows are examples), each with its value, its gradient dL/df and the
 * R-operator of that gradient side by side. L is a mean over the N examples of the whole batch; a chunk
 * of it contributes its sum over rows (the caller divides by N) and gradients already scaled by 1/N.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossKind } from './layout';

export interface OutputState {
  /** Σ over the chunk's rows of the per-example loss (not divided by N). */
  lossSum: tf.Scalar;
  /** dL/df = ∂(1/N Σ ℓ_n)/∂f, rows of the chunk. */
  delta: tf.Tensor2D;
  /** What R{dL/df} needs at this θ (softmax p for cross-entropy), or null. */
  saved: tf.Tensor2D | null;
}

export interface LossOps {
  name: LossKind;
  /** Loss sum, gradient and saved state at output f for targets y; invN = 1/N of the whole batch. */
  outputState(f: tf.Tensor2D, y: tf.Tensor2D, invN: number): OutputState;
  /** Loss sum only (cheaper than outputState when no gradient is needed). */
  lossSum(f: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar;
  /** R{dL/df} for the output perturbation rf = R{f}. */
  rDelta(saved: tf.Tensor2D | null, rf: tf.Tensor2D, invN: number): tf.Tensor2D;
}

/** MSE ℓ = ½‖f − y‖²: dL/df = (f − y)/N, R{dL/df} = R{f}/N. */
export const mse: LossOps = {
  name: 'mse',
  lossSum: (f, y) => tf.mul(tf.sum(tf.square(tf.sub(f, y))), 0.5),
  outputState(f, y, invN) {
    const r = tf.sub(f, y);
    return { lossSum: tf.mul(tf.sum(tf.square(r)), 0.5), delta: tf.mul(r, invN), saved: null };
  },
  rDelta: (_saved, rf, invN) => tf.mul(rf, invN),
};

/** log softmax by a stable log-sum-exp (tf.logSumExp subtracts the row max). */
function logSoftmax(f: tf.Tensor2D): tf.Tensor2D {
  return tf.sub(f, tf.logSumExp(f, 1, true));
}

/**
 * Softmax cross-entropy ℓ = −Σ_c y_c log p_c, p = softmax(f):
 * dL/df = (p − y)/N, R{dL/df} = (p ⊙ R{f} − p ⊙ rowsum(p ⊙ R{f}))/N.
 */
export const crossEntropy: LossOps = {
  name: 'cross_entropy',
  lossSum: (f, y) => tf.neg(tf.sum<tf.Scalar>(tf.mul(y, logSoftmax(f)))),
  outputState(f, y, invN) {
    const logP = logSoftmax(f);
    const p = tf.exp(logP);
    return { lossSum: tf.neg(tf.sum<tf.Scalar>(tf.mul(y, logP))), delta: tf.mul(tf.sub(p, y), invN), saved: p };
  },
  rDelta(saved, rf, invN) {
    if (saved === null) throw new Error('cross_entropy.rDelta needs the softmax saved by outputState');
    const prf = tf.mul(saved, rf);
    return tf.mul(tf.sub(prf, tf.mul(saved, tf.sum(prf, 1, true))), invN);
  },
};

const BY_NAME: Record<LossKind, LossOps> = { mse, cross_entropy: crossEntropy };

export function lossOps(name: LossKind): LossOps {
  const ops = BY_NAME[name];
  if (!ops) throw new Error(`unknown loss '${name}' (valid: ${Object.keys(BY_NAME).join(', ')})`);
  return ops;
}

/**
 * 2×2, stride-2 pooling of a conv layer's activations s [n, H, W, C] → [n, ⌊H/2⌋, ⌊W/2⌋, C] (an odd last row
 * or column is dropped, as TensorFlow's 'valid' pooling), with its R-operator and adjoint side by side.
 *
 * Average pooling is linear: its R-operator is itself and its adjoint spreads g/4 over each window.
 * Max pooling is linear in s once the position of each window's maximum is fixed: with routing weights
 * w (1 at the argmax, 0 elsewhere), max-pool(s) = Σ_window w ⊙ s. Its derivative at θ is that linear map with
 * w fixed at θ, so the R-operator is R{pool(s)} = Σ_window w ⊙ R{s} and the adjoint routes g to the argmax,
 * both with the same w taken at θ (exact wherever no window has a tie, i.e. almost everywhere). At an exact
 * m-fold tie the weight is split, 1/m to each tied position (the average of the one-sided derivatives).
 * The float64 reference (reference.ts) uses the same tie rule. For a monotone σ, cnn.ts takes w from z rather
 * than s = σ(z) (poolRouting(z, maxPool(z))): the same argmax, without the ties that float32 rounding of σ
 * makes (nearby z rounded to one σ(z); relu's zeros, where σ' = 0 makes the choice irrelevant anyway).
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvGeometry } from './layout';

/** What the R-operator and the adjoint of one layer's pooling need from θ: max pooling's routing weights. */
export interface PoolRouting {
  /** Max pooling: w [n, H, W, C] (zero on a dropped odd row/column); null for 'avg' and 'none'. */
  weights: tf.Tensor4D | null;
}

/** The layer output pool(s). */
export function poolForward(s: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  if (g.pool === 'none') return s;
  return g.pool === 'avg' ? tf.avgPool(s, 2, 2, 'valid') : tf.maxPool(s, 2, 2, 'valid');
}

/** Nearest-neighbour 2× upsampling of g [n, H/2, W/2, C] to [n, H, W, C] (each value copied into its window), zero-padded to H × W. */
function spread(g: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  const up = tf.image.resizeNearestNeighbor(g, [2 * geometry.pooledH, 2 * geometry.pooledW]);
  const [extraH, extraW] = [geometry.outH - 2 * geometry.pooledH, geometry.outW - 2 * geometry.pooledW];
  return extraH === 0 && extraW === 0 ? up : tf.pad(up, [[0, 0], [0, extraH], [0, extraW], [0, 0]]);
}

/** Max pooling's routing weights at θ from the values s it routes on and out = maxPool(s); nothing to save for 'avg' and 'none'. */
export function poolRouting(s: tf.Tensor4D, out: tf.Tensor4D, g: ConvGeometry): PoolRouting {
  if (g.pool !== 'max') return { weights: null };
  const [n, C] = [s.shape[0], s.shape[3]];
  const [h, w] = [2 * g.pooledH, 2 * g.pooledW];
  const cropped: tf.Tensor4D = h === g.outH && w === g.outW ? s : tf.slice(s, [0, 0, 0, 0], [n, h, w, C]);
  const isMax = tf.cast(tf.equal(cropped, tf.image.resizeNearestNeighbor(out, [h, w])) as tf.Tensor4D, 'float32');
  // ties per window: 4·mean of the indicator; each tied position gets 1/ties.
  const ties = tf.mul<tf.Tensor4D>(tf.avgPool(isMax, 2, 2, 'valid'), 4);
  const weights = tf.div<tf.Tensor4D>(isMax, tf.image.resizeNearestNeighbor(ties, [h, w]));
  const [extraH, extraW] = [g.outH - h, g.outW - w];
  return { weights: extraH === 0 && extraW === 0 ? weights : tf.pad(weights, [[0, 0], [0, extraH], [0, extraW], [0, 0]]) };
}

/** R{pool(s)} for r = R{s}: the pooling's derivative at θ (for max, routed by the weights fixed at θ). */
export function poolR(r: tf.Tensor4D, routing: PoolRouting, g: ConvGeometry): tf.Tensor4D {
  if (g.pool === 'none') return r;
  if (g.pool === 'avg') return tf.avgPool(r, 2, 2, 'valid');
  if (routing.weights === null) throw new Error('poolR: max pooling needs its routing weights');
  return tf.mul(tf.avgPool(tf.mul<tf.Tensor4D>(r, routing.weights), 2, 2, 'valid'), 4);
}

/** The adjoint of poolR: gradient g of the layer output [n, H/2, W/2, C] → gradient of s [n, H, W, C]. */
export function poolAdjoint(gOut: tf.Tensor4D, routing: PoolRouting, g: ConvGeometry): tf.Tensor4D {
  if (g.pool === 'none') return gOut;
  if (g.pool === 'avg') return spread(tf.mul(gOut, 0.25), g);
  if (routing.weights === null) throw new Error('poolAdjoint: max pooling needs its routing weights');
  return tf.mul(spread(gOut, g), routing.weights);
}

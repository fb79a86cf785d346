/**
 * A conv layer's linear maps in tfjs ops (stride 1, pads from its ConvGeometry), each with its adjoints side
 * by side. With pads pt (top) and pl (left), zero outside the input:
 *   conv(a, K)[n,y,x,o] = Σ_{dy,dx,c} a[n, y+dy−pt, x+dx−pl, c] · K[dy,dx,c,o]
 * is bilinear in (a, K), so the backward pass and the R-operator need only its two adjoints:
 *   convInputAdjoint(δ, flipKernel(K)) = the adjoint in a:  ⟨conv(a, K), δ⟩ = ⟨a, convInputAdjoint(δ, flip(K))⟩
 *   convKernelGradient(a, δ)          = the adjoint in K:  ⟨conv(a, K), δ⟩ = ⟨K, convKernelGradient(a, δ)⟩
 * All three are plain tf.conv2d calls (XNNPACK on wasm): wasm has no Conv2DBackpropFilter kernel, and its
 * Conv2DBackpropInput is ~5× slower than a forward conv with the flipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvGeometry } from './layout';

type Pads = 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

function pads(top: number, bottom: number, left: number, right: number): Pads {
  return top === 0 && bottom === 0 && left === 0 && right === 0 ? 'valid' : [[0, 0], [top, bottom], [left, right], [0, 0]];
}

/** z = conv(a, K) + b: a [n, inH, inW, inC], K [k, k, inC, filters] → [n, outH, outW, filters]. */
export function convForward(a: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | null, g: ConvGeometry): tf.Tensor4D {
  const z = tf.conv2d(a, kernel, 1, pads(g.padTop, g.padBottom, g.padLeft, g.padRight));
  return bias === null ? z : tf.add(z, bias);
}

/** K flipped in both spatial axes with its channel axes swapped: [k, k, filters, inC], for convInputAdjoint. */
export function flipKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
}

/**
 * The adjoint of a ↦ conv(a, K): δ [n, outH, outW, filters] → [n, inH, inW, inC]. It is the correlation of δ
 * with the flipped kernel, padded by k−1−pad on each side (the pads swap sides): for 'same' with an odd
 * kernel that is 'same' again, for 'valid' it is the full padding k−1.
 */
export function convInputAdjoint(delta: tf.Tensor4D, flipped: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const k = g.kernel;
  return tf.conv2d(delta, flipped, 1, pads(k - 1 - g.padTop, k - 1 - g.padBottom, k - 1 - g.padLeft, k - 1 - g.padRight));
}

/**
 * The adjoint of K ↦ conv(a, K): gK[dy,dx,c,o] = Σ_{n,y,x} a[n, y+dy−pt, x+dx−pl, c] · δ[n,y,x,o], as
 * [k, k, inC, filters] (θ's order of the kernel). Computed as one conv with the batch as the channel axis:
 * input aᵀ [inC, inH, inW, n] (padded like the forward conv), filter δᵀ [outH, outW, n, filters], giving
 * [inC, k, k, filters].
 */
export function convKernelGradient(a: tf.Tensor4D, delta: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const aT = tf.transpose(a, [3, 1, 2, 0]);
  const deltaT = tf.transpose(delta, [1, 2, 0, 3]);
  const gT = tf.conv2d(aT, deltaT, 1, pads(g.padTop, g.padBottom, g.padLeft, g.padRight));
  return tf.transpose(gT, [1, 2, 0, 3]);
}

/** Σ over n, y, x of δ [n, outH, outW, filters]: the bias gradient [filters]. */
export function convBiasGradient(delta: tf.Tensor4D): tf.Tensor1D {
  return tf.sum(delta, [0, 1, 2]);
}

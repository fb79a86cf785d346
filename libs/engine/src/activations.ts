/**
 * Hidden-layer activations σ, each with its forward, first and second derivative side by side.
 * The backward pass needs σ'(z); Pearlmutter's R-operator also needs σ''(z). Both are given in terms of
 * z and a = σ(z) (whichever is cheaper), and a derivative that is identically 1 (σ') or 0 (σ'') is reported
 * as null so that callers skip the multiply. All are elementwise, so they take a tensor of any rank (the MLP's
 * [n, width], the CNN's [n, h, w, c]) and return one of the same shape.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from './layout';

export interface ActivationOps {
  name: Activation;
  /** a = σ(z). */
  forward<T extends tf.Tensor>(z: T): T;
  /** σ'(z) given z and a = σ(z); null where σ' ≡ 1. */
  derivative<T extends tf.Tensor>(z: T, a: T): T | null;
  /** σ''(z) given z and a = σ(z); null where σ'' ≡ 0. */
  secondDerivative<T extends tf.Tensor>(z: T, a: T): T | null;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Standard normal cdf Φ(z) = ½(1 + erf(z/√2)). */
function normalCdf<T extends tf.Tensor>(z: T): T {
  return tf.mul(tf.add(tf.erf(tf.mul(z, SQRT1_2)), 1), 0.5);
}

/** Standard normal density φ(z) = exp(−z²/2)/√(2π). */
function normalPdf<T extends tf.Tensor>(z: T): T {
  return tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), INV_SQRT_2PI);
}

/** tanh: σ' = 1 − t², σ'' = −2t(1 − t²), with t = tanh z = a. */
export const tanh: ActivationOps = {
  name: 'tanh',
  forward: (z) => tf.tanh(z),
  derivative: <T extends tf.Tensor>(_z: T, a: T) => tf.sub(1, tf.square(a)) as T,
  secondDerivative: <T extends tf.Tensor>(_z: T, a: T) => tf.mul(tf.mul(a, -2), tf.sub(1, tf.square(a))) as T,
};

/** relu: σ' = step(z) (0 at z = 0), σ'' = 0 almost everywhere. */
export const relu: ActivationOps = {
  name: 'relu',
  forward: (z) => tf.relu(z),
  derivative: (z) => tf.step(z, 0),
  secondDerivative: () => null,
};

/** Exact gelu σ(z) = zΦ(z): σ' = Φ(z) + zφ(z), σ'' = φ(z)(2 − z²). */
export const gelu: ActivationOps = {
  name: 'gelu',
  forward: <T extends tf.Tensor>(z: T) => tf.mul<T>(z, normalCdf(z)),
  derivative: <T extends tf.Tensor>(z: T) => tf.add<T>(normalCdf(z), tf.mul(z, normalPdf(z))),
  secondDerivative: <T extends tf.Tensor>(z: T) => tf.mul(normalPdf(z), tf.sub(2, tf.square(z))) as T,
};

/** Identity: σ' = 1, σ'' = 0. */
export const linear: ActivationOps = {
  name: 'linear',
  forward: (z) => z,
  derivative: () => null,
  secondDerivative: () => null,
};

const BY_NAME: Record<Activation, ActivationOps> = { tanh, relu, gelu, linear };

export function activationOps(name: Activation): ActivationOps {
  const ops = BY_NAME[name];
  if (!ops) throw new Error(`unknown activation '${name}' (valid: ${Object.keys(BY_NAME).join(', ')})`);
  return ops;
}

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
  /** σ is non-decreasing: a max pooling of σ(z) takes its maximum where z does (cnn.ts routes on z then). */
  monotone: boolean;
  /** a = σ(z). */
  forward<T extends tf.Tensor>(z: T): T;
  /** σ'(z) given z and a = σ(z); null where σ' ≡ 1. */
  derivative<T extends tf.Tensor>(z: T, a: T): T | null;
  /** σ''(z) given z, a = σ(z) and, when the caller has it, σ'(z) (saves recomputing it); null where σ'' ≡ 0. */
  secondDerivative<T extends tf.Tensor>(z: T, a: T, first?: T | null): T | null;
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

/**
 * tanh z on the active backend. wasm's Tanh kernel is scalar libm (measured 4–6 ms per 400k values on this
 * machine), its Sigmoid is XNNPACK's vectorised one (0.4 ms), so there tanh z = 2σ(2z) − 1 (0.6 ms): absolute
 * error ≤ 1.8e-7 (≈ 1.5 ulp of 1, against 8e-8 for the Tanh kernel), a relative error that grows only where
 * |tanh z| is tiny, which the next layer's sum does not see (tests: activations, mlp and cnn against float64).
 * Every other backend has a fast tanh of its own.
 */
export function tanhForward<T extends tf.Tensor>(z: T): T {
  if (tf.getBackend() !== 'wasm') return tf.tanh(z);
  return tf.tidy(() => tf.sub<T>(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1));
}

/** tanh: σ' = 1 − t², σ'' = −2t(1 − t²), with t = tanh z = a. */
export const tanh: ActivationOps = {
  name: 'tanh',
  monotone: true,
  forward: tanhForward,
  derivative: <T extends tf.Tensor>(_z: T, a: T) => tf.sub(1, tf.square(a)) as T,
  secondDerivative: <T extends tf.Tensor>(_z: T, a: T, first?: T | null) => tf.mul(tf.mul(a, -2), first ?? tf.sub(1, tf.square(a))) as T,
};

/** relu: σ' = step(z) (0 at z = 0), σ'' = 0 almost everywhere. */
export const relu: ActivationOps = {
  name: 'relu',
  monotone: true,
  forward: (z) => tf.relu(z),
  derivative: (z) => tf.step(z, 0),
  secondDerivative: () => null,
};

/** Exact gelu σ(z) = zΦ(z): σ' = Φ(z) + zφ(z), σ'' = φ(z)(2 − z²). */
export const gelu: ActivationOps = {
  name: 'gelu',
  monotone: false,
  forward: <T extends tf.Tensor>(z: T) => tf.mul<T>(z, normalCdf(z)),
  derivative: <T extends tf.Tensor>(z: T) => tf.add<T>(normalCdf(z), tf.mul(z, normalPdf(z))),
  secondDerivative: <T extends tf.Tensor>(z: T) => tf.mul(normalPdf(z), tf.sub(2, tf.square(z))) as T,
};

/** Identity: σ' = 1, σ'' = 0. */
export const linear: ActivationOps = {
  name: 'linear',
  monotone: true,
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

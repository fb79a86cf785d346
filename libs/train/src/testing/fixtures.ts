/** Test objectives with known answers (for this lib's tests only; not exported from the index). */
import type { Curvature, ParameterLayout } from '@lrscape/engine';
import type { TrainableObjective } from '../gradient-descent';

/** A Curvature whose HVP is `apply` (every scope gets the full operator: these objectives have one layer). */
export function curvatureOf(size: number, apply: (v: Float64Array) => Float64Array): Curvature {
  let count = 0;
  const hvp = async (v: Float64Array) => {
    count++;
    return apply(v);
  };
  return { size, hvp, operator: () => hvp, get hvpCount() { return count; }, dispose() {} };
}

/**
 * L(θ) = ½ Σ a_i θ_i²: Hessian diag(a), λmax = max a, GD stable iff η < 2/λmax, and θ_t = (1 − ηa_i)^t θ_0 per
 * coordinate. Counts its gradient evaluations.
 */
export function quadratic(a: readonly number[]): TrainableObjective & { gradientCalls: number } {
  const loss = (theta: Float32Array) => a.reduce((s, ai, i) => s + 0.5 * ai * theta[i] * theta[i], 0);
  const objective = {
    layout: { size: a.length },
    gradientCalls: 0,
    async lossAndGradient(theta: Float32Array) {
      objective.gradientCalls++;
      return { loss: loss(theta), accuracy: null, gradient: Float32Array.from(a, (ai, i) => ai * theta[i]) };
    },
    async evaluate(theta: Float32Array) {
      return { loss: loss(theta), accuracy: null };
    },
    async curvatureAt() {
      return curvatureOf(a.length, (v) => v.map((vi, i) => a[i] * vi));
    },
  };
  return objective;
}

/** Closed-form loss of GD at constant η on quadratic(a) from θ_0, at step t (float64; training rounds θ to float32). */
export function quadraticLossAt(a: readonly number[], theta0: readonly number[], eta: number, t: number): number {
  return a.reduce((s, ai, i) => s + 0.5 * ai * (1 - eta * ai) ** (2 * t) * theta0[i] ** 2, 0);
}

/** An objective whose loss follows a script (one entry per gradient evaluation), with a zero gradient. */
export function scripted(losses: readonly number[]): TrainableObjective {
  let calls = 0;
  return {
    layout: { size: 1 },
    async lossAndGradient() {
      return { loss: losses[calls++], accuracy: null, gradient: new Float32Array(1) };
    },
    async evaluate() {
      return { loss: 0, accuracy: null };
    },
    async curvatureAt() {
      return curvatureOf(1, (v) => Float64Array.from(v));
    },
  };
}

/** The layout of one dense layer with a kernel [inputs, outputs] and a bias [outputs] (size (inputs + 1)·outputs). */
export function denseLayout(inputs: number, outputs: number): ParameterLayout {
  const kernel = inputs * outputs;
  return {
    slots: [
      { name: 'dense0/kernel', layer: 0, role: 'kernel', shape: [inputs, outputs], offset: 0, size: kernel },
      { name: 'dense0/bias', layer: 0, role: 'bias', shape: [outputs], offset: kernel, size: outputs },
    ],
    layers: [{ name: 'dense0', offset: 0, size: kernel + outputs }],
    size: kernel + outputs,
    layerCount: 1,
  };
}

/**
 * θ = [t, 0] is a step counter (∇L = [−1, 0], η = 1: θ_t = [t, 0] exactly in float32) and L(θ) = losses[t]: a
 * scripted loss that is still a function of θ, so a run resumed from any state follows the same script.
 */
export function counter(losses: readonly number[]): TrainableObjective {
  const at = (theta: Float32Array) => losses[Math.round(theta[0])];
  return {
    layout: { size: 2 },
    async lossAndGradient(theta) {
      return { loss: at(theta), accuracy: null, gradient: Float32Array.of(-1, 0) };
    },
    async evaluate(theta) {
      return { loss: at(theta), accuracy: null };
    },
    async curvatureAt() {
      return curvatureOf(2, (v) => v.map((x) => 2 * x));
    },
  };
}

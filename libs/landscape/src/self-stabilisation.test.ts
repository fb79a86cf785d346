import { describe, expect, it } from 'vitest';
import { modelLayout, referenceModelHessian, type Batch, type MlpSpec } from '@lrscape/engine';
import { createRng, dot, symmetricEigen } from '@lrscape/linalg';
import { Float64Mlp } from './float64-mlp';
import { clusterGradient, thirdDerivativeAlong, topClusterSize, topEigenpairs } from './self-stabilisation';

const vector = (n: number, seed: number, scale = 1) => {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => scale * rng.normal());
};
const unit = (v: Float64Array) => {
  const s = Math.sqrt(dot(v, v));
  return v.map((x) => x / s);
};
const maxAbs = (a: Float64Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const minus = (a: Float64Array, b: Float64Array) => a.map((x, i) => x - b[i]);

/**
 * L(θ) = ½θᵀAθ + (bᵀθ)³/6 + Σ d_i θ_i⁴/24 + Σ e_i θ_i⁵/120, so that
 *   H = A + (bᵀθ) bbᵀ + diag(d_i θ_i²/2 + e_i θ_i³/6),
 *   ∇³L[u, u]_k = b_k (bᵀu)² + (d_k θ_k + e_k θ_k²/2) u_k²,
 *   ∇⁵L[u, u, u, u]_k = e_k u_k⁴ (the central difference's truncation error is ε²/12 of it).
 */
function polynomial(n: number, e: Float64Array, a: Float64Array = diagonal([5, 2, 1, 0.5, 0.2].slice(0, n))) {
  const b = vector(n, 3, 0.5);
  const d = vector(n, 4);
  const gradient = (theta: Float64Array) => {
    const bt = dot(b, theta);
    return Float64Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * theta[j];
      return s + 0.5 * bt * bt * b[i] + (d[i] * theta[i] ** 3) / 6 + (e[i] * theta[i] ** 4) / 24;
    });
  };
  const hessian = (theta: Float64Array) => {
    const bt = dot(b, theta);
    const h = Float64Array.from(a);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) h[i * n + j] += bt * b[i] * b[j];
      h[i * n + i] += (d[i] * theta[i] ** 2) / 2 + (e[i] * theta[i] ** 3) / 6;
    }
    return h;
  };
  const third = (theta: Float64Array, u: Float64Array) => {
    const bu = dot(b, u);
    return Float64Array.from({ length: n }, (_, k) => b[k] * bu * bu + (d[k] * theta[k] + (e[k] * theta[k] ** 2) / 2) * u[k] * u[k]);
  };
  return { gradient, hessian, third };
}

function diagonal(values: number[]): Float64Array {
  const n = values.length;
  const m = new Float64Array(n * n);
  values.forEach((v, i) => (m[i * n + i] = v));
  return m;
}

describe('thirdDerivativeAlong', () => {
  const n = 5;
  const theta = vector(n, 1, 0.8);
  const u = unit(vector(n, 2));

  it('is exact (to rounding) on a quartic, whose gradient is cubic', () => {
    const f = polynomial(n, new Float64Array(n));
    const exact = f.third(theta, u);
    for (const epsilon of [1e-3, 1e-2, 0.1]) {
      expect(maxAbs(minus(thirdDerivativeAlong(f.gradient, theta, u, epsilon), exact)) / maxAbs(exact)).toBeLessThan(1e-8);
    }
  });

  it('has the truncation error ε²/12·∇⁵L[u,u,u,u] on a quintic, and clusterGradient estimates it', () => {
    const e = vector(n, 5, 3);
    const f = polynomial(n, e);
    const exact = f.third(theta, u);
    const epsilon = 0.05;
    const error = minus(thirdDerivativeAlong(f.gradient, theta, u, epsilon), exact);
    const predicted = e.map((ek, k) => ((epsilon * epsilon) / 12) * ek * u[k] ** 4);
    expect(maxAbs(minus(error, predicted))).toBeLessThan(1e-9);
    const { gradient, relativeError } = clusterGradient(f.gradient, theta, [u], epsilon);
    const trueRelative = Math.sqrt(dot(error, error) / dot(gradient, gradient));
    expect(relativeError).toBeGreaterThan(0.9 * trueRelative);
    expect(relativeError).toBeLessThan(1.1 * trueRelative);
  });

  it('refuses a non-positive step', () => {
    expect(() => thirdDerivativeAlong((t) => t, theta, u, 0)).toThrow(/epsilon/);
  });
});

describe('∇S against finite differences of exact float64 Hessians (hyper-dual reference) on a tiny net', () => {
  const spec: MlpSpec = { inputDim: 2, hidden: [3], outputDim: 2, activation: 'tanh', loss: 'mse' };
  const P = modelLayout(spec).size;
  const rng = createRng(7);
  const batch: Batch = { n: 5, x: Float32Array.from({ length: 10 }, () => rng.normal()), y: Float32Array.from({ length: 10 }, () => rng.normal()) };
  const theta = vector(P, 8, 0.9);
  const model = new Float64Mlp(spec, modelLayout(spec), batch);
  const top = (t: Float64Array) => symmetricEigen(referenceModelHessian(spec, t, batch), P);

  it('∇³L[u₁, u₁] is the gradient of λ₁ (central differences of λ₁ of exact Hessians, h = 1e-5)', () => {
    const { values, vectors } = top(theta);
    expect(values[0] / values[1]).toBeGreaterThan(1.1); // a simple top eigenvalue (1.13 here): the formula applies
    const gradS = clusterGradient((t) => model.gradient(t), theta, [vectors[0]], 1e-3).gradient;
    const h = 1e-5;
    const fd = Float64Array.from({ length: P }, (_, k) => {
      const up = Float64Array.from(theta);
      up[k] += h;
      const down = Float64Array.from(theta);
      down[k] -= h;
      return (top(up).values[0] - top(down).values[0]) / (2 * h);
    });
    expect(maxAbs(minus(gradS, fd)) / maxAbs(fd)).toBeLessThan(1e-6);
  });

  it('topEigenpairs (Lanczos on the float64 HVP) finds the dense top four, warm or cold', async () => {
    const dense = top(theta);
    const cold = await topEigenpairs((v) => model.hessianVector(theta, v), P, { count: 4, tolerance: 1e-10, maxIterations: P });
    cold.values.forEach((value, i) => expect(Math.abs(value - dense.values[i])).toBeLessThan(1e-9 * Math.abs(dense.values[0])));
    expect(Math.abs(dot(cold.vectors[0], dense.vectors[0]))).toBeGreaterThan(1 - 1e-9);
    expect(cold.residual).toBeLessThan(1e-8);
    const warm = await topEigenpairs((v) => model.hessianVector(theta, v), P, { count: 4, tolerance: 1e-10, maxIterations: P, warm: cold.vectors });
    expect(Math.abs(warm.values[0] - dense.values[0])).toBeLessThan(1e-9 * Math.abs(dense.values[0]));
    expect(warm.hvps).toBeLessThan(cold.hvps);
  });
});

describe('the top cluster', () => {
  it('topClusterSize counts the eigenvalues within the gap ratio of λ₁', () => {
    expect(topClusterSize([10, 5, 1], 1.1)).toBe(1);
    expect(topClusterSize([10, 9.5, 9.2, 1], 1.1)).toBe(3);
    expect(topClusterSize([10, 9.5, 9.2], 1.1)).toBe(3);
    expect(topClusterSize([10, -10], 1.1)).toBe(1);
    expect(topClusterSize([], 1.1)).toBe(0);
    expect(() => topClusterSize([1], 1)).toThrow(/gap ratio/);
  });

  it('at an exact double top eigenvalue, Σ ∇³L[u_i, u_i] over any basis of its eigenspace is ∇(λ₁ + λ₂)', () => {
    const n = 5;
    // A = diag(4, 4, 1, 0.5, 0.2) and θ = 0: H(0) = A has λ₁ = λ₂ = 4 (the cubic and quartic terms vanish at 0).
    const f = polynomial(n, new Float64Array(n), diagonal([4, 4, 1, 0.5, 0.2]));
    const theta = new Float64Array(n);
    // A rotated basis of span(e₁, e₂): the trace's gradient does not depend on the choice.
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const basis = [Float64Array.from([c, s, 0, 0, 0]), Float64Array.from([-s, c, 0, 0, 0])];
    const fromCluster = clusterGradient(f.gradient, theta, basis, 1e-3).gradient;
    const h = 1e-6;
    const traceTop2 = (t: Float64Array) => {
      const values = symmetricEigen(f.hessian(t), n).values;
      return values[0] + values[1];
    };
    const fd = Float64Array.from({ length: n }, (_, k) => {
      const up = Float64Array.from(theta);
      up[k] += h;
      const down = Float64Array.from(theta);
      down[k] -= h;
      return (traceTop2(up) - traceTop2(down)) / (2 * h);
    });
    expect(maxAbs(minus(fromCluster, fd))).toBeLessThan(1e-6 * maxAbs(fd));
  });
});

import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { slqDensity } from './slq';
import { denseOperator, fromSpectrum, randomOrthogonal } from './testing/matrices';

/** Trapezoid rule of y on the grid x. */
function trapezoid(x: Float64Array, y: Float64Array, from = -Infinity, to = Infinity): number {
  let s = 0;
  for (let i = 1; i < x.length; i++) {
    if (x[i - 1] >= from && x[i] <= to) s += 0.5 * (x[i] - x[i - 1]) * (y[i] + y[i - 1]);
  }
  return s;
}

/** Quadrature moment Σ_j w_j θ_j^p averaged over probes. */
function quadratureMoment(nodes: Float64Array[], weights: Float64Array[], p: number): number {
  let s = 0;
  nodes.forEach((theta, k) => theta.forEach((t, j) => (s += weights[k][j] * t ** p)));
  return s / nodes.length;
}

describe('slqDensity', () => {
  const n = 200;
  const rng = createRng(61);
  const lambda = Array.from({ length: n }, () => 4 * rng.uniform() - 1);
  const h = fromSpectrum(lambda, randomOrthogonal(n, 62));

  it('gives a density that integrates to 1 on its grid and weights that sum to 1 per probe', async () => {
    const { op, calls } = denseOperator(h, n);
    const result = await slqDensity(op, n, { probes: 8, steps: 30 });
    expect(calls()).toBe(8 * 30);
    expect(result.lambda).toHaveLength(1024);
    expect(trapezoid(result.lambda, result.density)).toBeCloseTo(1, 3);
    for (const w of result.weights) expect(w.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    for (const theta of result.nodes) {
      expect(theta).toHaveLength(30);
      for (let j = 1; j < theta.length; j++) expect(theta[j]).toBeLessThanOrEqual(theta[j - 1]);
    }
    // The grid is padded beyond the extreme nodes, and Ritz values lie inside the spectrum.
    const allNodes = result.nodes.flatMap((t) => Array.from(t));
    expect(result.lambda[0]).toBeLessThan(Math.min(...allNodes));
    expect(result.lambda[result.lambda.length - 1]).toBeGreaterThan(Math.max(...allNodes));
    expect(Math.min(...allNodes)).toBeGreaterThanOrEqual(Math.min(...lambda) - 1e-10);
    expect(Math.max(...allNodes)).toBeLessThanOrEqual(Math.max(...lambda) + 1e-10);
  });

  it('matches the spectral moments tr(Hᵖ)/n, p = 1, 2, within the probe noise', async () => {
    const probes = 40;
    const { nodes, weights } = await slqDensity(denseOperator(h, n).op, n, { probes, steps: 20, seed: 3 });
    for (const p of [1, 2]) {
      const exact = lambda.reduce((s, x) => s + x ** p, 0) / n;
      // Var[vᵀAv] ≤ 2‖A‖_F²/n² for a normalised Rademacher v, so the mean over probes has std ≤ √2‖A‖_F/(n√probes).
      const frobenius = Math.sqrt(lambda.reduce((s, x) => s + x ** (2 * p), 0));
      const std = (Math.SQRT2 * frobenius) / (n * Math.sqrt(probes));
      expect(Math.abs(quadratureMoment(nodes, weights, p) - exact)).toBeLessThan(4 * std);
    }
  });

  it('puts mass in each of two separated clusters in proportion to its size', async () => {
    const m = 120;
    const r = createRng(63);
    const clusters = Array.from({ length: m }, (_, i) => (i < 30 ? 1 + 0.1 * r.normal() : 10 + 0.3 * r.normal()));
    const hc = fromSpectrum(clusters, randomOrthogonal(m, 64));
    const result = await slqDensity(denseOperator(hc, m).op, m, { probes: 20, steps: 25, seed: 5 });
    const low = trapezoid(result.lambda, result.density, -Infinity, 5.5);
    const high = trapezoid(result.lambda, result.density, 5.5, Infinity);
    expect(low).toBeCloseTo(30 / m, 1);
    expect(high).toBeCloseTo(90 / m, 1);
    expect(low + high).toBeCloseTo(1, 3);
  });

  it('stops early on breakdown: H = cI has one node of weight 1; honours sigma and range', async () => {
    const { op, calls } = denseOperator(fromSpectrum(Array<number>(10).fill(2.5), randomOrthogonal(10, 65)), 10);
    const result = await slqDensity(op, 10, { probes: 3, steps: 8, sigma: 0.1, range: [1, 4], gridSize: 301 });
    expect(calls()).toBe(3);
    for (let k = 0; k < 3; k++) {
      expect(result.nodes[k]).toHaveLength(1);
      expect(result.nodes[k][0]).toBeCloseTo(2.5, 13);
      expect(result.weights[k][0]).toBeCloseTo(1, 13);
    }
    expect(result.lambda[0]).toBe(1);
    expect(result.lambda[300]).toBe(4);
    // Peak of a unit Gaussian of width 0.1 at the node.
    expect(result.density[150]).toBeCloseTo(1 / (0.1 * Math.sqrt(2 * Math.PI)), 10);
    expect(trapezoid(result.lambda, result.density)).toBeCloseTo(1, 6);
  });
});

/**
 * Stochastic Lanczos quadrature for the spectral density φ(λ) = (1/n) Σ_i δ(λ − λ_i) of a symmetric H
 * (Lin, Saad & Yang 2016; Ubaru, Chen & Saad 2017; Ghorbani, Krishnan & Xiao 2019).
 *
 * For a unit probe v, vᵀ f(H) v = Σ_i (vᵀu_i)² f(λ_i) is an integral against the spectral measure of v,
 * and E[(vᵀu_i)²] = 1/n for normalised Rademacher v, so that measure is an unbiased estimate of φ.
 * k steps of Lanczos from v give its k-point Gauss quadrature: nodes θ_j = eigenvalues of T_k and weights
 * w_j = (e_1ᵀ s_j)², exact for polynomials of degree ≤ 2k − 1. The density is the average over probes of
 * Σ_j w_j N(λ; θ_j, σ²).
 */
import type { LinearOperator } from './operator';
import { LanczosProcess } from './lanczos-process';
import { createRng } from './random';
import { descendingOrder, implicitQL } from './tridiagonal';
import { rademacherVector } from './vector';

export interface SlqOptions {
  /** Number of random probe vectors. */
  probes: number;
  /** Lanczos steps per probe (quadrature nodes), capped at n. */
  steps: number;
  /** Points of the λ grid; default 1024. */
  gridSize?: number;
  /** Gaussian smoothing width; default 0.5% of the node range (max node − min node over all probes). */
  sigma?: number;
  /** λ grid bounds; default [min node − 5σ, max node + 5σ], which holds all but ~1e-7 of the mass. */
  range?: [number, number];
  seed?: number;
}

export interface SlqResult {
  /** Ascending grid. */
  lambda: Float64Array;
  /** Smoothed density on the grid; integrates to ≈ 1 when the grid covers the nodes by a few σ. */
  density: Float64Array;
  /** Per probe: Ritz values, descending. */
  nodes: Float64Array[];
  /** Per probe: Gauss weights (squared first components), summing to 1, aligned with nodes. */
  weights: Float64Array[];
}

/** Relative default width: resolves outliers and bulk at plot scale while the grid samples it ~5× per σ. */
const DEFAULT_RELATIVE_SIGMA = 0.005;
const PADDING_SIGMAS = 5;

export async function slqDensity(op: LinearOperator, n: number, options: SlqOptions): Promise<SlqResult> {
  const { probes, steps, gridSize = 1024, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(probes) || probes < 1) throw new RangeError(`probes must be a positive integer, got ${probes}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(gridSize) || gridSize < 2) throw new RangeError(`gridSize must be an integer ≥ 2, got ${gridSize}`);
  const rng = createRng(seed);
  const nodes: Float64Array[] = [];
  const weights: Float64Array[] = [];

  for (let p = 0; p < probes; p++) {
    // Normalised Rademacher probe; the process normalises the start vector.
    const lanczos = new LanczosProcess(op, n, rademacherVector(n, rng), rng);
    for (;;) {
      await lanczos.step();
      // On breakdown the Krylov space is invariant and the quadrature is already exact: stop, never restart
      // (a restart would mix in directions outside v's spectral measure).
      if (lanczos.size >= Math.min(steps, n) || lanczos.brokeDown) break;
      lanczos.extend();
    }
    const { d, e } = lanczos.tridiagonal();
    const firstRow = new Float64Array(d.length);
    firstRow[0] = 1;
    implicitQL(d, e, [firstRow]); // firstRow ← first components of the eigenvectors of T
    const order = descendingOrder(d);
    nodes.push(Float64Array.from(order, (j) => d[j]));
    weights.push(Float64Array.from(order, (j) => firstRow[j] ** 2));
  }

  let lo = Infinity;
  let hi = -Infinity;
  for (const probeNodes of nodes) {
    for (const theta of probeNodes) {
      lo = Math.min(lo, theta);
      hi = Math.max(hi, theta);
    }
  }
  const spread = hi - lo > 0 ? hi - lo : Math.max(Math.abs(hi), 1); // H = cI has a single node
  const sigma = options.sigma ?? DEFAULT_RELATIVE_SIGMA * spread;
  if (!(sigma > 0)) throw new RangeError(`sigma must be positive, got ${sigma}`);
  const [gridLo, gridHi] = options.range ?? [lo - PADDING_SIGMAS * sigma, hi + PADDING_SIGMAS * sigma];
  if (!(gridHi > gridLo)) throw new RangeError(`range must be increasing, got [${gridLo}, ${gridHi}]`);

  const lambda = Float64Array.from({ length: gridSize }, (_, i) => gridLo + ((gridHi - gridLo) * i) / (gridSize - 1));
  const density = new Float64Array(gridSize);
  const gaussianScale = 1 / (probes * sigma * Math.sqrt(2 * Math.PI));
  for (let p = 0; p < probes; p++) {
    for (let j = 0; j < nodes[p].length; j++) {
      const theta = nodes[p][j];
      const w = weights[p][j] * gaussianScale;
      for (let i = 0; i < gridSize; i++) {
        const z = (lambda[i] - theta) / sigma;
        density[i] += w * Math.exp(-0.5 * z * z);
      }
    }
  }
  return { lambda, density, nodes, weights };
}

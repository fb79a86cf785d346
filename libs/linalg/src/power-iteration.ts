/**
 * Power iteration for the largest-magnitude eigenpair: v ← Hv/‖Hv‖ (Golub & Van Loan §7.3.1).
 * Converges at rate |λ₂/λ₁|; a cheap sanity check beside Lanczos, not a replacement for it.
 */
import { applyOperator, type LinearOperator } from './operator';
import { createRng } from './random';
import { axpy, dot, norm, randomNormalVector, scale } from './vector';

export async function powerIteration(
  op: LinearOperator,
  n: number,
  options: { maxIterations?: number; tolerance?: number; startVector?: Float64Array; seed?: number } = {},
): Promise<{ value: number; vector: Float64Array; iterations: number; residual: number }> {
  const { maxIterations = 1000, tolerance = 1e-6, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (options.startVector && options.startVector.length !== n) {
    throw new RangeError(`start vector has length ${options.startVector.length}, expected ${n}`);
  }
  const v =
    options.startVector && norm(options.startVector) > 0
      ? Float64Array.from(options.startVector)
      : randomNormalVector(n, createRng(seed));
  scale(1 / norm(v), v);

  let value = 0;
  let residual = Infinity;
  let iterations = 0;
  while (iterations < maxIterations) {
    const hv = await applyOperator(op, v);
    iterations++;
    // Invariant: v is unit, hv = Hv, value is the Rayleigh quotient of v, residual = ‖Hv − value·v‖.
    value = dot(v, hv);
    const hvNorm = norm(hv);
    residual = norm(axpy(-value, v, Float64Array.from(hv)));
    if (residual <= tolerance * Math.abs(value) || hvNorm === 0) break;
    v.set(scale(1 / hvNorm, hv));
  }
  return { value, vector: v, iterations, residual };
}

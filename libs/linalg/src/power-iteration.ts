/**
 * Power iteration for the largest-magnitude eigenpair: v ← Hv/‖Hv‖ (Golub & Van Loan §7.3.1).
 * Converges at rate |λ₂/λ₁|; a cheap sanity check beside Lanczos, not a replacement for it. powerStep is one
 * step, for callers that track λmax with one operator application per step (training); powerIteration repeats
 * it to a tolerance.
 */
import { applyOperator, type LinearOperator } from './operator';
import { createRng } from './random';
import { axpy, dot, norm, randomNormalVector, scale } from './vector';

export interface PowerStep {
  /** vᵀHv: the Rayleigh quotient of the unit v. */
  value: number;
  /** Hv/‖Hv‖, the next iterate; a copy of v when Hv = 0. */
  vector: Float64Array;
  /** ‖Hv − value·v‖: how far v is from an eigenvector (no extra operator application). */
  residual: number;
}

/** One power-iteration step from the unit vector v (not modified): exactly one operator application. */
export async function powerStep(op: LinearOperator, v: Float64Array): Promise<PowerStep> {
  const hv = await applyOperator(op, v);
  const value = dot(v, hv);
  const residual = norm(axpy(-value, v, Float64Array.from(hv)));
  const hvNorm = norm(hv);
  // Hv = 0: v is an eigenvector for 0, and there is no direction to move to.
  const vector = hvNorm > 0 ? scale(1 / hvNorm, hv) : Float64Array.from(v);
  return { value, vector, residual };
}

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
  let v =
    options.startVector && norm(options.startVector) > 0
      ? Float64Array.from(options.startVector)
      : randomNormalVector(n, createRng(seed));
  scale(1 / norm(v), v);

  let value = 0;
  let residual = Infinity;
  let iterations = 0;
  while (iterations < maxIterations) {
    const step = await powerStep(op, v);
    iterations++;
    // v is unit, value its Rayleigh quotient and residual = ‖Hv − value·v‖; Hv = 0 gives residual 0 and stops.
    value = step.value;
    residual = step.residual;
    if (residual <= tolerance * Math.abs(value)) break;
    v = step.vector;
  }
  return { value, vector: v, iterations, residual };
}

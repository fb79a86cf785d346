/**
 * Hutchinson's stochastic trace estimator: tr(H) = E[zᵀHz] for z with independent Rademacher (±1)
 * entries (Hutchinson 1990). Rademacher probes minimise the variance among i.i.d. probes,
 * Var = 2 Σ_{i≠j} H_ij², so a diagonal H is estimated exactly.
 */
import { applyOperator, type LinearOperator } from './operator';
import { createRng } from './random';
import { dot, rademacherVector } from './vector';

/** estimate = mean of zᵀHz over the probes; stderr = sample std (n − 1) / √probes, NaN for one probe. */
export async function hutchinsonTrace(
  op: LinearOperator,
  n: number,
  options: { probes: number; seed?: number },
): Promise<{ estimate: number; stderr: number }> {
  const { probes, seed = 0 } = options;
  if (!Number.isInteger(probes) || probes < 1) throw new RangeError(`probes must be a positive integer, got ${probes}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const rng = createRng(seed);
  const samples = new Float64Array(probes);
  for (let p = 0; p < probes; p++) {
    const z = rademacherVector(n, rng);
    samples[p] = dot(z, await applyOperator(op, z));
  }
  const mean = samples.reduce((s, x) => s + x, 0) / probes;
  const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / (probes - 1);
  return { estimate: mean, stderr: probes > 1 ? Math.sqrt(variance / probes) : NaN };
}

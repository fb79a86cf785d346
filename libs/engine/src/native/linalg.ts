/**
 * The float64 kernels of Lanczos's reorthogonalisation on the native BLAS: the signatures of projectInto,
 * subtractCombination and combineInto in libs/linalg/src/vector.ts, so that linalg can take them where the
 * addon loads (the hook is linalg's; this lib only offers them). On the basis Lanczos keeps (separate
 * Float64Arrays), the products are ddot/daxpy on 4096-entry chunks (memory-bound, as the JS kernels are) and
 * combineInto a dgemm per gathered chunk (bound by arithmetic in JS, so where BLAS gains most).
 */
import { loadAddon } from './addon';

export interface VectorKernels {
  /** out[i − from] ← vectors[i]ᵀw for from ≤ i < to; returns out. */
  projectInto(out: Float64Array, vectors: readonly Float64Array[], w: Float64Array, from?: number, to?: number): Float64Array;
  /** w ← w − Σ coefficients[i − from]·vectors[i], in place; returns ‖w‖² of the result. */
  subtractCombination(w: Float64Array, vectors: readonly Float64Array[], coefficients: ArrayLike<number>, from?: number, to?: number): number;
  /** outputs[o] ← Σ_i coefficients[i·m + o]·inputs[i] (m = outputs.length); outputs must not alias inputs. */
  combineInto(outputs: readonly Float64Array[], inputs: readonly Float64Array[], coefficients: Float64Array): void;
}

/** The native float64 kernels where the addon loads (whatever the tfjs backend), else null. */
export function nativeVectorKernels(addonPath?: string): VectorKernels | null {
  const load = loadAddon(addonPath);
  if (!load.ok) return null;
  const addon = load.addon;
  return {
    projectInto: (out, vectors, w, from = 0, to = vectors.length) => addon.projectInto(out, vectors, w, from, to),
    subtractCombination: (w, vectors, coefficients, from = 0, to = vectors.length) =>
      addon.subtractCombination(w, vectors, coefficients instanceof Float64Array ? coefficients : Float64Array.from(coefficients), from, to),
    combineInto: (outputs, inputs, coefficients) => addon.combineInto(outputs, inputs, coefficients),
  };
}

/**
 * Top eigenpairs of the Hessian at one checkpoint, for the full network and for each k-layer block
 * (DESIGN §5), with residuals, warm-started from the previous checkpoint's eigenvectors.
 */
import { lanczosTopEigenpairs, type LinearOperator, type RitzPair } from '@lrscape/linalg';

export interface CurvatureOperators {
  readonly size: number;
  hvp: LinearOperator;
  blockHvp(k: number): LinearOperator;
}

export interface DecompositionOptions {
  topK: number;
  maxIterations: number;
  tolerance: number;
  kLayers: readonly number[];
  /** Size of the last-k-layer block, for each k. */
  blockSize: (k: number) => number;
  seed?: number;
  /** Eigenvectors of the same scope at the previous checkpoint (warm start). */
  warm?: ReadonlyMap<string, Float64Array[]>;
}

export interface ScopeSpectrum {
  scope: string;
  pairs: RitzPair[];
  iterations: number;
  operatorCalls: number;
  converged: boolean;
}

export const scopeName = (k: number | null) => (k === null ? 'full' : `k${k}`);

export async function decomposeHessian(curvature: CurvatureOperators, options: DecompositionOptions): Promise<ScopeSpectrum[]> {
  const scopes: { scope: string; op: LinearOperator; n: number }[] = [
    { scope: 'full', op: (v: Float64Array) => curvature.hvp(v), n: curvature.size },
    ...options.kLayers.map((k) => ({ scope: scopeName(k), op: curvature.blockHvp(k), n: options.blockSize(k) })),
  ];
  const spectra: ScopeSpectrum[] = [];
  for (const { scope, op, n } of scopes) {
    const warm = options.warm?.get(scope);
    const result = await lanczosTopEigenpairs(op, n, {
      count: Math.min(options.topK, n),
      maxIterations: Math.min(options.maxIterations, n),
      tolerance: options.tolerance,
      warmVectors: warm && warm.length ? warm : undefined,
      seed: options.seed ?? 0,
      trueResiduals: true,
    });
    spectra.push({ scope, pairs: result.pairs, iterations: result.iterations, operatorCalls: result.operatorCalls, converged: result.converged });
  }
  return spectra;
}

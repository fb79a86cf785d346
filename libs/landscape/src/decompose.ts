/**
 * Top eigenpairs of the Hessian at one checkpoint, for each scope — the full network and the blocks of its
 * last k layers (docs/architecture.md, "Scopes") — with residuals, warm-started from the previous
 * checkpoint's eigenvectors of the same scope.
 */
import { encodeScope } from '@lrscape/artifacts';
import type { Curvature, Scope } from '@lrscape/engine';
import { lanczosTopEigenpairs, type RitzPair } from '@lrscape/linalg';

export interface DecompositionOptions {
  topK: number;
  maxIterations: number;
  tolerance: number;
  seed?: number;
  /** Eigenvectors of each scope at the previous checkpoint, keyed by the scope's text form (warm start). */
  warm?: WarmStart;
}

/** Eigenvectors carried from one checkpoint to the next, per scope. */
export type WarmStart = ReadonlyMap<string, readonly Float64Array[]>;

export interface ScopeSpectrum {
  scope: Scope;
  pairs: RitzPair[];
  /** Operator applications that built the Lanczos basis (before the Ritz vectors). */
  basisOperatorCalls: number;
  operatorCalls: number;
  converged: boolean;
}

export async function decomposeHessian(curvature: Pick<Curvature, 'operator'>, scopes: readonly Scope[], options: DecompositionOptions): Promise<ScopeSpectrum[]> {
  const spectra: ScopeSpectrum[] = [];
  for (const scope of scopes) {
    const warm = options.warm?.get(encodeScope(scope));
    const result = await lanczosTopEigenpairs(curvature.operator(scope), scope.size, {
      count: Math.min(options.topK, scope.size),
      maxIterations: Math.min(options.maxIterations, scope.size),
      tolerance: options.tolerance,
      warmVectors: warm && warm.length ? [...warm] : undefined,
      seed: options.seed ?? 0,
      trueResiduals: true,
    });
    spectra.push({ scope, pairs: result.pairs, basisOperatorCalls: result.basisOperatorCalls, operatorCalls: result.operatorCalls, converged: result.converged });
  }
  return spectra;
}

/** The warm start for the next checkpoint: this one's eigenvectors of every scope. */
export const warmStartOf = (spectra: readonly ScopeSpectrum[]): WarmStart => new Map(spectra.map((s) => [encodeScope(s.scope), s.pairs.map((p) => p.vector)]));

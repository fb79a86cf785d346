/**
 * Light checkpoints (docs/architecture.md, "Light checkpoints"): only the top eigenpairs of the full Hessian,
 * warm from the previous checkpoint, every vector kept — what the dense overlap maps, the matched-time
 * comparisons and the window test need, at a fraction of the full analysis (no bottom end, SLQ, trace or k-layer).
 */
import { encodeScope, type StoredEigenvector, type TableRow } from '@lrscape/artifacts';
import type { Curvature, Scope } from '@lrscape/engine';
import { decomposeHessian, type WarmStart } from './decompose';

export interface LightAnalysisSettings {
  /** Eigenpairs of the full Hessian (all stored). */
  topK: number;
  maxIterations: number;
  tolerance: number;
  seed: number;
}

export interface LightCheckpointAnalysis {
  rows: TableRow<'light_spectra'>[];
  vectors: StoredEigenvector[];
  hvps: number;
  converged: boolean;
  /** The warm start for the next checkpoint: the previous one with the full scope's vectors replaced. */
  warm: WarmStart;
}

export async function analyzeLightCheckpoint(
  curvature: Pick<Curvature, 'operator'>,
  input: { run: string; step: number; kind: TableRow<'light_spectra'>['kind']; full: Scope },
  settings: LightAnalysisSettings,
  warm?: WarmStart,
): Promise<LightCheckpointAnalysis> {
  if (input.full.kind !== 'full') throw new Error('analyzeLightCheckpoint: the scope must be the full Hessian');
  const [spectrum] = await decomposeHessian(curvature, [input.full], { ...settings, warm });
  const rows = spectrum.pairs.map((pair, index) => ({ run: input.run, step: input.step, kind: input.kind, rank: index + 1, eigenvalue: pair.value, residual: pair.residual }));
  const vectors = spectrum.pairs.map((pair, index) => ({ scope: input.full, rank: index + 1, vector: pair.vector }));
  const next = new Map(warm ?? []);
  next.set(encodeScope(input.full), spectrum.pairs.map((p) => p.vector));
  return { rows, vectors, hvps: spectrum.operatorCalls, converged: spectrum.converged, warm: next };
}

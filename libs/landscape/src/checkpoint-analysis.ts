/**
 * Everything the hessian stage computes at one checkpoint (docs/architecture.md, "The hessian stage"): the
 * top eigenpairs of every scope with residuals and the outlier split, the bulk density (SLQ) and trace
 * (Hutchinson) of every scope, the output-space response of the top directions of the full Hessian, and
 * the k-layer comparison — as table rows plus the eigenvectors to store. No files: the stage writes them.
 */
import { encodeScope, type StoredEigenvector, type TableRow } from '@lrscape/artifacts';
import type { Curvature, Scope } from '@lrscape/engine';
import { hutchinsonTrace, slqDensity } from '@lrscape/linalg';
import { decomposeHessian, warmStartOf, type ScopeSpectrum, type WarmStart } from './decompose';
import { splitOutliers } from './outliers';
import { classPerturbationRows, directionalOutputChange, gridPerturbationRows } from './perturbations';
import { klayerComparison } from './summaries';

/** The config's `hessian` section, as far as one checkpoint needs it. */
export interface CheckpointAnalysisSettings {
  topK: number;
  maxIterations: number;
  tolerance: number;
  storeVectors: number;
  seed: number;
  density: { probes: number; steps: number; gridSize: number };
  traceProbes: number;
  perturbationEpsilon: number;
}

/** Where the output-space response of a direction is read: per class, or along a grid of x (1-D regression). */
export type OutputResponse = { kind: 'classes'; classes: number } | { kind: 'grid'; xs: Float32Array };

export interface CheckpointInput {
  run: string;
  step: number;
  theta: Float32Array;
  /** Full first, then the k-layer blocks. */
  scopes: readonly Scope[];
  /** The network's outputs at θ (over the examples, or the x grid), flattened. */
  outputs: (theta: Float32Array) => Promise<Float32Array>;
  response: OutputResponse;
}

export interface ScopeSummary {
  scope: string;
  basisOperatorCalls: number;
  hvps: number;
  converged: boolean;
  m: number;
}

export interface CheckpointAnalysis {
  rows: {
    spectra: TableRow<'spectra'>[];
    klayer: TableRow<'klayer'>[];
    density: TableRow<'density'>[];
    trace: TableRow<'trace'>[];
    perturbations: TableRow<'perturbations'>[];
  };
  vectors: StoredEigenvector[];
  scopes: ScopeSummary[];
  spectra: ScopeSpectrum[];
  /** The warm start for the next checkpoint. */
  warm: WarmStart;
}

export async function analyzeCheckpoint(
  curvature: Pick<Curvature, 'operator'>,
  input: CheckpointInput,
  settings: CheckpointAnalysisSettings,
  warm?: WarmStart,
): Promise<CheckpointAnalysis> {
  const { run, step } = input;
  if (input.scopes[0]?.kind !== 'full') throw new Error('analyzeCheckpoint: the first scope must be the full Hessian');
  const spectra = await decomposeHessian(curvature, input.scopes, {
    topK: settings.topK,
    maxIterations: settings.maxIterations,
    tolerance: settings.tolerance,
    seed: settings.seed,
    warm,
  });
  const rows: CheckpointAnalysis['rows'] = { spectra: [], klayer: [], density: [], trace: [], perturbations: [] };
  // Bulk density and trace of each scope, at the same θ (the curvature's forward state is reused).
  for (const { scope } of spectra) {
    const name = encodeScope(scope);
    const op = curvature.operator(scope);
    const slq = await slqDensity(op, scope.size, { ...settings.density, steps: Math.min(settings.density.steps, scope.size), seed: settings.seed + step });
    slq.lambda.forEach((lambda, i) => rows.density.push({ run, step, scope: name, lambda, density: slq.density[i] }));
    if (settings.traceProbes > 0) {
      const t = await hutchinsonTrace(op, scope.size, { probes: settings.traceProbes, seed: settings.seed + step });
      rows.trace.push({ run, step, scope: name, estimate: t.estimate, stderr: Number.isFinite(t.stderr) ? t.stderr : 0 });
    }
  }
  const vectors: StoredEigenvector[] = [];
  const scopes: ScopeSummary[] = [];
  for (const spectrum of spectra) {
    const name = encodeScope(spectrum.scope);
    const { m } = splitOutliers(spectrum.pairs.map((p) => p.value));
    spectrum.pairs.forEach((pair, index) => {
      const rank = index + 1;
      rows.spectra.push({ run, step, scope: name, rank, eigenvalue: pair.value, residual: pair.residual, is_outlier: index < m });
      if (index < settings.storeVectors) vectors.push({ scope: spectrum.scope, rank, vector: pair.vector });
    });
    scopes.push({ scope: name, basisOperatorCalls: spectrum.basisOperatorCalls, hvps: spectrum.operatorCalls, converged: spectrum.converged, m });
  }
  // What each stored top direction of the full Hessian does to the outputs.
  const full = spectra[0];
  for (let d = 0; d < Math.min(settings.storeVectors, full.pairs.length); d++) {
    const change = await directionalOutputChange(input.outputs, input.theta, full.pairs[d].vector, settings.perturbationEpsilon);
    rows.perturbations.push(
      ...(input.response.kind === 'grid'
        ? gridPerturbationRows(run, step, d + 1, change, input.response.xs)
        : classPerturbationRows(run, step, d + 1, change, input.response.classes)),
    );
  }
  rows.klayer.push(...klayerComparison(run, step, spectra));
  return { rows, vectors, scopes, spectra, warm: warmStartOf(spectra) };
}

/** Evenly spaced points over the range of a 1-D input (where a regression's response is read). */
export function evenGrid(x: Float32Array, points: number): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return Float32Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
}

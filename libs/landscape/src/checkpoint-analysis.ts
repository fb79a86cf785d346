/**
 * Everything the hessian stage computes at one checkpoint (docs/architecture.md, "The hessian stage"): the
 * top eigenpairs of every scope with residuals and the outlier split, the bulk density (SLQ) and trace
 * (Hutchinson) of every scope, the output-space response of the top directions of the full Hessian, and
 * the k-layer comparison — as table rows plus the eigenvectors to store. No files: the stage writes them.
 */
import { encodeScope, type StoredEigenvector, type TableRow } from '@lrscape/artifacts';
import type { Curvature, Scope } from '@lrscape/engine';
import { hutchinsonTrace, lanczosTopEigenpairs, slqDensity, symmetricEigenvalues, type RitzPair } from '@lrscape/linalg';
import { decomposeHessian, warmStartOf, type ScopeSpectrum, type WarmStart } from './decompose';
import { splitOutliers } from './outliers';
import { classPerturbationRows, directionalOutputChange, gridPerturbationRows } from './perturbations';
import { klayerComparison } from './summaries';

/** The config's `hessian` section, as far as one checkpoint needs it. */
export interface CheckpointAnalysisSettings {
  topK: number;
  /** Most negative eigenvalues per scope (0: none), to the same relative residual as the top, relative to λmax. */
  bottomK: number;
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
  /** Also every eigenvalue of the full Hessian from its dense matrix (P HVPs and an O(P³) solve: small nets only). */
  exactSpectrum?: boolean;
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
    quadrature: TableRow<'quadrature'>[];
    exact_spectrum: TableRow<'exact_spectrum'>[];
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
  // The bottom end: Lanczos on σI − H with σ = λmax of the scope, whose top eigenpairs are H's most negative
  // ones (λ = σ − θ); its residual test is relative to σ − λ ≥ λmax, i.e. relative to λmax as wanted (the bottom
  // of a Hessian is small and clustered, and a test relative to |λ_min| would ask far more than the top's).
  const bottoms = settings.bottomK > 0 ? await bottomEnds(curvature, spectra, settings, warm) : [];
  const rows: CheckpointAnalysis['rows'] = { spectra: [], klayer: [], density: [], trace: [], perturbations: [], quadrature: [], exact_spectrum: [] };
  // Bulk density and trace of each scope, at the same θ (the curvature's forward state is reused).
  for (const { scope } of spectra) {
    const name = encodeScope(scope);
    const op = curvature.operator(scope);
    const slq = await slqDensity(op, scope.size, { ...settings.density, steps: Math.min(settings.density.steps, scope.size), seed: settings.seed + step });
    slq.lambda.forEach((lambda, i) => rows.density.push({ run, step, scope: name, lambda, density: slq.density[i] }));
    slq.nodes.forEach((nodes, probe) =>
      nodes.forEach((node, j) => rows.quadrature.push({ run, step, scope: name, dimension: scope.size, probe, node, weight: slq.weights[probe][j] })),
    );
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
      rows.spectra.push({ run, step, scope: name, end: 'top', rank, eigenvalue: pair.value, residual: pair.residual, is_outlier: index < m });
      if (index < settings.storeVectors) vectors.push({ scope: spectrum.scope, rank, vector: pair.vector });
    });
    bottoms
      .find((b) => b.scope === spectrum.scope)
      ?.pairs.forEach((pair, index) =>
        rows.spectra.push({ run, step, scope: name, end: 'bottom', rank: index + 1, eigenvalue: pair.value, residual: pair.residual, is_outlier: false }),
      );
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
  if (input.exactSpectrum) {
    // The full scope only: it checks the SLQ estimate, and a k-layer block of most layers costs as much.
    const full = input.scopes[0];
    for (const eigenvalue of await denseEigenvalues(curvature.operator(full), full.size)) rows.exact_spectrum.push({ run, step, scope: encodeScope(full), eigenvalue });
  }
  const next = new Map(warmStartOf(spectra));
  for (const b of bottoms) next.set(bottomKey(b.scope), b.pairs.map((p) => p.vector));
  return { rows, vectors, scopes, spectra, warm: next };
}

const bottomKey = (scope: Scope) => `${encodeScope(scope)}:bottom`;

/** The bottomK most negative eigenpairs of each scope, ascending (rank 1 = λ_min), by Lanczos on σI − H. */
async function bottomEnds(
  curvature: Pick<Curvature, 'operator'>,
  spectra: readonly ScopeSpectrum[],
  settings: CheckpointAnalysisSettings,
  warm: WarmStart | undefined,
): Promise<{ scope: Scope; pairs: RitzPair[] }[]> {
  const out: { scope: Scope; pairs: RitzPair[] }[] = [];
  for (const { scope, pairs } of spectra) {
    const sigma = Math.max(pairs[0]?.value ?? 0, 0);
    const op = curvature.operator(scope);
    const shifted = async (v: Float64Array) => {
      const hv = await op(v);
      return Float64Array.from(hv, (x, i) => sigma * v[i] - x);
    };
    const previous = warm?.get(bottomKey(scope));
    const result = await lanczosTopEigenpairs(shifted, scope.size, {
      count: Math.min(settings.bottomK, scope.size),
      maxIterations: Math.min(settings.maxIterations, scope.size),
      tolerance: settings.tolerance,
      warmVectors: previous && previous.length ? [...previous] : undefined,
      seed: settings.seed + 1,
      trueResiduals: true,
    });
    out.push({ scope, pairs: result.pairs.map((p) => ({ value: sigma - p.value, vector: p.vector, residual: p.residual })) });
  }
  return out;
}

/** Every eigenvalue of a small operator, from its dense matrix (n applications), descending. */
async function denseEigenvalues(op: (v: Float64Array) => Promise<Float64Array>, n: number): Promise<Float64Array> {
  const dense = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const column = await op(unit);
    for (let i = 0; i < n; i++) dense[i * n + j] = column[i];
  }
  // symmetricEigenvalues takes (A + Aᵀ)/2: the float32 HVP columns are symmetric only up to rounding.
  return symmetricEigenvalues(dense, n);
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

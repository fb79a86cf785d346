/**
 * The hessian stage's loop over one run (docs/architecture.md, "Light checkpoints"): every checkpoint of run.json
 * in step order — the full analysis (analyzeCheckpoint) at cadence, event and final checkpoints, the light one
 * (analyzeLightCheckpoint) at light checkpoints — and the replayed starts of the window test's quiet windows,
 * warm-starting each from the one before. Reading θ, making the curvature and writing vectors are the caller's.
 */
import type { StoredEigenvector, TableRow } from '@lrscape/artifacts';
import type { Curvature, Scope } from '@lrscape/engine';
import { planSwitchPoints, type CheckpointEntry, type SwitchPlanOptions } from '@lrscape/train';
import { analyzeCheckpoint, type CheckpointAnalysis, type CheckpointAnalysisSettings, type OutputResponse, type ScopeSummary } from './checkpoint-analysis';
import type { WarmStart } from './decompose';
import { analyzeLightCheckpoint } from './light-analysis';
import { splitOutliers } from './outliers';

export interface RunAnalysisSettings extends CheckpointAnalysisSettings {
  light: { topK: number; minQuietStep: number; maxWindows: number };
}

/** A step to analyse: a checkpoint of the run, or a quiet-window start that is none (θ replayed by the caller). */
export interface AnalysisStep {
  step: number;
  reason: CheckpointEntry['reason'] | 'quiet-start';
}

export type RunAnalysisRows = CheckpointAnalysis['rows'] & { light_spectra: TableRow<'light_spectra'>[] };

export interface RunAnalysisInput {
  run: string;
  /** run.json's checkpoints (with the reasons: the quiet windows pair training's event checkpoints). */
  checkpoints: readonly CheckpointEntry[];
  /** Full first, then the k-layer blocks. */
  scopes: readonly Scope[];
  outputs: (theta: Float32Array) => Promise<Float32Array>;
  response: OutputResponse;
  /** Every eigenvalue of the dense Hessian at the final checkpoint (small nets only). */
  exactSpectrum: boolean;
  theta: (at: AnalysisStep) => Promise<Float32Array>;
  curvatureAt: (theta: Float32Array) => Promise<Pick<Curvature, 'operator'> & { dispose(): void }>;
  writeVectors: (step: number, vectors: StoredEigenvector[]) => Promise<void>;
  onStep?: (at: AnalysisStep, summary: string, index: number, total: number) => void;
}

export interface RunAnalysis {
  rows: RunAnalysisRows;
  checkpoints: { step: number; reason: string; scopes: ScopeSummary[] }[];
  totalHvps: number;
  /** Wall time of the light analyses, θ replays included. */
  lightSeconds: number;
}

/**
 * The window test's pairing rule from the light settings: the hessian task replays the quiet starts it plans and
 * the aggregate's windowComparisons pairs the same ones, so both take their plan from here.
 */
export function quietWindowPlan(light: RunAnalysisSettings['light']): SwitchPlanOptions {
  return { instabilities: light.maxWindows, minStep: light.minQuietStep };
}

/** The steps of a run's hessian task: its checkpoints and the quiet-window starts that are not checkpoints, in step order. */
export function analysisSteps(checkpoints: readonly CheckpointEntry[], light: RunAnalysisSettings['light']): AnalysisStep[] {
  const steps = new Set(checkpoints.map((c) => c.step));
  const quiet = planSwitchPoints(checkpoints, quietWindowPlan(light))
    .points.filter((p) => p.kind === 'quiet-start' && !steps.has(p.step))
    .map((p): AnalysisStep => ({ step: p.step, reason: 'quiet-start' }));
  return [...checkpoints.map((c): AnalysisStep => ({ step: c.step, reason: c.reason })), ...quiet].sort((a, b) => a.step - b.step);
}

export async function analyzeRun(input: RunAnalysisInput, settings: RunAnalysisSettings): Promise<RunAnalysis> {
  const work = analysisSteps(input.checkpoints, settings.light);
  const finalStep = input.checkpoints.at(-1)?.step;
  const rows: RunAnalysisRows = { spectra: [], klayer: [], density: [], trace: [], perturbations: [], quadrature: [], exact_spectrum: [], light_spectra: [] };
  const result: RunAnalysis = { rows, checkpoints: [], totalHvps: 0, lightSeconds: 0 };
  const light = { ...settings, topK: settings.light.topK };
  let warm: WarmStart | undefined;
  for (const [index, at] of work.entries()) {
    const started = Date.now();
    const theta = await input.theta(at);
    const curvature = await input.curvatureAt(theta);
    let summary: string;
    try {
      if (at.reason === 'light' || at.reason === 'quiet-start') {
        const analysis = await analyzeLightCheckpoint(curvature, { run: input.run, step: at.step, kind: at.reason === 'light' ? 'light' : 'quiet-start', full: input.scopes[0] }, light, warm);
        rows.light_spectra.push(...analysis.rows);
        warm = analysis.warm;
        await input.writeVectors(at.step, analysis.vectors);
        const m = splitOutliers(analysis.rows.map((r) => r.eigenvalue)).m;
        result.checkpoints.push({ step: at.step, reason: at.reason, scopes: [{ scope: 'full', basisOperatorCalls: analysis.hvps, hvps: analysis.hvps, converged: analysis.converged, m }] });
        result.totalHvps += analysis.hvps;
        result.lightSeconds += (Date.now() - started) / 1000;
        summary = `λmax ${analysis.rows[0]?.eigenvalue.toFixed(4)}, full ${analysis.hvps} HVPs (light)`;
      } else {
        const exactSpectrum = input.exactSpectrum && at.step === finalStep;
        const analysis = await analyzeCheckpoint(curvature, { run: input.run, step: at.step, theta, scopes: input.scopes, outputs: input.outputs, response: input.response, exactSpectrum }, settings, warm);
        for (const table of Object.keys(analysis.rows) as (keyof CheckpointAnalysis['rows'])[]) (rows[table] as TableRow<typeof table>[]).push(...analysis.rows[table]);
        warm = analysis.warm;
        await input.writeVectors(at.step, analysis.vectors);
        result.checkpoints.push({ step: at.step, reason: at.reason, scopes: analysis.scopes });
        result.totalHvps += analysis.scopes.reduce((sum, s) => sum + s.hvps, 0);
        summary = `λmax ${(analysis.spectra[0].pairs[0]?.value ?? NaN).toFixed(4)}, ${analysis.scopes.map((s) => `${s.scope} ${s.hvps} HVPs m=${s.m}`).join(', ')}`;
      }
    } finally {
      curvature.dispose();
    }
    input.onStep?.(at, summary, index, work.length);
  }
  return result;
}

/**
 * The aggregate stage as a pure function (docs/architecture.md, "The aggregate stage"): every run's
 * metrics, Hessian rows, stored eigenvectors and checkpoint parameters in; the experiment's tidy tables out,
 * with what needs several checkpoints or runs — instabilities, flattening, eigenspace overlaps (landscape
 * shift) and parameter displacement against the baseline.
 */
import { encodeScope, type ScopeId, type TableName, type TableRow } from '@lrscape/artifacts';
import { peakLearningRate, type LearningRateSchedule } from '@lrscape/train';
import { flatteningRows } from './flattening';
import { alongRunOverlaps, baselineOverlaps, displacementRows, instabilityOverlaps, type CheckpointEigenspace } from './shift';
import { effectiveRows, instabilityRows } from './summaries';

/** The Hessian stage's rows of one run. */
export interface HessianRows {
  spectra: readonly TableRow<'spectra'>[];
  klayer: readonly TableRow<'klayer'>[];
  density: readonly TableRow<'density'>[];
  trace: readonly TableRow<'trace'>[];
  perturbations: readonly TableRow<'perturbations'>[];
}

export interface RunInput {
  slug: string;
  schedule: LearningRateSchedule;
  seed: number;
  /** What training recorded (run.json). */
  summary: {
    steps: number;
    diverged: boolean;
    finalLoss: number | null;
    finalSharpness: number | null;
    seconds: number;
    backend: string;
  };
  steps: readonly TableRow<'steps'>[];
  hessian: HessianRows;
  /** Every checkpoint the Hessian was analysed at, in step order: its stored eigenvectors and θ. */
  checkpoints: readonly {
    step: number;
    eigenvectors: readonly { scope: ScopeId; rank: number; vector: Float64Array }[];
    theta: Float32Array;
  }[];
}

export interface AnalysisSettings {
  /** Relative loss rise over the running minimum that counts as an instability. */
  prominence: number;
  /** α of N_eff as a fraction of λmax. */
  alphaFraction: number;
}

export type ExperimentTables = { [N in Exclude<TableName, 'claims'>]: TableRow<N>[] };

/**
 * The baseline of a run: the smallest constant η with the same seed (hence the same θ_0). A baseline is its
 * own baseline (callers skip comparing it with itself).
 */
export function baselineOf<R extends { schedule: LearningRateSchedule; seed: number }>(run: R, runs: readonly R[]): R | undefined {
  return runs
    .filter((r) => r.schedule.kind === 'constant' && r.seed === run.seed)
    .sort((a, b) => peakLearningRate(a.schedule) - peakLearningRate(b.schedule))[0];
}

/** Outlier count m of every (run, step, scope) of a spectra table, from its is_outlier flags. */
export function outlierCounts(spectra: readonly TableRow<'spectra'>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of spectra) {
    const key = checkpointKey(row.run, row.step, row.scope);
    counts.set(key, (counts.get(key) ?? 0) + (row.is_outlier ? 1 : 0));
  }
  return counts;
}
const checkpointKey = (run: string, step: number, scope: string) => `${run}\u0000${step}\u0000${scope}`;

/**
 * A run's stored eigenspaces by scope (in the order the files list them), each checkpoint's vectors in rank
 * order with its outlier count m (1 where the spectra table has none).
 */
export function eigenspacesByScope(run: RunInput, counts: ReadonlyMap<string, number>): Map<string, CheckpointEigenspace[]> {
  const byScope = new Map<string, CheckpointEigenspace[]>();
  for (const checkpoint of run.checkpoints) {
    const vectorsOf = new Map<string, { rank: number; vector: Float64Array }[]>();
    for (const { scope, rank, vector } of checkpoint.eigenvectors) {
      const name = encodeScope(scope);
      vectorsOf.set(name, [...(vectorsOf.get(name) ?? []), { rank, vector }]);
    }
    for (const [scope, entries] of vectorsOf) {
      const vectors = [...entries].sort((a, b) => a.rank - b.rank).map((e) => e.vector);
      const m = counts.get(checkpointKey(run.slug, checkpoint.step, scope)) ?? 1;
      byScope.set(scope, [...(byScope.get(scope) ?? []), { step: checkpoint.step, vectors, m }]);
    }
  }
  return byScope;
}

export function aggregateExperiment(runs: readonly RunInput[], analysis: AnalysisSettings): ExperimentTables {
  const runRows: TableRow<'runs'>[] = runs.map((run) => ({
    run: run.slug,
    eta: peakLearningRate(run.schedule),
    schedule: run.schedule.kind,
    seed: run.seed,
    steps: run.summary.steps,
    diverged: run.summary.diverged,
    final_loss: run.summary.finalLoss,
    final_sharpness: run.summary.finalSharpness,
    seconds: run.summary.seconds,
    backend: run.summary.backend,
  }));
  const steps = runs.flatMap((r) => r.steps);
  const hessian = <N extends keyof HessianRows>(table: N): HessianRows[N][number][] => runs.flatMap((r) => r.hessian[table] as readonly HessianRows[N][number][]);
  const spectra = hessian('spectra');

  const instabilities = runRows.flatMap((run) => instabilityRows(run, steps, { prominence: analysis.prominence }));
  const drops = runs.flatMap((r) => (r.schedule.kind === 'drop' ? [{ run: r.slug, switchStep: r.schedule.switchStep }] : []));

  const counts = outlierCounts(spectra);
  const eigenspaces = new Map(runs.map((run) => [run.slug, eigenspacesByScope(run, counts)]));
  const overlaps: TableRow<'overlaps'>[] = [];
  const displacement: TableRow<'displacement'>[] = [];
  for (const run of runs) {
    const events = instabilities.filter((e) => e.run === run.slug);
    const baseline = baselineOf(run, runs);
    const compared = baseline && baseline.slug !== run.slug ? baseline : undefined;
    for (const [scope, checkpoints] of eigenspaces.get(run.slug)!) {
      overlaps.push(...alongRunOverlaps(run.slug, scope, checkpoints));
      overlaps.push(...instabilityOverlaps(run.slug, scope, checkpoints, events));
      if (compared) overlaps.push(...baselineOverlaps(run.slug, compared.slug, scope, checkpoints, eigenspaces.get(compared.slug)?.get(scope) ?? []));
    }
    // Parameter displacement against the baseline's, from the checkpoints both runs share.
    const own = thetasByStep(run);
    const theta0 = own.get(0);
    if (compared && theta0) displacement.push(...displacementRows(run.slug, theta0, own, thetasByStep(compared)));
  }

  return {
    runs: runRows,
    steps,
    spectra,
    density: hessian('density'),
    trace: hessian('trace'),
    instabilities,
    overlaps,
    displacement,
    flattening: flatteningRows(runRows, instabilities, drops),
    effective: effectiveRows(spectra, analysis.alphaFraction),
    perturbations: hessian('perturbations'),
    klayer: hessian('klayer'),
  };
}

const thetasByStep = (run: RunInput) => new Map(run.checkpoints.map((c) => [c.step, c.theta]));

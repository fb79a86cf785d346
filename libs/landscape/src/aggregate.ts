/**
 * The aggregate stage as a pure function (docs/architecture.md, "The aggregate stage"): every run's
 * metrics, Hessian rows, stored eigenvectors and checkpoint parameters in; the experiment's tidy tables out,
 * with what needs several checkpoints or runs — instabilities, flattening, eigenspace overlaps (landscape
 * shift) and parameter displacement against the baseline.
 */
import { encodeScope, type ScopeId, type TableName, type TableRow } from '@lrscape/artifacts';
import { peakLearningRate, type CheckpointEntry, type LearningRateSchedule, type SwitchPlanOptions } from '@lrscape/train';
import { cyclicTables, type CyclicSettings } from './cyclic';
import { flatteningTables, type DropFamilyInput } from './flattening';
import {
  alongRunOverlaps,
  baselineOverlaps,
  displacementRows,
  instabilityOverlaps,
  matchedTimeComparisons,
  windowComparisons,
  type CheckpointEigenspace,
  type MatchedTimeRun,
  type ShiftSettings,
} from './shift';
import { longHorizonRows, type LongHorizonSettings } from './long-horizon';
import { powerCheckRows } from './power-check';
import { instabilityTables, type InstabilitySettings } from './sensitivity';
import { checkpointKey, effectiveRows } from './summaries';

/** The Hessian stage's rows of one run. */
export interface HessianRows {
  spectra: readonly TableRow<'spectra'>[];
  klayer: readonly TableRow<'klayer'>[];
  density: readonly TableRow<'density'>[];
  trace: readonly TableRow<'trace'>[];
  perturbations: readonly TableRow<'perturbations'>[];
  quadrature: readonly TableRow<'quadrature'>[];
  exact_spectrum: readonly TableRow<'exact_spectrum'>[];
  light_spectra: readonly TableRow<'light_spectra'>[];
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
  /**
   * Every step the Hessian was analysed at, in step order: its stored eigenvectors and θ (null at a replayed
   * quiet-window start, which is no checkpoint of the run).
   */
  checkpoints: readonly {
    step: number;
    eigenvectors: readonly { scope: ScopeId; rank: number; vector: Float64Array }[];
    theta: Float32Array | null;
  }[];
  /** run.json's checkpoint list with the reasons (the window test pairs training's event checkpoints). */
  checkpointReasons: readonly CheckpointEntry[];
}

/** The shift comparisons' settings: fixed m and gap, the matched-time grid and baseline (null: none), the window rule. */
export interface ShiftAnalysisSettings extends ShiftSettings {
  matchedTime: { baselineEta: number; taus: readonly number[] } | null;
  windows: SwitchPlanOptions;
}

export interface AnalysisSettings {
  /** The primary instability detector and the sensitivity sweep (sensitivity.ts). */
  instabilities: InstabilitySettings;
  /** Open question 1's long-horizon table (long-horizon.ts); null: not computed. */
  longHorizon: LongHorizonSettings | null;
  /** α of N_eff as a fraction of λmax. */
  alphaFraction: number;
  /** The fixed dimension m of every eigenspace comparison, the gap below which a subspace is flagged, matched time, windows. */
  shift: ShiftAnalysisSettings;
  /** Open question 3's cyclic study (cyclic.ts); null: not computed. */
  cyclic: CyclicSettings | null;
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

/**
 * The top eigenvalues (rank order) of every (run, step, scope) of the top end of a spectra table, and of the
 * light checkpoints (full scope) where given.
 */
export function topEigenvalues(spectra: readonly TableRow<'spectra'>[], light: readonly TableRow<'light_spectra'>[] = []): Map<string, number[]> {
  const ranked = new Map<string, { rank: number; value: number }[]>();
  const add = (key: string, rank: number, value: number) => ranked.set(key, [...(ranked.get(key) ?? []), { rank, value }]);
  for (const row of spectra) if (row.end === 'top') add(checkpointKey(row.run, row.step, row.scope), row.rank, row.eigenvalue);
  for (const row of light) add(checkpointKey(row.run, row.step, 'full'), row.rank, row.eigenvalue);
  return new Map([...ranked].map(([key, values]) => [key, values.sort((a, b) => a.rank - b.rank).map((v) => v.value)]));
}

/**
 * A run's stored eigenspaces by scope (in the order the files list them), each checkpoint's vectors in rank
 * order with its top eigenvalues (empty where the spectra table has none).
 */
export function eigenspacesByScope(run: RunInput, values: ReadonlyMap<string, readonly number[]>): Map<string, CheckpointEigenspace[]> {
  const byScope = new Map<string, CheckpointEigenspace[]>();
  for (const checkpoint of run.checkpoints) {
    const vectorsOf = new Map<string, { rank: number; vector: Float64Array }[]>();
    for (const { scope, rank, vector } of checkpoint.eigenvectors) {
      const name = encodeScope(scope);
      vectorsOf.set(name, [...(vectorsOf.get(name) ?? []), { rank, vector }]);
    }
    for (const [scope, entries] of vectorsOf) {
      const vectors = [...entries].sort((a, b) => a.rank - b.rank).map((e) => e.vector);
      const top = values.get(checkpointKey(run.slug, checkpoint.step, scope)) ?? [];
      byScope.set(scope, [...(byScope.get(scope) ?? []), { step: checkpoint.step, vectors, values: top }]);
    }
  }
  return byScope;
}

/** The cooling stage's tables (cooling.ts), passed through; empty where the experiment selects no cooling runs. */
export interface CoolingTables {
  cooling: readonly TableRow<'cooling'>[];
  cooling_instabilities: readonly TableRow<'cooling_instabilities'>[];
}
const NO_COOLING: CoolingTables = { cooling: [], cooling_instabilities: [] };

export function aggregateExperiment(
  runs: readonly RunInput[],
  analysis: AnalysisSettings,
  cooling: CoolingTables = NO_COOLING,
  dropFamilies: readonly DropFamilyInput[] = [],
): ExperimentTables {
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
    initial_regime: initialRegime(run),
  }));
  const steps = runs.flatMap((r) => r.steps);
  const hessian = <N extends keyof HessianRows>(table: N): HessianRows[N][number][] => runs.flatMap((r) => r.hessian[table] as readonly HessianRows[N][number][]);
  const spectra = hessian('spectra');

  const stepsByRun = new Map(runs.map((r) => [r.slug, r.steps]));
  const { instabilities, instability_sensitivity } = instabilityTables(runRows, stepsByRun, analysis.instabilities);

  const values = topEigenvalues(spectra, hessian('light_spectra'));
  const eigenspaces = new Map(runs.map((run) => [run.slug, eigenspacesByScope(run, values)]));
  const overlaps: TableRow<'overlaps'>[] = [];
  const displacement: TableRow<'displacement'>[] = [];
  const shiftWindows: TableRow<'shift_windows'>[] = [];
  const matchedTime: TableRow<'matched_time'>[] = [];
  const { matchedTime: matched, windows } = analysis.shift;
  const asMatched = (r: RunInput): MatchedTimeRun => ({ slug: r.slug, schedule: r.schedule, eta: peakLearningRate(r.schedule), seed: r.seed, steps: r.summary.steps, diverged: r.summary.diverged });
  for (const run of runs) {
    const events = instabilities.filter((e) => e.run === run.slug);
    const baseline = baselineOf(run, runs);
    const compared = baseline && baseline.slug !== run.slug ? baseline : undefined;
    // The dense maps and the instability rows read the run's checkpoints; replayed quiet starts only enter the window test.
    const replayed = new Set(run.checkpoints.filter((c) => c.theta === null).map((c) => c.step));
    for (const [scope, checkpoints] of eigenspaces.get(run.slug)!) {
      const own = checkpoints.filter((c) => !replayed.has(c.step));
      overlaps.push(...alongRunOverlaps(run, scope, own, analysis.shift));
      overlaps.push(...instabilityOverlaps(run, scope, own, events, analysis.shift));
      if (compared) overlaps.push(...baselineOverlaps(run, compared, scope, own, eigenspaces.get(compared.slug)?.get(scope) ?? [], analysis.shift));
    }
    const full = eigenspaces.get(run.slug)!.get('full') ?? [];
    if (run.schedule.kind === 'constant') {
      const test = windowComparisons({ ...asMatched(run), checkpoints: run.checkpointReasons }, full, windows, analysis.shift);
      shiftWindows.push(...test.windows);
      overlaps.push(...test.overlaps);
    }
    const matchedBaseline = matched && runs.find((r) => r.schedule.kind === 'constant' && r.schedule.eta === matched.baselineEta && r.seed === run.seed);
    if (matched && matchedBaseline && matchedBaseline.slug !== run.slug) {
      const comparison = matchedTimeComparisons(asMatched(run), asMatched(matchedBaseline), full, eigenspaces.get(matchedBaseline.slug)!.get('full') ?? [], matched.taus, analysis.shift);
      matchedTime.push(...comparison.rows);
      overlaps.push(...comparison.overlaps);
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
    shift_windows: shiftWindows,
    matched_time: matchedTime,
    light_spectra: hessian('light_spectra'),
    displacement,
    // Delayed drops: the drop families' continuations (their own tasks), pinned ones flagged.
    ...flatteningTables(dropFamilies),
    instability_sensitivity,
    power_check: powerCheckRows(runRows, stepsByRun, instabilities),
    long_horizon: analysis.longHorizon ? longHorizonRows(runRows, stepsByRun, instabilities, analysis.longHorizon) : [],
    effective: effectiveRows(spectra, analysis.alphaFraction, hessian('quadrature'), hessian('exact_spectrum')),
    perturbations: hessian('perturbations'),
    klayer: hessian('klayer'),
    quadrature: hessian('quadrature'),
    exact_spectrum: hessian('exact_spectrum'),
    cooling: [...cooling.cooling],
    cooling_instabilities: [...cooling.cooling_instabilities],
    // Open question 3: the cyclic ratio study, at matched τ (its cycle ends are on the matchedTime grid).
    ...cyclicTables(
      { runs: runs.map(asMatched), steps: stepsByRun, instabilities, matchedTime, eigenspaces: new Map(runs.map((r) => [r.slug, eigenspaces.get(r.slug)!.get('full') ?? []])) },
      analysis.cyclic,
      analysis.shift,
    ),
  };
}

/** η·λmax(θ_0)/2 of a run (its regime at the start: above 1 it catapults at once), from the step-0 sharpness. */
export function initialRegime(run: Pick<RunInput, 'schedule' | 'steps'>): number | null {
  const first = run.steps.find((s) => s.step === 0);
  return first?.sharpness != null ? (first.lr * first.sharpness) / 2 : null;
}

const thetasByStep = (run: RunInput) => new Map(run.checkpoints.filter((c) => c.theta !== null).map((c) => [c.step, c.theta!]));

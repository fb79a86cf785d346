/**
 * Landscape shift (docs/architecture.md, "Science definitions as implemented"): how the top eigenspace turns between checkpoints, along a run, and against
 * the baseline (smallest-η) run; and how the parameter displacement θ_t − θ_0 lines up with the baseline's.
 */
import type { TableRow } from '@lrscape/artifacts';
import { orthonormalise, subspaceOverlap } from '@lrscape/linalg';
import { cumulativeLearningRate, firstStepAtTime, planSwitchPoints, type CheckpointEntry, type LearningRateSchedule, type SwitchPlanOptions } from '@lrscape/train';

/** A checkpoint's top eigenvectors of one scope (rank order) and its top eigenvalues (rank order, for the gap). */
export interface CheckpointEigenspace {
  step: number;
  vectors: Float64Array[];
  values: readonly number[];
}

/**
 * How eigenspaces are compared: every comparison uses the same fixed dimension m (never the per-checkpoint
 * outlier count, which would compare subspaces of different dimension), and flags a cut through the bulk.
 */
export interface ShiftSettings {
  m: number;
  /**
   * A subspace is well defined when λ_m/λ_{m+1} ≥ minGap at both ends of a comparison: by Davis–Kahan its
   * perturbation is bounded by ‖E‖/(λ_m − λ_{m+1}), so with a small gap the m-th and (m+1)-th directions
   * can swap between checkpoints and the overlap measures that swap, not a turn of the landscape.
   */
  minGap: number;
}

export interface EigenspaceOverlap {
  m: number;
  /** s = ‖U_aᵀU_b‖_F²/m ∈ [0, 1]: the mean of cos² over the m principal angles. */
  overlap: number;
  /** Cosine of the largest principal angle between the two m-dimensional spaces. */
  minCos: number;
  /** cos of the root-mean-square principal angle, cos(√(Σθ_i²/m)) (the first author's public similarity). */
  cosRms: number;
  /** λ_m/λ_{m+1} at each end; null where λ_{m+1} is not positive or not known. */
  gapA: number | null;
  gapB: number | null;
  wellDefined: boolean;
}

/** λ_m/λ_{m+1} of rank-ordered eigenvalues; null where λ_{m+1} is missing or not positive. */
export function eigengap(values: readonly number[], m: number): number | null {
  if (values.length <= m || !(values[m] > 0)) return null;
  return values[m - 1] / values[m];
}

/** Well defined at one end: a positive λ_m above a positive λ_{m+1} by minGap, or above a non-positive one. */
function separated(values: readonly number[], m: number, minGap: number): boolean {
  if (values.length <= m || !(values[m - 1] > 0)) return false;
  return values[m] > 0 ? values[m - 1] / values[m] >= minGap : true;
}

// The step×step maps compare each checkpoint with every other: its basis is orthonormalised once per m, not
// once per pair (the same arithmetic, so the same bits). Keyed by the vectors array, which is never mutated.
const orthonormalBases = new WeakMap<readonly Float64Array[], Map<number, Float64Array[]>>();
function orthonormalBasis(space: CheckpointEigenspace, m: number): Float64Array[] {
  let byM = orthonormalBases.get(space.vectors);
  if (!byM) orthonormalBases.set(space.vectors, (byM = new Map()));
  let basis = byM.get(m);
  if (!basis) byM.set(m, (basis = orthonormalise(space.vectors.slice(0, m))));
  return basis;
}

/**
 * Overlap of the top-m eigenspaces for the fixed m. Stored vectors are float32, so they are
 * re-orthonormalised in float64 first.
 */
export function eigenspaceOverlap(a: CheckpointEigenspace, b: CheckpointEigenspace, settings: ShiftSettings): EigenspaceOverlap {
  const { m, minGap } = settings;
  if (a.vectors.length < m || b.vectors.length < m) {
    throw new RangeError(`eigenspaceOverlap: m = ${m} needs ${m} stored vectors, have ${a.vectors.length} (step ${a.step}) and ${b.vectors.length} (step ${b.step})`);
  }
  const ua = orthonormalBasis(a, m);
  const ub = orthonormalBasis(b, m);
  const { overlap, cosines } = subspaceOverlap(ua, ub);
  const angles = Array.from(cosines, (c) => Math.acos(Math.min(1, Math.max(-1, c))));
  const rms = Math.sqrt(angles.reduce((sum, t) => sum + t * t, 0) / m);
  return {
    m,
    overlap: Math.min(1, Math.max(0, overlap)),
    minCos: cosines.length ? Math.min(...cosines) : 0,
    cosRms: Math.cos(rms),
    gapA: eigengap(a.values, m),
    gapB: eigengap(b.values, m),
    wellDefined: separated(a.values, m, minGap) && separated(b.values, m, minGap),
  };
}

type OverlapRow = TableRow<'overlaps'>;

/** A run as the comparisons need it: its slug and schedule (for τ = Σ_{s<t} η_s at each checkpoint). */
export interface ShiftRun {
  slug: string;
  schedule: LearningRateSchedule;
}

const row = (a: ShiftRun, ea: CheckpointEigenspace, b: ShiftRun, eb: CheckpointEigenspace, scope: string, kind: OverlapRow['kind'], settings: ShiftSettings): OverlapRow => {
  const o = eigenspaceOverlap(ea, eb, settings);
  return {
    run_a: a.slug, step_a: ea.step, run_b: b.slug, step_b: eb.step, scope, m: o.m, overlap: o.overlap, min_cos_angle: o.minCos,
    cos_rms_angle: o.cosRms, gap_a: o.gapA, gap_b: o.gapB, well_defined: o.wellDefined, kind,
    tau_a: cumulativeLearningRate(a.schedule, ea.step), tau_b: cumulativeLearningRate(b.schedule, eb.step),
  };
};

/** Consecutive checkpoints and every (step, step) pair of one run, for one scope. */
export function alongRunOverlaps(run: ShiftRun, scope: string, checkpoints: readonly CheckpointEigenspace[], settings: ShiftSettings): OverlapRow[] {
  const sorted = [...checkpoints].sort((x, y) => x.step - y.step);
  const rows: OverlapRow[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) rows.push(row(run, sorted[i], run, sorted[i + 1], scope, 'consecutive', settings));
  for (const a of sorted) for (const b of sorted) rows.push(row(run, a, run, b, scope, 'step×step', settings));
  return rows;
}

/** A run against the baseline run at every step both have a checkpoint at (the secondary, step-matched kind). */
export function baselineOverlaps(
  run: ShiftRun,
  baseline: ShiftRun,
  scope: string,
  checkpoints: readonly CheckpointEigenspace[],
  baselineCheckpoints: readonly CheckpointEigenspace[],
  settings: ShiftSettings,
): OverlapRow[] {
  const byStep = new Map(baselineCheckpoints.map((c) => [c.step, c]));
  return [...checkpoints]
    .sort((x, y) => x.step - y.step)
    .filter((c) => byStep.has(c.step))
    .map((c) => row(run, c, baseline, byStep.get(c.step)!, scope, 'baseline', settings));
}

/**
 * Before vs after each instability: the last checkpoint at or before its start against the first at or
 * after its end (instabilities that never cooled are skipped).
 */
export function instabilityOverlaps(
  run: ShiftRun,
  scope: string,
  checkpoints: readonly CheckpointEigenspace[],
  instabilities: readonly { start: number; end: number | null }[],
  settings: ShiftSettings,
): OverlapRow[] {
  const sorted = [...checkpoints].sort((x, y) => x.step - y.step);
  const rows: OverlapRow[] = [];
  for (const event of instabilities) {
    if (event.end === null) continue;
    const before = [...sorted].reverse().find((c) => c.step <= event.start);
    const after = sorted.find((c) => c.step >= event.end!);
    if (before && after && before.step !== after.step) rows.push(row(run, before, run, after, scope, 'instability', settings));
  }
  return rows;
}

/** A run of the window test: its τ schedule, seed and peak η, and training's checkpoint list (with the reasons). */
export interface WindowRun extends ShiftRun {
  eta: number;
  seed: number;
  checkpoints: readonly CheckpointEntry[];
}

/**
 * The primary shift test (docs/architecture.md, "Landscape shift"): per instability of training's event
 * checkpoints, the overlap across it (event-before → event-after, L steps) against the overlap across the
 * L-step quiet window just before it (quiet-start → event-before). The windows are the drop families' pairing
 * rule (planSwitchPoints), fixed before any overlap is seen; `eigenspaces` are the full Hessian's, including the
 * replayed quiet-window starts. A paired window whose vectors are missing is skipped with that reason.
 */
export function windowComparisons(
  run: WindowRun,
  eigenspaces: readonly CheckpointEigenspace[],
  windows: SwitchPlanOptions,
  settings: ShiftSettings,
): { windows: TableRow<'shift_windows'>[]; overlaps: OverlapRow[] } {
  const plan = planSwitchPoints(run.checkpoints, windows);
  const at = new Map(eigenspaces.map((e) => [e.step, e]));
  const base = { run: run.slug, eta: run.eta, seed: run.seed, m: settings.m };
  const empty = { quiet_start: null, before: null, after: null, overlap_instability: null, overlap_quiet: null, cos_rms_instability: null, cos_rms_quiet: null, well_defined: null };
  const rows: TableRow<'shift_windows'>[] = plan.skipped.map((s) => ({ ...base, ...empty, instability: s.instability, status: 'skipped', reason: s.reason }));
  const overlaps: OverlapRow[] = [];
  for (const instability of plan.paired) {
    const step = (kind: string) => plan.points.find((p) => p.instability === instability && p.kind === kind)!.step;
    const [quiet, before, after] = [step('quiet-start'), step('before-instability'), step('after-instability')];
    const [q, b, a] = [at.get(quiet), at.get(before), at.get(after)];
    if (!q || !b || !a) {
      const missing = [[quiet, q], [before, b], [after, a]].filter(([, e]) => !e).map(([s]) => s);
      rows.push({ ...base, ...empty, instability, status: 'skipped', reason: `no stored eigenvectors at step(s) ${missing.join(', ')}`, quiet_start: quiet, before, after });
      continue;
    }
    const across = row(run, b, run, a, 'full', 'window-instability', settings);
    const calm = row(run, q, run, b, 'full', 'window-quiet', settings);
    overlaps.push(across, calm);
    rows.push({
      ...base, instability, status: 'paired', reason: '', quiet_start: quiet, before, after,
      overlap_instability: across.overlap, overlap_quiet: calm.overlap, cos_rms_instability: across.cos_rms_angle, cos_rms_quiet: calm.cos_rms_angle,
      well_defined: across.well_defined && calm.well_defined,
    });
  }
  rows.sort((x, y) => x.instability - y.instability);
  return { windows: rows, overlaps };
}

/** A run of the matched-time comparison: the last step it reached and whether it diverged there. */
export interface MatchedTimeRun extends ShiftRun {
  eta: number;
  seed: number;
  steps: number;
  diverged: boolean;
}

/**
 * Each τ of the grid: the run's first step with τ_t ≥ τ against the baseline's (both exceed τ by less than one
 * step's η), full Hessian, fixed m; not-run with the reason where either run ends (or diverged) before τ, or
 * has no stored vectors there. τ = 0 is no comparison (both start from θ_0: overlap 1 by construction).
 */
export function matchedTimeComparisons(
  run: MatchedTimeRun,
  baseline: MatchedTimeRun,
  eigenspaces: readonly CheckpointEigenspace[],
  baselineEigenspaces: readonly CheckpointEigenspace[],
  taus: readonly number[],
  settings: ShiftSettings,
): { rows: TableRow<'matched_time'>[]; overlaps: OverlapRow[] } {
  const own = new Map(eigenspaces.map((e) => [e.step, e]));
  const theirs = new Map(baselineEigenspaces.map((e) => [e.step, e]));
  // A diverged run's last recorded step is the non-finite one: its usable steps end before it.
  const lastStep = (r: MatchedTimeRun) => (r.diverged ? r.steps - 1 : r.steps);
  const rows: TableRow<'matched_time'>[] = [];
  const overlaps: OverlapRow[] = [];
  for (const tau of [...taus].sort((a, b) => a - b)) {
    const base = { run: run.slug, baseline: baseline.slug, eta: run.eta, seed: run.seed, tau, m: settings.m };
    const notRun = (reason: string, step: number | null = null, baselineStep: number | null = null): TableRow<'matched_time'> => ({
      ...base, status: 'not-run', reason, step, baseline_step: baselineStep, tau_run: null, tau_baseline: null, overlap: null, cos_rms_angle: null, well_defined: null,
    });
    if (!(tau > 0)) {
      rows.push(notRun('τ = 0 is θ_0 for both runs (overlap 1 by construction)'));
      continue;
    }
    const step = firstStepAtTime(run.schedule, tau, lastStep(run));
    const baselineStep = firstStepAtTime(baseline.schedule, tau, lastStep(baseline));
    const ends = (r: MatchedTimeRun) => `${r.slug} ${r.diverged ? 'diverged at' : 'ends at'} step ${r.steps} (τ = ${cumulativeLearningRate(r.schedule, lastStep(r)).toPrecision(4)})`;
    if (step === null) rows.push(notRun(`beyond the run: ${ends(run)}`));
    else if (baselineStep === null) rows.push(notRun(`beyond the baseline: ${ends(baseline)}`, step));
    else if (!own.has(step) || !theirs.has(baselineStep)) {
      const which = !own.has(step) ? `${run.slug} step ${step}` : `${baseline.slug} step ${baselineStep}`;
      rows.push(notRun(`no stored eigenvectors at ${which} (a light checkpoint at each grid τ comes from config matchedTime)`, step, baselineStep));
    } else {
      const o = row(run, own.get(step)!, baseline, theirs.get(baselineStep)!, 'full', 'matched-time', settings);
      overlaps.push(o);
      rows.push({ ...base, status: 'ok', reason: '', step, baseline_step: baselineStep, tau_run: o.tau_a, tau_baseline: o.tau_b, overlap: o.overlap, cos_rms_angle: o.cos_rms_angle, well_defined: o.well_defined });
    }
  }
  return { rows, overlaps };
}

/** cos(θ_t − θ_0, θ^base_t − θ_0) at each step both runs have θ for (same θ_0: same init seed). */
export function displacementRows(run: string, theta0: Float32Array, thetas: ReadonlyMap<number, Float32Array>, baselineThetas: ReadonlyMap<number, Float32Array>): TableRow<'displacement'>[] {
  const rows: TableRow<'displacement'>[] = [];
  for (const step of [...thetas.keys()].sort((a, b) => a - b)) {
    const base = baselineThetas.get(step);
    if (!base) continue;
    const theta = thetas.get(step)!;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < theta0.length; i++) {
      const a = theta[i] - theta0[i];
      const b = base[i] - theta0[i];
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    rows.push({ run, step, cos_to_baseline: na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : null });
  }
  return rows;
}

/**
 * Landscape shift (docs/architecture.md, "Science definitions as implemented"): how the top eigenspace turns between checkpoints, along a run, and against
 * the baseline (smallest-η) run; and how the parameter displacement θ_t − θ_0 lines up with the baseline's.
 */
import type { TableRow } from '@lrscape/artifacts';
import { orthonormalise, subspaceOverlap } from '@lrscape/linalg';

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

/**
 * Overlap of the top-m eigenspaces for the fixed m. Stored vectors are float32, so they are
 * re-orthonormalised in float64 first.
 */
export function eigenspaceOverlap(a: CheckpointEigenspace, b: CheckpointEigenspace, settings: ShiftSettings): EigenspaceOverlap {
  const { m, minGap } = settings;
  if (a.vectors.length < m || b.vectors.length < m) {
    throw new RangeError(`eigenspaceOverlap: m = ${m} needs ${m} stored vectors, have ${a.vectors.length} (step ${a.step}) and ${b.vectors.length} (step ${b.step})`);
  }
  const ua = orthonormalise(a.vectors.slice(0, m));
  const ub = orthonormalise(b.vectors.slice(0, m));
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

const row = (runA: string, a: CheckpointEigenspace, runB: string, b: CheckpointEigenspace, scope: string, kind: OverlapRow['kind'], settings: ShiftSettings): OverlapRow => {
  const o = eigenspaceOverlap(a, b, settings);
  return {
    run_a: runA, step_a: a.step, run_b: runB, step_b: b.step, scope, m: o.m, overlap: o.overlap, min_cos_angle: o.minCos,
    cos_rms_angle: o.cosRms, gap_a: o.gapA, gap_b: o.gapB, well_defined: o.wellDefined, kind,
  };
};

/** Consecutive checkpoints and every (step, step) pair of one run, for one scope. */
export function alongRunOverlaps(run: string, scope: string, checkpoints: readonly CheckpointEigenspace[], settings: ShiftSettings): OverlapRow[] {
  const sorted = [...checkpoints].sort((x, y) => x.step - y.step);
  const rows: OverlapRow[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) rows.push(row(run, sorted[i], run, sorted[i + 1], scope, 'consecutive', settings));
  for (const a of sorted) for (const b of sorted) rows.push(row(run, a, run, b, scope, 'step×step', settings));
  return rows;
}

/** A run against the baseline run at every step both have a checkpoint at. */
export function baselineOverlaps(
  run: string,
  baseline: string,
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
  run: string,
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

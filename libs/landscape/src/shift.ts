/**
 * Landscape shift (docs/architecture.md, "Science definitions as implemented"): how the top eigenspace turns between checkpoints, along a run, and against
 * the baseline (smallest-η) run; and how the parameter displacement θ_t − θ_0 lines up with the baseline's.
 */
import type { TableRow } from '@lrscape/artifacts';
import { orthonormalise, subspaceOverlap } from '@lrscape/linalg';

/** A checkpoint's top eigenvectors of one scope (rank order) and its outlier count m. */
export interface CheckpointEigenspace {
  step: number;
  vectors: Float64Array[];
  m: number;
}

export interface EigenspaceOverlap {
  m: number;
  /** s = ‖U_aᵀU_b‖_F²/m ∈ [0, 1]. */
  overlap: number;
  /** Cosine of the largest principal angle between the two m-dimensional spaces. */
  minCos: number;
}

/**
 * Overlap of the top-m eigenspaces, m = min(m_a, m_b, stored vectors) (at least 1). Stored vectors are
 * float32, so they are re-orthonormalised in float64 first.
 */
export function eigenspaceOverlap(a: CheckpointEigenspace, b: CheckpointEigenspace): EigenspaceOverlap {
  const m = Math.max(1, Math.min(a.m, b.m, a.vectors.length, b.vectors.length));
  const ua = orthonormalise(a.vectors.slice(0, m));
  const ub = orthonormalise(b.vectors.slice(0, m));
  const { overlap, cosines } = subspaceOverlap(ua, ub);
  return { m, overlap: Math.min(1, Math.max(0, overlap)), minCos: cosines.length ? Math.min(...cosines) : 0 };
}

type OverlapRow = TableRow<'overlaps'>;

const row = (runA: string, a: CheckpointEigenspace, runB: string, b: CheckpointEigenspace, scope: string, kind: OverlapRow['kind']): OverlapRow => {
  const { m, overlap, minCos } = eigenspaceOverlap(a, b);
  return { run_a: runA, step_a: a.step, run_b: runB, step_b: b.step, scope, m, overlap, min_cos_angle: minCos, kind };
};

/** Consecutive checkpoints and every (step, step) pair of one run, for one scope. */
export function alongRunOverlaps(run: string, scope: string, checkpoints: readonly CheckpointEigenspace[]): OverlapRow[] {
  const sorted = [...checkpoints].sort((x, y) => x.step - y.step);
  const rows: OverlapRow[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) rows.push(row(run, sorted[i], run, sorted[i + 1], scope, 'consecutive'));
  for (const a of sorted) for (const b of sorted) rows.push(row(run, a, run, b, scope, 'step×step'));
  return rows;
}

/** A run against the baseline run at every step both have a checkpoint at. */
export function baselineOverlaps(run: string, baseline: string, scope: string, checkpoints: readonly CheckpointEigenspace[], baselineCheckpoints: readonly CheckpointEigenspace[]): OverlapRow[] {
  const byStep = new Map(baselineCheckpoints.map((c) => [c.step, c]));
  return [...checkpoints]
    .sort((x, y) => x.step - y.step)
    .filter((c) => byStep.has(c.step))
    .map((c) => row(run, c, baseline, byStep.get(c.step)!, scope, 'baseline'));
}

/**
 * Before vs after each instability: the last checkpoint at or before its start against the first at or
 * after its end (instabilities that never cooled are skipped).
 */
export function instabilityOverlaps(run: string, scope: string, checkpoints: readonly CheckpointEigenspace[], instabilities: readonly { start: number; end: number | null }[]): OverlapRow[] {
  const sorted = [...checkpoints].sort((x, y) => x.step - y.step);
  const rows: OverlapRow[] = [];
  for (const event of instabilities) {
    if (event.end === null) continue;
    const before = [...sorted].reverse().find((c) => c.step <= event.start);
    const after = sorted.find((c) => c.step >= event.end!);
    if (before && after && before.step !== after.step) rows.push(row(run, before, run, after, scope, 'instability'));
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

/**
 * Landscape-shift figures (docs/architecture.md, "Science definitions as implemented"): how the top-m eigenspace turns along a run (step × step heat
 * map), against the baseline (smallest-η) run, across each instability, and how the parameter
 * displacement θ_t − θ_0 lines up with the baseline's. Overlap s = ‖U_aᵀU_b‖_F²/m ∈ [0, 1].
 */
import * as Plot from '@observablehq/plot';
import { thin } from './figures.ts';
import { formatNumber } from './html.ts';
import {
  byRun,
  colourRuns,
  drawOrder,
  etaColour,
  isFiniteNumber,
  noData,
  renderPlot,
  runColour,
  runInfos,
  runLabel,
  tagged,
  type RunInfo,
} from './plot.ts';
import type { DisplacementRow, OverlapsRow, RunsRow } from './rows.ts';

const WIDTH = 960;

/** The sequential scheme of every overlap heat map: pale yellow (0, unrelated) to dark blue (1, the same space). */
export const OVERLAP_SCHEME = 'ylgnbu';

interface Cell {
  a: number;
  b: number;
  overlap: number;
  m: number;
  minCos: number;
  cosRms: number;
  wellDefined: boolean;
}

/**
 * Step × step heat map of one run's eigenspace overlaps (kind 'step×step', one scope): cell (a, b) is
 * the overlap of the top-m eigenspaces at checkpoints a and b, colour in [0, 1]. A pair stored once
 * is shown on both sides of the diagonal. Marks are tagged with the run (η from `runs` when given).
 */
export function overlapHeatmapFigure(overlaps: OverlapsRow[], run: string, scope = 'full', runs: RunsRow[] = []): string {
  const cells = new Map<string, Cell>();
  const key = (a: number, b: number) => `${a}\u0000${b}`;
  const own = overlaps.filter((r) => r.kind === 'step×step' && r.run_a === run && r.run_b === run && r.scope === scope && isFiniteNumber(r.overlap));
  for (const r of own) cells.set(key(r.step_a, r.step_b), { a: r.step_a, b: r.step_b, overlap: r.overlap, m: r.m, minCos: r.min_cos_angle, cosRms: r.cos_rms_angle, wellDefined: r.well_defined });
  for (const r of own) {
    if (!cells.has(key(r.step_b, r.step_a))) cells.set(key(r.step_b, r.step_a), { a: r.step_b, b: r.step_a, overlap: r.overlap, m: r.m, minCos: r.min_cos_angle, cosRms: r.cos_rms_angle, wellDefined: r.well_defined });
  }
  if (cells.size === 0) return noData(`no step × step eigenspace overlaps (${scope}) for run ${run}.`);
  const steps = [...new Set([...cells.values()].flatMap((c) => [c.a, c.b]))].sort((x, y) => x - y);
  const info = runInfos(runs, [{ run }]).get(run)!;
  const ticks = thin(steps, 10);
  const side = Math.min(520, Math.max(300, 60 + steps.length * 24));
  return renderPlot({
    width: side + 70,
    height: side + 10,
    marginLeft: 70,
    marginBottom: 50,
    x: { type: 'band', domain: steps, ticks, label: 'checkpoint step', tickRotate: steps.length > 8 ? -40 : 0 },
    y: { type: 'band', domain: steps, ticks, label: 'checkpoint step' },
    color: { type: 'linear', domain: [0, 1], scheme: OVERLAP_SCHEME, legend: true, label: `eigenspace overlap s (${scope})` },
    marks: [
      Plot.cell([...cells.values()], {
        x: 'a',
        y: 'b',
        fill: 'overlap',
        inset: steps.length > 30 ? 0 : 0.5,
        title: (c: Cell) => `${runLabel(info)}\nsteps ${c.a} and ${c.b}\noverlap ${formatNumber(c.overlap)} (top ${c.m})\nmin cos angle ${formatNumber(c.minCos)}\ncos RMS angle ${formatNumber(c.cosRms)}${c.wellDefined ? '' : '\n(small gap λ_m/λ_m+1: cut through the bulk)'}`,
        ...tagged('overlap-cell', info),
      }),
    ],
  });
}

/** A line per run of some value in [0, 1]-ish against step, coloured by η (the layout the shift figures share). */
function shiftLines<T extends { run: string; step: number }>(
  points: T[],
  runs: RunsRow[],
  options: { role: string; empty: string; y: Plot.ScaleOptions; value: (p: T) => number | null; title: (info: RunInfo, p: T) => string; extra?: Plot.Markish[] },
): string {
  const infos = runInfos(runs, points);
  const groups = byRun(points);
  const drawn = drawOrder(infos, [...groups].filter(([, rows]) => rows.some((p) => isFiniteNumber(options.value(p)))).map(([run]) => run));
  if (drawn.length === 0) return noData(options.empty);
  const y = (p: T) => options.value(p) ?? NaN;
  const marks: Plot.Markish[] = [...(options.extra ?? [])];
  for (const info of drawn) {
    const own = groups.get(info.run)!;
    marks.push(Plot.line(own, { x: 'step', y, stroke: runColour(info), strokeWidth: 1.5, title: () => runLabel(info), ...tagged(options.role, info) }));
    marks.push(
      Plot.dot(
        thin(own.filter((p) => isFiniteNumber(options.value(p))), 300),
        { x: 'step', y, r: 2.5, fill: runColour(info), title: (p: T) => options.title(info, p), ...tagged(`${options.role}-point`, info) },
      ),
    );
  }
  return renderPlot({
    width: WIDTH,
    height: 320,
    marginLeft: 60,
    x: { label: 'checkpoint step' },
    y: { grid: true, ...options.y },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

interface BaselinePoint {
  run: string;
  step: number;
  baseline: string;
  overlap: number;
  m: number;
  minCos: number;
  cosRms: number;
  wellDefined: boolean;
}

/**
 * Overlap of each run's top-m eigenspace with the baseline run's at the same step (kind 'baseline',
 * run_a the run, run_b the baseline) against step, one line per run coloured by η. The baseline's
 * own trivial row (overlap 1 with itself) is left out.
 */
export function baselineOverlapFigure(overlaps: OverlapsRow[], runs: RunsRow[], scope = 'full'): string {
  const points: BaselinePoint[] = overlaps
    .filter((r) => r.kind === 'baseline' && r.scope === scope && r.run_a !== r.run_b && isFiniteNumber(r.overlap))
    .map((r) => ({ run: r.run_a, step: r.step_a, baseline: r.run_b, overlap: r.overlap, m: r.m, minCos: r.min_cos_angle, cosRms: r.cos_rms_angle, wellDefined: r.well_defined }));
  return shiftLines(points, runs, {
    role: 'baseline-overlap',
    empty: `no overlaps with a baseline run (${scope}).`,
    y: { domain: [0, 1], label: 'overlap with the baseline run at the same step' },
    value: (p) => p.overlap,
    title: (info, p) => `${runLabel(info)}\nstep ${p.step}, against ${p.baseline}\noverlap ${formatNumber(p.overlap)} (top ${p.m})\nmin cos angle ${formatNumber(p.minCos)}\ncos RMS angle ${formatNumber(p.cosRms)}${p.wellDefined ? '' : '\n(small gap λ_m/λ_m+1: cut through the bulk)'}`,
  });
}

/** The baseline run the 'baseline' overlaps are measured against (the most frequent run_b), if any. */
export function baselineRunOf(overlaps: OverlapsRow[]): string | undefined {
  const counts = new Map<string, number>();
  for (const r of overlaps) if (r.kind === 'baseline') counts.set(r.run_b, (counts.get(r.run_b) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

interface InstabilityPair {
  run: string;
  before: number;
  after: number;
  overlap: number;
  m: number;
  minCos: number;
  cosRms: number;
  wellDefined: boolean;
}

/**
 * Eigenspace overlap across each instability (kind 'instability': the last checkpoint before its
 * start against the first after its end): a horizontal segment from the checkpoint before to the one
 * after at the height of the overlap, ends dotted, one colour per run (η). Low = the instability
 * turned the sharp directions; near 1 = they came through it unchanged.
 */
export function instabilityOverlapFigure(overlaps: OverlapsRow[], runs: RunsRow[], scope = 'full'): string {
  const pairs: InstabilityPair[] = overlaps
    .filter((r) => r.kind === 'instability' && r.scope === scope && r.run_a === r.run_b && isFiniteNumber(r.overlap))
    .map((r) => ({ run: r.run_a, before: Math.min(r.step_a, r.step_b), after: Math.max(r.step_a, r.step_b), overlap: r.overlap, m: r.m, minCos: r.min_cos_angle, cosRms: r.cos_rms_angle, wellDefined: r.well_defined }));
  const infos = runInfos(runs, pairs);
  const runNames = [...new Set(pairs.map((p) => p.run))];
  const drawn = drawOrder(infos, runNames);
  if (drawn.length === 0) return noData(`no eigenspace overlaps across instabilities (${scope}).`);
  const marks: Plot.Markish[] = [];
  for (const info of drawn) {
    const own = pairs.filter((p) => p.run === info.run);
    const title = (p: InstabilityPair) =>
      `${runLabel(info)}\ncheckpoints ${p.before} (before) → ${p.after} (after)\noverlap ${formatNumber(p.overlap)} (top ${p.m})\nmin cos angle ${formatNumber(p.minCos)}\ncos RMS angle ${formatNumber(p.cosRms)}${p.wellDefined ? '' : '\n(small gap λ_m/λ_m+1: cut through the bulk)'}`;
    marks.push(Plot.ruleY(own, { y: 'overlap', x1: 'before', x2: 'after', stroke: runColour(info), strokeWidth: 2.5, title, ...tagged('instability-overlap', info) }));
    marks.push(
      Plot.dot(
        own.flatMap((p) => [{ ...p, at: p.before }, { ...p, at: p.after }]),
        { x: 'at', y: 'overlap', r: 3, fill: runColour(info), title, ...tagged('instability-overlap-point', info) },
      ),
    );
  }
  return renderPlot({
    width: WIDTH,
    height: 300,
    marginLeft: 60,
    x: { label: 'checkpoint step (before → after an instability)' },
    y: { domain: [0, 1], label: 'overlap before vs after', grid: true },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

/**
 * cos(θ_t − θ_0, θ^base_t − θ_0) against step, one line per run coloured by η, gaps where it is
 * undefined (no displacement yet). 1 = moving the same way as the baseline run; 0 = orthogonal.
 */
export function displacementFigure(displacement: DisplacementRow[], runs: RunsRow[]): string {
  const values = displacement.map((r) => r.cos_to_baseline).filter(isFiniteNumber);
  const lo = Math.min(0, ...values);
  return shiftLines(displacement, runs, {
    role: 'displacement',
    empty: 'no displacement cosines to a baseline run.',
    y: { domain: [lo, 1], label: 'cos(θ_t − θ_0, θ_t^baseline − θ_0)' },
    value: (r) => r.cos_to_baseline,
    title: (info, r) => `${runLabel(info)}\nstep ${r.step}\ncos ${formatNumber(r.cos_to_baseline)}`,
    extra: lo < 0 ? [Plot.ruleY([0], { stroke: '#999', ...tagged('zero') })] : [],
  });
}

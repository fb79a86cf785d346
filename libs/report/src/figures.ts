/**
 * One figure per function: data in, inline SVG markup out. Each is a pure function composing
 * Observable Plot marks; one group of marks per run, tagged with the run and its η (see
 * `tagged`) so the page's η selector can dim the others. Colour is η on a log scale everywhere.
 */
import * as Plot from '@observablehq/plot';
import { formatNumber } from './html.ts';
import {
  byRun,
  colourRuns,
  drawOrder,
  etaColour,
  isColourable,
  BULK_COLOUR,
  isFiniteNumber,
  lastStepOf,
  noData,
  OUTLIER_COLOUR,
  renderPlot,
  runColour,
  runInfos,
  runLabel,
  tagged,
  type RunInfo,
} from './plot.ts';
import type { InstabilitiesRow, RunsRow, SpectraRow, StepsRow } from './rows.ts';

const WIDTH = 960;
const HEIGHT = 380;

/** Training loss against step, one line per run coloured by η, log y. Diverged runs end in ×. */
export function lossFigure(steps: StepsRow[], runs: RunsRow[]): string {
  const infos = runInfos(runs, steps);
  const plottable = (s: StepsRow) => isFiniteNumber(s.loss) && s.loss > 0;
  const groups = byRun(steps);
  const drawn = drawOrder(infos, [...groups].filter(([, rows]) => rows.some(plottable)).map(([run]) => run));
  if (drawn.length === 0) return noData('no finite, positive training loss to plot.');

  const marks: Plot.Markish[] = [];
  for (const info of drawn) {
    const rows = groups.get(info.run)!;
    const finite = rows.filter(plottable);
    // Non-finite or non-positive losses become gaps in the line rather than being bridged over.
    const y = (s: StepsRow) => (plottable(s) ? s.loss : NaN);
    marks.push(Plot.line(rows, { x: 'step', y, stroke: runColour(info), strokeWidth: 1.5, title: () => runLabel(info), ...tagged('loss', info) }));
    // Invisible but hoverable points carrying the values (SVG <title>), thinned to keep pages light.
    marks.push(
      Plot.dot(thin(finite, 120), {
        x: 'step',
        y: 'loss',
        r: 4,
        fill: runColour(info),
        fillOpacity: 0,
        title: (s: StepsRow) => `${runLabel(info)}\nstep ${s.step}\nloss ${formatNumber(s.loss)}`,
        ...tagged('loss-hover', info),
      }),
    );
    if (info.diverged) {
      const last = finite[finite.length - 1]!;
      marks.push(
        Plot.dot([last], {
          x: 'step',
          y: 'loss',
          symbol: 'times',
          r: 5,
          strokeWidth: 2,
          stroke: runColour(info),
          title: () => `${runLabel(info)}\ndiverged after step ${last.step}`,
          ...tagged('diverged', info),
        }),
      );
    }
  }
  return renderPlot({
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 60,
    x: { label: 'step' },
    y: { type: 'log', label: 'training loss', grid: true, tickFormat: '~g' },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

/**
 * Sharpness λmax against step per run, with the run's stability threshold 2/η as a dashed line of
 * the same colour: a horizontal rule for constant schedules, a step line of 2/lr_t otherwise.
 * y is logarithmic when the plotted values span more than a decade, linear otherwise. Lines are
 * decimated to at most LINE_POINTS points per run keeping each bucket's extremes (so a 20,000-step
 * run keeps its spikes and the page stays light); at most HOVER_POINTS hoverable dots per run.
 * With `instabilities`, the instabilities of one run only — `highlight`, or by default highlightRun's
 * choice — shade their heating phase (start → peak) red and cooling phase (peak → recovery, or to the
 * run's last step when it never recovered) blue: every run's bands overlaid would cover the figure.
 */
export function sharpnessFigure(steps: StepsRow[], runs: RunsRow[], instabilities: InstabilitiesRow[] = [], highlight?: string): string {
  const infos = runInfos(runs, steps);
  const groups = byRun(steps);
  const sampled = new Map<string, StepsRow[]>();
  for (const [run, rows] of groups) {
    const withSharpness = rows.filter((s) => isFiniteNumber(s.sharpness));
    if (withSharpness.length) sampled.set(run, withSharpness);
  }
  const drawn = drawOrder(infos, [...sampled.keys()]);
  if (drawn.length === 0) return noData('no sharpness samples to plot.');

  // The axis: log when the values span a decade or more. A diverged run's last estimates (θ blowing up) can be
  // ≤ 0; they do not decide the axis, and a log axis leaves them out.
  const thresholds = new Map(drawn.map((info) => [info.run, thresholdOf(info, groups.get(info.run)!)]));
  const axisValues: number[] = [];
  for (const info of drawn) {
    for (const s of sampled.get(info.run)!) if (!info.diverged || s.sharpness! > 0) axisValues.push(s.sharpness!);
    const threshold = thresholds.get(info.run)!;
    if (threshold.kind === 'rule') axisValues.push(threshold.value);
    else if (threshold.kind === 'steps') axisValues.push(...threshold.points.map((p) => p.value));
  }
  const positive = axisValues.every((v) => v > 0);
  const spread = positive ? Math.max(...axisValues) / Math.min(...axisValues) : 0;
  const log = positive && spread >= 10;

  // Bands first, so that every line and rule is drawn over them.
  const banded = highlight ?? highlightRun(runs, instabilities);
  const marks: Plot.Markish[] = drawn.filter((info) => info.run === banded).flatMap((info) => instabilityBands(info, instabilities, groups.get(info.run)!));
  for (const info of drawn) {
    const rows = log ? sampled.get(info.run)!.filter((s) => s.sharpness! > 0) : sampled.get(info.run)!;
    const threshold = thresholds.get(info.run)!;
    const thresholdText = threshold.kind === 'rule' ? formatNumber(threshold.value) : 'see dashed line';
    if (threshold.kind === 'rule') {
      marks.push(
        Plot.ruleY([threshold.value], {
          stroke: runColour(info),
          strokeDasharray: '5 4',
          strokeWidth: 1.25,
          title: () => `${runLabel(info)}\n2/η = ${formatNumber(threshold.value)}`,
          ...tagged('threshold', info),
        }),
      );
    } else if (threshold.kind === 'steps') {
      marks.push(
        Plot.line(threshold.points, {
          x: 'step',
          y: 'value',
          curve: 'step-after',
          stroke: runColour(info),
          strokeDasharray: '5 4',
          strokeWidth: 1.25,
          title: () => `${runLabel(info)}\n2/η_t (schedule)`,
          ...tagged('threshold', info),
        }),
      );
    }
    const line = decimate(rows, LINE_POINTS, (s) => s.sharpness!);
    marks.push(Plot.line(line, { x: 'step', y: 'sharpness', stroke: runColour(info), strokeWidth: info.run === banded ? 2 : 1.25, title: () => runLabel(info), ...tagged('sharpness', info) }));
    marks.push(
      Plot.dot(thin(rows, HOVER_POINTS), {
        x: 'step',
        y: 'sharpness',
        r: 2,
        fill: runColour(info),
        title: (s: StepsRow) =>
          `${runLabel(info)}\nstep ${s.step}\nλmax ${formatNumber(s.sharpness)}\n2/η ${threshold.kind === 'steps' ? formatNumber(2 / s.lr) : thresholdText}`,
        ...tagged('sharpness-point', info),
      }),
    );
  }
  return renderPlot({
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 60,
    x: { label: 'step' },
    y: { type: log ? 'log' : 'linear', label: 'sharpness λmax  (dashed: 2/η)', grid: true, tickFormat: log ? '~g' : undefined },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

/** Points per run a line keeps at most (decimate). */
export const LINE_POINTS = 800;
/** Hoverable sample dots per run in the sharpness figure (each carries a title; λmax is sampled every step on W-reg/SRC). */
const HOVER_POINTS = 120;

/**
 * At most about `max` rows of a step-sorted series for drawing a line: the rows split into max/2 buckets,
 * each keeping its smallest and largest value (in step order), so spikes survive; the first and last rows stay.
 */
export function decimate<T extends { step: number }>(rows: readonly T[], max: number, value: (row: T) => number): T[] {
  if (rows.length <= max) return [...rows];
  const buckets = Math.max(1, Math.floor(max / 2));
  const out: T[] = [rows[0]!];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * rows.length) / buckets);
    const to = Math.floor(((b + 1) * rows.length) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (value(rows[i]!) < value(rows[lo]!)) lo = i;
      if (value(rows[i]!) > value(rows[hi]!)) hi = i;
    }
    for (const i of lo <= hi ? [lo, hi] : [hi, lo]) if (out[out.length - 1] !== rows[i]) out.push(rows[i]!);
  }
  if (out[out.length - 1] !== rows[rows.length - 1]) out.push(rows[rows.length - 1]!);
  return out;
}

/**
 * The run whose instabilities a figure shades: the constant-η, non-diverged run with the most instabilities
 * (ties: the larger η, then the name); undefined when no run has any.
 */
export function highlightRun(runs: readonly RunsRow[], instabilities: readonly InstabilitiesRow[]): string | undefined {
  const counts = new Map<string, number>();
  for (const e of instabilities) counts.set(e.run, (counts.get(e.run) ?? 0) + 1);
  const candidates = runs.filter((r) => r.schedule === 'constant' && !r.diverged && (counts.get(r.run) ?? 0) > 0);
  candidates.sort((a, b) => counts.get(b.run)! - counts.get(a.run)! || b.eta - a.eta || a.run.localeCompare(b.run));
  return candidates[0]?.run;
}

/** Fill colours of the heating (loss rising, λmax above 2/η) and cooling (loss falling back) phases. */
export const HEATING_COLOUR = '#d62728';
export const COOLING_COLOUR = '#1f77b4';
const BAND_OPACITY = 0.13;

interface Band {
  x1: number;
  x2: number;
  row: InstabilitiesRow;
}

/** The heating and cooling bands of one run's instabilities, as two rect marks tagged with the run. */
export function instabilityBands(info: RunInfo, instabilities: InstabilitiesRow[], steps: StepsRow[]): Plot.Markish[] {
  const own = instabilities.filter((r) => r.run === info.run && isFiniteNumber(r.start) && isFiniteNumber(r.peak));
  if (own.length === 0) return [];
  const last = lastStepOf(steps) ?? Math.max(...own.map((r) => r.end ?? r.peak));
  const heating: Band[] = own.filter((r) => r.peak > r.start).map((row) => ({ x1: row.start, x2: row.peak, row }));
  const cooling: Band[] = own
    .map((row) => ({ x1: row.peak, x2: row.end ?? Math.max(last, row.peak), row }))
    .filter((b) => b.x2 > b.x1);
  const what = (b: Band) =>
    `${runLabel(info)}\ninstability ${b.row.index}: loss ${formatNumber(b.row.loss_before)} → ${formatNumber(b.row.peak_loss)}\n` +
    `λmax above 2/η from step ${formatNumber(b.row.up_crossing)}, back under at ${formatNumber(b.row.down_crossing)}\n` +
    `λmax peak ${formatNumber(b.row.sharpness_peak)} (step ${formatNumber(b.row.sharpness_peak_step)}), trough ${formatNumber(b.row.sharpness_trough)} (step ${formatNumber(b.row.sharpness_trough_step)})`;
  return [
    Plot.rect(heating, {
      x1: 'x1',
      x2: 'x2',
      fill: HEATING_COLOUR,
      fillOpacity: BAND_OPACITY,
      title: (b: Band) => `${what(b)}\nheating: steps ${b.x1}–${b.x2}`,
      ...tagged('heating', info),
    }),
    Plot.rect(cooling, {
      x1: 'x1',
      x2: 'x2',
      fill: COOLING_COLOUR,
      fillOpacity: BAND_OPACITY,
      title: (b: Band) => `${what(b)}\ncooling: steps ${b.x1}–${b.x2}${b.row.end === null ? ' (not back under its pre-rise level by the last step)' : ''}`,
      ...tagged('cooling', info),
    }),
  ];
}

/** Half-width of the band around λmax·η/2 = 1 that counts as hovering at the threshold. */
export const EOS_BAND = 0.15;
/** Where the edge-of-stability figure cuts its y axis, so a diverging run does not flatten the others. */
const EOS_CAP = 3;

interface EosPoint {
  step: number;
  sharpness: number;
  ratio: number;
}

/**
 * The edge of stability, normalised: λmax·η/2 = λmax/(2/η) against step for each constant-η run
 * (one line per run coloured by η), a rule at 1 (λmax = 2/η) and a grey band of ±15% around it.
 * A run whose line climbs to 1 and then stays in the band is at the edge of stability.
 */
export function edgeOfStabilityFigure(steps: StepsRow[], runs: RunsRow[]): string {
  const infos = runInfos(runs, steps);
  const groups = byRun(steps);
  const points = new Map<string, EosPoint[]>();
  for (const [run, rows] of groups) {
    const info = infos.get(run)!;
    const constant = info.schedule === 'constant' || (info.schedule === 'unknown' && new Set(rows.map((s) => s.lr)).size === 1);
    if (!constant || !isColourable(info.eta)) continue;
    const eta = info.eta;
    const own = rows.filter((s) => isFiniteNumber(s.sharpness)).map((s) => ({ step: s.step, sharpness: s.sharpness!, ratio: (s.sharpness! * eta) / 2 }));
    if (own.length) points.set(run, own);
  }
  const drawn = drawOrder(infos, [...points.keys()]);
  if (drawn.length === 0) return noData('no sharpness samples of a constant-learning-rate run.');

  const highest = Math.max(...[...points.values()].flat().map((p) => p.ratio));
  const top = Math.min(EOS_CAP, Math.max(1 + 2 * EOS_BAND, highest * 1.05));
  const marks: Plot.Markish[] = [
    Plot.rect([{ y1: 1 - EOS_BAND, y2: 1 + EOS_BAND }], { y1: 'y1', y2: 'y2', fill: '#9aa5b1', fillOpacity: 0.22, ...tagged('eos-band') }),
    Plot.ruleY([1], { stroke: '#333', strokeDasharray: '5 4', strokeWidth: 1.25, title: () => 'λmax = 2/η', ...tagged('eos-threshold') }),
  ];
  for (const info of drawn) {
    const rows = points.get(info.run)!;
    // Decimated like the sharpness lines: λmax every step would put 2,000–20,000 points per run in the page.
    marks.push(Plot.line(decimate(rows, LINE_POINTS, (p) => p.ratio), { x: 'step', y: 'ratio', stroke: runColour(info), strokeWidth: 1.5, clip: true, title: () => runLabel(info), ...tagged('eos', info) }));
    marks.push(
      Plot.dot(thin(rows, 300), {
        x: 'step',
        y: 'ratio',
        r: 2,
        fill: runColour(info),
        clip: true,
        title: (p: EosPoint) => `${runLabel(info)}\nstep ${p.step}\nλmax ${formatNumber(p.sharpness)}\n2/η ${formatNumber(2 / info.eta!)}\nλmax·η/2 ${formatNumber(p.ratio)}`,
        ...tagged('eos-point', info),
      }),
    );
  }
  return renderPlot({
    width: WIDTH,
    height: 320,
    marginLeft: 60,
    x: { label: 'step' },
    y: { domain: [0, top], label: 'λmax · η / 2  (1 = the threshold 2/η)', grid: true },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

type Threshold = { kind: 'rule'; value: number } | { kind: 'steps'; points: { step: number; value: number }[] } | { kind: 'none' };

/** 2/η for a constant schedule; otherwise 2/lr_t from the steps, keeping only the points where lr changes. */
function thresholdOf(info: RunInfo, rows: StepsRow[]): Threshold {
  if (info.schedule === 'constant' && isColourable(info.eta)) return { kind: 'rule', value: 2 / info.eta };
  const points: { step: number; value: number }[] = [];
  const withLr = rows.filter((s) => isFiniteNumber(s.lr) && s.lr > 0);
  withLr.forEach((s, i) => {
    if (i === 0 || i === withLr.length - 1 || s.lr !== withLr[i - 1]!.lr) points.push({ step: s.step, value: 2 / s.lr });
  });
  if (points.length) return { kind: 'steps', points };
  return isColourable(info.eta) ? { kind: 'rule', value: 2 / info.eta } : { kind: 'none' };
}

/**
 * Top Ritz values (rank 1..M) of one run's Hessian (or one k-layer block) against checkpoint step:
 * outliers filled, bulk hollow, faint lines joining equal ranks across checkpoints.
 */
export function spectrumFigure(spectra: SpectraRow[], run: string, scope = 'full'): string {
  const rows = spectra
    .filter((r) => r.run === run && r.scope === scope && isFiniteNumber(r.eigenvalue))
    .sort((a, b) => a.step - b.step || a.rank - b.rank);
  if (rows.length === 0) return noData(`no ${scope} spectrum recorded for run ${run}.`);
  const title = (r: SpectraRow) =>
    `${run} · ${scope}\nstep ${r.step}, rank ${r.rank}\nλ ${formatNumber(r.eigenvalue)}\nresidual ${formatNumber(r.residual)}\n${r.is_outlier ? 'outlier' : 'bulk'}`;
  const outliers = rows.filter((r) => r.is_outlier);
  const bulk = rows.filter((r) => !r.is_outlier);
  return renderPlot({
    width: 560,
    height: 320,
    marginLeft: 60,
    x: { label: 'checkpoint step' },
    y: { label: `eigenvalue (${scope === 'full' ? 'full Hessian' : scope})`, grid: true },
    marks: [
      Plot.ruleY([0], { stroke: '#999', ...tagged('zero') }),
      Plot.line(rows, { x: 'step', y: 'eigenvalue', z: 'rank', stroke: '#b8b8b8', strokeWidth: 1, ...tagged('rank-trace') }),
      Plot.dot(bulk, { x: 'step', y: 'eigenvalue', r: 3.5, stroke: BULK_COLOUR, fill: 'white', strokeWidth: 1.25, title, ...tagged('bulk') }),
      Plot.dot(outliers, { x: 'step', y: 'eigenvalue', r: 3.5, stroke: OUTLIER_COLOUR, fill: OUTLIER_COLOUR, title, ...tagged('outlier') }),
    ],
  });
}

/**
 * k-layer approximation against the full Hessian: for each k-layer scope (one panel each), the
 * ratio of the block's top eigenvalue to the full Hessian's top eigenvalue at the same checkpoint,
 * one line per run coloured by η. The block is a principal submatrix, so the ratio is at most 1.
 */
export function klayerFigure(spectra: SpectraRow[], runs: RunsRow[]): string {
  const fullTop = new Map<string, number>();
  for (const r of spectra) {
    if (r.scope === 'full' && r.rank === 1 && isFiniteNumber(r.eigenvalue)) fullTop.set(checkpointKey(r), r.eigenvalue);
  }
  const ratios: KlayerPoint[] = [];
  for (const r of spectra) {
    if (r.scope === 'full' || r.rank !== 1 || !isFiniteNumber(r.eigenvalue)) continue;
    const full = fullTop.get(checkpointKey(r));
    if (full === undefined || !(full > 0)) continue;
    ratios.push({ run: r.run, step: r.step, scope: r.scope, top: r.eigenvalue, full, ratio: r.eigenvalue / full });
  }
  const infos = runInfos(runs, ratios);
  const groups = byRun(ratios);
  const drawn = drawOrder(infos, [...groups.keys()]);
  if (drawn.length === 0) return noData('no k-layer spectra with a matching full-Hessian spectrum.');
  const scopes = [...new Set(ratios.map((p) => p.scope))].sort(byScope);

  const marks: Plot.Markish[] = [Plot.ruleY([1], { stroke: '#777', strokeDasharray: '3 3', ...tagged('exact') })];
  for (const info of drawn) {
    const rows = groups.get(info.run)!;
    const common = { x: 'step', y: 'ratio', fx: 'scope', stroke: runColour(info) } as const;
    marks.push(Plot.line(rows, { ...common, z: 'scope', strokeWidth: 1.5, title: () => runLabel(info), ...tagged('klayer', info) }));
    marks.push(
      Plot.dot(rows, {
        ...common,
        r: 2.5,
        fill: runColour(info),
        title: (p: KlayerPoint) =>
          `${runLabel(info)} · ${p.scope}\nstep ${p.step}\nλ1(${p.scope}) ${formatNumber(p.top)}\nλ1(full) ${formatNumber(p.full)}\nratio ${formatNumber(p.ratio)}`,
        ...tagged('klayer-point', info),
      }),
    );
  }
  return renderPlot({
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 60,
    fx: { domain: scopes, label: null, tickFormat: scopeLabel },
    x: { label: 'checkpoint step' },
    y: { label: 'λ1(last k layers) / λ1(full)', grid: true },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

interface KlayerPoint {
  run: string;
  step: number;
  scope: string;
  top: number;
  full: number;
  ratio: number;
}

const checkpointKey = (r: { run: string; step: number }) => `${r.run}\u0000${r.step}`;

/** 'k2' → 'last 2 layers'; anything else as it is. */
export function scopeLabel(scope: string): string {
  const k = /^k(\d+)$/.exec(scope);
  if (!k) return scope;
  return k[1] === '1' ? 'last layer' : `last ${k[1]} layers`;
}

/** full first, then k1, k2, … numerically, then anything else alphabetically. */
export function byScope(a: string, b: string): number {
  const rank = (s: string) => (s === 'full' ? -1 : /^k(\d+)$/.test(s) ? Number(s.slice(1)) : Infinity);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** At most `max` rows, evenly spaced, always keeping the first and the last. */
export function thin<T>(rows: T[], max: number): T[] {
  if (rows.length <= max) return rows;
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(rows[Math.round((k * (rows.length - 1)) / (max - 1))]!);
  return out;
}

/**
 * Figures of the instability analyses (docs/architecture.md, "Science definitions as implemented"): one run's
 * instabilities in detail, along-run flattening per η, the detector-threshold sweep, and the long-horizon
 * trend (open question 1). Pure functions, data in, inline SVG out; marks tagged with their run for the
 * page's η selector; colour is η on the page's log scale.
 */
import * as Plot from '@observablehq/plot';
import { COOLING_COLOUR, decimate, HEATING_COLOUR, instabilityBands, LINE_POINTS } from './figures.ts';
import { escapeHtml, formatNumber } from './html.ts';
import { byRun, colourRuns, drawOrder, etaColour, isFiniteNumber, noData, panels, renderPlot, runColour, runInfos, runLabel, tagged, type RunInfo } from './plot.ts';
import type { InstabilitiesRow, InstabilitySensitivityRow, LongHorizonRow, RunsRow, StepsRow } from './rows.ts';

const WIDTH = 960;

/** Colours of the crossing markers: up through 2/η (heating), down (cooling). */
const CROSSING = { up: HEATING_COLOUR, down: COOLING_COLOUR };

interface Marker {
  step: number;
  value: number;
  what: string;
}

/**
 * One run in detail, two panels over the same steps: (a) the training loss (log y), (b) λmax/(2/η_t) with a
 * rule at 1. Both shade the run's instabilities (heating red, cooling blue); (b) marks each instability's last
 * up-crossing of 2/η (▲), its first down-crossing (▼), the λmax/(2/η) peak (●) and the trough after it (○).
 */
export function instabilityDetailFigure(steps: StepsRow[], runs: RunsRow[], instabilities: InstabilitiesRow[], run: string): string {
  const rows = steps.filter((s) => s.run === run).sort((a, b) => a.step - b.step);
  const info = runInfos(runs, rows).get(run);
  if (!info || rows.length === 0) return noData(`no steps of run ${run}.`);
  const own = instabilities.filter((e) => e.run === run);
  const bands = instabilityBands(info, own, rows);
  const lossRows = rows.filter((s) => isFiniteNumber(s.loss) && s.loss > 0);
  const ratios = rows
    .filter((s) => isFiniteNumber(s.sharpness) && s.lr > 0)
    .map((s) => ({ step: s.step, ratio: s.sharpness! / (2 / s.lr), check: isFiniteNumber(s.sharpness_check) ? s.sharpness_check / (2 / s.lr) : null }));
  const colour = etaColour(colourRuns(runs, new Map([[run, info]])), false);
  // The sample at the step, or the last one before it (the detector's steps are samples; a sparser trace may not be).
  const at = (step: number | null) => (step === null ? undefined : ratios.findLast((r) => r.step <= step));
  const markers = (pick: (e: InstabilitiesRow) => number | null, what: string): Marker[] =>
    own.flatMap((e) => {
      const point = at(pick(e));
      return point ? [{ step: point.step, value: point.ratio, what: `instability ${e.index}: ${what} at step ${point.step}` }] : [];
    });
  const loss = lossRows.length
    ? renderPlot({
        width: WIDTH,
        height: 220,
        marginLeft: 60,
        x: { label: 'step' },
        y: { type: 'log', label: 'training loss', grid: true, tickFormat: '~g' },
        color: colour,
        marks: [
          ...bands,
          Plot.line(decimate(lossRows, LINE_POINTS, (s) => Math.log(s.loss!)), { x: 'step', y: 'loss', stroke: runColour(info), strokeWidth: 1.5, title: () => runLabel(info), ...tagged('detail-loss', info) }),
        ],
      })
    : noData(`no finite loss of run ${run}.`);
  const sharpness = ratios.length
    ? renderPlot({
        width: WIDTH,
        height: 260,
        marginLeft: 60,
        x: { label: 'step' },
        y: { label: 'λmax / (2/η)  (1: the threshold)', grid: true },
        color: colour,
        marks: [
          ...bands,
          Plot.ruleY([1], { stroke: '#333', strokeDasharray: '5 4', ...tagged('detail-threshold') }),
          Plot.line(decimate(ratios, LINE_POINTS, (r) => r.ratio), { x: 'step', y: 'ratio', stroke: runColour(info), strokeWidth: 1.5, title: () => runLabel(info), ...tagged('detail-ratio', info) }),
          Plot.dot(
            ratios.filter((r) => r.check !== null),
            { x: 'step', y: 'check', r: 2, stroke: '#555', fill: 'none', title: (r: { step: number; check: number }) => `step ${r.step}: Lanczos check ${formatNumber(r.check)}`, ...tagged('detail-check', info) },
          ),
          markerDots(markers((e) => e.up_crossing, 'λmax up through 2/η'), 'triangle', CROSSING.up, 'up-crossing', info),
          markerDots(markers((e) => e.down_crossing, 'λmax back under 2/η'), 'triangle', CROSSING.down, 'down-crossing', info, true, 180),
          markerDots(markers((e) => e.ratio_peak_step, 'λmax/(2/η) peak'), 'circle', '#111', 'ratio-peak', info, true),
          markerDots(markers((e) => e.ratio_trough_step, 'trough after the peak'), 'circle', '#111', 'ratio-trough', info, false),
        ],
      })
    : noData(`no sharpness samples of run ${run}.`);
  return stacked([
    { key: 'loss', title: `(a) ${runLabel(info)}: training loss`, html: loss },
    { key: 'ratio', title: '(b) λmax/(2/η): crossings of the threshold, peak and trough of each instability', html: sharpness },
  ]);
}

/** Panels one above the other at full width (same steps on both x axes), each with a short title. */
function stacked(parts: { key: string; title: string; html: string }[]): string {
  return `<div class="lrs-stacked">${parts.map((p) => `<div data-panel="${escapeHtml(p.key)}"><p class="lrs-panel-title">${escapeHtml(p.title)}</p>${p.html}</div>`).join('')}</div>`;
}

function markerDots(points: Marker[], symbol: string, colour: string, role: string, info: RunInfo, filled = true, rotate = 0): Plot.Markish {
  return Plot.dot(points, {
    x: 'step',
    y: 'value',
    symbol,
    rotate,
    r: 4,
    stroke: colour,
    fill: filled ? colour : 'white',
    title: (m: Marker) => `${runLabel(info)}\n${m.what}\nλmax/(2/η) ${formatNumber(m.value)}`,
    ...tagged(role, info),
  });
}

interface IndexPoint {
  run: string;
  eta: number;
  index: number;
  peak: number;
  trough: number | null;
  step: number;
}

/**
 * Along-run flattening, one panel per η (never pooled: each η has its own scale and rate): the peak of
 * λmax/(2/η) in each instability (filled) and the trough after it (hollow) against the instability index,
 * one line per run (its seeds), a rule at 1.
 */
export function alongRunFigure(instabilities: InstabilitiesRow[], runs: RunsRow[]): string {
  const constant = new Set(runs.filter((r) => r.schedule === 'constant' && !r.diverged).map((r) => r.run));
  const points: IndexPoint[] = instabilities
    .filter((e) => constant.has(e.run) && isFiniteNumber(e.ratio_peak))
    .map((e) => ({ run: e.run, eta: e.eta, index: e.index, peak: e.ratio_peak!, trough: e.ratio_trough, step: e.peak }));
  if (points.length === 0) return noData('no instability of a constant-η run with a sharpness peak.');
  const infos = runInfos(runs, points);
  const groups = byRunIndex(points);
  const marks: Plot.Markish[] = [Plot.ruleY([1], { stroke: '#333', strokeDasharray: '5 4', ...tagged('along-threshold') })];
  for (const info of drawOrder(infos, [...groups.keys()])) {
    const own = groups.get(info.run)!;
    const common = { x: 'index', fx: 'eta', stroke: runColour(info) } as const;
    marks.push(Plot.line(own, { ...common, y: 'peak', strokeWidth: 1.5, title: () => runLabel(info), ...tagged('along-peak-line', info) }));
    marks.push(
      Plot.dot(own, {
        ...common,
        y: 'peak',
        r: 3,
        fill: runColour(info),
        title: (p: IndexPoint) => `${runLabel(info)}\ninstability ${p.index} (loss peak at step ${p.step})\npeak λmax/(2/η) ${formatNumber(p.peak)}`,
        ...tagged('along-peak', info),
      }),
    );
    const troughs = own.filter((p) => p.trough !== null);
    marks.push(Plot.line(troughs, { ...common, y: 'trough', strokeWidth: 1, strokeDasharray: '2 3', ...tagged('along-trough-line', info) }));
    marks.push(
      Plot.dot(troughs, {
        ...common,
        y: 'trough',
        r: 3,
        fill: 'white',
        title: (p: IndexPoint) => `${runLabel(info)}\ninstability ${p.index}\ntrough λmax/(2/η) after the peak ${formatNumber(p.trough)}`,
        ...tagged('along-trough', info),
      }),
    );
  }
  return renderPlot({
    width: WIDTH,
    height: 340,
    marginLeft: 60,
    fx: { label: 'η', tickFormat: (d: number) => `η = ${formatNumber(d)}` },
    x: { label: 'instability index i', grid: true },
    y: { label: 'λmax / (2/η): peak (●), trough (○)', grid: true },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

function byRunIndex(points: IndexPoint[]): Map<string, IndexPoint[]> {
  const groups = new Map<string, IndexPoint[]>();
  for (const p of points) push(groups, p.run, p);
  for (const g of groups.values()) g.sort((a, b) => a.index - b.index);
  return groups;
}

/**
 * The detector-threshold sweep: for each detector (relative: a rise by a fraction of the running minimum;
 * absolute: loss-peak prominence in loss units), the instability count per run against the threshold (top), and
 * the run's along-run τ of the peak against the index (bottom; missing where it has fewer than 3 instabilities).
 */
export function sensitivityFigure(sensitivity: InstabilitySensitivityRow[], runs: RunsRow[]): string {
  if (sensitivity.length === 0) return noData('no threshold sweep (analysis.instabilities.sweep is empty).');
  const infos = runInfos(runs, sensitivity);
  const colour = etaColour(colourRuns(runs, infos), false);
  const panel = (detector: 'relative' | 'absolute', y: 'count' | 'tau_peak') => {
    const rows = sensitivity.filter((r) => r.detector === detector && (y === 'count' || isFiniteNumber(r.tau_peak)));
    if (rows.length === 0) return noData(y === 'count' ? `no ${detector} thresholds in the sweep.` : 'no run has 3 instabilities at any of these thresholds.');
    const groups = new Map<string, InstabilitySensitivityRow[]>();
    for (const r of rows) push(groups, r.run, r);
    const marks: Plot.Markish[] = y === 'tau_peak' ? [Plot.ruleY([0], { stroke: '#333', ...tagged('sweep-zero') })] : [];
    for (const info of drawOrder(infos, [...groups.keys()])) {
      const own = groups.get(info.run)!.sort((a, b) => a.threshold - b.threshold);
      marks.push(Plot.line(own, { x: 'threshold', y, stroke: runColour(info), strokeWidth: 1.25, ...tagged(`sweep-${y}`, info) }));
      marks.push(
        Plot.dot(own, {
          x: 'threshold',
          y,
          r: 3,
          fill: runColour(info),
          title: (r: InstabilitySensitivityRow) => `${runLabel(info)}\n${detector} ${formatNumber(r.threshold)}: ${r.count} instabilities, τ ${formatNumber(r.tau_peak)}`,
          ...tagged(`sweep-${y}-point`, info),
        }),
      );
    }
    return renderPlot({
      width: 470,
      height: 260,
      marginLeft: 50,
      x: { type: 'log', label: detector === 'relative' ? 'threshold r (rise over the running minimum, fraction)' : 'threshold p (prominence, loss units)', tickFormat: '~g' },
      y: y === 'count' ? { label: 'instabilities in the run', grid: true } : { label: 'τ(index, peak λmax/(2/η))', domain: [-1, 1], grid: true },
      color: colour,
      marks,
    });
  };
  return panels([
    { key: 'relative-count', title: 'relative detector: instability count', html: panel('relative', 'count') },
    { key: 'absolute-count', title: 'absolute detector: instability count', html: panel('absolute', 'count') },
    { key: 'relative-tau', title: 'relative detector: along-run τ', html: panel('relative', 'tau_peak') },
    { key: 'absolute-tau', title: 'absolute detector: along-run τ', html: panel('absolute', 'tau_peak') },
  ]);
}

interface HorizonPoint {
  run: string;
  index: number;
  step: number;
  value: number;
  kind: 'peak' | 'trough';
}

/**
 * Open question 1: the per-instability peak (filled) and trough (hollow) of λmax/(2/η) against the loss-peak
 * step on a log axis (a) and against the instability index (b), one colour per η, a rule at 1; in (a) the
 * per-step λmax/(2/η) of each run as a faint line to its last step (so the quiet late part shows), and a dashed
 * vertical rule where the late part of training begins.
 */
export function longHorizonFigure(instabilities: InstabilitiesRow[], runs: RunsRow[], longHorizon: LongHorizonRow[], steps: StepsRow[] = []): string {
  const included = new Set(longHorizon.map((r) => r.run));
  const points: HorizonPoint[] = instabilities
    .filter((e) => included.has(e.run) && e.peak > 0)
    .flatMap((e) => [
      ...(isFiniteNumber(e.ratio_peak) ? [{ run: e.run, index: e.index, step: e.peak, value: e.ratio_peak, kind: 'peak' as const }] : []),
      ...(isFiniteNumber(e.ratio_trough) ? [{ run: e.run, index: e.index, step: e.peak, value: e.ratio_trough, kind: 'trough' as const }] : []),
    ]);
  if (points.length === 0) return noData('no instability with a sharpness peak in the long-horizon runs.');
  const infos = runInfos(runs, points);
  const colour = etaColour(colourRuns(runs, infos), false);
  const lateFrom = [...new Set(longHorizon.map((r) => r.late_from))].filter((s) => s > 0);
  // Each long run's λmax/(2/η) per step (from step 1: the axis is logarithmic), decimated.
  const traces = new Map<string, { step: number; ratio: number }[]>();
  for (const [run, rows] of byRun(steps.filter((s) => included.has(s.run) && s.step > 0 && isFiniteNumber(s.sharpness) && s.lr > 0))) {
    traces.set(run, decimate(rows.map((s) => ({ step: s.step, ratio: s.sharpness! / (2 / s.lr) })), 400, (p) => p.ratio));
  }
  const lastStep = Math.max(...longHorizon.map((r) => r.steps), ...points.map((p) => p.step));
  const firstStep = Math.max(1, Math.min(...points.map((p) => p.step)) / 2);
  // The trace's excursions stay within the instabilities' own range: the y axis is the points', so a first
  // transient does not flatten the rest.
  const values = points.map((p) => p.value);
  const yDomain = [Math.min(...values, 1) - 0.02, Math.max(...values, 1) + 0.02];
  const panel = (x: 'step' | 'index') => {
    const marks: Plot.Markish[] = [Plot.ruleY([1], { stroke: '#333', strokeDasharray: '5 4', ...tagged('horizon-threshold') })];
    if (x === 'step') {
      marks.push(Plot.ruleX(lateFrom, { stroke: '#777', strokeDasharray: '2 3', title: (s: number) => `late part from step ${s}`, ...tagged('horizon-late') }));
      for (const info of drawOrder(infos, [...traces.keys()])) {
        marks.push(Plot.line(traces.get(info.run)!, { x: 'step', y: 'ratio', stroke: runColour(info), strokeOpacity: 0.35, strokeWidth: 1, title: () => runLabel(info), ...tagged('horizon-trace', info) }));
      }
    }
    const groups = new Map<string, HorizonPoint[]>();
    for (const p of points) push(groups, p.run, p);
    for (const info of drawOrder(infos, [...groups.keys()])) {
      for (const kind of ['peak', 'trough'] as const) {
        const own = groups.get(info.run)!.filter((p) => p.kind === kind).sort((a, b) => a.index - b.index);
        marks.push(
          Plot.dot(own, {
            x,
            y: 'value',
            r: 2.5,
            stroke: runColour(info),
            fill: kind === 'peak' ? runColour(info) : 'white',
            title: (p: HorizonPoint) => `${runLabel(info)}\ninstability ${p.index}, loss peak at step ${p.step}\n${kind} λmax/(2/η) ${formatNumber(p.value)}`,
            ...tagged(`horizon-${kind}`, info),
          }),
        );
      }
    }
    return renderPlot({
      width: 470,
      height: 300,
      marginLeft: 50,
      clip: x === 'step',
      x: x === 'step' ? { type: 'log', domain: [firstStep, lastStep], label: 'step (log): loss peaks, and λmax/(2/η) per step (faint)', tickFormat: '~g' } : { label: 'instability index i', grid: true },
      y: { label: 'λmax / (2/η): peak (●), trough (○)', grid: true, ...(x === 'step' ? { domain: yDomain } : {}) },
      color: colour,
      marks,
    });
  };
  return panels([
    { key: 'step', title: '(a) against log t', html: panel('step') },
    { key: 'index', title: '(b) against the instability index', html: panel('index') },
  ]);
}

/** Appends to the list under `key` (no copying: lists here can hold every step of a 20,000-step run). */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Landscape flattening (docs/architecture.md, "Science definitions as implemented"), two panels: (a) along a run, the sharpness of the solution reached
 * after the i-th instability against i; (b) drop schedules with later and later t_switch, the final
 * sharpness against the number of instabilities met before the drop, each point labelled by t_switch.
 */
import * as Plot from '@observablehq/plot';
import { formatNumber } from './html.ts';
import {
  colourRuns,
  drawOrder,
  etaColour,
  integerTicks,
  isColourable,
  isFiniteNumber,
  noData,
  panels,
  renderPlot,
  runColour,
  runInfos,
  runLabel,
  tagged,
  type RunInfo,
} from './plot.ts';
import type { FlatteningRow, RunsRow } from './rows.ts';

const PANEL_WIDTH = 470;
const PANEL_HEIGHT = 340;

export function flatteningFigure(flattening: FlatteningRow[], runs: RunsRow[] = []): string {
  const usable = flattening.filter((r) => isFiniteNumber(r.sharpness) && isFiniteNumber(r.instabilities));
  const along = usable.filter((r) => r.kind === 'along_run');
  const drop = usable.filter((r) => r.kind === 'drop');
  if (along.length === 0 && drop.length === 0) return noData('no flattening measurements.');
  const infos = runInfos(runs, usable);
  const colour = etaColour(colourRuns(runs, infos));
  return panels([
    {
      key: 'along_run',
      title: '(a) along a run: sharpness after the i-th instability',
      html: along.length ? alongRunPanel(along, infos, colour) : noData('no run had an instability to follow.'),
    },
    {
      key: 'drop',
      title: '(b) drop schedules: final sharpness against instabilities before the drop',
      // The legend goes with the first panel that has data.
      html: drop.length ? dropPanel(drop, infos, { ...colour, legend: along.length === 0 }) : noData('no drop-schedule runs.'),
    },
  ]);
}

function alongRunPanel(rows: FlatteningRow[], infos: Map<string, RunInfo>, colour: Plot.ScaleOptions): string {
  const drawn = drawOrder(infos, [...new Set(rows.map((r) => r.run))]);
  const marks: Plot.Markish[] = [];
  for (const info of drawn) {
    const own = rows.filter((r) => r.run === info.run).sort((a, b) => a.instabilities - b.instabilities);
    if (info.schedule === 'constant' && isColourable(info.eta)) {
      const threshold = 2 / info.eta;
      marks.push(
        Plot.ruleY([threshold], { stroke: runColour(info), strokeDasharray: '5 4', strokeOpacity: 0.8, title: () => `${runLabel(info)}\n2/η = ${formatNumber(threshold)}`, ...tagged('threshold', info) }),
      );
    }
    marks.push(Plot.line(own, { x: 'instabilities', y: 'sharpness', stroke: runColour(info), strokeWidth: 1.5, title: () => runLabel(info), ...tagged('flattening', info) }));
    marks.push(
      Plot.dot(own, {
        x: 'instabilities',
        y: 'sharpness',
        r: 3,
        fill: runColour(info),
        title: (r: FlatteningRow) => `${runLabel(info)}\nafter instability ${r.instabilities}\nλmax ${formatNumber(r.sharpness)}`,
        ...tagged('flattening-point', info),
      }),
    );
  }
  const counts = rows.map((r) => r.instabilities);
  return renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 56,
    x: { label: 'instability i', ticks: integerTicks(Math.min(...counts), Math.max(...counts), 8), tickFormat: 'd' },
    y: { label: 'λmax after it  (dashed: 2/η)', grid: true },
    color: colour,
    marks,
  });
}

function dropPanel(rows: FlatteningRow[], infos: Map<string, RunInfo>, colour: Plot.ScaleOptions): string {
  const sorted = [...rows].sort((a, b) => (a.t_switch ?? Infinity) - (b.t_switch ?? Infinity) || a.instabilities - b.instabilities);
  const label = (r: FlatteningRow) => (r.t_switch === null ? 'no drop' : `t=${r.t_switch}`);
  const marks: Plot.Markish[] = [
    // The trend over later and later drops, drawn once for all runs.
    Plot.line(sorted, { x: 'instabilities', y: 'sharpness', stroke: '#aaa', strokeWidth: 1, strokeDasharray: '2 3', ...tagged('drop-trend') }),
  ];
  for (const info of drawOrder(infos, [...new Set(sorted.map((r) => r.run))])) {
    const own = sorted.filter((r) => r.run === info.run);
    const title = (r: FlatteningRow) =>
      `${runLabel(info)}\n${r.t_switch === null ? 'no drop' : `drop at step ${r.t_switch}`}\n${r.instabilities} instabilit${r.instabilities === 1 ? 'y' : 'ies'} before the drop\nfinal λmax ${formatNumber(r.sharpness)}`;
    marks.push(Plot.dot(own, { x: 'instabilities', y: 'sharpness', r: 4, fill: runColour(info), stroke: 'white', title, ...tagged('drop', info) }));
    marks.push(Plot.text(own, { x: 'instabilities', y: 'sharpness', text: label, dy: -10, fontSize: 10, fill: '#333', ...tagged('drop-label', info) }));
  }
  const counts = rows.map((r) => r.instabilities);
  return renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 56,
    marginTop: 24,
    x: { label: 'instabilities before the drop', ticks: integerTicks(Math.min(...counts), Math.max(...counts), 8), tickFormat: 'd', inset: 14 },
    y: { label: 'final λmax', grid: true, inset: 10 },
    color: colour,
    marks,
  });
}

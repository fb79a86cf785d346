/**
 * The output-space role of the top eigendirections (docs/architecture.md, "Science definitions as
 * implemented"): how strongly each class's output moves (classification: the RMS over examples, which
 * opposite responses cannot cancel) or how the output at each input x moves (regression) when θ moves along u_i.
 */
import * as Plot from '@observablehq/plot';
import { thin } from './figures.ts';
import { formatNumber } from './html.ts';
import { isFiniteNumber, lastStepOf, noData, renderPlot, tagged } from './plot.ts';
import type { PerturbationsRow } from './rows.ts';

/**
 * Above this many distinct `class_or_x` values, or with any that is not an integer, the rows are read
 * as a regression (x values), not classes.
 */
export const MAX_CLASSES = 30;

/** True when the values of `class_or_x` are inputs x of a regression rather than class indices. */
export function isRegression(rows: readonly { class_or_x: number }[]): boolean {
  const values = new Set(rows.map((r) => r.class_or_x));
  return values.size > MAX_CLASSES || [...values].some((v) => !Number.isInteger(v));
}

/**
 * One run at one checkpoint (default: its last with perturbations): a direction × class heat map of the RMS
 * over examples of the change of each class's output (a sequential scale from 0; the signed mean in the
 * hover text); for a regression, one line of delta against x per direction instead.
 */
export function perturbationHeatmapFigure(perturbations: PerturbationsRow[], run: string, step?: number): string {
  const own = perturbations.filter((r) => r.run === run && isFiniteNumber(r.delta) && isFiniteNumber(r.class_or_x));
  if (own.length === 0) return noData(`no output perturbations recorded for run ${run}.`);
  const at = step ?? lastStepOf(own)!;
  const rows = own.filter((r) => r.step === at).sort((a, b) => a.direction - b.direction || a.class_or_x - b.class_or_x);
  if (rows.length === 0) return noData(`no output perturbations for run ${run} at step ${at}.`);
  const directions = [...new Set(rows.map((r) => r.direction))];
  const regression = isRegression(rows);
  const title = (r: PerturbationsRow) =>
    `${run} · step ${at}\ndirection u${r.direction}\n${regression ? 'x' : 'class'} ${formatNumber(r.class_or_x)}\n` +
    (regression ? `Δ output ${formatNumber(r.delta)}` : `RMS Δ output ${formatNumber(r.rms)}\nmean Δ output ${formatNumber(r.delta)}`);
  if (regression) {
    return renderPlot({
      width: 560,
      height: 320,
      marginLeft: 60,
      x: { label: 'input x' },
      y: { label: 'Δ output along u_i', grid: true },
      color: { type: 'ordinal', domain: directions, scheme: 'tableau10', legend: true, label: 'direction', tickFormat: (d: number) => `u${d}` },
      marks: [
        Plot.ruleY([0], { stroke: '#999', ...tagged('zero') }),
        Plot.line(rows, { x: 'class_or_x', y: 'delta', z: 'direction', stroke: 'direction', strokeWidth: 1.5, ...tagged('perturbation') }),
        Plot.dot(thin(rows, 600), { x: 'class_or_x', y: 'delta', r: 3, fill: 'direction', fillOpacity: 0, title, ...tagged('perturbation-hover') }),
      ],
    });
  }
  const classes = [...new Set(rows.map((r) => r.class_or_x))].sort((a, b) => a - b);
  const largest = Math.max(...rows.map((r) => r.rms));
  const few = classes.length * directions.length <= 120;
  return renderPlot({
    width: Math.min(560, 120 + classes.length * 48),
    height: Math.min(460, 90 + directions.length * 36),
    marginLeft: 60,
    marginBottom: 40,
    x: { type: 'band', domain: classes, label: 'class' },
    y: { type: 'band', domain: directions, label: 'direction', tickFormat: (d: number) => `u${d}` },
    color: { type: 'linear', scheme: 'blues', legend: true, label: 'RMS Δ output', domain: [0, largest > 0 ? largest : 1] },
    marks: [
      Plot.cell(rows, { x: 'class_or_x', y: 'direction', fill: 'rms', inset: 0.5, title, ...tagged('perturbation-cell') }),
      ...(few
        ? [
            Plot.text(rows, {
              x: 'class_or_x',
              y: 'direction',
              text: (r: PerturbationsRow) => formatNumber(Number(r.rms.toPrecision(2))),
              fontSize: 9,
              fill: (r: PerturbationsRow) => (largest > 0 && r.rms > 0.6 * largest ? 'white' : '#222'),
              ...tagged('perturbation-value'),
            }),
          ]
        : []),
    ],
  });
}

/**
 * Figures of the Hessian's spectrum beyond its top eigenvalues: the bulk density at a checkpoint, the
 * effective number of parameters and the outlier count over training, the trace, and the k-layer
 * block's errors against the full Hessian. Same conventions as figures.ts: data in, inline SVG out,
 * one group of marks per run tagged with the run and its η, colour η on a log scale.
 */
import * as Plot from '@observablehq/plot';
import { byScope, scopeLabel, thin } from './figures.ts';
import { formatNumber } from './html.ts';
import {
  BULK_COLOUR,
  byRun,
  colourRuns,
  drawOrder,
  etaColour,
  integerTicks,
  isFiniteNumber,
  lastStepOf,
  noData,
  OUTLIER_COLOUR,
  renderPlot,
  runColour,
  runInfos,
  runLabel,
  tagged,
} from './plot.ts';
import type { DensityRow, EffectiveRow, KlayerRow, RunsRow, SpectraRow, TraceRow } from './rows.ts';

const WIDTH = 960;
const HEIGHT = 340;

/** How many decades below its peak the density plot reaches; smaller values sit on the floor. */
export const DENSITY_DECADES = 6;

interface DensityPoint {
  lambda: number;
  density: number;
  shown: number;
}

/**
 * The bulk spectral density (stochastic Lanczos quadrature, Gaussian-smoothed) of one run's Hessian at
 * one checkpoint (default: the last with a density) against λ, on a log density axis, with the outlier
 * eigenvalues of `spectra` at the same checkpoint and scope as red dashed rules.
 */
export function densityFigure(density: DensityRow[], spectra: SpectraRow[], run: string, step?: number, scope = 'full'): string {
  const own = density.filter((r) => r.run === run && r.scope === scope && isFiniteNumber(r.lambda) && isFiniteNumber(r.density));
  if (own.length === 0) return noData(`no ${scope} spectral density recorded for run ${run}.`);
  const at = step ?? lastStepOf(own)!;
  const curve = own.filter((r) => r.step === at).sort((a, b) => a.lambda - b.lambda);
  const peak = Math.max(0, ...curve.map((r) => r.density));
  if (curve.length === 0 || !(peak > 0)) return noData(`no ${scope} spectral density for run ${run} at step ${at}.`);
  const smallest = Math.min(...curve.filter((r) => r.density > 0).map((r) => r.density));
  const floor = Math.max(smallest, peak * 10 ** -DENSITY_DECADES);
  const points: DensityPoint[] = curve.map((r) => ({ lambda: r.lambda, density: r.density, shown: Math.max(r.density, floor) }));
  const outliers = spectra
    .filter((r) => r.run === run && r.scope === scope && r.step === at && r.is_outlier && isFiniteNumber(r.eigenvalue))
    .sort((a, b) => a.rank - b.rank);
  return renderPlot({
    width: 560,
    height: 320,
    marginLeft: 60,
    x: { label: `eigenvalue λ (${scope === 'full' ? 'full Hessian' : scopeLabel(scope)})`, grid: true },
    y: { type: 'log', domain: [floor, peak * 2], label: 'spectral density', tickFormat: '~g', grid: true },
    marks: [
      Plot.areaY(points, { x: 'lambda', y1: floor, y2: 'shown', fill: BULK_COLOUR, fillOpacity: 0.18, ...tagged('density-area') }),
      Plot.line(points, { x: 'lambda', y: 'shown', stroke: BULK_COLOUR, strokeWidth: 1.5, ...tagged('density') }),
      Plot.dot(thin(points, 150), {
        x: 'lambda',
        y: 'shown',
        r: 3,
        fill: BULK_COLOUR,
        fillOpacity: 0,
        title: (p: DensityPoint) => `${run} · step ${at}\nλ ${formatNumber(p.lambda)}\ndensity ${formatNumber(p.density)}`,
        ...tagged('density-hover'),
      }),
      Plot.ruleX(outliers, {
        x: 'eigenvalue',
        stroke: OUTLIER_COLOUR,
        strokeWidth: 1.5,
        strokeDasharray: '4 3',
        title: (r: SpectraRow) => `${run} · step ${at}\noutlier, rank ${r.rank}\nλ ${formatNumber(r.eigenvalue)}`,
        ...tagged('outlier'),
      }),
    ],
  });
}

/** A per-run line over training of one numeric column of rows with a run and a step, coloured by η. */
function perRunLines<T extends { run: string; step: number }>(
  rows: T[],
  runs: RunsRow[],
  value: (row: T) => number | null,
  options: {
    role: string;
    what: string;
    empty: string;
    y: Plot.ScaleOptions;
    curve?: Plot.CurveName;
    /** Marks under the runs' lines. */
    extra?: Plot.Markish[];
    /** Marks over the runs' lines. */
    overlay?: Plot.Markish[];
    detail?: (row: T) => string;
    height?: number;
  },
): string {
  const kept = rows.filter((r) => isFiniteNumber(value(r)));
  const infos = runInfos(runs, kept);
  const groups = byRun(kept);
  const drawn = drawOrder(infos, [...groups.keys()]);
  if (drawn.length === 0) return noData(options.empty);
  const marks: Plot.Markish[] = [...(options.extra ?? [])];
  for (const info of drawn) {
    const own = groups.get(info.run)!;
    const y = (r: T) => value(r);
    marks.push(Plot.line(own, { x: 'step', y, stroke: runColour(info), strokeWidth: 1.5, curve: options.curve, title: () => runLabel(info), ...tagged(options.role, info) }));
    marks.push(
      Plot.dot(thin(own, 300), {
        x: 'step',
        y,
        r: 2.5,
        fill: runColour(info),
        title: (r: T) => `${runLabel(info)}\nstep ${r.step}\n${options.what} ${formatNumber(value(r))}${options.detail ? `\n${options.detail(r)}` : ''}`,
        ...tagged(`${options.role}-point`, info),
      }),
    );
  }
  marks.push(...(options.overlay ?? []));
  return renderPlot({
    width: WIDTH,
    height: options.height ?? HEIGHT,
    marginLeft: 60,
    x: { label: 'checkpoint step' },
    y: { grid: true, ...options.y },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

/** N_eff = Σ λ_i/(λ_i + α) over the top Ritz values against checkpoint step, one line per run (one scope). */
export function effectiveFigure(effective: EffectiveRow[], runs: RunsRow[], scope = 'full'): string {
  return perRunLines(
    effective.filter((r) => r.scope === scope),
    runs,
    (r) => r.n_eff,
    {
      role: 'n-eff',
      what: 'N_eff',
      empty: `no effective-parameter counts for the ${scope} Hessian.`,
      y: { label: 'effective parameters N_eff', zero: true },
      detail: (r) => `m ${r.m}`,
    },
  );
}

/**
 * The full-spectrum N_eff = Σ |λ|/(|λ| + α) against checkpoint step, estimated by SLQ (lines, one per run),
 * with the exact dense value as rings where it was computed (final checkpoints of small nets).
 */
export function effectiveFullFigure(effective: EffectiveRow[], runs: RunsRow[], scope = 'full'): string {
  const rows = effective.filter((r) => r.scope === scope);
  const exact = rows.filter((r) => isFiniteNumber(r.n_eff_exact));
  return perRunLines(rows, runs, (r) => r.n_eff_full, {
    role: 'n-eff-full',
    what: 'N_eff (whole spectrum, SLQ)',
    empty: `no full-spectrum N_eff estimates for the ${scope} Hessian.`,
    y: { label: 'N_eff over the whole spectrum', zero: true },
    detail: (r) => `top-M N_eff ${formatNumber(r.n_eff)}${isFiniteNumber(r.n_eff_exact) ? `, exact ${formatNumber(r.n_eff_exact)}` : ''}`,
    overlay: exact.length
      ? [Plot.dot(exact, { x: 'step', y: 'n_eff_exact', r: 5, stroke: '#111', fill: 'none', title: (r: EffectiveRow) => `${r.run} · step ${r.step}\nexact N_eff ${formatNumber(r.n_eff_exact)}\nSLQ ${formatNumber(r.n_eff_full)}`, ...tagged('n-eff-exact') })]
      : [],
  });
}

/** λ_min (the most negative Ritz value of the full Hessian) against checkpoint step, one line per run. */
export function bottomEigenvalueFigure(spectra: SpectraRow[], runs: RunsRow[], scope = 'full'): string {
  const rows = spectra.filter((r) => r.end === 'bottom' && r.rank === 1 && r.scope === scope);
  return perRunLines(rows, runs, (r) => r.eigenvalue, {
    role: 'lambda-min',
    what: 'λ_min',
    empty: `no bottom-end eigenvalues for the ${scope} Hessian.`,
    y: { label: 'λ_min', grid: true },
    extra: [Plot.ruleY([0], { stroke: '#999', ...tagged('zero') })],
    detail: (r) => `residual ${formatNumber(r.residual)}`,
  });
}

/** |λ_min| / λmax against checkpoint step, one line per run: how large the negative curvature is next to the top. */
export function bottomRatioFigure(spectra: SpectraRow[], runs: RunsRow[], scope = 'full'): string {
  const top = new Map(spectra.filter((r) => r.end === 'top' && r.rank === 1 && r.scope === scope).map((r) => [`${r.run}\u0000${r.step}`, r.eigenvalue]));
  const rows = spectra
    .filter((r) => r.end === 'bottom' && r.rank === 1 && r.scope === scope)
    .flatMap((r) => {
      const lambdaMax = top.get(`${r.run}\u0000${r.step}`);
      return lambdaMax !== undefined && lambdaMax > 0 ? [{ run: r.run, step: r.step, ratio: Math.abs(Math.min(r.eigenvalue, 0)) / lambdaMax }] : [];
    });
  return perRunLines(rows, runs, (r) => r.ratio, {
    role: 'lambda-min-ratio',
    what: '|λ_min|/λmax',
    empty: `no bottom-end eigenvalues with a λmax for the ${scope} Hessian.`,
    y: { label: '|λ_min| / λmax', zero: true },
  });
}

/**
 * The outlier count m against checkpoint step, one step line per run; with `classes`, a dashed
 * reference rule at C (the number of classes), the count m is expected to match.
 */
export function outlierCountFigure(effective: EffectiveRow[], runs: RunsRow[], classes?: number, scope = 'full'): string {
  const rows = effective.filter((r) => r.scope === scope && isFiniteNumber(r.m));
  const counts = rows.map((r) => r.m);
  const reference = isFiniteNumber(classes) && classes > 0 ? classes : undefined;
  const hi = Math.max(1, ...counts, reference ?? 0);
  // Over the lines: when m = C (the expected case) the rule would otherwise hide under them.
  const overlay: Plot.Markish[] = [];
  if (reference !== undefined && rows.length) {
    overlay.push(
      Plot.ruleY([reference], { stroke: '#333', strokeDasharray: '6 4', strokeWidth: 1.25, title: () => `C = ${reference} classes`, ...tagged('classes') }),
      Plot.text([reference], { y: (c: number) => c, frameAnchor: 'right', dx: -4, dy: -8, textAnchor: 'end', text: () => `C = ${reference}`, ...tagged('classes-label') }),
    );
  }
  return perRunLines(rows, runs, (r) => r.m, {
    role: 'outlier-count',
    what: 'm',
    empty: `no outlier counts for the ${scope} Hessian.`,
    y: { label: 'outlier count m', domain: [0, hi + 0.5], ticks: integerTicks(0, hi), tickFormat: 'd' },
    curve: 'step-after',
    overlay,
    height: 300,
    detail: (r) => `N_eff ${formatNumber(r.n_eff)}`,
  });
}

interface TracePoint {
  run: string;
  step: number;
  estimate: number;
  lo: number;
  hi: number;
  stderr: number;
}

/** Hutchinson estimates of the Hessian trace against checkpoint step, one line per run, bars of ±2 standard errors. */
export function traceFigure(trace: TraceRow[], runs: RunsRow[], scope = 'full'): string {
  const points: TracePoint[] = trace
    .filter((r) => r.scope === scope && isFiniteNumber(r.estimate))
    .map((r) => {
      const e = isFiniteNumber(r.stderr) ? 2 * Math.abs(r.stderr) : 0;
      return { run: r.run, step: r.step, estimate: r.estimate, lo: r.estimate - e, hi: r.estimate + e, stderr: r.stderr };
    });
  const bars = points.filter((p) => p.hi > p.lo);
  const infos = runInfos(runs, points);
  const extra: Plot.Markish[] = drawOrder(infos, [...byRun(bars).keys()]).map((info) =>
    Plot.ruleX(
      bars.filter((p) => p.run === info.run),
      { x: 'step', y1: 'lo', y2: 'hi', stroke: runColour(info), strokeOpacity: 0.6, ...tagged('trace-error', info) },
    ),
  );
  return perRunLines(points, runs, (p) => p.estimate, {
    role: 'trace',
    what: 'trace',
    empty: `no trace estimates for the ${scope} Hessian.`,
    y: { label: 'Hessian trace (Hutchinson, ±2 s.e.)' },
    extra,
    height: 300,
    detail: (p) => `± ${formatNumber(p.stderr)} (s.e.)`,
  });
}

interface KlayerErrorPoint {
  run: string;
  step: number;
  k: number;
  metric: string;
  value: number;
}

const REL_ERROR = 'rel_error';
const OVERLAP = 'overlap_to_full';
const metricLabel = (metric: string, rank: number) => (metric === REL_ERROR ? `rel. error of λ${rank}` : `overlap (top ${rank})`);

/**
 * k-layer block against the full Hessian over training (`klayer` table): the relative error of the
 * rank-`rank` eigenvalue (top row) and the overlap of the top-`rank` eigenspaces, block vectors
 * embedded in θ-space (bottom row); one column per k, one line per run coloured by η.
 */
export function klayerErrorFigure(klayer: KlayerRow[], runs: RunsRow[], rank = 1): string {
  const points: KlayerErrorPoint[] = [];
  for (const r of klayer) {
    if (r.rank !== rank) continue;
    if (isFiniteNumber(r.rel_error)) points.push({ run: r.run, step: r.step, k: r.k, metric: REL_ERROR, value: r.rel_error });
    if (isFiniteNumber(r.overlap_to_full)) points.push({ run: r.run, step: r.step, k: r.k, metric: OVERLAP, value: r.overlap_to_full });
  }
  const infos = runInfos(runs, points);
  const groups = byRun(points);
  const drawn = drawOrder(infos, [...groups.keys()]);
  if (drawn.length === 0) return noData(`no k-layer comparison at rank ${rank}.`);
  const ks = [...new Set(points.map((p) => p.k))].sort((a, b) => byScope(`k${a}`, `k${b}`));
  const hi = Math.max(1, ...points.map((p) => p.value));
  const marks: Plot.Markish[] = [
    Plot.ruleY([0], { stroke: '#999', ...tagged('zero') }),
  ];
  for (const info of drawn) {
    const own = groups.get(info.run)!;
    const common = { x: 'step', y: 'value', fx: 'k', fy: 'metric', stroke: runColour(info) } as const;
    marks.push(Plot.line(own, { ...common, z: 'metric', strokeWidth: 1.5, title: () => runLabel(info), ...tagged('klayer-error', info) }));
    marks.push(
      Plot.dot(own, {
        ...common,
        r: 2.5,
        fill: runColour(info),
        title: (p: KlayerErrorPoint) => `${runLabel(info)} · ${scopeLabel(`k${p.k}`)}\nstep ${p.step}\n${metricLabel(p.metric, rank)} ${formatNumber(p.value)}`,
        ...tagged('klayer-error-point', info),
      }),
    );
  }
  return renderPlot({
    width: WIDTH,
    height: 420,
    marginLeft: 60,
    marginRight: 120,
    fx: { domain: ks, label: null, tickFormat: (k: number) => scopeLabel(`k${k}`) },
    fy: { domain: [REL_ERROR, OVERLAP], label: null, tickFormat: (m: string) => metricLabel(m, rank) },
    x: { label: 'checkpoint step' },
    y: { domain: [0, hi], label: null, grid: true },
    color: etaColour(colourRuns(runs, infos)),
    marks,
  });
}

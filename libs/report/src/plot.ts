/**
 * Server-side Observable Plot: a figure is built from data plus a list of marks, rendered in a
 * throw-away jsdom document, and returned as markup to inline in a page (readable with JS off).
 */
import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import { escapeHtml, formatNumber } from './html.ts';
import type { RunsRow } from './rows.ts';

/** Class given to every figure Plot renders; the plot's own svg is `svg.lrs-plot`, its legend `svg.lrs-plot-ramp`. */
export const PLOT_CLASS = 'lrs-plot';

/**
 * The jsdom document Plot draws into, made once per process: a page has dozens of figures and a fresh
 * jsdom per figure cost more than drawing them. Plot builds each figure as a detached element, so
 * nothing accumulates in the document between figures.
 */
let plotDom: JSDOM | undefined;
function plotDocument(): Document {
  if (!plotDom) {
    plotDom = new JSDOM('');
    installCanvasShim(plotDom.window);
  }
  return plotDom.window.document;
}

/** Renders a Plot specification to its outer HTML (an `<svg>`, or a `<figure>` when it has a legend). */
export function renderPlot(options: Plot.PlotOptions): string {
  const element = Plot.plot({ ...options, className: PLOT_CLASS, document: plotDocument() });
  return escapeAngleBracketsInAttributes(element.outerHTML);
}

/**
 * The HTML serialiser leaves < and > unescaped inside attribute values (safe in HTML, but not
 * well-formed XML, so an SVG saved from the page would not open). Text nodes are already escaped,
 * so a raw < or > can only occur in attribute values and in Plot's own <style> (which has none).
 */
function escapeAngleBracketsInAttributes(markup: string): string {
  return markup.replace(/="([^"]*)"/g, (_all, value: string) => `="${value.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`);
}

/** Colours of the outlier eigenvalues and of the bulk, in every spectral figure. */
export const OUTLIER_COLOUR = '#c0392b';
export const BULK_COLOUR = '#3d5a80';

/** What a figure shows instead of an empty plot. */
export function noData(what: string): string {
  return `<p class="lrs-nodata" role="note">No data: ${escapeHtml(what)}</p>`;
}

/** True for the markup of a figure function that had nothing to draw (what noData returns). */
export function isNoData(markup: string): boolean {
  return markup.startsWith('<p class="lrs-nodata"');
}

/**
 * Plot draws a continuous colour legend by painting a 256×1 canvas and inlining its PNG, which
 * jsdom cannot do. This shim records the colours painted and returns the same ramp as an SVG
 * data URL (a linear gradient), so the legend stays self-contained and needs no canvas package.
 */
function installCanvasShim(window: JSDOM['window']): void {
  const painted = new WeakMap<object, string[]>();
  const proto = window.HTMLCanvasElement.prototype as unknown as {
    getContext: (this: object) => unknown;
    toDataURL: (this: object) => string;
  };
  proto.getContext = function () {
    const pixels: string[] = [];
    painted.set(this, pixels);
    let fillStyle = '#000';
    return {
      get fillStyle() {
        return fillStyle;
      },
      set fillStyle(value: string) {
        fillStyle = String(value);
      },
      fillRect(x: number) {
        pixels[Math.round(x)] = fillStyle;
      },
    };
  };
  proto.toDataURL = function () {
    const pixels = painted.get(this) ?? [];
    const n = pixels.length;
    const stops: string[] = [];
    const count = Math.min(n, 33); // a stop every 8 pixels is indistinguishable from 256
    for (let k = 0; k < count; k++) {
      const i = count > 1 ? Math.round((k * (n - 1)) / (count - 1)) : 0;
      const offset = count > 1 ? k / (count - 1) : 0;
      stops.push(`<stop offset="${offset.toFixed(4)}" stop-color="${escapeHtml(pixels[i] ?? '#000')}"/>`);
    }
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(n, 1)}" height="1" preserveAspectRatio="none">` +
      `<defs><linearGradient id="g">${stops.join('')}</linearGradient></defs>` +
      `<rect width="100%" height="100%" fill="url(#g)"/></svg>`;
    return `data:image/svg+xml,${encodeURIComponent(svg)}`;
  };
}

/** What the page's η selector needs to know about the marks of one run. */
export interface RunKey {
  run: string;
  eta: number | null;
}

/**
 * Mark options that tag the mark's `<g>` with `data-role` (for tests and styling) and, for the
 * marks of one run, `data-run` and `data-eta` (for the page's η selector).
 */
export function tagged(role: string, key?: RunKey): Pick<Plot.MarkOptions, 'render'> {
  return {
    render(index, scales, values, dimensions, context, next) {
      const g = next!(index, scales, values, dimensions, context);
      if (g) {
        g.setAttribute('data-role', role);
        if (key) {
          g.setAttribute('data-run', key.run);
          g.setAttribute('data-eta', etaKey(key.eta));
        }
      }
      return g;
    },
  };
}

/** The string a run's η is matched by in the page (attribute and selector option alike). */
export function etaKey(eta: number | null): string {
  return eta === null ? '' : String(eta);
}

/** True for an η the log colour scale can place. */
export function isColourable(eta: number | null | undefined): eta is number {
  return typeof eta === 'number' && Number.isFinite(eta) && eta > 0;
}

/**
 * The shared colour scale: η on a log scale over the extent of the experiment's runs, so that a
 * run has the same colour in every figure of the page (and in the runs table).
 */
export function etaColour(runs: readonly { eta: number | null }[], legend = true): Plot.ScaleOptions {
  const etas = runs.map((r) => r.eta).filter(isColourable);
  let lo = etas.length ? Math.min(...etas) : 0.01;
  let hi = etas.length ? Math.max(...etas) : 1;
  if (lo === hi) [lo, hi] = [lo / 2, hi * 2];
  const distinct = [...new Set(etas)].sort((a, b) => a - b);
  return {
    type: 'log',
    domain: [lo, hi],
    scheme: 'viridis',
    range: [0, 0.85], // stop short of viridis's pale yellow, which is hard to see on white
    legend,
    label: 'η (learning rate)',
    // Ticks at the runs' own η (when few enough to label) say which colour is which run.
    ...(distinct.length >= 2 && distinct.length <= 8 ? { ticks: distinct } : {}),
    tickFormat: (d: number) => formatNumber(d),
  };
}

/** The CSS colour of an η under `etaColour(runs)`, for swatches outside the figures. */
export function etaColourOf(runs: readonly { eta: number | null }[], eta: number | null): string {
  if (!isColourable(eta)) return '#888';
  return String(Plot.scale({ color: etaColour(runs, false) }).apply(eta));
}

/** The stroke/fill option colouring a run's marks by its η (grey when η is unknown). */
export function runColour(key: RunKey): string | (() => number) {
  const eta = key.eta;
  return isColourable(eta) ? () => eta : '#888';
}

/** Per-run facts the figures need: η from the runs table, else the run's first learning rate. */
export interface RunInfo extends RunKey {
  schedule: string;
  diverged: boolean;
}

export function runInfos(runs: readonly RunsRow[], stepsOrRunNames: readonly { run: string; lr?: number }[]): Map<string, RunInfo> {
  const infos = new Map<string, RunInfo>();
  for (const r of runs) {
    infos.set(r.run, { run: r.run, eta: Number.isFinite(r.eta) ? r.eta : null, schedule: r.schedule, diverged: r.diverged });
  }
  for (const s of stepsOrRunNames) {
    if (infos.has(s.run)) continue;
    const lr = s.lr;
    infos.set(s.run, { run: s.run, eta: typeof lr === 'number' && Number.isFinite(lr) ? lr : null, schedule: 'unknown', diverged: false });
  }
  return infos;
}

/** A run label for hover titles. */
export function runLabel(info: RunInfo): string {
  return `${info.run} · η = ${formatNumber(info.eta)}${info.schedule && info.schedule !== 'constant' ? ` · ${info.schedule}` : ''}`;
}

/** Rows grouped by run, in first-seen order, each group sorted by step. */
export function byRun<T extends { run: string; step: number }>(rows: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    let group = groups.get(row.run);
    if (!group) groups.set(row.run, (group = []));
    group.push(row);
  }
  for (const group of groups.values()) group.sort((a, b) => a.step - b.step);
  return groups;
}

export const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Runs to draw, small η first so the large-η runs (the interesting ones) sit on top. */
export function drawOrder(infos: Map<string, RunInfo>, runNames: string[]): RunInfo[] {
  return runNames
    .map((run) => infos.get(run)!)
    .sort((a, b) => (a.eta ?? Infinity) - (b.eta ?? Infinity) || a.run.localeCompare(b.run));
}

/** The runs whose η fix the colour domain: the runs table when there is one, so colours agree across figures. */
export function colourRuns(runs: RunsRow[], infos: Map<string, RunInfo>): { eta: number | null }[] {
  return runs.length ? runs : [...infos.values()];
}

/** Side-by-side panels of one figure, each with a short title; a panel's markup is a plot or a no-data note. */
export function panels(parts: { key: string; title: string; html: string }[]): string {
  const inner = parts
    .map((p) => `<div class="lrs-panel" data-panel="${escapeHtml(p.key)}"><p class="lrs-panel-title">${escapeHtml(p.title)}</p>${p.html}</div>`)
    .join('');
  return `<div class="lrs-panels">${inner}</div>`;
}

/** The largest step of a run's rows, or undefined when there are none. */
export function lastStepOf(rows: readonly { step: number }[]): number | undefined {
  let last: number | undefined;
  for (const r of rows) if (last === undefined || r.step > last) last = r.step;
  return last;
}

/** Integer tick values from lo to hi, at most about `max` of them (for counts such as m). */
export function integerTicks(lo: number, hi: number, max = 8): number[] {
  const from = Math.floor(lo);
  const to = Math.ceil(hi);
  const stride = Math.max(1, Math.ceil((to - from) / max));
  const ticks: number[] = [];
  for (let v = from; v <= to; v += stride) ticks.push(v);
  return ticks;
}

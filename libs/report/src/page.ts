/** The experiment page: figures, runs, reproduction checks, downloads and provenance in one static HTML file. */
import {
  baselineOverlapCaption,
  coolingCaption,
  cyclicCaption,
  COOLING_PHASE_NOTE,
  COOLING_PREDICTION,
  COOLING_TABLE_NOTE,
  densityCaption,
  DISPLACEMENT_CAPTION,
  EFFECTIVE_CAPTION,
  EOS_CAPTION,
  FLATTENING_CAPTION,
  INSTABILITY_OVERLAP_CAPTION,
  klayerErrorCaption,
  outlierCountCaption,
  overlapHeatmapCaption,
  matchedTimeCaption,
  windowTestCaption,
  perturbationCaption,
  TRACE_CAPTION,
} from './captions.ts';
import { edgeOfStabilityFigure, klayerFigure, lossFigure, scopeLabel, spectrumFigure } from './figures.ts';
import { coolingFigure, coolingInstabilityTable, phaseSummaryTable } from './cooling.ts';
import { cyclicSection, type CyclicRow, type CyclicTrendsRow } from './cyclic.ts';
import { flatteningSection } from './flattening.ts';
import { escapeHtml, formatNumber, formatSeconds, html, raw } from './html.ts';
import { alongRunSection, instabilitiesSection, longHorizonSection, sharpnessSection } from './instability-sections.ts';
import { documentShell } from './layout.ts';
import { isRegression, perturbationHeatmapFigure } from './perturbations.ts';
import { etaColourOf, etaKey, isColourable, isFiniteNumber, isNoData, lastStepOf } from './plot.ts';
import type {
  ClaimsRow,
  CoolingInstabilityRow,
  CoolingRow,
  DensityRow,
  DisplacementRow,
  DropFamiliesRow,
  EffectiveRow,
  FlatteningRow,
  InstabilitiesRow,
  InstabilitySensitivityRow,
  KlayerRow,
  LongHorizonRow,
  OverlapsRow,
  MatchedTimeRow,
  ShiftWindowsRow,
  PerturbationsRow,
  PowerCheckRow,
  RunsRow,
  SpectraRow,
  StepsRow,
  TraceRow,
} from './rows.ts';
import { baselineOverlapFigure, baselineRunOf, displacementFigure, instabilityOverlapFigure, overlapHeatmapFigure } from './shift.ts';
import { matchedTimeFigure, windowTestFigure } from './shift-tests.ts';
import { bottomEigenvalueFigure, bottomRatioFigure, densityFigure, effectiveFigure, effectiveFullFigure, klayerErrorFigure, outlierCountFigure, traceFigure } from './spectral.ts';

export interface ExperimentPageInput {
  experiment: string;
  title: string;
  /** Plain text; blank lines separate paragraphs. */
  description: string;
  runs: RunsRow[];
  steps: StepsRow[];
  spectra: SpectraRow[];
  claims: ClaimsRow[];
  /**
   * The landscape analyses' tables (docs/architecture.md, "Artifacts"), each optional: a section whose table is absent or
   * empty is left out of the page.
   */
  instabilities?: InstabilitiesRow[];
  /** The detector-threshold sweep, the power-estimate check and the long-horizon rows (instability-sections.ts). */
  instabilitySensitivity?: InstabilitySensitivityRow[];
  powerCheck?: PowerCheckRow[];
  longHorizon?: LongHorizonRow[];
  /** The run whose instabilities the sharpness figures shade (config report.highlightRun); left out: the constant-η run with the most. */
  highlightRun?: string;
  density?: DensityRow[];
  trace?: TraceRow[];
  overlaps?: OverlapsRow[];
  /** The shift tests: the window test (primary) and the matched-time comparisons (shift-tests.ts). */
  shiftWindows?: ShiftWindowsRow[];
  matchedTime?: MatchedTimeRow[];
  displacement?: DisplacementRow[];
  flattening?: FlatteningRow[];
  dropFamilies?: DropFamiliesRow[];
  effective?: EffectiveRow[];
  perturbations?: PerturbationsRow[];
  klayer?: KlayerRow[];
  /** The cooling diagnostics (open question 2): the section is shown where instabilities were selected. */
  cooling?: CoolingRow[];
  coolingInstabilities?: CoolingInstabilityRow[];
  /** The cyclic study (open question 3, cyclic.ts): the section is shown where the `cyclic` table has rows. */
  cyclic?: CyclicRow[];
  cyclicTrends?: CyclicTrendsRow[];
  /** Number of classes C of a classification experiment, shown beside the outlier count m. */
  classes?: number;
  /** Sections added by later analyses; `html` is trusted markup (use `renderFigure` for a figure with its caption). */
  extraSections?: { id: string; title: string; html: string }[];
  /** Shown as pretty JSON under Provenance. */
  config: unknown;
  provenance: { codeVersion: string; backend: string; generatedAt: string; versions: Record<string, string>; timings?: Record<string, number> };
  /** Relative links to the Arrow files copied beside the page. */
  downloads: { label: string; href: string }[];
}

/**
 * A figure with its caption. `figureHtml` is trusted markup from a figure function; the caption is
 * plain text. `attributes` (already escaped by this function) tag the figure, e.g. with its run.
 */
export function renderFigure(figureHtml: string, caption: string, attributes: Record<string, string> = {}): string {
  const { class: extraClass, ...rest } = attributes;
  for (const name of Object.keys(rest)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`renderFigure: invalid attribute name ${JSON.stringify(name)}`);
  }
  const attrs = Object.entries({ class: extraClass ? `lrs-figure ${extraClass}` : 'lrs-figure', ...rest })
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join('');
  return `<figure${attrs}>${figureHtml}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** Ids of the page's own sections (and of its controls), reserved whether or not a section is shown. */
const RESERVED_IDS = new Set([
  'loss', 'sharpness', 'eos', 'instabilities', 'sensitivity', 'power-check', 'along-run', 'long-horizon', 'spectra', 'bottom', 'effective', 'klayer', 'flattening', 'shift', 'perturbations', 'cooling', 'cyclic',
  'runs', 'checks', 'downloads', 'provenance', 'lrs-run-control', 'lrs-run-select',
]);

export function renderExperimentPage(input: ExperimentPageInput): string {
  const extraIds = (input.extraSections ?? []).map((s) => s.id);
  for (const [i, id] of extraIds.entries()) {
    if (RESERVED_IDS.has(id) || extraIds.indexOf(id) !== i) {
      throw new Error(`renderExperimentPage: the id ${JSON.stringify(id)} of an extra section is taken; give it another id`);
    }
  }
  const runs = [...input.runs].sort((a, b) => a.eta - b.eta || a.run.localeCompare(b.run));
  // The figures of the top of the spectrum read the top end; the bottom end has its own section.
  const spectra = input.spectra.filter((r) => r.end === 'top');
  const bottom = input.spectra.filter((r) => r.end === 'bottom');
  const instabilities = input.instabilities ?? [];
  const eos = edgeOfStabilityFigure(input.steps, input.runs);
  const instabilityInput = {
    runs: input.runs, steps: input.steps, claims: input.claims, instabilities, instabilitySensitivity: input.instabilitySensitivity ?? [],
    powerCheck: input.powerCheck ?? [], longHorizon: input.longHorizon ?? [], highlightRun: input.highlightRun,
  };
  const optional = (id: string, title: string, body: string | null) => (body === null ? [] : [{ id, title, html: body }]);
  const sections: { id: string; title: string; html: string }[] = [
    { id: 'loss', title: 'Training loss', html: renderFigure(lossFigure(input.steps, input.runs), LOSS_CAPTION) },
    { id: 'sharpness', title: 'Sharpness and the 2/η threshold', html: sharpnessSection(instabilityInput, renderFigure, SHARPNESS_CAPTION) },
    ...optional('eos', 'Edge of stability: λmax against 2/η', isNoData(eos) ? null : renderFigure(eos, EOS_CAPTION)),
    ...optional('instabilities', 'Instabilities', instabilitiesSection(instabilityInput, renderFigure)),
    { id: 'spectra', title: 'Hessian spectra at checkpoints', html: spectraSection(spectra, runs) + densitySection(input.density ?? [], spectra, runs) },
    ...optional('bottom', 'The bottom of the spectrum: negative curvature', bottom.length ? bottomSection(input.spectra, input.runs) : null),
    ...optional('effective', 'Effective parameters and outliers', effectiveSection(input, runs)),
    { id: 'klayer', title: 'k-layer approximation', html: klayerSection({ ...input, spectra }) },
    ...optional('along-run', 'Along-run flattening: the worst-case sharpness of each instability', alongRunSection(instabilityInput, renderFigure)),
    ...optional('long-horizon', 'Long horizon (open question 1): does the worst-case sharpness keep falling?', longHorizonSection(instabilityInput, renderFigure)),
    ...optional('flattening', 'Delayed drops: landscape flattening', flatteningSection(input.flattening ?? [], input.dropFamilies ?? [], input.runs, renderFigure, FLATTENING_CAPTION)),
    ...optional('shift', 'Landscape shift', shiftSection(input.overlaps ?? [], input.displacement ?? [], runs, input.shiftWindows ?? [], input.matchedTime ?? [])),
    ...optional('perturbations', 'Output-space role of the top directions', perturbationSection(input.perturbations ?? [], runs, input.classes)),
    ...optional('cooling', 'The cooling phase: self-stabilisation', coolingSection(input.cooling ?? [], input.coolingInstabilities ?? [], runs, input.claims)),
    ...optional('cyclic', 'Cyclic learning rates (open question 3): the ratio η_hi/η_lo', cyclicSection(input.cyclic ?? [], input.cyclicTrends ?? [], renderFigure, cyclicCaption(input.cyclic ?? []))),
    ...(input.extraSections ?? []),
  ];
  const tail = [
    { id: 'runs', title: 'Runs', html: runsTable(runs) },
    { id: 'checks', title: 'Reproduction checks', html: claimsSection(input.claims) },
    { id: 'downloads', title: 'Downloads', html: downloadsSection(input.downloads) },
    { id: 'provenance', title: 'Provenance', html: provenanceSection(input) },
  ];
  const all = [...sections, ...tail];
  const { provenance } = input;
  const body = html`<header>
<nav class="lrs-crumbs"><a href="../index.html">← All experiments</a></nav>
<h1>${input.title}</h1>
<p class="lrs-meta">Experiment <code>${input.experiment}</code> · ${runs.length} run${runs.length === 1 ? '' : 's'} · backend ${provenance.backend} · code ${provenance.codeVersion} · generated ${provenance.generatedAt}</p>
${raw(paragraphs(input.description))}
<nav class="lrs-toc" aria-label="Contents">${all.map((s) => raw(html`<a href="#${s.id}">${s.title}</a> `))}</nav>
</header>
${raw(runSelector(runs))}
<main>
${all.map((s) => raw(html`<section id="${s.id}"><h2>${s.title}</h2>${raw(s.html)}</section>\n`))}
</main>
<footer>Generated by lrscape. Figures are inline SVG drawn at build time with Observable Plot and read with JavaScript off; hover a mark for its values. Nothing on this page is loaded from elsewhere.</footer>`;
  return documentShell({ title: `${input.title} · lrscape`, body, script: SELECTOR_SCRIPT });
}

const LOSS_CAPTION =
  'Training loss (the full-batch mean over the training set) against the gradient-descent step, one line per run, coloured by the learning rate η on a log colour scale (legend above). ' +
  'The y axis is logarithmic, so equal heights are equal loss ratios. Upward spikes are instabilities (a heating phase, then cooling back down); a line that ends in × diverged and stops at its last finite loss. ' +
  'Hover a line or point for its run and values; choose a run or η above to dim the others.';

const SHARPNESS_CAPTION =
  'Sharpness λmax, the largest eigenvalue of the training-loss Hessian, against step (dots: the steps at which it was measured), one line per run coloured by η. ' +
  'The dashed line of the same colour is that run’s stability threshold 2/η: a horizontal rule for a constant learning rate, a step line following 2/η_t for a schedule. ' +
  'Gradient descent on a quadratic diverges along any direction whose curvature exceeds 2/η, so sharpness climbing to its threshold and hovering there is the edge of stability, and sharpness above it goes with a loss spike. ' +
  'The y axis turns logarithmic when the values span more than a decade.';

/**
 * Open question 2: the prediction, its verdict (the claims table's row), the per-instability and per-phase
 * summaries, and one figure per replayed instability; null where none was selected.
 */
function coolingSection(rows: CoolingRow[], instabilities: CoolingInstabilityRow[], runs: RunsRow[], claims: ClaimsRow[]): string | null {
  if (!instabilities.length) return null;
  const claim = claims.find((c) => c.id === 'cooling-self-stabilisation');
  const verdict = claim
    ? html`<p class="lrs-verdict" data-verdict="${claim.verdict}"><strong>Verdict: ${claim.verdict}</strong> (measured ${formatNumber(claim.measured)}; expected ${claim.expected}). ${claim.detail}</p>`
    : '';
  const etaOf = (run: string) => runs.find((r) => r.run === run)?.eta ?? null;
  const figures = instabilities
    .filter((i) => i.status === 'computed' || i.status === 'truncated')
    .map((i) => renderFigure(coolingFigure(rows, i), coolingCaption(i.run, i.instability, etaOf(i.run), i.start, i.end), { 'data-run': i.run }));
  return (
    `<p class="lrs-note">${escapeHtml(COOLING_PREDICTION)}</p>${verdict}` +
    `${coolingInstabilityTable(instabilities, runs)}<p class="lrs-note">${escapeHtml(COOLING_TABLE_NOTE)}</p>` +
    `${phaseSummaryTable(rows, instabilities)}<p class="lrs-note">${escapeHtml(COOLING_PHASE_NOTE)}</p>` +
    figures.join('')
  );
}

function klayerCaption(spectra: SpectraRow[]): string {
  const scopes = [...new Set(spectra.map((r) => r.scope).filter((s) => s !== 'full'))];
  const which = scopes.length ? ` Panels: ${scopes.map(scopeLabel).join(', ')}.` : '';
  return (
    'How well the Hessian of the last k layers alone (the other parameters held fixed) stands in for the full Hessian: the ratio of its top eigenvalue to the full Hessian’s top eigenvalue at the same checkpoint, one panel per k, one line per run coloured by η. ' +
    'A ratio of 1 (dashed) means the block finds λmax exactly; the block is a principal submatrix of the Hessian, so the ratio cannot exceed 1 beyond Lanczos error, and lower values say the sharpest direction reaches into earlier layers.' +
    which
  );
}

function spectraSection(spectra: SpectraRow[], runs: RunsRow[]): string {
  const runNames = [...runs.map((r) => r.run), ...new Set(spectra.map((r) => r.run))].filter((run, i, all) => all.indexOf(run) === i);
  const withFull = runNames.filter((run) => spectra.some((r) => r.run === run && r.scope === 'full'));
  if (withFull.length === 0) {
    return renderFigure(spectrumFigure([], '', 'full'), 'Top Hessian eigenvalues at each checkpoint, one figure per run, appear here when spectra were computed.');
  }
  const figures = withFull.map((run) => {
    const info = runs.find((r) => r.run === run);
    const rows = spectra.filter((r) => r.run === run && r.scope === 'full');
    const checkpoints = [...new Set(rows.map((r) => r.step))].sort((a, b) => a - b);
    const last = checkpoints[checkpoints.length - 1]!;
    const m = rows.filter((r) => r.step === last && r.is_outlier).length;
    const M = Math.max(...rows.map((r) => r.rank));
    const caption =
      `Run ${run}${info ? ` (η = ${formatNumber(info.eta)}, ${info.schedule})` : ''}: the top ${M} eigenvalues of the full Hessian (Lanczos Ritz values) at each of its ${checkpoints.length} checkpoint${checkpoints.length === 1 ? '' : 's'}, rank 1 at the top. ` +
      `Filled red dots are outliers (${m} at step ${last}), the eigenvalues separated from the bulk by the largest gap; hollow blue dots are the bulk; grey lines join equal ranks across checkpoints. ` +
      'A widening gap between the two groups is the outlier–bulk split. Hover a dot for its value and Lanczos residual.';
    return renderFigure(spectrumFigure(spectra, run, 'full'), caption, { class: 'lrs-run-figure', 'data-run': run, 'data-eta': etaKey(info ? info.eta : null) });
  });
  return `<div class="lrs-grid">${figures.join('')}</div>`;
}

/** One figure per run that has rows, in the order of the runs table, each shown or hidden by the η selector. */
function perRunFigures(runNames: string[], runs: RunsRow[], figure: (run: string, info: RunsRow | undefined) => string): string {
  const figures = runNames.map((run) => {
    const info = runs.find((r) => r.run === run);
    return figure(run, info);
  });
  return `<div class="lrs-grid">${figures.join('')}</div>`;
}

/** The run names of `rows` that have any, runs-table order first, then the others as first seen. */
function runsWithRows(rows: readonly { run: string }[], runs: RunsRow[]): string[] {
  const present = new Set(rows.map((r) => r.run));
  return [...runs.map((r) => r.run), ...present].filter((run, i, all) => present.has(run) && all.indexOf(run) === i);
}

const runFigureAttributes = (run: string, info: RunsRow | undefined) => ({ class: 'lrs-run-figure', 'data-run': run, 'data-eta': etaKey(info ? info.eta : null) });

function densitySection(density: DensityRow[], spectra: SpectraRow[], runs: RunsRow[]): string {
  const full = density.filter((r) => r.scope === 'full' && isFiniteNumber(r.density));
  if (full.length === 0) return '';
  const figures = perRunFigures(runsWithRows(full, runs), runs, (run, info) => {
    const step = lastStepOf(full.filter((r) => r.run === run))!;
    const outliers = spectra.filter((r) => r.run === run && r.scope === 'full' && r.step === step && r.is_outlier).length;
    return renderFigure(densityFigure(density, spectra, run, step, 'full'), densityCaption(run, step, info ? info.eta : null, outliers), runFigureAttributes(run, info));
  });
  return `<h3>Bulk spectral density at the last checkpoint</h3>${figures}`;
}

function effectiveSection(input: ExperimentPageInput, runs: RunsRow[]): string | null {
  const effective = (input.effective ?? []).filter((r) => r.scope === 'full');
  const trace = (input.trace ?? []).filter((r) => r.scope === 'full');
  if (effective.length === 0 && trace.length === 0) return null;
  const classes = isFiniteNumber(input.classes) && input.classes > 0 ? input.classes : undefined;
  const parts: string[] = [];
  if (effective.length) {
    parts.push(renderFigure(effectiveFigure(effective, input.runs), EFFECTIVE_CAPTION));
    if (effective.some((r) => isFiniteNumber(r.n_eff_full))) parts.push(renderFigure(effectiveFullFigure(effective, input.runs), EFFECTIVE_FULL_CAPTION));
    parts.push(outlierCountStatement(effective, runs, classes));
    parts.push(renderFigure(outlierCountFigure(effective, input.runs, classes), outlierCountCaption(classes)));
  }
  if (trace.length) parts.push(renderFigure(traceFigure(trace, input.runs), TRACE_CAPTION));
  return parts.join('');
}

/** "m = 10 outliers vs C = 10 classes" at each run's last checkpoint, with the runs listed when they differ. */
function outlierCountStatement(effective: EffectiveRow[], runs: RunsRow[], classes: number | undefined): string {
  const last = runsWithRows(effective, runs).map((run) => {
    const own = effective.filter((r) => r.run === run);
    const step = lastStepOf(own)!;
    return { run, m: own.find((r) => r.step === step)!.m };
  });
  const ms = last.map((l) => l.m);
  const lo = Math.min(...ms);
  const hi = Math.max(...ms);
  const m = lo === hi ? `${lo}` : `${lo}–${hi}`;
  const vs = classes === undefined ? '' : ` vs C = ${classes} classes`;
  const each = lo === hi ? '' : ` (${last.map((l) => `${l.run}: ${l.m}`).join(', ')})`;
  return html`<p class="lrs-stated"><strong>m = ${m} outlier${hi === 1 ? '' : 's'}${vs}</strong> at each run’s last checkpoint${each}.</p>`;
}

function klayerSection(input: ExperimentPageInput): string {
  const base = renderFigure(klayerFigure(input.spectra, input.runs), klayerCaption(input.spectra));
  const klayer = input.klayer ?? [];
  if (klayer.length === 0) return base;
  const ks = [...new Set(klayer.map((r) => r.k))].sort((a, b) => a - b);
  return base + renderFigure(klayerErrorFigure(klayer, input.runs), klayerErrorCaption(ks));
}

/** The runs whose step × step heat maps the page shows: the smallest η and the largest η that did not diverge. */
export function heatmapRuns(overlaps: OverlapsRow[], runs: RunsRow[]): { run: string; which: string }[] {
  const withMaps = new Set(overlaps.filter((r) => r.kind === 'step×step' && r.scope === 'full' && r.run_a === r.run_b).map((r) => r.run_a));
  const known = runs.filter((r) => withMaps.has(r.run));
  const constant = known.filter((r) => r.schedule === 'constant');
  const pool = (constant.length ? constant : known).sort((a, b) => a.eta - b.eta || a.run.localeCompare(b.run));
  if (pool.length === 0) return [...withMaps].sort().slice(0, 2).map((run) => ({ run, which: 'no η recorded' }));
  const chosen = [{ run: pool[0]!.run, which: 'the smallest η' }];
  const largest = pool.filter((r) => !r.diverged).pop();
  if (largest && largest.run !== pool[0]!.run) chosen.push({ run: largest.run, which: 'the largest η that did not diverge' });
  return chosen;
}

function shiftSection(overlaps: OverlapsRow[], displacement: DisplacementRow[], runs: RunsRow[], windows: ShiftWindowsRow[], matched: MatchedTimeRow[]): string | null {
  const of = (kind: OverlapsRow['kind']) => overlaps.filter((r) => r.kind === kind && r.scope === 'full');
  const parts: string[] = [];
  const metrics = ['overlap', 'cos-rms'] as const;
  if (windows.some((w) => w.status === 'paired')) {
    const figures = metrics.map((metric) => renderFigure(windowTestFigure(windows, runs, metric), windowTestCaption(metric)));
    parts.push(`<h3>Instability against quiet window (the primary test)</h3><div class="lrs-grid">${figures.join('')}</div>`);
  }
  if (matched.some((r) => r.status === 'ok')) {
    parts.push(`<h3>Against the baseline at matched τ</h3>${metrics.map((metric) => renderFigure(matchedTimeFigure(matched, runs, metric), matchedTimeCaption(metric))).join('')}`);
  }
  const maps = heatmapRuns(overlaps, runs);
  if (maps.length) {
    const figures = maps.map(({ run, which }) => {
      const info = runs.find((r) => r.run === run);
      return renderFigure(overlapHeatmapFigure(overlaps, run, 'full', runs), overlapHeatmapCaption(run, info ? info.eta : null, which));
    });
    parts.push(`<h3>Along a run: step × step overlap</h3><div class="lrs-grid">${figures.join('')}</div>`);
  }
  if (of('baseline').some((r) => r.run_a !== r.run_b)) {
    parts.push(`<h3>Against the baseline run at the same step (secondary: not matched in τ)</h3>${renderFigure(baselineOverlapFigure(overlaps, runs), baselineOverlapCaption(baselineRunOf(overlaps)))}`);
  }
  if (of('instability').length) {
    parts.push(`<h3>Across instabilities</h3>${renderFigure(instabilityOverlapFigure(overlaps, runs), INSTABILITY_OVERLAP_CAPTION)}`);
  }
  if (displacement.some((r) => isFiniteNumber(r.cos_to_baseline))) {
    parts.push(`<h3>Parameter displacement</h3>${renderFigure(displacementFigure(displacement, runs), DISPLACEMENT_CAPTION)}`);
  }
  return parts.length ? parts.join('') : null;
}

function perturbationSection(perturbations: PerturbationsRow[], runs: RunsRow[], classes: number | undefined): string | null {
  const usable = perturbations.filter((r) => isFiniteNumber(r.delta));
  if (usable.length === 0) return null;
  const intro = `<p class="lrs-note">One figure per run at its last checkpoint with perturbations${classes === undefined ? '' : ` (C = ${classes} classes)`}; choosing a run above shows only its figure.</p>`;
  const figures = perRunFigures(runsWithRows(usable, runs), runs, (run, info) => {
    const own = usable.filter((r) => r.run === run);
    const step = lastStepOf(own)!;
    const regression = isRegression(own.filter((r) => r.step === step));
    return renderFigure(perturbationHeatmapFigure(usable, run, step), perturbationCaption(run, step, info ? info.eta : null, regression), runFigureAttributes(run, info));
  });
  return intro + figures;
}

/** The η selector: hidden until the script runs, so a page read without JavaScript shows no dead control. */
function runSelector(runs: RunsRow[]): string {
  if (runs.length < 2) return '';
  const etas = [...new Set(runs.map((r) => r.eta))].sort((a, b) => a - b);
  const shared = etas.some((eta) => runs.filter((r) => r.eta === eta).length > 1);
  const byEta = shared
    ? html`<optgroup label="by η">${etas.map((eta) => {
        const n = runs.filter((r) => r.eta === eta).length;
        return raw(html`<option value="eta:${etaKey(eta)}">η = ${formatNumber(eta)} (${n} run${n === 1 ? '' : 's'})</option>`);
      })}</optgroup>`
    : '';
  const byRun = html`<optgroup label="by run">${runs.map((r) => raw(html`<option value="run:${r.run}">η = ${formatNumber(r.eta)} · ${r.run}</option>`))}</optgroup>`;
  return html`<div id="lrs-run-control" class="lrs-control" hidden>
<label for="lrs-run-select">Highlight</label>
<select id="lrs-run-select"><option value="">all runs</option>${raw(byEta)}${raw(byRun)}</select>
<span class="lrs-hint">other runs are dimmed in every figure; click a row of the runs table to pick it</span>
</div>`;
}

const EFFECTIVE_FULL_CAPTION =
  'N_eff over the whole spectrum, Σ |λ|/(|λ| + α) with the same α = 0.5·λmax, estimated by stochastic Lanczos quadrature (tr f(H) from the Gauss nodes and weights of the SLQ probes), one line per run. ' +
  'Rings: the exact value from the dense Hessian where it was computed (final checkpoints of small nets), which checks the estimate. ' +
  'The top-M sum above misses the bulk; this one counts it (the first author’s definition sums over every eigenvalue), so it is larger where the bulk is wide.';
const BOTTOM_CAPTION =
  'Left: λ_min, the most negative eigenvalue of the full Hessian (Lanczos on λmax·I − H, to the top’s relative tolerance, relative to λmax), at each checkpoint, one line per run coloured by η. ' +
  'Right: |λ_min| / λmax, the size of the negative curvature next to the sharpest direction. Compare the checkpoints around the instabilities of the sharpness figure: later work of the same authors reports |λ_min| growing during instabilities.';

function bottomSection(spectra: SpectraRow[], runs: RunsRow[]): string {
  return renderFigure(`<div class="lrs-pair">${bottomEigenvalueFigure(spectra, runs)}${bottomRatioFigure(spectra, runs)}</div>`, BOTTOM_CAPTION);
}

function runsTable(runs: RunsRow[]): string {
  if (runs.length === 0) return '<p class="lrs-note">No runs recorded.</p>';
  const rows = runs.map((r) => {
    const threshold = isColourable(r.eta) ? 2 / r.eta : null;
    const ratio = r.schedule === 'constant' && threshold !== null && r.final_sharpness !== null ? r.final_sharpness / threshold : null;
    return html`<tr data-run="${r.run}" data-eta="${etaKey(r.eta)}">
<td><span class="lrs-swatch" style="background:${etaColourOf(runs, r.eta)}"></span><code>${r.run}</code></td>
<td class="num">${formatNumber(r.eta)}</td><td class="num">${formatNumber(threshold)}</td><td>${r.schedule}</td><td class="num">${r.seed}</td>
<td class="num">${r.steps}</td><td>${r.diverged ? 'yes' : 'no'}</td><td class="num">${formatNumber(r.final_loss)}</td>
<td class="num">${formatNumber(r.final_sharpness)}</td><td class="num">${formatNumber(ratio)}</td><td class="num">${formatNumber(r.initial_regime)}</td><td class="num">${formatSeconds(r.seconds)}</td><td>${r.backend}</td></tr>`;
  });
  return html`<div class="lrs-table-wrap"><table class="lrs-runs">
<thead><tr><th>run</th><th class="num">η</th><th class="num">2/η</th><th>schedule</th><th class="num">seed</th><th class="num">steps</th><th>diverged</th>
<th class="num">final loss</th><th class="num">final λmax</th><th class="num">λmax / (2/η)</th><th class="num">η·λmax(θ₀)/2</th><th class="num">time</th><th>backend</th></tr></thead>
<tbody>${rows.map(raw)}</tbody></table></div>
<p class="lrs-note">One row per training run. λmax / (2/η) is the final sharpness as a fraction of the stability threshold (constant schedules only): near 1 is the edge of stability. η·λmax(θ₀)/2 is the run’s regime at the start: below 1 it starts stable and must sharpen to reach 2/η; above 1 it starts beyond its threshold and catapults at once.</p>`;
}

const VERDICT_TEXT: Record<ClaimsRow['verdict'], string> = { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive', 'not-run': 'not run' };

function claimsSection(claims: ClaimsRow[]): string {
  const intro =
    '<p class="lrs-note">Each claim of the paper this experiment reproduces, checked on the outputs above by the experiment’s verify step: the measured value, what was expected, and the verdict.</p>';
  if (claims.length === 0) return `${intro}<p class="lrs-nodata" role="note">No checks recorded for this experiment.</p>`;
  const count = (v: ClaimsRow['verdict']) => claims.filter((c) => c.verdict === v).length;
  const summary = `${count('pass')} of ${claims.length} pass, ${count('fail')} fail${count('inconclusive') ? `, ${count('inconclusive')} inconclusive` : ''}${count('not-run') ? `, ${count('not-run')} not run` : ''}.`;
  const rows = claims.map(
    (c) => html`<tr class="lrs-claim-${c.verdict}" id="claim-${c.id}" data-claim-id="${c.id}"><td>${c.claim}<br><code class="lrs-note">${c.id}</code></td><td class="num">${formatNumber(c.measured)}</td><td>${c.expected}</td>
<td><span class="lrs-badge lrs-${c.verdict}">${VERDICT_TEXT[c.verdict] ?? c.verdict}</span></td><td>${c.detail}</td></tr>`,
  );
  return html`${raw(intro)}<p><strong>${summary}</strong></p><div class="lrs-table-wrap"><table class="lrs-claims">
<thead><tr><th>claim</th><th class="num">measured</th><th>expected</th><th>verdict</th><th>detail</th></tr></thead>
<tbody>${rows.map(raw)}</tbody></table></div>`;
}

function downloadsSection(downloads: ExperimentPageInput['downloads']): string {
  if (downloads.length === 0) return '<p class="lrs-note">No data files were published with this page.</p>';
  return html`<ul class="lrs-downloads">${downloads.map((d) => raw(html`<li><a href="${d.href}" download>${d.label}</a></li>`))}</ul>
<p class="lrs-note">Tidy tables as Arrow IPC files, one row per observation, with the experiment, the hashes of the config slices it was computed from, the code version and the backend in the schema metadata.
Read them with <code>tableFromIPC</code> from apache-arrow (JavaScript), <code>pyarrow.ipc.open_file</code> or <code>pandas.read_feather</code> (Python), or <code>polars.read_ipc</code>.</p>`;
}

function provenanceSection(input: ExperimentPageInput): string {
  const p = input.provenance;
  const versions = Object.entries(p.versions).sort(([a], [b]) => a.localeCompare(b));
  const timings = Object.entries(p.timings ?? {});
  const total = timings.reduce((sum, [, s]) => sum + (Number.isFinite(s) ? s : 0), 0);
  return html`<dl class="lrs-facts">
<dt>experiment</dt><dd><code>${input.experiment}</code></dd>
<dt>code version</dt><dd><code>${p.codeVersion}</code></dd>
<dt>backend</dt><dd>${p.backend}</dd>
<dt>generated</dt><dd>${p.generatedAt}</dd>
</dl>
${raw(
  versions.length
    ? html`<h3>Versions</h3><table class="lrs-versions"><tbody>${versions.map(([name, v]) => raw(html`<tr><td><code>${name}</code></td><td>${v}</td></tr>`))}</tbody></table>`
    : '',
)}
${raw(
  timings.length
    ? html`<h3>Timings</h3><table class="lrs-timings"><tbody>${timings.map(([stage, s]) =>
        raw(html`<tr><td>${stage}</td><td class="num">${formatSeconds(s)}</td></tr>`),
      )}<tr><th>total</th><th class="num">${formatSeconds(total)}</th></tr></tbody></table>`
    : '',
)}
<h3>Configuration</h3>
<pre class="lrs-config"><code>${prettyJson(input.config)}</code></pre>`;
}

function prettyJson(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

function paragraphs(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escapeHtml(p)}</p>`)
    .join('\n');
}

/**
 * The η selector: dims (opacity) every mark group tagged with another run or η, hides the per-run
 * figures of other runs and highlights the run's table row. Plain ES5 so any browser runs it.
 */
const SELECTOR_SCRIPT = `
(function () {
  'use strict';
  document.documentElement.className += ' lrs-js';
  var control = document.getElementById('lrs-run-control');
  var select = document.getElementById('lrs-run-select');
  if (!control || !select) return;
  control.hidden = false;
  function apply() {
    var v = select.value, i = v.indexOf(':'), kind = v.slice(0, i), value = v.slice(i + 1);
    var tagged = document.querySelectorAll('[data-run]');
    for (var k = 0; k < tagged.length; k++) {
      var el = tagged[k];
      var on = v === '' || (kind === 'run' ? el.getAttribute('data-run') === value : el.getAttribute('data-eta') === value);
      if (el.classList.contains('lrs-run-figure')) { el.hidden = !on; continue; }
      el.classList.toggle('lrs-dim', !on);
      if (el.tagName === 'TR') el.classList.toggle('lrs-selected', v !== '' && on);
    }
  }
  select.addEventListener('change', apply);
  var rows = document.querySelectorAll('tr[data-run]');
  for (var r = 0; r < rows.length; r++) {
    rows[r].addEventListener('click', function () {
      var v = 'run:' + this.getAttribute('data-run');
      select.value = select.value === v ? '' : v;
      apply();
    });
  }
  apply();
})();
`;

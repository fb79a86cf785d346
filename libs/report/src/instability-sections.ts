/**
 * The page's sections on instabilities (docs/architecture.md, "Science definitions as implemented"): sharpness
 * with one highlighted run's instabilities, the instabilities table with the detector sweep and the power-estimate
 * check, along-run flattening, and the long-horizon question. Findings quoted here are the claims' own measured
 * text (computed by verify from the tables), never written by hand.
 */
import { highlightRun, sharpnessFigure } from './figures.ts';
import { escapeHtml, formatNumber, html } from './html.ts';
import { isNoData } from './plot.ts';
import { alongRunFigure, instabilityDetailFigure, longHorizonFigure, sensitivityFigure } from './instability-figures.ts';
import { instabilityTable, powerCheckSummary, powerCheckTable } from './instabilities.ts';
import type { ClaimsRow, InstabilitiesRow, InstabilitySensitivityRow, LongHorizonRow, PowerCheckRow, RunsRow, StepsRow } from './rows.ts';

export interface InstabilitySectionsInput {
  runs: RunsRow[];
  steps: StepsRow[];
  claims: ClaimsRow[];
  instabilities: InstabilitiesRow[];
  instabilitySensitivity: InstabilitySensitivityRow[];
  powerCheck: PowerCheckRow[];
  longHorizon: LongHorizonRow[];
  /** The run whose instabilities are shaded (config `report.highlightRun`); left out: highlightRun's choice. */
  highlightRun?: string;
}

const SELECT_HINT = 'Hover a mark for its values; choose a run or η above to dim the others.';

type Render = (figureHtml: string, caption: string) => string;

/** The run whose instabilities the page shades: the configured one if it is there, else highlightRun's choice. */
export function pageHighlight(input: Pick<InstabilitySectionsInput, 'runs' | 'instabilities' | 'highlightRun'>): string | undefined {
  if (input.highlightRun && input.runs.some((r) => r.run === input.highlightRun)) return input.highlightRun;
  return highlightRun(input.runs, input.instabilities);
}

export function sharpnessSection(input: InstabilitySectionsInput, render: Render, baseCaption: string): string {
  const highlight = pageHighlight(input);
  const main = render(sharpnessFigure(input.steps, input.runs, input.instabilities, highlight), highlight ? `${baseCaption} ${bandsSentence(highlight)}` : baseCaption);
  if (!highlight) return main;
  return main + render(instabilityDetailFigure(input.steps, input.runs, input.instabilities, highlight), detailCaption(highlight, input.instabilities.filter((e) => e.run === highlight).length));
}

export function bandsSentence(run: string): string {
  return (
    `Shaded bands mark the instabilities of run ${run} only (the constant-η run with the most of them, or report.highlightRun): red is a heating phase (from the last loss minimum before the rise to the loss peak), ` +
    'blue the cooling phase that follows (from the peak until the loss is back under its pre-rise level, or to the run’s last step if it never is); its line is drawn thicker. Every run’s bands at once would cover the figure; the figure below shows this run alone.'
  );
}

function detailCaption(run: string, count: number): string {
  return (
    `Run ${run} alone, its ${count} instabilit${count === 1 ? 'y' : 'ies'} shaded as above. (a) The training loss, log scale. (b) λmax/(2/η), the sharpness as a fraction of its stability threshold, with the rule at 1: ` +
    'each red ▲ is the last step λmax crossed above 2/η before the loss peak, each blue ▼ the first step it was back under; ● is the instability’s peak λmax/(2/η) (its worst-case sharpness) and ○ the trough after it. ' +
    'Grey rings are the warm-Lanczos checks of the one-HVP power estimate the line is drawn from (training.sharpnessCheckEvery), where there are any. ' +
    SELECT_HINT
  );
}

const INSTABILITY_NOTE =
  'One row per instability of the primary detector: a rise of the training loss over its running minimum (relative detector: by more than the fraction r; absolute: a loss peak of prominence ≥ p in loss units, as scipy.signal.find_peaks) ' +
  'while λmax exceeds 2/η somewhere between the start and the peak. Start is the last loss minimum before the rise; λmax ↑ 2/η the last sample above the threshold whose predecessor was not, at or before the peak; ' +
  'λmax ↓ 2/η the first sample back under it after that; recovery the first step after the peak with the loss back under the pre-rise level (— if never). The λmax peak is the largest over start → recovery, the trough the smallest after that peak. ' +
  'Heating runs from start to peak, cooling from peak to recovery. Click a row to highlight its run.';

const SENSITIVITY_CAPTION =
  'How much of the instability count and of along-run flattening is the detector’s choice (analysis.instabilities.sweep): for each detector and threshold, the number of instabilities each run gets (top) ' +
  'and its along-run Kendall τ of the peak λmax/(2/η) against the index (bottom, runs with at least 3 instabilities; below 0 is flattening). The relative detector counts small late oscillations of a tiny loss as rises; ' +
  'the absolute one needs a rise in loss units. The reproduction check along-run-flattening-robust says whether the verdict is the same at every threshold. ' +
  SELECT_HINT;

const POWER_NOTE =
  'The sharpness lines are one power step per GD step (one HVP: the Rayleigh quotient of the previous step’s vector, then that vector times H, normalised). Where λmax moves fast — at a catapult — the vector lags, and the estimate with it; ' +
  'so at every training.sharpnessCheckEvery-th step training also ran warm Lanczos from the same vector (to relative residual 1e-3) and recorded it beside the power value. The table gives the relative error per run inside the primary instabilities (start → recovery) and outside.';

export function instabilitiesSection(input: InstabilitySectionsInput, render: Render): string | null {
  if (input.instabilities.length === 0 && input.instabilitySensitivity.length === 0 && input.powerCheck.length === 0) return null;
  const parts = [instabilityTable(input.instabilities, input.runs), `<p class="lrs-note">${escapeHtml(INSTABILITY_NOTE)}</p>`];
  if (input.instabilitySensitivity.length) parts.push('<h3 id="sensitivity">Detector-threshold sensitivity</h3>', render(sensitivityFigure(input.instabilitySensitivity, input.runs), SENSITIVITY_CAPTION));
  if (input.powerCheck.length) {
    const summary = powerCheckSummary(input.powerCheck)
      .map((s) => `${s.phase} the instabilities: ${s.checks} checks, median of the runs’ medians ${formatNumber(s.medianOfRuns)}, max ${formatNumber(s.max)}`)
      .join('; ');
    parts.push(
      '<h3 id="power-check">The power estimate against Lanczos</h3>',
      html`<p class="lrs-stated">Relative error of the power estimate: ${summary}.</p>`,
      powerCheckTable(input.powerCheck, input.runs),
      `<p class="lrs-note">${escapeHtml(POWER_NOTE)}</p>`,
    );
  }
  return parts.join('');
}

/** The claim's verdict and measured text as a stated finding (the claim is computed by verify from the tables). */
function claimStatement(claims: ClaimsRow[], id: string, label: string): string {
  const claim = claims.find((c) => c.id === id);
  if (!claim) return '';
  return html`<p class="lrs-stated"><strong>${label}: ${claim.verdict}</strong> (<code>${id}</code>). ${claim.detail}</p>`;
}

const ALONG_RUN_CAPTION =
  'Along-run flattening, one panel per η (never pooled: each η has its own scale and instability rate): for each constant-η run, the peak of λmax/(2/η) in its i-th instability (●, its worst-case sharpness) ' +
  'and the trough after that peak (○) against i, one line per run coloured by η; the dashed rule is λmax = 2/η. The paper’s reading predicts falling peaks. ' +
  'The index grows with time, so a fall could be time alone: the check also gives the partial τ given ln t, over the seeds of each η (within one run the index and time cannot be told apart). ' +
  SELECT_HINT;

export function alongRunSection(input: InstabilitySectionsInput, render: Render): string | null {
  if (!input.instabilities.some((e) => e.ratio_peak !== null)) return null;
  // No run with a peak to draw (e.g. the only unstable run diverged): the note alone, not an empty figure.
  const figure = alongRunFigure(input.instabilities, input.runs);
  return (
    (isNoData(figure) ? figure : render(figure, ALONG_RUN_CAPTION)) +
    claimStatement(input.claims, 'along-run-flattening', 'Along-run flattening') +
    claimStatement(input.claims, 'along-run-flattening-robust', 'Robustness over the detector sweep')
  );
}

const LONG_HORIZON_CAPTION =
  'Open question 1: each instability’s peak (●) and trough (○) of λmax/(2/η) in the long runs, (a) against the step of its loss peak on a log axis, over each run’s per-step λmax/(2/η) (faint) to its last step, with the dashed vertical rule where the late part of training begins, ' +
  '(b) against the instability index; colour is η, the horizontal rule λmax = 2/η. Falling peaks that level off at the rule are sharpness saturating at the edge of stability; ' +
  'the finding above the figure (the check long-horizon-flattening) fits the later half of each run’s instabilities against ln t and reads λmax/(2/η) over the late part of training.';

export function longHorizonSection(input: InstabilitySectionsInput, render: Render): string | null {
  if (input.longHorizon.length === 0) return null;
  return claimStatement(input.claims, 'long-horizon-flattening', 'Long horizon') + render(longHorizonFigure(input.instabilities, input.runs, input.longHorizon, input.steps), LONG_HORIZON_CAPTION);
}

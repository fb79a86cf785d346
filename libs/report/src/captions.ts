/**
 * Captions of the landscape figures: one paragraph each, what the figure shows and how to read it.
 * Plain text (the page escapes it); some name the run or the numbers they depend on.
 */
import { scopeLabel } from './figures.ts';
import { formatNumber } from './html.ts';
import { DENSITY_DECADES } from './spectral.ts';

const SELECT_HINT = 'Hover a mark for its values; choose a run or η above to dim the others.';

export const SHARPNESS_BANDS_SENTENCE =
  'Shaded bands mark the instabilities: red is a heating phase (from the last loss minimum before the rise to the loss peak, with λmax above 2/η), blue the cooling phase that follows (from the peak until the loss is back under its pre-rise level, or to the run’s last step if it never is). ' +
  'Bands belong to their run and dim with it.';

export const EOS_CAPTION =
  'The edge of stability, normalised: λmax·η/2, the sharpness as a fraction of its stability threshold 2/η, against step for each constant-learning-rate run (one line per run, coloured by η). ' +
  'The dashed rule at 1 is λmax = 2/η; the grey band is ±15% around it. Progressive sharpening shows as a line climbing towards 1; a run at the edge of stability then stays inside the band instead of settling below it, ' +
  'and excursions above it go with the loss spikes of the instabilities. The axis stops at 3, so a diverging run leaves the top. ' +
  SELECT_HINT;

export const INSTABILITY_TABLE_NOTE =
  'One row per instability: a rise of the training loss by more than the prominence threshold while λmax exceeds 2/η. ' +
  'Start is the last loss minimum before the rise, peak the loss maximum, end the first step back under the pre-rise loss (— if it never got there); heating runs from start to peak, cooling from peak to end. ' +
  'λmax before / at peak / after are the sharpness samples nearest those points; compare them with 2/η. Click a row to highlight its run.';

export function densityCaption(run: string, step: number, eta: number | null, outliers: number): string {
  return (
    `Run ${run}${eta === null ? '' : ` (η = ${formatNumber(eta)})`}, step ${step}: the bulk spectral density of the full Hessian estimated by stochastic Lanczos quadrature (Gaussian-smoothed) against the eigenvalue λ. ` +
    `The density axis is logarithmic and reaches ${DENSITY_DECADES} decades below the peak, so the thin tails are visible; most of the mass sits near λ = 0. ` +
    `Red dashed lines are the ${outliers} outlier eigenvalue${outliers === 1 ? '' : 's'} from the Lanczos spectrum at the same checkpoint, well to the right of the bulk: the outlier–bulk split. Hover the curve for values.`
  );
}

export const EFFECTIVE_CAPTION =
  'The effective number of parameters N_eff = Σ λ_i/(λ_i + α) over the top Ritz values of the full Hessian (negative values clipped, α = λmax/2), against checkpoint step, one line per run coloured by η. ' +
  'Each eigenvalue well above α counts about 1 and each well below counts about 0, so N_eff counts the directions the loss is sharply curved along; it is bounded by the number of Ritz values computed. ' +
  SELECT_HINT;

export function outlierCountCaption(classes: number | undefined): string {
  return (
    'The outlier count m (the number of top eigenvalues separated from the bulk by the largest ratio gap) against checkpoint step, one step line per run coloured by η; runs with the same m overlap. ' +
    (classes === undefined
      ? 'For a C-class problem m ≈ C is the known pattern; this experiment has no classes to compare with. '
      : `The dashed line is C = ${classes}, the number of classes: for a C-class problem m ≈ C is the known pattern. `) +
    SELECT_HINT
  );
}

export const TRACE_CAPTION =
  'The trace of the full Hessian (the sum of all its eigenvalues, bulk included) estimated with Hutchinson’s method, against checkpoint step, one line per run coloured by η, with error bars of ±2 standard errors of the estimate. ' +
  'Beside λmax it says whether the whole landscape sharpens or only its top directions. ' +
  SELECT_HINT;

export function klayerErrorCaption(ks: number[], rank = 1): string {
  const which = ks.length ? ` Columns: ${ks.map((k) => scopeLabel(`k${k}`)).join(', ')}.` : '';
  return (
    `The Hessian block of the last k layers against the full Hessian over training: top row, the relative error |λ${rank}(block) − λ${rank}(full)| / λ${rank}(full) of the top eigenvalue; bottom row, the overlap between the top-${rank} eigenspace of the full Hessian and that of the block (its eigenvectors padded with zeros to all parameters), 1 meaning the same direction. ` +
    'One column per k, one line per run coloured by η. Near 0 error and near 1 overlap mean the last k layers alone carry the sharpest direction.' +
    which
  );
}

export const FLATTENING_CAPTION =
  'Landscape flattening. (a) Along each run that had instabilities: the sharpness of the solution reached after the i-th instability against i, one line per run coloured by η, with the run’s 2/η dashed; a falling line says each instability sends the run to a flatter region. ' +
  '(b) Drop schedules (η_hi until step t_switch, then η_lo), each point one run labelled by its t_switch: the final sharpness of the converged solution against the number of instabilities met before the drop; a falling trend says the instabilities, not the time spent at η_hi, flatten the landscape. ' +
  SELECT_HINT;

export function overlapHeatmapCaption(run: string, eta: number | null, which: string): string {
  return (
    `Run ${run}${eta === null ? '' : ` (η = ${formatNumber(eta)}, ${which})`}: the overlap s = ‖U_aᵀU_b‖²_F / m between the top-m Hessian eigenspaces at every pair of checkpoints a (x) and b (y), from 0 (orthogonal) to 1 (the same space). ` +
    'The diagonal is 1; a block of dark cells is a stretch of training over which the sharp directions stay put, and pale cells off the diagonal show them turning. Hover a cell for its value.'
  );
}

export function baselineOverlapCaption(baseline: string | undefined): string {
  return (
    `The overlap s between each run’s top-m eigenspace and that of the baseline run${baseline ? ` ${baseline}` : ''} (the smallest η) at the same step, against step, one line per run coloured by η. ` +
    'All runs start from the same θ_0, so every line starts near 1; the faster a line falls, the further the larger learning rate has moved the run to a landscape with different sharp directions. ' +
    SELECT_HINT
  );
}

export const INSTABILITY_OVERLAP_CAPTION =
  'Eigenspace overlap across each instability: for every instability, the top-m eigenspace at the last checkpoint before it started against the first checkpoint after it cooled down. ' +
  'Each segment spans the two checkpoints at the height of their overlap, coloured by the run’s η. Near 1, the sharp directions came through the instability unchanged; low, the instability moved the run to where other directions are sharp. ' +
  SELECT_HINT;

export const DISPLACEMENT_CAPTION =
  'The cosine between each run’s displacement from the shared initialisation, θ_t − θ_0, and the baseline run’s displacement at the same step, against step, one line per run coloured by η. ' +
  '1 means the run has moved in the same direction as the baseline; lower values mean the large learning rate sent it elsewhere in parameter space. Gaps are steps where a displacement is still zero. ' +
  SELECT_HINT;

export function perturbationCaption(run: string, step: number, eta: number | null, regression: boolean): string {
  const who = `Run ${run}${eta === null ? '' : ` (η = ${formatNumber(eta)})`}, step ${step}: `;
  return regression
    ? who +
        'how the network’s output changes when the parameters move a small step along each top Hessian eigendirection u_i (θ ± ε·u_i), as a function of the input x, one line per direction. ' +
        'A direction whose line is large over one part of the input range controls the fit there. Hover for values.'
    : who +
        'how each class’s output changes when the parameters move a small step along each top Hessian eigendirection u_i (θ ± ε·u_i): rows are directions, columns classes, colour the change on a diverging scale (blue up, red down, white none). ' +
        'A row dominated by one class says that direction moves that class’s output; with m ≈ C the outlier directions tend to line up with the classes.';
}

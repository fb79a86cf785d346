/**
 * Captions of the landscape figures: one paragraph each, what the figure shows and how to read it.
 * Plain text (the page escapes it); some name the run or the numbers they depend on.
 */
import { scopeLabel } from './figures.ts';
import { formatNumber } from './html.ts';
import { DENSITY_DECADES } from './spectral.ts';

const SELECT_HINT = 'Hover a mark for its values; choose a run or η above to dim the others.';

export const EOS_CAPTION =
  'The edge of stability, normalised: λmax·η/2, the sharpness as a fraction of its stability threshold 2/η, against step for each constant-learning-rate run (one line per run, coloured by η). ' +
  'The dashed rule at 1 is λmax = 2/η; the grey band is ±15% around it. Progressive sharpening shows as a line climbing towards 1; a run at the edge of stability then stays inside the band instead of settling below it, ' +
  'and excursions above it go with the loss spikes of the instabilities. The axis stops at 3, so a diverging run leaves the top. ' +
  SELECT_HINT;

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
  'Delayed drops, controlled. From an unstable constant-η run (the parent) the learning rate drops to η_lo at switch points taken from its instabilities: just before a heating phase starts, just after its cooling ends, and at the start of an equal-length quiet window right before it; from a stable run (the control, dashed) it drops to the same η_lo at the same steps. ' +
  'Every continuation runs at η_lo until the training loss reaches the same L*, where λmax is measured (warm Lanczos), so solutions are compared at matched loss, not after matched time. ' +
  '(a) λmax at L* as a fraction of 2/η_lo against the switch step, one line per seed, symbols by switch point; hollow: left out of the verdict (above the red dashed line a continuation sits at the edge of stability of η_lo and its λmax is pinned, carrying no signal). ' +
  '(b) One point per instability: the change of that fraction across the instability (after − before) against the change across the quiet window (before − quiet start); points below the dashed diagonal say the instability lowered the sharpness reached more than the same time without one did (flattening). Hollow points: the same pairs on the control, where neither window holds an instability. ' +
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

export function windowTestCaption(metric: 'overlap' | 'cos-rms'): string {
  const what = metric === 'overlap' ? 'the overlap s = ‖U_aᵀU_b‖²_F / m' : 'the cosine of the root-mean-square principal angle, cos(√(Σθᵢ²/m))';
  return (
    `The primary landscape-shift test, ${what} between top-m eigenspaces (fixed m, full Hessian). One dot per instability of training’s event checkpoints: across the instability (the loss minimum before it → loss back under that level, L steps) on the y axis, across the L-step quiet window just before it on the x axis, paired by a rule fixed in advance (the quiet window must end where the instability starts and begin after the previous one ended). ` +
    'Both windows are equally long at the same η in the same run, so drift and steady turning enter both alike; dots below the dashed diagonal are instabilities that turned the sharp directions more than quiet training did. The claim takes the per-seed mean of the difference, with a t-interval over seeds. ' +
    SELECT_HINT
  );
}

export function matchedTimeCaption(metric: 'overlap' | 'cos-rms'): string {
  const what = metric === 'overlap' ? 'overlap s' : 'cos of the RMS principal angle';
  return (
    `The ${what} between each run’s top-m eigenspace and its baseline’s (config matchedTime: each seed’s run at the baseline η, extended to the τ horizon) at matched cumulative learning rate τ = Σ η_s — the gradient-flow time — rather than at the same step, where a run at 2η is already twice as far along a stable path. ` +
    'One line per run coloured by η, at the grid τ each run reaches (the first step with τ_t ≥ τ on both sides). The secondary claim compares the slope of this value against η above the instability onset with the slope below it. ' +
    SELECT_HINT
  );
}

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

export const COOLING_PREDICTION =
  'The prediction, stated before the numbers (self-stabilisation, Damian et al. 2023): with S = λ₁ the sharpness, a gradient step changes S by −η ∇S·∇L to first order, where ∇S = ∇³L[u₁, u₁]. ' +
  'While the loss recovers (cooling: from the loss peak to the first step back under the pre-rise loss) S should fall along −∇L, ∇S·∇L > 0; while the instability grows (heating: from the last loss minimum to the loss peak) it should not. ' +
  'Each selected instability is replayed step by step from training’s checkpoint before it with training’s own float32 update (checked against the logged loss and the stored θ after it), and every diagnostic is computed in float64, since the second differences behind ∇S cancel badly in float32. ' +
  'D = Σ∇S·∇L / Σ|∇S·∇L| over a phase’s steps is the sign of S’s first-order change over the phase, weighted by size: the per-step sign flips every step with the period-two oscillation along u₁, which the sum cancels. The claim compares D_cooling with D_heating of the same instability.';

export const COOLING_TABLE_NOTE =
  'One row per selected instability (training’s event checkpoints, numbered in run order): start (the last loss minimum before the rise), the replay’s loss peak, end (loss back under the pre-rise level). ' +
  'D heating / cooling as above; the shares count steps with ∇S·∇L > 0; Δλ₁ is λ₁ at the phase’s end minus at its start; first-order sign agreement is the share of steps where −η∇S·∇L has the sign of the measured S(t+1) − S(t); cluster steps are those where λ₁/λ₂ fell below cooling.gapRatio and S is the trace of the top cluster. ' +
  'The replay columns are the largest differences from the trained run (0: bit for bit). A truncated instability (no recovery within cooling.maxSteps, or before the run ended) is shown but left out of the claim; a selected run or instability that does not exist is listed with the config field that names it.';

export const COOLING_PHASE_NOTE =
  'Both phases pooled over the complete instabilities: mean D over instabilities, and over the pooled steps the share with ∇S·∇L > 0, the median sharpness against its threshold 2/η, the gap λ₁/λ₂, the alignment |cos(∇L, u₁)| of the gradient with the top eigenvector, its rotation |u₁(t)·u₁(t+1)| in one step, and the share of steps where the top cluster’s trace replaced λ₁.';

export function coolingCaption(run: string, instability: number | null, eta: number | null, start: number | null, end: number | null): string {
  return (
    `Run ${run}${eta === null ? '' : ` (η = ${formatNumber(eta)})`}, instability ${formatNumber(instability)}, steps ${formatNumber(start)}–${formatNumber(end)}, replayed step by step: ` +
    'the loss (log scale; red band heating, blue band cooling); the top four Hessian eigenvalues (λ₁ darkest) against the stability threshold 2/η (dashed), orange rings where λ₁’s gap closed and S is a cluster trace; ' +
    '∇S·∇L at every step (blue above 0: S falls along −∇L; red below); and the change of S since the start, measured (solid) and predicted to first order by −η Σ∇S·∇L (dashed). Hover a mark for its values.'
  );
}

/** The cyclic study's figure (open question 3), with the study's settings as the `cyclic` rows record them. */
export function cyclicCaption(rows: readonly { role: string; ratio: number | null; cycle_tau: number; cycles: number; from_cycle: number; m: number; matched_loss: number; eta_high: number; period: number | null }[]): string {
  const first = rows[0];
  if (!first) return 'The cyclic study (open question 3) appears here when the experiment has one (analysis.cyclic).';
  const cyclic = rows.filter((r) => r.role === 'cyclic' && r.ratio !== null && r.period !== null);
  const periods = [...new Map(cyclic.map((r) => [r.ratio, r.period])).entries()].sort((a, b) => a[0]! - b[0]!);
  return (
    `The ratio η_hi/η_lo of a triangular cyclic learning rate at η_hi = ${formatNumber(first.eta_high)} (η_lo at the start of each cycle, η_hi half way; ratio 1 is the constant η_hi run), one panel per metric, one dot per run (seeds side by side, coloured by seed), the black line the mean over seeds; the dashed rule is the constant-η baseline of the matched-time comparison. ` +
    `Every period spans the same gradient-flow time τ = Σ η_s = ${formatNumber(first.cycle_tau)}${periods.length ? ` (${periods.map(([r, p]) => `${p} steps at ratio ${formatNumber(r)}`).join(', ')})` : ''}, so cycle k ends at τ = ${formatNumber(first.cycle_tau)}·k in every run and the runs are compared at matched τ, not at matched steps (the mean η differs by ratio). ` +
    `Means over cycles ${first.from_cycle}–${first.cycles} (the first starts at θ_0): (a) 1 − s, with s = ‖U_aᵀU_b‖²_F/m the overlap of the full Hessian's top-${first.m} eigenspaces at a cycle's two ends, where η is back at η_lo — how far the landscape's orientation moves per cycle; (b) s against the baseline at the same τ — how far the run has left the gradient-flow path; (c) instabilities (loss spikes with λmax above 2/η_t) per cycle. ` +
    `(d) λmax at the first step with training loss ≤ L* = ${formatNumber(first.matched_loss)} (the power estimate); it is bounded by 2/η_t at that step, so it also says where in the cycle L* was met; (e) the test loss at the first test evaluation with training loss ≤ L*. Hover a dot for its run and value.`
  );
}

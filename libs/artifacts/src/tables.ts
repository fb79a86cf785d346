/**
 * Every table (docs/architecture.md, "Artifacts"), declared once.
 *
 * A table is a list of columns, each with a kind (an Arrow type and the TypeScript type of its
 * values), a nullability and, for closed vocabularies, the allowed strings. From this one
 * declaration come the Arrow `Schema` that the writer stamps on each file and the reader checks
 * every file against (`TABLES`), and the row types the rest of the code works with (`StepsRow`, …).
 * Nothing else in the code base spells a column name a second time: code that needs a column
 * reads it off a row, whose type is derived from here.
 */
import { Bool, DataType, Field, FixedSizeList, Float32, Float64, Int32, Schema, Utf8 } from 'apache-arrow';

/** The value kinds a column may hold, with the TypeScript type of a (non-null) value. */
export interface ColumnKinds {
  utf8: string;
  f64: number;
  i32: number;
  bool: boolean;
}
export type ColumnKind = keyof ColumnKinds;

export interface ColumnSpec {
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** For utf8 columns with a closed vocabulary: the allowed values, checked on write and on read. */
  readonly values?: readonly string[];
}

const required = <K extends ColumnKind>(kind: K) => ({ kind, nullable: false as const });
const nullable = <K extends ColumnKind>(kind: K) => ({ kind, nullable: true as const });
const oneOf = <const V extends readonly string[]>(...values: V) => ({ kind: 'utf8' as const, nullable: false as const, values });

const utf8 = required('utf8');
const f64 = required('f64');
const i32 = required('i32');
const bool = required('bool');
const f64OrNull = nullable('f64');
const i32OrNull = nullable('i32');

/** The column declarations of every table, in column order. */
export const TABLE_COLUMNS = {
  runs: {
    run: utf8, eta: f64, schedule: utf8, seed: i32, steps: i32, diverged: bool,
    final_loss: f64OrNull, final_sharpness: f64OrNull, seconds: f64, backend: utf8,
    /** η·λmax(θ_0)/2: above 1 the run starts beyond its stability threshold (a catapult at step 0). */
    initial_regime: f64OrNull,
  },
  steps: {
    run: utf8, step: i32, lr: f64, loss: f64OrNull, accuracy: f64OrNull, test_loss: f64OrNull,
    test_accuracy: f64OrNull, grad_norm: f64OrNull, sharpness: f64OrNull,
    /** Warm Lanczos λmax beside the power estimate, at training.sharpnessCheckEvery steps. */
    sharpness_check: f64OrNull,
  },
  /**
   * scope: 'full' for the whole Hessian, 'k1', 'k2', … for the block of the last k layers. end: 'top' ranks
   * from the largest eigenvalue down, 'bottom' from the most negative up (rank 1 = λ_min).
   */
  spectra: { run: utf8, step: i32, scope: utf8, end: oneOf('top', 'bottom'), rank: i32, eigenvalue: f64, residual: f64, is_outlier: bool },
  /** Gauss quadrature of each SLQ probe (nodes θ_j, weights w_j; Σ w_j = 1): tr f(H) ≈ dimension · mean over probes of Σ w_j f(θ_j). */
  quadrature: { run: utf8, step: i32, scope: utf8, dimension: i32, probe: i32, node: f64, weight: f64 },
  /** Every eigenvalue of the dense Hessian, where the config asks for it (small nets, final checkpoint). */
  exact_spectrum: { run: utf8, step: i32, scope: utf8, eigenvalue: f64 },
  density: { run: utf8, step: i32, scope: utf8, lambda: f64, density: f64 },
  trace: { run: utf8, step: i32, scope: utf8, estimate: f64, stderr: f64 },
  instabilities: {
    run: utf8, eta: f64, index: i32, start: i32, peak: i32, end: i32OrNull, loss_before: f64, peak_loss: f64,
    sharpness_before: f64OrNull, sharpness_peak: f64OrNull, sharpness_after: f64OrNull,
    heating_steps: i32, cooling_steps: i32OrNull,
    /**
     * The primary detector (analysis.instabilities.primary) and its threshold; end is the loss recovery; up/down
     * crossing: λmax through 2/η around the peak; the λmax peak (sharpness_peak) and its trough, and the same for
     * λmax/(2/η), over start → recovery (libs/landscape/src/instabilities.ts).
     */
    detector: oneOf('relative', 'absolute'), threshold: f64, up_crossing: i32OrNull, down_crossing: i32OrNull,
    sharpness_peak_step: i32OrNull, sharpness_trough: f64OrNull, sharpness_trough_step: i32OrNull,
    ratio_peak: f64OrNull, ratio_peak_step: i32OrNull, ratio_trough: f64OrNull, ratio_trough_step: i32OrNull,
  },
  /**
   * One row per (detector, threshold of analysis.instabilities.sweep, run): the instability count and the
   * along-run statistics (Kendall τ of the per-instability peak and trough of λmax/(2/η) against the index).
   */
  instability_sensitivity: {
    detector: oneOf('relative', 'absolute'), threshold: f64, run: utf8, eta: f64, seed: i32, count: i32,
    tau_peak: f64OrNull, tau_trough: f64OrNull, first_ratio_peak: f64OrNull, last_ratio_peak: f64OrNull,
  },
  /** The power estimate of λmax against warm Lanczos at the checked steps, inside and outside the primary instabilities. */
  power_check: { run: utf8, eta: f64, phase: oneOf('inside', 'outside'), checks: i32, median_rel_error: f64OrNull, max_rel_error: f64OrNull },
  /**
   * Open question 1, per constant-η run (where analysis.longHorizon is set): the OLS slope of the per-instability
   * peak and trough of λmax/(2/η) against ln(step) over the later half of its instabilities (tail_*), the last
   * instability, how many fall in the late part of training (from late_from), and λmax/(2/η) over that late part
   * from the steps (power estimate; late_check_median from the Lanczos checks).
   */
  long_horizon: {
    run: utf8, eta: f64, seed: i32, steps: i32, instabilities: i32, last_peak: i32OrNull,
    tail_from_index: i32OrNull, tail_slope_peak: f64OrNull, tail_slope_trough: f64OrNull, last_ratio_peak: f64OrNull, last_ratio_trough: f64OrNull,
    late_from: i32, late_instabilities: i32, late_ratio_median: f64OrNull, late_ratio_max: f64OrNull, late_check_median: f64OrNull,
  },
  /**
   * Eigenspace comparisons at a fixed m: overlap s = ‖U_aᵀU_b‖²_F/m, min_cos_angle the cosine of the largest
   * principal angle, cos_rms_angle = cos(√(Σθᵢ²/m)); gap_a, gap_b = λ_m/λ_{m+1} at each end (null where
   * λ_{m+1} ≤ 0 or unknown); well_defined false where a cut runs through the bulk (docs/architecture.md).
   */
  overlaps: {
    run_a: utf8, step_a: i32, run_b: utf8, step_b: i32, scope: utf8, m: i32, overlap: f64, min_cos_angle: f64,
    cos_rms_angle: f64, gap_a: f64OrNull, gap_b: f64OrNull, well_defined: bool,
    /**
     * baseline: against the baseline at the same step (secondary); matched-time: at matched τ = Σ_{s<t} η_s;
     * instability: the nearest checkpoints around a primary instability; window-instability / window-quiet:
     * training's event-before → event-after and the equal-length quiet window before it (shift_windows).
     */
    kind: oneOf('consecutive', 'step×step', 'baseline', 'matched-time', 'instability', 'window-instability', 'window-quiet'),
    /** τ = Σ_{s<t} η_s at each end (every kind; the gradient-flow time of the checkpoint). */
    tau_a: f64, tau_b: f64,
  },
  /**
   * Light checkpoints (docs/architecture.md, "Light checkpoints"): the top hessian.light.topK eigenvalues of the
   * full Hessian only, at training's light steps (kind light) and at the replayed quiet-window starts (quiet-start).
   */
  light_spectra: { run: utf8, step: i32, kind: oneOf('light', 'quiet-start'), rank: i32, eigenvalue: f64, residual: f64 },
  /**
   * The primary shift test, one row per instability of training's event checkpoints (the pairing rule of the
   * drop families, fixed in advance): the overlap across it (event-before → event-after, L steps) and across the
   * L-step quiet window before it (quiet_start → before), full Hessian, fixed m; status skipped with the reason
   * where no quiet window fits (after the previous instability's end and hessian.light.minQuietStep).
   */
  shift_windows: {
    run: utf8, eta: f64, seed: i32, instability: i32, status: oneOf('paired', 'skipped'), reason: utf8,
    quiet_start: i32OrNull, before: i32OrNull, after: i32OrNull, m: i32,
    overlap_instability: f64OrNull, overlap_quiet: f64OrNull, cos_rms_instability: f64OrNull, cos_rms_quiet: f64OrNull,
    well_defined: nullable('bool'),
  },
  /**
   * Each run against its baseline (config matchedTime) at every τ of matchedTime.taus, full Hessian, fixed m:
   * step, baseline_step = the first steps with τ ≥ tau (tau_run, tau_baseline exceed tau by < one η); not-run with
   * the reason where either run ends (or diverged) before it.
   */
  matched_time: {
    run: utf8, baseline: utf8, eta: f64, seed: i32, tau: f64, status: oneOf('ok', 'not-run'), reason: utf8,
    step: i32OrNull, baseline_step: i32OrNull, tau_run: f64OrNull, tau_baseline: f64OrNull, m: i32,
    overlap: f64OrNull, cos_rms_angle: f64OrNull, well_defined: nullable('bool'),
  },
  /**
   * Open question 3, the cyclic ratio (config analysis.cyclic; libs/landscape/src/cyclic.ts), one row per run of the
   * study: the cyclic runs at η_hi (ratio = η_hi/η_lo), the constant η_hi run (ratio 1) and each seed's matched-time
   * baseline (role baseline, ratio null). Every period spans the same gradient-flow time cycle_tau, so cycle k ends
   * at τ = k·cycle_tau in every run (for constant runs: the first step with τ ≥ it). Means over the cycles from
   * from_cycle on (compared_cycles): overlap_cycle = s between the full Hessian's top-m eigenspaces at a cycle's
   * start and end (exploration = 1 − it), overlap_baseline = the matched_time overlap at the cycle ends,
   * instabilities_per_cycle (loss peaks inside the cycle). At matched loss L* (the first step with loss ≤ L*):
   * λmax (steps.sharpness) with η_t and λmax·η_t/2 there; the test loss at the first test step with loss ≤ L*.
   * status not-run (all metrics null) where the run diverged or ends before the cycles; reason names every null.
   */
  cyclic: {
    run: utf8, role: oneOf('cyclic', 'constant', 'baseline'), ratio: f64OrNull, eta_high: f64, eta_low: f64, period: i32OrNull, seed: i32,
    status: oneOf('ok', 'not-run'), reason: utf8, cycle_tau: f64, cycles: i32, from_cycle: i32, compared_cycles: i32, m: i32,
    exploration: f64OrNull, overlap_cycle: f64OrNull, cos_rms_cycle: f64OrNull, ill_defined_cycles: i32,
    overlap_baseline: f64OrNull, cos_rms_baseline: f64OrNull, instabilities: i32OrNull, instabilities_per_cycle: f64OrNull,
    matched_loss: f64, step_matched: i32OrNull, tau_matched: f64OrNull, lr_matched: f64OrNull, sharpness_matched: f64OrNull, ratio_matched: f64OrNull,
    test_step_matched: i32OrNull, train_loss_test_matched: f64OrNull, test_loss_matched: f64OrNull,
  },
  /**
   * The cyclic study per run and cycle k (1-based): start_step, end_step = its cycle ends (k−1)·T, k·T, or the first
   * steps with τ ≥ (k−1)·cycle_tau, k·cycle_tau; the overlap of the eigenspaces there, the instabilities whose loss
   * peak lies in [start_step, end_step), and the matched_time overlap at end_step; compared: k ≥ from_cycle (the
   * first cycle starts at θ_0 and holds the initial fall of the loss). not-run with the reason where the run ends first.
   */
  cyclic_cycles: {
    run: utf8, role: oneOf('cyclic', 'constant', 'baseline'), ratio: f64OrNull, seed: i32, cycle: i32, compared: bool,
    status: oneOf('ok', 'not-run'), reason: utf8, start_step: i32OrNull, end_step: i32OrNull, tau_start: f64, tau_end: f64,
    instabilities: i32OrNull, overlap: f64OrNull, cos_rms_angle: f64OrNull, well_defined: nullable('bool'),
    baseline_step: i32OrNull, overlap_baseline: f64OrNull, cos_rms_baseline: f64OrNull,
  },
  /**
   * The cyclic study's finding, one row per metric of `cyclic`: within each seed, Kendall τ of the metric against the
   * ratio over the ratios with a value (at least 3); tau = the mean over seeds with a 95% t-interval (clamped to
   * [−1, 1]); direction rises / falls where the interval excludes 0, unclear where not, not-run (with the reason) with
   * fewer than 2 such seeds. mean_low / mean_high: the mean over seeds at the smallest and largest ratio;
   * baseline_mean: the baseline rows' mean, where the metric has one.
   */
  cyclic_trends: {
    metric: oneOf('exploration', 'overlap_baseline', 'instabilities_per_cycle', 'sharpness_matched', 'test_loss_matched'),
    seeds: i32, tau: f64OrNull, tau_lower: f64OrNull, tau_upper: f64OrNull, method: utf8,
    direction: oneOf('rises', 'falls', 'unclear', 'not-run'), reason: utf8,
    ratio_low: f64OrNull, mean_low: f64OrNull, ratio_high: f64OrNull, mean_high: f64OrNull, baseline_mean: f64OrNull,
  },
  displacement: { run: utf8, step: i32, cos_to_baseline: f64OrNull },
  /**
   * Delayed-drop flattening, one row per continuation of a drop family (libs/landscape/src/flattening.ts):
   * run is the continuation's id, source the run it starts from (the parent, or the control for role
   * control), kind the switch point (t_switch) it starts at, instability the one it pairs with. λ at matched
   * loss L* (sharpness_matched, the primary; ratio_matched = it / (2/η_lo)) by warm Lanczos at step_matched,
   * the first step with loss ≤ L*; steps: GD steps after the drop; use: in the verdict, or why not.
   */
  flattening: {
    family: utf8, run: utf8, source: utf8, role: oneOf('unstable', 'control'), seed: i32,
    kind: oneOf('quiet-start', 'before-instability', 'after-instability'), instability: i32, t_switch: i32, instabilities_before: i32,
    eta_high: f64, eta_low: f64, loss_at_switch: f64, matched_loss: f64, step_matched: i32OrNull,
    sharpness_matched: f64OrNull, ratio_matched: f64OrNull, test_loss_matched: f64OrNull, sharpness_converged: f64OrNull,
    max_sharpness: f64OrNull, steps: i32, status: oneOf('converged', 'capped', 'diverged'),
    use: oneOf('used', 'pinned', 'capped', 'diverged', 'below-at-switch'),
  },
  /** One row per drop family and seed: its settings, status (with the reason, naming the config field) and counts. */
  drop_families: {
    family: utf8, field: utf8, seed: i32, parent: utf8, control: utf8, eta_parent: f64, eta_control: f64, eta_low: f64,
    matched_loss: f64, max_steps: i32, pinned_ratio: f64, control_margin: f64,
    status: oneOf('ok', 'too-few-instabilities', 'parent-diverged', 'control-diverged'), reason: utf8,
    parent_instabilities: i32, control_instabilities: i32, paired: i32, continuations: i32, reached: i32, capped: i32, diverged: i32, pinned: i32,
  },
  /**
   * N_eff = Σ |λ|/(|λ| + α), α = alphaFraction·λmax: n_eff over the top-M Ritz values (negatives clipped, as
   * before), n_eff_full over the whole spectrum estimated by SLQ, n_eff_exact from the dense spectrum where stored.
   */
  effective: { run: utf8, step: i32, scope: utf8, m: i32, n_eff: f64, n_eff_full: f64OrNull, n_eff_exact: f64OrNull },
  /** delta: signed mean over examples of the change of output c (or f(x) on the x grid); rms: its root mean square over examples (|delta| on the grid). */
  perturbations: { run: utf8, step: i32, direction: i32, class_or_x: f64, delta: f64, rms: f64 },
  klayer: { run: utf8, step: i32, k: i32, rank: i32, rel_error: f64, overlap_to_full: f64 },
  /**
   * The cooling diagnostics (libs/landscape/src/cooling.ts): one row per replayed step t of a selected
   * instability, from its event-before checkpoint to its event-after one. phase: heating before the replay's
   * loss peak, cooling from it, recovered at the event-after step. loss: the replayed float32 loss;
   * loss_logged: metrics.arrow's. In float64: λ_1…λ_4 (top Hessian eigenvalues), s = λ₁ ('single') or the
   * trace of the top cluster (λ_i with λ₁/λ_i < cooling.gapRatio; 'cluster', 'cluster-incomplete' when all
   * four are in it), u₁'s sign continuous along the trace, displacement_u1 = (θ_t − θ_start)·u₁,
   * rotation = |u₁(t)·u₁(t+1)|, grad_s = ∇S (Σ ∇³L[u_i, u_i] over the cluster) with its relative error
   * estimate, delta_s = S(t+1) − S(t) (same cluster size), delta_s_first_order = −η_t ∇S·∇L.
   */
  cooling: {
    run: utf8, instability: i32, step: i32, phase: oneOf('heating', 'cooling', 'recovered'), lr: f64,
    loss: f64, loss_logged: f64OrNull, loss_float64: f64, grad_norm: f64,
    lambda_1: f64, lambda_2: f64OrNull, lambda_3: f64OrNull, lambda_4: f64OrNull, lanczos_residual: f64,
    gap_ratio: f64OrNull, cluster_size: i32, formula: oneOf('single', 'cluster', 'cluster-incomplete'), s: f64,
    sharpness_ratio: f64, cos_grad_u1: f64OrNull, displacement_u1: f64, rotation: f64OrNull,
    grad_s_dot_grad: f64, grad_s_dot_u1: f64, grad_s_norm: f64, grad_s_error: f64,
    delta_s: f64OrNull, delta_s_first_order: f64,
  },
  /**
   * One row per selected instability (or selection that names none): status computed / truncated (no
   * recovery within cooling.maxSteps or the run) / missing-run / missing-instability / no-start-checkpoint /
   * unsupported, with the reason; loss_error_max = max_t |loss − loss_logged|, theta_error_max =
   * max |θ_replay − θ_event-after| at the end; per phase (heating, cooling): *_positive, the share of its
   * steps with ∇S·∇L > 0; *_net = Σ ∇S·∇L / Σ |∇S·∇L| over its steps (in [−1, 1]: the sign of the
   * first-order change of S over the phase, which the step-to-step oscillation along u₁ does not flip);
   * lambda_change_* = λ₁ at the phase's end minus at its start; first_order_agreement: the share of steps
   * where −η∇S·∇L has the sign of the measured S(t+1) − S(t).
   */
  cooling_instabilities: {
    run: utf8, instability: i32OrNull,
    status: oneOf('computed', 'truncated', 'missing-run', 'missing-instability', 'no-start-checkpoint', 'unsupported'),
    reason: utf8, start: i32OrNull, peak: i32OrNull, end: i32OrNull, steps: i32,
    loss_error_max: f64OrNull, theta_error_max: f64OrNull,
    heating_positive: f64OrNull, cooling_positive: f64OrNull, heating_net: f64OrNull, cooling_net: f64OrNull,
    lambda_change_heating: f64OrNull, lambda_change_cooling: f64OrNull, first_order_agreement: f64OrNull, cluster_steps: i32,
  },
  /** id: a stable name of the claim (`eos-hover`, `drop-flattening`, …) that tests and the report match on. */
  claims: { id: utf8, claim: utf8, measured: f64OrNull, expected: utf8, verdict: oneOf('pass', 'fail', 'inconclusive', 'not-run'), detail: utf8 },
} as const satisfies Record<string, Record<string, ColumnSpec>>;

export type TableName = keyof typeof TABLE_COLUMNS;
export const TABLE_NAMES = Object.keys(TABLE_COLUMNS) as TableName[];

type ValueOf<C> = C extends { readonly values: readonly (infer V)[] }
  ? V
  : C extends { readonly kind: infer K extends ColumnKind }
    ? ColumnKinds[K]
    : never;
type RowOf<Columns> = {
  -readonly [Name in keyof Columns]: Columns[Name] extends { readonly nullable: true }
    ? ValueOf<Columns[Name]> | null
    : ValueOf<Columns[Name]>;
};

/** One row of table `N`: every column present, `null` where the column is nullable and the value missing. */
export type TableRow<N extends TableName> = RowOf<(typeof TABLE_COLUMNS)[N]>;

export interface RunsRow extends TableRow<'runs'> {}
export interface StepsRow extends TableRow<'steps'> {}
export interface SpectraRow extends TableRow<'spectra'> {}
export interface DensityRow extends TableRow<'density'> {}
export interface TraceRow extends TableRow<'trace'> {}
export interface InstabilitiesRow extends TableRow<'instabilities'> {}
export interface InstabilitySensitivityRow extends TableRow<'instability_sensitivity'> {}
export interface PowerCheckRow extends TableRow<'power_check'> {}
export interface LongHorizonRow extends TableRow<'long_horizon'> {}
export interface OverlapsRow extends TableRow<'overlaps'> {}
export interface LightSpectraRow extends TableRow<'light_spectra'> {}
export interface ShiftWindowsRow extends TableRow<'shift_windows'> {}
export interface MatchedTimeRow extends TableRow<'matched_time'> {}
export interface CyclicRow extends TableRow<'cyclic'> {}
export interface CyclicCyclesRow extends TableRow<'cyclic_cycles'> {}
export interface CyclicTrendsRow extends TableRow<'cyclic_trends'> {}
export interface DisplacementRow extends TableRow<'displacement'> {}
export interface FlatteningRow extends TableRow<'flattening'> {}
export interface DropFamiliesRow extends TableRow<'drop_families'> {}
export interface EffectiveRow extends TableRow<'effective'> {}
export interface PerturbationsRow extends TableRow<'perturbations'> {}
export interface KlayerRow extends TableRow<'klayer'> {}
export interface ClaimsRow extends TableRow<'claims'> {}

/**
 * Provenance stamped on every table as Arrow schema metadata (docs/architecture.md, "Artifacts"). Besides
 * the required keys, `slice.<stage>[.<run>]` keys hold the hash of each config slice the table was computed
 * from — its own task's and every upstream one — the same hashes that key the Nx cache, so a table restored
 * from the cache still names its inputs. All values are strings.
 */
export interface TableMetadata {
  experiment: string;
  code_version: string;
  backend: string;
  [key: string]: string;
}
export const REQUIRED_METADATA_KEYS = ['experiment', 'code_version', 'backend'] as const;
/** Metadata key under which the writer records which table a file holds; reserved. */
export const TABLE_NAME_KEY = 'table';

export function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'utf8':
      return new Utf8();
    case 'f64':
      return new Float64();
    case 'i32':
      return new Int32();
    case 'bool':
      return new Bool();
  }
}

function schemaOf(columns: Record<string, ColumnSpec>): Schema {
  return new Schema(Object.entries(columns).map(([name, spec]) => new Field(name, arrowType(spec.kind), spec.nullable)));
}

/** The Arrow schema of every table (without metadata; the writer adds it per file). */
export const TABLES: { readonly [N in TableName]: Schema } = Object.fromEntries(
  TABLE_NAMES.map((name) => [name, schemaOf(TABLE_COLUMNS[name])]),
) as { readonly [N in TableName]: Schema };

/** The column declarations of table `name`, for code that walks columns generically (writer, reader). */
export function tableColumns(name: TableName): Readonly<Record<string, ColumnSpec>> {
  return TABLE_COLUMNS[name];
}

// ---------------------------------------------------------------------------------------------
// The dataset table (written by the `prepare` task, docs/architecture.md, "The task graph"): one row per example, inputs
// and targets as fixed-size lists of float32 (so a dataset round-trips bit for bit), the class
// label when there is one. Its list widths vary per dataset, so its schema is a function of them.

/** Name of the dataset table, recorded in its files' metadata. */
export const DATASET_TABLE = 'dataset';
/** Column names of the dataset table. */
export const DATASET_COLUMNS = { inputs: 'x', targets: 'y', label: 'label' } as const;
/** Schema-metadata keys of the dataset table, beside the provenance of `TableMetadata`; reserved. */
export const DATASET_METADATA_KEYS = {
  name: 'dataset',
  task: 'task',
  inputDim: 'input_dim',
  outputDim: 'output_dim',
} as const;
export const DATASET_TASKS = ['regression', 'classification'] as const;
export type DatasetTask = (typeof DATASET_TASKS)[number];
/** Name of the list element field inside x and y. */
const LIST_ITEM = 'item';

export function datasetSchema(inputDim: number, outputDim: number): Schema {
  const list = (width: number) => new FixedSizeList(width, new Field(LIST_ITEM, new Float32(), false));
  return new Schema([
    new Field(DATASET_COLUMNS.inputs, list(inputDim), false),
    new Field(DATASET_COLUMNS.targets, list(outputDim), false),
    new Field(DATASET_COLUMNS.label, new Int32(), true),
  ]);
}

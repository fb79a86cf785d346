/**
 * The rows the report reads: the row types of the tables (docs/architecture.md, "Artifacts"), taken from the one module that declares
 * every table (`@lrscape/artifacts` tables.ts), so that no column name is spelled twice. A type-only
 * import: the report needs nothing from artifacts at run time, and a caller passes plain objects
 * (e.g. `readTable(…).rows` or an Arrow `table.toArray()`).
 */
import type { TableRow } from '@lrscape/artifacts';

/** One training trajectory (`runs` table). */
export type RunsRow = TableRow<'runs'>;
/** One GD step of one run (`steps` table). `sharpness` is set only at the tracking cadence. */
export type StepsRow = TableRow<'steps'>;
/** One Ritz value at one checkpoint (`spectra` table); rank 1 is the largest eigenvalue; scope 'full', 'k1', 'k2', …. */
export type SpectraRow = TableRow<'spectra'>;
/** One point of the SLQ bulk density at one checkpoint (`density` table). */
export type DensityRow = TableRow<'density'>;
/** A Hutchinson estimate of the Hessian trace at one checkpoint (`trace` table). */
export type TraceRow = TableRow<'trace'>;
/** One instability of one run (primary detector): heating from start to peak, cooling from peak to recovery (`end`) (`instabilities` table). */
export type InstabilitiesRow = TableRow<'instabilities'>;
/** One (detector, threshold, run) of the instability-detector sweep (`instability_sensitivity` table). */
export type InstabilitySensitivityRow = TableRow<'instability_sensitivity'>;
/** The power estimate of λmax against Lanczos inside or outside the instabilities of one run (`power_check` table). */
export type PowerCheckRow = TableRow<'power_check'>;
/** The late-training trend of one long run's per-instability sharpness (`long_horizon` table). */
export type LongHorizonRow = TableRow<'long_horizon'>;
/** Overlap of two top-m eigenspaces (`overlaps` table); `kind` says which pair it is. */
export type OverlapsRow = TableRow<'overlaps'>;
/** The window test of one instability: the turn across it and across the quiet window before it (`shift_windows` table). */
export type ShiftWindowsRow = TableRow<'shift_windows'>;
/** One run against its baseline at one grid τ of matched cumulative learning rate (`matched_time` table). */
export type MatchedTimeRow = TableRow<'matched_time'>;
/** cos(θ_t − θ_0, θ^base_t − θ_0) at one step (`displacement` table). */
export type DisplacementRow = TableRow<'displacement'>;
/** One continuation of a drop family (`flattening` table): λmax at matched loss after a drop at t_switch. */
export type FlatteningRow = TableRow<'flattening'>;
/** One drop family and seed (`drop_families` table): settings, status and counts. */
export type DropFamiliesRow = TableRow<'drop_families'>;
/** N_eff and outlier count m at one checkpoint and scope (`effective` table). */
export type EffectiveRow = TableRow<'effective'>;
/** Change of one class's (or one input x's) output when θ moves along one eigendirection (`perturbations` table). */
export type PerturbationsRow = TableRow<'perturbations'>;
/** k-layer block against the full Hessian at one checkpoint and rank (`klayer` table). */
export type KlayerRow = TableRow<'klayer'>;
/** One replayed step of one selected instability with its float64 diagnostics (`cooling` table). */
export type CoolingRow = TableRow<'cooling'>;
/** One selected instability of the cooling diagnostics, or why it could not be replayed (`cooling_instabilities` table). */
export type CoolingInstabilityRow = TableRow<'cooling_instabilities'>;
/** One reproduction claim with its verdict on the real outputs (`claims` table). */
export type ClaimsRow = TableRow<'claims'>;

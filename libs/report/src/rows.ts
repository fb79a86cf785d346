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
/** One instability of one run: heating from start to peak, cooling from peak to end (`instabilities` table). */
export type InstabilitiesRow = TableRow<'instabilities'>;
/** Overlap of two top-m eigenspaces (`overlaps` table); `kind` says which pair it is. */
export type OverlapsRow = TableRow<'overlaps'>;
/** cos(θ_t − θ_0, θ^base_t − θ_0) at one step (`displacement` table). */
export type DisplacementRow = TableRow<'displacement'>;
/** One point of a flattening curve (`flattening` table): along a run, or one drop schedule. */
export type FlatteningRow = TableRow<'flattening'>;
/** N_eff and outlier count m at one checkpoint and scope (`effective` table). */
export type EffectiveRow = TableRow<'effective'>;
/** Change of one class's (or one input x's) output when θ moves along one eigendirection (`perturbations` table). */
export type PerturbationsRow = TableRow<'perturbations'>;
/** k-layer block against the full Hessian at one checkpoint and rank (`klayer` table). */
export type KlayerRow = TableRow<'klayer'>;
/** One reproduction claim with its verdict on the real outputs (`claims` table). */
export type ClaimsRow = TableRow<'claims'>;

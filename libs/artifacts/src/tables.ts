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
  },
  steps: {
    run: utf8, step: i32, lr: f64, loss: f64OrNull, accuracy: f64OrNull, test_loss: f64OrNull,
    test_accuracy: f64OrNull, grad_norm: f64OrNull, sharpness: f64OrNull,
  },
  /** scope: 'full' for the whole Hessian, 'k1', 'k2', … for the block of the last k layers. */
  spectra: { run: utf8, step: i32, scope: utf8, rank: i32, eigenvalue: f64, residual: f64, is_outlier: bool },
  density: { run: utf8, step: i32, scope: utf8, lambda: f64, density: f64 },
  trace: { run: utf8, step: i32, scope: utf8, estimate: f64, stderr: f64 },
  instabilities: {
    run: utf8, eta: f64, index: i32, start: i32, peak: i32, end: i32OrNull, loss_before: f64, peak_loss: f64,
    sharpness_before: f64OrNull, sharpness_peak: f64OrNull, sharpness_after: f64OrNull,
    heating_steps: i32, cooling_steps: i32OrNull,
  },
  overlaps: {
    run_a: utf8, step_a: i32, run_b: utf8, step_b: i32, scope: utf8, m: i32, overlap: f64, min_cos_angle: f64,
    kind: oneOf('consecutive', 'step×step', 'baseline', 'instability'),
  },
  displacement: { run: utf8, step: i32, cos_to_baseline: f64OrNull },
  flattening: { run: utf8, kind: oneOf('along_run', 'drop'), t_switch: i32OrNull, instabilities: i32, sharpness: f64 },
  effective: { run: utf8, step: i32, scope: utf8, m: i32, n_eff: f64 },
  perturbations: { run: utf8, step: i32, direction: i32, class_or_x: f64, delta: f64 },
  klayer: { run: utf8, step: i32, k: i32, rank: i32, rel_error: f64, overlap_to_full: f64 },
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
export interface OverlapsRow extends TableRow<'overlaps'> {}
export interface DisplacementRow extends TableRow<'displacement'> {}
export interface FlatteningRow extends TableRow<'flattening'> {}
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

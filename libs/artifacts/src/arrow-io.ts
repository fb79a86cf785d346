/**
 * Reading and writing the tables of `tables.ts` as Arrow IPC files (the file format, with footer).
 *
 * The writer builds every column with an explicit Arrow type from the declaration (never by
 * inference, which would turn an all-null column into Null and an empty list into nothing) and
 * stamps the provenance as schema metadata. The reader trusts nothing: the file must be a whole
 * IPC file, hold every declared column with its declared type, have no nulls where none are
 * allowed, and carry the provenance keys; otherwise it throws an Error naming the file and the
 * column or key.
 */
import { readFile } from 'node:fs/promises';
import {
  Data,
  DataType,
  FixedSizeList,
  Float32,
  makeBuilder,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  type Vector,
} from 'apache-arrow';
import { writeFileAtomically } from './atomic';
import {
  type ColumnSpec,
  DATASET_COLUMNS,
  DATASET_METADATA_KEYS,
  DATASET_TABLE,
  DATASET_TASKS,
  type DatasetTask,
  datasetSchema,
  REQUIRED_METADATA_KEYS,
  TABLE_NAME_KEY,
  type TableMetadata,
  type TableName,
  type TableRow,
  TABLES,
  tableColumns,
} from './tables';

/** Magic bytes that open and close an Arrow IPC file. */
const ARROW_MAGIC = 'ARROW1';

// ---------------------------------------------------------------------------------------------
// Shared checks

function checkMetadataForWrite(target: string, metadata: TableMetadata, reserved: readonly string[]): void {
  for (const key of REQUIRED_METADATA_KEYS) {
    if (typeof metadata[key] !== 'string' || metadata[key] === '') {
      throw new Error(`${target}: metadata key "${key}" is required (a non-empty string)`);
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new Error(`${target}: metadata key "${key}" must be a string`);
    if (reserved.includes(key)) throw new Error(`${target}: metadata key "${key}" is reserved`);
  }
}

function checkMetadataOnRead(source: string, metadata: Map<string, string>): void {
  for (const key of REQUIRED_METADATA_KEYS) {
    if (!metadata.has(key)) throw new Error(`${source}: schema metadata lacks "${key}"`);
  }
}

function metadataObject(metadata: Map<string, string>, omit: readonly string[]): TableMetadata {
  const out: Record<string, string> = {};
  for (const [key, value] of metadata) if (!omit.includes(key)) out[key] = value;
  return out as TableMetadata;
}

/** Parses a whole Arrow IPC file; a truncated or foreign file is an Error naming `source`. */
function parseIpcFile(bytes: Uint8Array, source: string): Table {
  const magic = ARROW_MAGIC.length;
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  if (bytes.length < 2 * magic + 8 || text(0, magic) !== ARROW_MAGIC) {
    throw new Error(`${source}: not an Arrow IPC file (missing leading ${ARROW_MAGIC} magic)`);
  }
  if (text(bytes.length - magic, bytes.length) !== ARROW_MAGIC) {
    throw new Error(`${source}: truncated Arrow IPC file (missing trailing ${ARROW_MAGIC} magic)`);
  }
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new Error(`${source}: unreadable Arrow IPC file (${(error as Error).message})`, { cause: error });
  }
  // The footer can be intact while a record batch is not: every column must be as long as the table.
  for (const field of table.schema.fields) {
    const column = table.getChild(field.name);
    if (!column || column.length !== table.numRows) {
      throw new Error(`${source}: column "${field.name}" is shorter than the table (corrupt file)`);
    }
  }
  return table;
}

/**
 * Checks that `actual` holds every column of `declared` with the same type, no other column,
 * and no nulls where the declaration allows none.
 */
function checkColumns(source: string, declared: Schema, table: Table): void {
  const actual = new Map(table.schema.fields.map((field) => [field.name, field]));
  for (const field of declared.fields) {
    const found = actual.get(field.name);
    if (!found) throw new Error(`${source}: missing column "${field.name}"`);
    if (String(found.type) !== String(field.type)) {
      throw new Error(`${source}: column "${field.name}" has type ${found.type}, expected ${field.type}`);
    }
    if (!field.nullable && (table.getChild(field.name)?.nullCount ?? 0) > 0) {
      throw new Error(`${source}: column "${field.name}" holds nulls but is not nullable`);
    }
  }
  const declaredNames = new Set(declared.fields.map((field) => field.name));
  for (const name of actual.keys()) {
    if (!declaredNames.has(name)) throw new Error(`${source}: unexpected column "${name}"`);
  }
}

function checkValue(target: string, column: string, spec: ColumnSpec, value: unknown, row: number): void {
  const where = `${target}: row ${row}, column "${column}"`;
  if (value === undefined) throw new Error(`${where} is missing (use null for a missing value)`);
  if (value === null) {
    if (!spec.nullable) throw new Error(`${where} is null but the column is not nullable`);
    return;
  }
  switch (spec.kind) {
    case 'utf8':
      if (typeof value !== 'string') throw new Error(`${where} must be a string, got ${typeof value}`);
      if (spec.values && !spec.values.includes(value)) {
        throw new Error(`${where} is "${value}", expected one of ${spec.values.join(', ')}`);
      }
      return;
    case 'f64':
      if (typeof value !== 'number') throw new Error(`${where} must be a number, got ${typeof value}`);
      return;
    case 'i32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
        throw new Error(`${where} must be a 32-bit integer, got ${String(value)}`);
      }
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new Error(`${where} must be a boolean, got ${typeof value}`);
      return;
  }
}

/** One Arrow Data chunk for a column, built with the declared type. */
function buildColumn(type: DataType, values: readonly unknown[]): Data {
  const builder = makeBuilder({ type, nullValues: [null] });
  for (const value of values) builder.append(value);
  return builder.finish().flush();
}

function tableOf(schema: Schema, columns: Data[], length: number): Table {
  const struct = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

// ---------------------------------------------------------------------------------------------
// The tables (docs/architecture.md, "Artifacts")

/** Encodes `rows` as an Arrow IPC file of table `name`; `target` names the destination in errors. */
export function encodeTable<N extends TableName>(
  name: N,
  rows: readonly TableRow<N>[],
  metadata: TableMetadata,
  target: string = name,
): Uint8Array {
  checkMetadataForWrite(target, metadata, [TABLE_NAME_KEY]);
  const declared = TABLES[name];
  const specs = tableColumns(name);
  const columns = declared.fields.map((field) => {
    const spec = specs[field.name];
    const values = rows.map((row, i) => {
      const value = (row as Record<string, unknown>)[field.name];
      checkValue(target, field.name, spec, value, i);
      return value;
    });
    return buildColumn(field.type, values);
  });
  const schema = new Schema(declared.fields, new Map([...Object.entries(metadata), [TABLE_NAME_KEY, name]]));
  return tableToIPC(tableOf(schema, columns, rows.length), 'file');
}

/** Decodes and validates an Arrow IPC file of table `name`; `source` names the file in errors. */
export function decodeTable<N extends TableName>(
  bytes: Uint8Array,
  name: N,
  source: string = name,
): { rows: TableRow<N>[]; metadata: TableMetadata } {
  const table = parseIpcFile(bytes, source);
  const metadata = table.schema.metadata;
  const recorded = metadata.get(TABLE_NAME_KEY);
  if (recorded !== undefined && recorded !== name) {
    throw new Error(`${source}: holds table "${recorded}", expected "${name}"`);
  }
  checkColumns(source, TABLES[name], table);
  checkMetadataOnRead(source, metadata);

  const specs = tableColumns(name);
  const names = TABLES[name].fields.map((field) => field.name);
  const values = names.map((column) => Array.from(table.getChild(column) as Vector) as unknown[]);
  names.forEach((column, c) => {
    const allowed = specs[column].values;
    if (!allowed) return;
    const bad = values[c].find((value) => value !== null && !allowed.includes(value as string));
    if (bad !== undefined) throw new Error(`${source}: column "${column}" holds "${String(bad)}", expected one of ${allowed.join(', ')}`);
  });
  const rows: TableRow<N>[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((column, c) => (row[column] = values[c][i]));
    rows[i] = row as TableRow<N>;
  }
  return { rows, metadata: metadataObject(metadata, [TABLE_NAME_KEY]) };
}

/** Writes `rows` to `path` (atomically: a temporary file renamed into place). */
export async function writeTable<N extends TableName>(
  path: string,
  name: N,
  rows: readonly TableRow<N>[],
  metadata: TableMetadata,
): Promise<void> {
  await writeFileAtomically(path, encodeTable(name, rows, metadata, path));
}

/** Reads table `name` from `path`, checking it against the declared schema. */
export async function readTable<N extends TableName>(
  path: string,
  name: N,
): Promise<{ rows: TableRow<N>[]; metadata: TableMetadata }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`${path}: cannot read table "${name}" (${(error as Error).message})`, { cause: error });
  }
  return decodeTable(bytes, name, path);
}

// ---------------------------------------------------------------------------------------------
// The dataset table

/** What the dataset table stores; `Dataset` of @lrscape/data has this shape. */
export interface DatasetTable {
  name: string;
  task: DatasetTask;
  n: number;
  inputDim: number;
  outputDim: number;
  /** n×inputDim, row-major. */
  x: Float32Array;
  /** n×outputDim, row-major. */
  y: Float32Array;
  /** Class labels, for classification; absent for regression. */
  labels?: Int32Array;
}

const isPositiveInteger = (value: number) => Number.isInteger(value) && value > 0;

/** A fixed-size-list<float32> column over `values` (n×width, row-major), without copying. */
function listColumn(type: DataType, values: Float32Array, width: number, n: number): Data {
  const list = type as FixedSizeList<Float32>;
  const child = makeData({ type: list.children[0].type, length: n * width, nullCount: 0, data: values });
  return makeData({ type: list, length: n, nullCount: 0, child });
}

/** Copies a fixed-size-list<float32> column into one flat row-major array, bit for bit. */
function flatList(column: Vector, width: number, n: number): Float32Array {
  const out = new Float32Array(n * width);
  let row = 0;
  for (const chunk of column.data) {
    const child = chunk.children[0];
    if (chunk.offset === 0 && child.offset === 0 && child.values instanceof Float32Array) {
      out.set(child.values.subarray(0, chunk.length * width), row * width);
    } else {
      for (let i = 0; i < chunk.length; i++) {
        const item = column.get(row + i) as Vector<Float32>;
        out.set(item.toArray() as Float32Array, (row + i) * width);
      }
    }
    row += chunk.length;
  }
  return out;
}

function checkDatasetTable(target: string, ds: DatasetTable): void {
  if (!DATASET_TASKS.includes(ds.task)) throw new Error(`${target}: unknown task "${String(ds.task)}"`);
  if (!Number.isInteger(ds.n) || ds.n < 0) throw new Error(`${target}: n must be a non-negative integer`);
  if (!isPositiveInteger(ds.inputDim) || !isPositiveInteger(ds.outputDim)) {
    throw new Error(`${target}: inputDim and outputDim must be positive integers`);
  }
  if (ds.x.length !== ds.n * ds.inputDim) throw new Error(`${target}: x has ${ds.x.length} values, expected n×inputDim = ${ds.n * ds.inputDim}`);
  if (ds.y.length !== ds.n * ds.outputDim) throw new Error(`${target}: y has ${ds.y.length} values, expected n×outputDim = ${ds.n * ds.outputDim}`);
  if (ds.task === 'classification' && ds.labels?.length !== ds.n) {
    throw new Error(`${target}: a classification dataset needs n labels`);
  }
  if (ds.task === 'regression' && ds.labels !== undefined) throw new Error(`${target}: a regression dataset has no labels`);
}

export function encodeDatasetTable(ds: DatasetTable, metadata: TableMetadata, target: string = ds.name): Uint8Array {
  const reserved = [TABLE_NAME_KEY, ...Object.values(DATASET_METADATA_KEYS)];
  checkMetadataForWrite(target, metadata, reserved);
  checkDatasetTable(target, ds);
  const declared = datasetSchema(ds.inputDim, ds.outputDim);
  const labels = ds.labels ? Array.from(ds.labels) : new Array<null>(ds.n).fill(null);
  const [inputs, targets, label] = declared.fields;
  const columns = [
    listColumn(inputs.type, ds.x, ds.inputDim, ds.n),
    listColumn(targets.type, ds.y, ds.outputDim, ds.n),
    buildColumn(label.type, labels),
  ];
  const schema = new Schema(
    declared.fields,
    new Map([
      ...Object.entries(metadata),
      [TABLE_NAME_KEY, DATASET_TABLE],
      [DATASET_METADATA_KEYS.name, ds.name],
      [DATASET_METADATA_KEYS.task, ds.task],
      [DATASET_METADATA_KEYS.inputDim, String(ds.inputDim)],
      [DATASET_METADATA_KEYS.outputDim, String(ds.outputDim)],
    ]),
  );
  return tableToIPC(tableOf(schema, columns, ds.n), 'file');
}

export function decodeDatasetTable(bytes: Uint8Array, source = 'dataset'): { dataset: DatasetTable; metadata: TableMetadata } {
  const table = parseIpcFile(bytes, source);
  const metadata = table.schema.metadata;
  const recorded = metadata.get(TABLE_NAME_KEY);
  if (recorded !== undefined && recorded !== DATASET_TABLE) {
    throw new Error(`${source}: holds table "${recorded}", expected "${DATASET_TABLE}"`);
  }
  const meta = (key: string) => {
    const value = metadata.get(key);
    if (value === undefined) throw new Error(`${source}: schema metadata lacks "${key}"`);
    return value;
  };
  const name = meta(DATASET_METADATA_KEYS.name);
  const task = meta(DATASET_METADATA_KEYS.task) as DatasetTask;
  if (!DATASET_TASKS.includes(task)) throw new Error(`${source}: unknown task "${task}" in schema metadata`);
  const inputDim = Number(meta(DATASET_METADATA_KEYS.inputDim));
  const outputDim = Number(meta(DATASET_METADATA_KEYS.outputDim));
  if (!isPositiveInteger(inputDim) || !isPositiveInteger(outputDim)) {
    throw new Error(`${source}: schema metadata has invalid dimensions (${inputDim}, ${outputDim})`);
  }
  checkColumns(source, datasetSchema(inputDim, outputDim), table);
  checkMetadataOnRead(source, metadata);

  const n = table.numRows;
  const x = flatList(table.getChild(DATASET_COLUMNS.inputs) as Vector, inputDim, n);
  const y = flatList(table.getChild(DATASET_COLUMNS.targets) as Vector, outputDim, n);
  const labelColumn = table.getChild(DATASET_COLUMNS.label) as Vector;
  const dataset: DatasetTable = { name, task, n, inputDim, outputDim, x, y };
  if (task === 'classification') {
    if (labelColumn.nullCount > 0) throw new Error(`${source}: column "${DATASET_COLUMNS.label}" has nulls in a classification dataset`);
    dataset.labels = Int32Array.from(labelColumn as Iterable<number>);
  } else if (labelColumn.nullCount !== n) {
    throw new Error(`${source}: column "${DATASET_COLUMNS.label}" has values in a regression dataset`);
  }
  const omit = [TABLE_NAME_KEY, ...Object.values(DATASET_METADATA_KEYS)];
  return { dataset, metadata: metadataObject(metadata, omit) };
}

export async function writeDatasetTable(path: string, ds: DatasetTable, metadata: TableMetadata): Promise<void> {
  await writeFileAtomically(path, encodeDatasetTable(ds, metadata, path));
}

export async function readDatasetTable(path: string): Promise<{ dataset: DatasetTable; metadata: TableMetadata }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`${path}: cannot read dataset (${(error as Error).message})`, { cause: error });
  }
  return decodeDatasetTable(bytes, path);
}

import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, makeVector, Schema, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClaimsRow,
  decodeTable,
  encodeTable,
  readTable,
  type StepsRow,
  TABLE_COLUMNS,
  TABLE_NAMES,
  type TableMetadata,
  type TableName,
  type TableRow,
  TABLES,
  writeTable,
} from './index';

const metadata: TableMetadata = {
  experiment: 'wreg-mlp',
  'slice.aggregate': 'c0ffee',
  code_version: 'abc123',
  backend: 'cpu',
  note: 'ünïcode ok',
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lrscape-tables-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Three rows of any table from its declaration: typical values, nulls where allowed, edge values. */
function sampleRows<N extends TableName>(name: N): TableRow<N>[] {
  const columns = TABLE_COLUMNS[name] as Record<string, { kind: string; nullable: boolean; values?: readonly string[] }>;
  return [0, 1, 2].map((i) => {
    const row: Record<string, unknown> = {};
    for (const [column, spec] of Object.entries(columns)) {
      if (spec.nullable && i === 1) {
        row[column] = null;
        continue;
      }
      switch (spec.kind) {
        case 'utf8':
          row[column] = spec.values ? spec.values[i % spec.values.length] : ['eta-0.05', 'drop-0.2-0.02-t400', 'ünï×code'][i];
          break;
        case 'f64':
          row[column] = [0.1 + 0.2, -0, Number.NaN][i] ?? 0;
          break;
        case 'i32':
          row[column] = [400, -(2 ** 31), 2 ** 31 - 1][i];
          break;
        case 'bool':
          row[column] = i !== 1;
          break;
      }
    }
    return row as TableRow<N>;
  });
}

describe('table declarations', () => {
  it('declares each table once, with run columns as utf8', () => {
    expect(TABLE_NAMES).toEqual([
      'runs', 'steps', 'spectra', 'quadrature', 'exact_spectrum', 'density', 'trace', 'instabilities', 'instability_sensitivity',
      'power_check', 'long_horizon', 'overlaps', 'light_spectra', 'shift_windows', 'matched_time', 'cyclic', 'cyclic_cycles', 'cyclic_trends', 'displacement', 'flattening', 'drop_families', 'effective', 'perturbations', 'klayer',
      'cooling', 'cooling_instabilities', 'claims',
    ]);
    for (const name of TABLE_NAMES) {
      expect(TABLES[name].fields.map((f) => f.name)).toEqual(Object.keys(TABLE_COLUMNS[name]));
    }
    expect(String(TABLES.steps.fields.find((f) => f.name === 'step')?.type)).toBe('Int32');
    expect(TABLES.steps.fields.find((f) => f.name === 'loss')?.nullable).toBe(true);
    expect(TABLES.runs.fields.find((f) => f.name === 'diverged')?.nullable).toBe(false);
  });
});

describe('writeTable / readTable', () => {
  it.each(TABLE_NAMES)('round-trips table %s (values, nulls, metadata)', async (name) => {
    const rows = sampleRows(name);
    const path = join(dir, `${name}.arrow`);
    await writeTable(path, name, rows, metadata);
    const back = await readTable(path, name);
    expect(back.rows).toEqual(rows);
    // toEqual compares numbers with Object.is: -0 and NaN come back as themselves.
    expect(back.metadata).toEqual(metadata);
  });

  it.each(TABLE_NAMES)('writes and reads back an empty table %s', async (name) => {
    const path = join(dir, `${name}-empty.arrow`);
    await writeTable(path, name, [], metadata);
    const back = await readTable(path, name);
    expect(back.rows).toEqual([]);
    expect(back.metadata).toEqual(metadata);
    // The file carries the declared schema even when empty.
    const table = tableFromIPC(await readFile(path));
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(TABLES[name].fields.map((f) => `${f.name}:${f.type}`));
  });

  it('keeps typed rows written by hand', async () => {
    const steps: StepsRow[] = [
      { run: 'eta-0.05', step: 0, lr: 0.05, loss: 1.25, accuracy: null, test_loss: 1.5, test_accuracy: null, grad_norm: 3, sharpness: 12.5, sharpness_check: 12.75 },
      { run: 'eta-0.05', step: 1, lr: 0.05, loss: null, accuracy: null, test_loss: null, test_accuracy: null, grad_norm: null, sharpness: null, sharpness_check: null },
    ];
    const claims: ClaimsRow[] = [{ id: 'eos-hover', claim: 'sharpness ≈ 2/η', measured: 40.1, expected: '40 ± 4', verdict: 'pass', detail: '' }];
    await writeTable(join(dir, 'hand-steps.arrow'), 'steps', steps, metadata);
    await writeTable(join(dir, 'hand-claims.arrow'), 'claims', claims, metadata);
    expect((await readTable(join(dir, 'hand-steps.arrow'), 'steps')).rows).toEqual(steps);
    expect((await readTable(join(dir, 'hand-claims.arrow'), 'claims')).rows).toEqual(claims);
  });

  it('refuses rows that do not fit the declaration, naming the column', () => {
    const good = sampleRows('steps')[0];
    expect(() => encodeTable('steps', [{ ...good, step: 1.5 }], metadata)).toThrow(/"step".*32-bit integer/);
    expect(() => encodeTable('steps', [{ ...good, run: null as unknown as string }], metadata)).toThrow(/"run" is null/);
    const { loss: _, ...withoutLoss } = good;
    expect(() => encodeTable('steps', [withoutLoss as StepsRow], metadata)).toThrow(/"loss" is missing/);
    const claim = sampleRows('claims')[0];
    expect(() => encodeTable('claims', [{ ...claim, verdict: 'maybe' as 'pass' }], metadata)).toThrow(/"verdict".*pass, fail, inconclusive, not-run/);
  });

  it('refuses metadata without the provenance keys', () => {
    const { backend: _, ...partial } = metadata;
    expect(() => encodeTable('runs', [], partial as TableMetadata, 'runs.arrow')).toThrow(/runs\.arrow.*"backend"/);
    expect(() => encodeTable('runs', [], { ...metadata, table: 'x' })).toThrow(/"table" is reserved/);
  });

  it('names the file when it is truncated', async () => {
    const path = join(dir, 'truncated.arrow');
    await writeTable(path, 'steps', sampleRows('steps'), metadata);
    const size = (await readFile(path)).length;
    for (const keep of [size - 3, Math.floor(size / 2), 4, 0]) {
      await writeTable(path, 'steps', sampleRows('steps'), metadata);
      await truncate(path, keep);
      await expect(readTable(path, 'steps')).rejects.toThrow(path);
    }
  });

  it('names the file when it does not exist', async () => {
    const path = join(dir, 'absent.arrow');
    await expect(readTable(path, 'runs')).rejects.toThrow(path);
  });

  it('names the file and the column when a column is missing', async () => {
    const path = join(dir, 'missing-column.arrow');
    const full = tableFromIPC(encodeTable('steps', sampleRows('steps'), metadata));
    const names = TABLES.steps.fields.map((f) => f.name).filter((n) => n !== 'sharpness');
    const selected = full.select(names);
    const stripped = new Table(new Schema(selected.schema.fields, full.schema.metadata), selected.batches);
    await writeFile(path, tableToIPC(stripped, 'file'));
    await expect(readTable(path, 'steps')).rejects.toThrow(`${path}: missing column "sharpness"`);
  });

  it('names the file and the column when a column has the wrong type', async () => {
    const path = join(dir, 'mistyped-column.arrow');
    const full = tableFromIPC(encodeTable('density', sampleRows('density'), metadata));
    const columns = Object.fromEntries(full.schema.fields.map((f) => [f.name, full.getChild(f.name)!]));
    columns.step = vectorFromArray([1, 2, 3], new Float64());
    const mistyped = new Table(columns);
    const withMetadata = new Table(new Schema(mistyped.schema.fields, full.schema.metadata), mistyped.batches);
    await writeFile(path, tableToIPC(withMetadata, 'file'));
    await expect(readTable(path, 'density')).rejects.toThrow(`${path}: column "step" has type Float64, expected Int32`);
  });

  it('refuses a file of another table and a file without provenance', async () => {
    const bytes = encodeTable('trace', sampleRows('trace'), metadata);
    expect(() => decodeTable(bytes, 'density', 'trace.arrow')).toThrow(/trace\.arrow: holds table "trace", expected "density"/);
    const plain = new Table({ run: makeVector(new Float64Array([1])) });
    expect(() => decodeTable(tableToIPC(plain, 'file'), 'displacement', 'plain.arrow')).toThrow(/plain\.arrow/);
  });
});

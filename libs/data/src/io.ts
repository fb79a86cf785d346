/**
 * Datasets as Arrow files (the `prepare` task's output), through the dataset table declared in
 * @lrscape/artifacts: x and y as fixed-size lists of float32 (bit-exact), label as a nullable
 * int32, name/task/dimensions in the schema metadata.
 */
import { decodeDatasetTable, encodeDatasetTable, readDatasetTable, type TableMetadata, writeDatasetTable } from '@lrscape/artifacts';
import { checkDataset, type Dataset } from './dataset';

export async function writeDataset(path: string, ds: Dataset, metadata: TableMetadata): Promise<void> {
  checkDataset(ds, path);
  await writeDatasetTable(path, ds, metadata);
}

/**
 * Reads a dataset file, checking its schema and its consistency (Error naming the file otherwise),
 * with the provenance stored in the file's schema metadata.
 */
export async function readDataset(path: string): Promise<{ dataset: Dataset; metadata: TableMetadata }> {
  const { dataset, metadata } = await readDatasetTable(path);
  checkDataset(dataset, path);
  return { dataset, metadata };
}

/** The bytes of a dataset file (for callers that write through their own file handling). */
export function encodeDataset(ds: Dataset, metadata: TableMetadata): Uint8Array {
  checkDataset(ds);
  return encodeDatasetTable(ds, metadata);
}

/** Parses the bytes of a dataset file, e.g. those returned by readVerifiedFile; `source` names it in errors. */
export function decodeDataset(bytes: Uint8Array, source = 'dataset'): { dataset: Dataset; metadata: TableMetadata } {
  const { dataset, metadata } = decodeDatasetTable(bytes, source);
  checkDataset(dataset, source);
  return { dataset, metadata };
}

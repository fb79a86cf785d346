/** The data an objective is evaluated on, shared by the tfjs engine and the float64 reference. */
import type { MlpSpec } from './layout';

/** x: n×inputDim row-major; y: n×outputDim targets (one-hot for classification); labels: class per row. */
export interface Batch {
  x: Float32Array;
  y: Float32Array;
  n: number;
  labels?: Int32Array;
}

export function checkBatch(spec: MlpSpec, batch: Batch): void {
  const { n } = batch;
  if (!Number.isInteger(n) || n < 1) throw new Error(`Batch: n must be a positive integer, got ${n}`);
  if (batch.x.length !== n * spec.inputDim) {
    throw new Error(`Batch: x has ${batch.x.length} values, expected n·inputDim = ${n}·${spec.inputDim}`);
  }
  if (batch.y.length !== n * spec.outputDim) {
    throw new Error(`Batch: y has ${batch.y.length} values, expected n·outputDim = ${n}·${spec.outputDim}`);
  }
  if (batch.labels !== undefined && batch.labels.length !== n) {
    throw new Error(`Batch: labels has ${batch.labels.length} entries, expected n = ${n}`);
  }
}

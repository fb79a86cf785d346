/** The data an objective is evaluated on, shared by the tfjs engine and the float64 reference. */
import { modelDims, type ModelSpec } from './layout';

/** x: n×inputDim row-major (a CNN's rows: its inputShape flattened, see CnnSpec.inputLayout); y: n×outputDim targets (one-hot for classification); labels: class per row. */
export interface Batch {
  x: Float32Array;
  y: Float32Array;
  n: number;
  labels?: Int32Array;
}

export function checkBatch(spec: ModelSpec, batch: Batch): void {
  const { n } = batch;
  const { inputDim, outputDim } = modelDims(spec);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Batch: n must be a positive integer, got ${n}`);
  if (batch.x.length !== n * inputDim) {
    throw new Error(`Batch: x has ${batch.x.length} values, expected n·inputDim = ${n}·${inputDim}`);
  }
  if (batch.y.length !== n * outputDim) {
    throw new Error(`Batch: y has ${batch.y.length} values, expected n·outputDim = ${n}·${outputDim}`);
  }
  if (batch.labels !== undefined && batch.labels.length !== n) {
    throw new Error(`Batch: labels has ${batch.labels.length} entries, expected n = ${n}`);
  }
}

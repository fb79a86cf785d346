/** The data an objective is evaluated on, shared by the tfjs engine and the float64 reference. */
import { isAttentionSpec, modelDims, type ModelSpec } from './layout';

/** x: n×inputDim row-major (a CNN's rows: its inputShape flattened, see CnnSpec.inputLayout; an attention model's: token ids as float values); y: n×outputDim targets (one-hot for classification); labels: class per row. */
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
  if (isAttentionSpec(spec)) {
    // A one-hot of an id outside [0, V) is a zero row: the token would silently vanish.
    const V = spec.vocabulary;
    const bad = batch.x.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= V);
    if (bad >= 0) {
      const T = spec.sequenceLength;
      throw new Error(`Batch: sequence ${Math.floor(bad / T)} has token ${bad % T} = ${batch.x[bad]} (x[${bad}]); token ids must be integers in [0, ${V})`);
    }
  }
}

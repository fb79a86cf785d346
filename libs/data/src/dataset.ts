/**
 * The in-memory dataset every lib above data works with: flat float32 arrays, row-major,
 * so that a model reads a batch without copying and a file round-trips bit for bit.
 */
export type Task = 'regression' | 'classification';

export interface Dataset {
  name: string;
  task: Task;
  /** Number of examples. */
  n: number;
  inputDim: number;
  outputDim: number;
  /** n×inputDim inputs, row-major. */
  x: Float32Array;
  /** n×outputDim targets, row-major; one-hot for classification. */
  y: Float32Array;
  /** Class of each example (classification only), consistent with the one-hot y. */
  labels?: Int32Array;
}

/**
 * Throws an Error, prefixed by `source`, describing the first inconsistency of `ds`: sizes, a NaN or
 * infinite input or target (with the index of the first), a label outside [0, outputDim), or a
 * target that is not the one-hot of its label. Every loader and file reader passes its result here.
 */
export function checkDataset(ds: Dataset, source = ds.name): void {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (ds.task !== 'regression' && ds.task !== 'classification') fail(`unknown task "${String(ds.task)}"`);
  if (!Number.isInteger(ds.n) || ds.n < 0) fail(`n = ${ds.n} is not a non-negative integer`);
  if (!Number.isInteger(ds.inputDim) || ds.inputDim < 1) fail(`inputDim = ${ds.inputDim} is not a positive integer`);
  if (!Number.isInteger(ds.outputDim) || ds.outputDim < 1) fail(`outputDim = ${ds.outputDim} is not a positive integer`);
  if (ds.x.length !== ds.n * ds.inputDim) fail(`x has ${ds.x.length} values, expected ${ds.n}×${ds.inputDim}`);
  if (ds.y.length !== ds.n * ds.outputDim) fail(`y has ${ds.y.length} values, expected ${ds.n}×${ds.outputDim}`);
  // A NaN or an infinity in the data would surface much later as a NaN loss; refuse it here.
  const badInput = firstNonFinite(ds.x);
  if (badInput >= 0) fail(`example ${Math.floor(badInput / ds.inputDim)} has input ${badInput % ds.inputDim} = ${ds.x[badInput]} (x[${badInput}]); inputs must be finite`);
  const badTarget = firstNonFinite(ds.y);
  if (badTarget >= 0) fail(`example ${Math.floor(badTarget / ds.outputDim)} has target ${badTarget % ds.outputDim} = ${ds.y[badTarget]} (y[${badTarget}]); targets must be finite`);
  if (ds.task === 'regression') {
    if (ds.labels !== undefined) fail('a regression dataset has no labels');
    return;
  }
  const labels = ds.labels ?? fail('a classification dataset needs labels');
  if (labels.length !== ds.n) fail(`labels has ${labels.length} values, expected ${ds.n}`);
  for (let i = 0; i < ds.n; i++) {
    const label = labels[i];
    if (label < 0 || label >= ds.outputDim) fail(`example ${i} has label ${label} outside [0, ${ds.outputDim})`);
    for (let c = 0; c < ds.outputDim; c++) {
      if (ds.y[i * ds.outputDim + c] !== (c === label ? 1 : 0)) fail(`example ${i}: y is not the one-hot of label ${label}`);
    }
  }
}

/** Index of the first NaN or ±Infinity in `values`, or −1. */
function firstNonFinite(values: Float32Array): number {
  for (let k = 0; k < values.length; k++) {
    // v − v is 0 for every finite v and NaN for NaN and ±Infinity.
    const v = values[k];
    if (v - v !== 0) return k;
  }
  return -1;
}

/** One-hot targets (n×classes) of integer labels. */
export function oneHot(labels: Int32Array, classes: number): Float32Array {
  const y = new Float32Array(labels.length * classes);
  labels.forEach((label, i) => (y[i * classes + label] = 1));
  return y;
}

/** The examples at `indices` (in that order), as a new dataset with copied arrays. */
export function selectExamples(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const n = indices.length;
  const x = new Float32Array(n * ds.inputDim);
  const y = new Float32Array(n * ds.outputDim);
  const labels = ds.labels ? new Int32Array(n) : undefined;
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    x.set(ds.x.subarray(i * ds.inputDim, (i + 1) * ds.inputDim), k * ds.inputDim);
    y.set(ds.y.subarray(i * ds.outputDim, (i + 1) * ds.outputDim), k * ds.outputDim);
    if (labels) labels[k] = ds.labels![i];
  }
  return { name, task: ds.task, n, inputDim: ds.inputDim, outputDim: ds.outputDim, x, y, ...(labels ? { labels } : {}) };
}

/** The first `count` examples of `ds` (all of them when it has fewer), e.g. a Hessian subset. */
export function takeExamples(ds: Dataset, count: number): Dataset {
  if (!Number.isInteger(count) || count < 0) throw new Error(`takeExamples: count = ${count} is not a non-negative integer`);
  return selectExamples(ds, Int32Array.from({ length: Math.min(count, ds.n) }, (_, i) => i));
}

/**
 * The float64 pure-TypeScript models (MLP, small CNN, tiny attention model: reference-attention.ts) that every
 * test in the repo checks against. One
 * scalar loss function, written once against a generic arithmetic, gives the loss on plain numbers and the
 * exact gradient and Hessian on hyper-dual numbers. It shares no code with the tfjs engine and nothing with
 * the R-operator: tanh is built from exp, gelu from Φ, softmax from exp and log, convolutions and pooling are
 * explicit loops over the definitions.
 */
import { HYPER_DUALS, HyperDual, REALS, type Arithmetic } from './hyperdual';
import { attentionGeometry, cnnGeometry, isAttentionSpec, isCnnSpec, layerWidths, modelLayout, type Activation, type CnnSpec, type ConvGeometry, type ModelSpec } from './layout';
import { attentionFeatures, attentionOffsets, type AttentionOffsets } from './reference-attention';
import { checkBatch, type Batch } from './batch';

function activate<T>(ar: Arithmetic<T>, activation: Activation, z: T): T {
  switch (activation) {
    case 'linear':
      return z;
    case 'relu':
      return ar.relu(z);
    case 'gelu':
      return ar.mul(z, ar.normalCdf(z));
    case 'tanh': {
      // tanh z = (1 − e^{−2z})/(1 + e^{−2z}) for z ≥ 0 and (e^{2z} − 1)/(e^{2z} + 1) below: both branches are
      // tanh exactly (so derivatives agree) and neither overflows.
      const one = ar.constant(1);
      if (ar.real(z) >= 0) {
        const e = ar.exp(ar.scale(z, -2));
        return ar.div(ar.sub(one, e), ar.add(one, e));
      }
      const e = ar.exp(ar.scale(z, 2));
      return ar.div(ar.sub(e, one), ar.add(e, one));
    }
  }
}

/** x_l W + b through dense layers l = firstSlot/2 …, σ on all but the last; kernels and biases alternate in slots. */
function denseLayers<T>(ar: Arithmetic<T>, activation: Activation, param: (i: number) => T, input: (T | number)[], widths: number[], slotOffsets: number[]): T[] {
  let a = input;
  const L = widths.length - 1;
  for (let l = 0; l < L; l++) {
    const [fanIn, fanOut] = [widths[l], widths[l + 1]];
    const [kernel, bias] = [slotOffsets[2 * l], slotOffsets[2 * l + 1]];
    const next: T[] = [];
    for (let o = 0; o < fanOut; o++) {
      let z = param(bias + o);
      for (let i = 0; i < fanIn; i++) z = ar.add(z, times(ar, a[i], param(kernel + i * fanOut + o)));
      next.push(l + 1 < L ? activate(ar, activation, z) : z);
    }
    a = next;
  }
  return a as T[];
}

/** a·p, a plain number (an input) scaling p without lifting it. */
function times<T>(ar: Arithmetic<T>, a: T | number, p: T): T {
  return typeof a === 'number' ? ar.scale(p, a) : ar.mul(a, p);
}

/**
 * Max of a pooling window: the (first) largest value; at an exact m-fold tie the mean of the tied values, so
 * its derivative splits 1/m to each (the rule of the tfjs engine, pooling.ts).
 */
function windowMax<T>(ar: Arithmetic<T>, values: T[]): T {
  let m = -Infinity;
  for (const v of values) m = Math.max(m, ar.real(v));
  const tied = values.filter((v) => ar.real(v) === m);
  if (tied.length === 1) return tied[0];
  return ar.scale(tied.reduce((s, v) => ar.add(s, v)), 1 / tied.length);
}

/** What the loss needs from a spec, worked out once per reference call. */
interface Plan {
  spec: ModelSpec;
  /** θ offset of every slot (kernel, bias, kernel, …). */
  offsets: number[];
  /** The CNN's conv layers (none for an MLP). */
  convs: ConvGeometry[];
  /** Widths of the dense layers: the MLP's [inputDim, ...hidden, outputDim], the CNN head's [flatDim, ...dense, outputDim], the attention readout's [width, ...dense, outputDim]. */
  denseWidths: number[];
  /** The attention model's tables and projections (null for the others). */
  attention: AttentionOffsets | null;
  /** Index in `offsets` of the first dense layer's kernel. */
  firstDenseSlot: number;
}

function planOf(spec: ModelSpec): Plan {
  const layout = modelLayout(spec);
  const offsets = layout.slots.map((slot) => slot.offset);
  if (isAttentionSpec(spec)) {
    return { spec, offsets, convs: [], denseWidths: attentionGeometry(spec).denseWidths, attention: attentionOffsets(spec, layout), firstDenseSlot: 2 + 4 * spec.blocks };
  }
  if (isCnnSpec(spec)) {
    const geometry = cnnGeometry(spec);
    return { spec, offsets, ...geometry, attention: null, firstDenseSlot: 2 * geometry.convs.length };
  }
  return { spec, offsets, convs: [], denseWidths: layerWidths(spec), attention: null, firstDenseSlot: 0 };
}

/** The CNN's output for one example (input row `row` of the batch), by the definitions in CnnSpec. */
function cnnOutputs<T>(ar: Arithmetic<T>, spec: CnnSpec, plan: Plan, param: (i: number) => T, x: Float32Array, row: number): T[] {
  const { convs, denseWidths, offsets } = plan;
  const [h0, w0, c0] = spec.inputShape;
  const base = row * h0 * w0 * c0;
  // a[(y·w + x)·c + ch]: the current feature map in (row, column, channel) order.
  let a: (T | number)[] = new Array(h0 * w0 * c0);
  for (let y = 0; y < h0; y++) {
    for (let xx = 0; xx < w0; xx++) {
      for (let ch = 0; ch < c0; ch++) {
        const index = spec.inputLayout === 'chw' ? ch * h0 * w0 + y * w0 + xx : (y * w0 + xx) * c0 + ch;
        a[(y * w0 + xx) * c0 + ch] = x[base + index];
      }
    }
  }
  convs.forEach((g, i) => {
    const [kernel, bias] = [offsets[2 * i], offsets[2 * i + 1]];
    const { kernel: k, inC, filters } = g;
    const s: T[] = new Array(g.outH * g.outW * filters);
    for (let y = 0; y < g.outH; y++) {
      for (let xx = 0; xx < g.outW; xx++) {
        for (let o = 0; o < filters; o++) {
          let z = param(bias + o);
          for (let dy = 0; dy < k; dy++) {
            const iy = y + dy - g.padTop;
            if (iy < 0 || iy >= g.inH) continue;
            for (let dx = 0; dx < k; dx++) {
              const ix = xx + dx - g.padLeft;
              if (ix < 0 || ix >= g.inW) continue;
              for (let c = 0; c < inC; c++) {
                z = ar.add(z, times(ar, a[(iy * g.inW + ix) * inC + c], param(kernel + ((dy * k + dx) * inC + c) * filters + o)));
              }
            }
          }
          s[(y * g.outW + xx) * filters + o] = activate(ar, spec.activation, z);
        }
      }
    }
    if (g.pool === 'none') {
      a = s;
      return;
    }
    const pooled: T[] = new Array(g.pooledH * g.pooledW * filters);
    for (let y = 0; y < g.pooledH; y++) {
      for (let xx = 0; xx < g.pooledW; xx++) {
        for (let o = 0; o < filters; o++) {
          const at = (dy: number, dx: number) => s[((2 * y + dy) * g.outW + 2 * xx + dx) * filters + o];
          const window = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
          pooled[(y * g.pooledW + xx) * filters + o] =
            g.pool === 'max' ? windowMax(ar, window) : ar.scale(window.reduce((sum, v) => ar.add(sum, v)), 0.25);
        }
      }
    }
    a = pooled;
  });
  return denseLayers(ar, spec.activation, param, a, denseWidths, offsets.slice(plan.firstDenseSlot));
}

/** L(θ) = (1/N) Σ_n ℓ(f(x_n; θ), y_n), generic in the arithmetic; param(i) returns θ_i. */
function lossGeneric<T>(ar: Arithmetic<T>, plan: Plan, param: (i: number) => T, batch: Batch): T {
  const { spec } = plan;
  const outputDim = spec.outputDim;
  let total = ar.constant(0);
  for (let n = 0; n < batch.n; n++) {
    let a: T[];
    if (isAttentionSpec(spec)) {
      const features = attentionFeatures(ar, spec, plan.attention!, param, batch.x, n);
      a = denseLayers(ar, spec.activation, param, features, plan.denseWidths, plan.offsets.slice(plan.firstDenseSlot));
    } else if (isCnnSpec(spec)) a = cnnOutputs(ar, spec, plan, param, batch.x, n);
    else {
      const input = Array.from(batch.x.subarray(n * spec.inputDim, (n + 1) * spec.inputDim));
      a = denseLayers(ar, spec.activation, param, input, plan.denseWidths, plan.offsets);
    }
    const y = (c: number) => batch.y[n * outputDim + c];
    let exampleLoss = ar.constant(0);
    if (spec.loss === 'mse') {
      for (let c = 0; c < outputDim; c++) {
        const r = ar.sub(a[c], ar.constant(y(c)));
        exampleLoss = ar.add(exampleLoss, ar.scale(ar.mul(r, r), 0.5));
      }
    } else {
      // log-sum-exp shifted by the (constant) max real part: lse = m + log Σ_c exp(f_c − m).
      let m = -Infinity;
      for (const f of a) m = Math.max(m, ar.real(f));
      let sumExp = ar.constant(0);
      for (const f of a) sumExp = ar.add(sumExp, ar.exp(ar.sub(f, ar.constant(m))));
      const lse = ar.add(ar.constant(m), ar.log(sumExp));
      for (let c = 0; c < outputDim; c++) {
        if (y(c) !== 0) exampleLoss = ar.add(exampleLoss, ar.scale(ar.sub(lse, a[c]), y(c)));
      }
    }
    total = ar.add(total, exampleLoss);
  }
  return ar.scale(total, 1 / batch.n);
}

function checkTheta(spec: ModelSpec, theta: Float64Array): number {
  const size = modelLayout(spec).size;
  if (theta.length !== size) throw new Error(`θ has ${theta.length} entries, the layout has ${size}`);
  return size;
}

export function referenceModelLoss(spec: ModelSpec, theta: Float64Array, batch: Batch): number {
  checkTheta(spec, theta);
  checkBatch(spec, batch);
  return lossGeneric(REALS, planOf(spec), (i) => theta[i], batch);
}

/** ∇L(θ), one hyper-dual evaluation per parameter (ε1 along e_i). */
export function referenceModelGradient(spec: ModelSpec, theta: Float64Array, batch: Batch): Float64Array {
  const P = checkTheta(spec, theta);
  checkBatch(spec, batch);
  const plan = planOf(spec);
  const base = Array.from(theta, (t) => new HyperDual(t));
  const gradient = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    const seeded = new HyperDual(theta[i], 1, 0, 0);
    gradient[i] = lossGeneric(HYPER_DUALS, plan, (k) => (k === i ? seeded : base[k]), batch).b;
  }
  return gradient;
}

/**
 * ∇²L(θ), P×P row-major, one hyper-dual evaluation per pair i ≤ j (ε1 along e_i, ε2 along e_j).
 * Cost O(P²·N·P): for tiny nets (measured ~0.06 s at P = 35, N = 6; ~0.5 s at P = 114, N = 16; ~27 s at P = 354, N = 32;
 * ~1.4 s for the 5×5×2 CNN of the tests, P = 124, N = 4). For a few H·v, referenceModelHessianVector is P/2 times cheaper.
 */
export function referenceModelHessian(spec: ModelSpec, theta: Float64Array, batch: Batch): Float64Array {
  const P = checkTheta(spec, theta);
  checkBatch(spec, batch);
  const plan = planOf(spec);
  const base = Array.from(theta, (t) => new HyperDual(t));
  const hessian = new Float64Array(P * P);
  for (let i = 0; i < P; i++) {
    for (let j = i; j < P; j++) {
      let param: (k: number) => HyperDual;
      if (i === j) {
        const seeded = new HyperDual(theta[i], 1, 1, 0);
        param = (k) => (k === i ? seeded : base[k]);
      } else {
        const si = new HyperDual(theta[i], 1, 0, 0);
        const sj = new HyperDual(theta[j], 0, 1, 0);
        param = (k) => (k === i ? si : k === j ? sj : base[k]);
      }
      const h = lossGeneric(HYPER_DUALS, plan, param, batch).d;
      hessian[i * P + j] = h;
      hessian[j * P + i] = h;
    }
  }
  return hessian;
}

/**
 * ∇²L(θ)·v, exact, one hyper-dual evaluation per parameter i (ε1 along e_i, ε2 along v): (Hv)_i = ∂_i ∂_v L.
 * P evaluations instead of the P(P+1)/2 of the full Hessian, for checking HVPs on nets where H is costly.
 */
export function referenceModelHessianVector(spec: ModelSpec, theta: Float64Array, batch: Batch, v: Float64Array): Float64Array {
  const P = checkTheta(spec, theta);
  checkBatch(spec, batch);
  if (v.length !== P) throw new Error(`v has ${v.length} entries, the layout has ${P}`);
  const plan = planOf(spec);
  const along = Array.from(theta, (t, k) => new HyperDual(t, 0, v[k], 0));
  const result = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    const seeded = new HyperDual(theta[i], 1, v[i], 0);
    result[i] = lossGeneric(HYPER_DUALS, plan, (k) => (k === i ? seeded : along[k]), batch).d;
  }
  return result;
}

/** The MLP names of the reference (they take either model). */
export const referenceLoss = referenceModelLoss;
export const referenceGradient = referenceModelGradient;
export const referenceHessian = referenceModelHessian;

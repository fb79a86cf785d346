/**
 * The float64 pure-TypeScript MLP that every test in the repo checks against. One scalar loss function,
 * written once against a generic arithmetic, gives the loss on plain numbers and the exact gradient and
 * Hessian on hyper-dual numbers. It shares no code with the tfjs engine and nothing with the R-operator:
 * tanh is built from exp, gelu from Φ, softmax from exp and log.
 */
import { HYPER_DUALS, HyperDual, REALS, type Arithmetic } from './hyperdual';
import { layerWidths, mlpLayout, type Activation, type MlpSpec } from './layout';
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

/** L(θ) = (1/N) Σ_n ℓ(f(x_n; θ), y_n), generic in the arithmetic; param(i) returns θ_i. */
function lossGeneric<T>(ar: Arithmetic<T>, spec: MlpSpec, param: (i: number) => T, batch: Batch): T {
  const widths = layerWidths(spec);
  const layout = mlpLayout(spec);
  const L = layout.layerCount;
  let total = ar.constant(0);
  for (let n = 0; n < batch.n; n++) {
    let a: T[] = [];
    for (let i = 0; i < spec.inputDim; i++) a.push(ar.constant(batch.x[n * spec.inputDim + i]));
    for (let l = 0; l < L; l++) {
      const [fanIn, fanOut] = [widths[l], widths[l + 1]];
      const kernel = layout.slots[2 * l].offset;
      const bias = layout.slots[2 * l + 1].offset;
      const next: T[] = [];
      for (let o = 0; o < fanOut; o++) {
        let z = param(bias + o);
        for (let i = 0; i < fanIn; i++) z = ar.add(z, ar.mul(a[i], param(kernel + i * fanOut + o)));
        next.push(l + 1 < L ? activate(ar, spec.activation, z) : z);
      }
      a = next;
    }
    const y = (c: number) => batch.y[n * spec.outputDim + c];
    let exampleLoss = ar.constant(0);
    if (spec.loss === 'mse') {
      for (let c = 0; c < spec.outputDim; c++) {
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
      for (let c = 0; c < spec.outputDim; c++) {
        if (y(c) !== 0) exampleLoss = ar.add(exampleLoss, ar.scale(ar.sub(lse, a[c]), y(c)));
      }
    }
    total = ar.add(total, exampleLoss);
  }
  return ar.scale(total, 1 / batch.n);
}

function checkTheta(spec: MlpSpec, theta: Float64Array): number {
  const size = mlpLayout(spec).size;
  if (theta.length !== size) throw new Error(`θ has ${theta.length} entries, the layout has ${size}`);
  return size;
}

export function referenceLoss(spec: MlpSpec, theta: Float64Array, batch: Batch): number {
  checkTheta(spec, theta);
  checkBatch(spec, batch);
  return lossGeneric(REALS, spec, (i) => theta[i], batch);
}

/** ∇L(θ), one hyper-dual evaluation per parameter (ε1 along e_i). */
export function referenceGradient(spec: MlpSpec, theta: Float64Array, batch: Batch): Float64Array {
  const P = checkTheta(spec, theta);
  checkBatch(spec, batch);
  const base = Array.from(theta, (t) => new HyperDual(t));
  const gradient = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    const seeded = new HyperDual(theta[i], 1, 0, 0);
    gradient[i] = lossGeneric(HYPER_DUALS, spec, (k) => (k === i ? seeded : base[k]), batch).b;
  }
  return gradient;
}

/**
 * ∇²L(θ), P×P row-major, one hyper-dual evaluation per pair i ≤ j (ε1 along e_i, ε2 along e_j).
 * Cost O(P²·N·P): for tiny nets (measured ~0.06 s at P = 35, N = 6; ~0.5 s at P = 114, N = 16; ~27 s at P = 354, N = 32).
 */
export function referenceHessian(spec: MlpSpec, theta: Float64Array, batch: Batch): Float64Array {
  const P = checkTheta(spec, theta);
  checkBatch(spec, batch);
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
      const h = lossGeneric(HYPER_DUALS, spec, param, batch).d;
      hessian[i * P + j] = h;
      hessian[j * P + i] = h;
    }
  }
  return hessian;
}

/**
 * The full-batch loss of an MLP in float64 by hand-written backpropagation: L(θ), ∇L(θ) and the exact H·v
 * (Pearlmutter's R-operator), for the cooling diagnostics, whose finite differences of gradients cancel
 * badly in float32. The engine's float64 reference (hyper-dual numbers) gives the same values but spends
 * one network evaluation per parameter: ~3 s per gradient on W-reg's 1-32-32-1 net with 16 examples,
 * ~30 s with its 160, far too slow for hundreds of steps; this is O(N·P) per gradient (~1 ms there), and
 * its tests check it against that reference on tiny nets to ~1e-12.
 *
 * Same definitions as the reference (libs/engine/src/reference.ts): kernels row-major [in, out], z = b + aW,
 * the activation on every layer but the last, MSE ½‖f − y‖² per example, cross-entropy Σ_c y_c (lse − f_c),
 * the mean over the batch.
 */
// Types only: the layout comes from the caller (the engine's modelLayout), so that this lib loads no tfjs.
import type { Batch, MlpSpec, ModelSpec, ParameterLayout } from '@lrscape/engine';

/** σ, σ′, σ″ at z for the activations this path supports (gelu needs erf to 1e-16, and no shipped run uses it). */
function activation(kind: MlpSpec['activation']): (z: number) => [number, number, number] {
  switch (kind) {
    case 'tanh':
      return (z) => {
        const t = Math.tanh(z);
        const d = 1 - t * t;
        return [t, d, -2 * t * d];
      };
    case 'relu':
      return (z) => (z > 0 ? [z, 1, 0] : [0, 0, 0]);
    case 'linear':
      return (z) => [z, 1, 0];
    case 'gelu':
      throw new Error('the float64 MLP supports tanh, relu and linear activations, not gelu');
  }
}

interface Layer {
  fanIn: number;
  fanOut: number;
  kernel: number;
  bias: number;
}

/** The forward state at one θ that gradients and HVPs reuse. */
interface Forward {
  theta: Float64Array;
  /** inputs[l]: the input of layer l, N × fanIn (inputs[0] is x). */
  inputs: Float64Array[];
  /** σ′(z_l), σ″(z_l) of every hidden layer l (N × fanOut). */
  d1: Float64Array[];
  d2: Float64Array[];
  /** The network's outputs f, N × outputDim. */
  outputs: Float64Array;
  loss: number;
  /** ∂L/∂f, N × outputDim (with the 1/N of the mean). */
  outputGradient: Float64Array;
  /** softmax(f) rows (cross-entropy only) and Σ_c y_c per row. */
  probabilities: Float64Array | null;
  targetMass: Float64Array | null;
}

export class Float64Mlp {
  readonly size: number;
  private readonly layers: Layer[];
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly n: number;
  private readonly sigma: (z: number) => [number, number, number];
  private cached: Forward | null = null;

  /** `layout`: the engine's modelLayout(spec) (kernel then bias per layer). */
  constructor(
    readonly spec: ModelSpec,
    layout: ParameterLayout,
    batch: Batch,
  ) {
    if (spec.kind === 'cnn' || spec.kind === 'attention') throw new Error(`the float64 MLP path takes an MLP, not a${spec.kind === 'cnn' ? ' CNN' : 'n attention model'}`);
    const mlp = spec as MlpSpec;
    this.size = layout.size;
    const widths = [mlp.inputDim, ...mlp.hidden, mlp.outputDim];
    const offsets = layout.slots.map((s) => s.offset);
    const expected = widths.slice(1).reduce((sum, fanOut, l) => sum + (widths[l] + 1) * fanOut, 0);
    if (layout.slots.length !== 2 * (widths.length - 1) || layout.size !== expected) {
      throw new Error(`Float64Mlp: the layout (${layout.slots.length} slots, ${layout.size} parameters) is not that of the MLP ${widths.join('-')}`);
    }
    this.layers = widths.slice(1).map((fanOut, l) => ({ fanIn: widths[l], fanOut, kernel: offsets[2 * l], bias: offsets[2 * l + 1] }));
    if (batch.x.length !== batch.n * mlp.inputDim || batch.y.length !== batch.n * mlp.outputDim) {
      throw new Error(`Float64Mlp: the batch's x or y does not have n·width values (n = ${batch.n})`);
    }
    this.x = Float64Array.from(batch.x);
    this.y = Float64Array.from(batch.y);
    this.n = batch.n;
    this.sigma = activation(mlp.activation);
  }

  private get mlp(): MlpSpec {
    return this.spec as MlpSpec;
  }

  private check(theta: Float64Array): void {
    if (theta.length !== this.size) throw new Error(`θ has ${theta.length} entries, the layout has ${this.size}`);
  }

  /** The forward pass at θ, kept for the next call at the same θ (by value). */
  private forward(theta: Float64Array): Forward {
    this.check(theta);
    const c = this.cached;
    if (c && c.theta.length === theta.length && c.theta.every((v, i) => v === theta[i])) return c;
    const { n, layers } = this;
    const inputs: Float64Array[] = [this.x];
    const d1: Float64Array[] = [];
    const d2: Float64Array[] = [];
    let a = this.x;
    layers.forEach((layer, l) => {
      const z = affine(a, theta, layer, n);
      if (l + 1 < layers.length) {
        const next = new Float64Array(z.length);
        const s1 = new Float64Array(z.length);
        const s2 = new Float64Array(z.length);
        for (let i = 0; i < z.length; i++) [next[i], s1[i], s2[i]] = this.sigma(z[i]);
        d1.push(s1);
        d2.push(s2);
        inputs.push(next);
        a = next;
      } else {
        a = z;
      }
    });
    const outputs = a;
    const K = this.mlp.outputDim;
    const outputGradient = new Float64Array(n * K);
    let total = 0;
    let probabilities: Float64Array | null = null;
    let targetMass: Float64Array | null = null;
    if (this.mlp.loss === 'mse') {
      for (let i = 0; i < n * K; i++) {
        const r = outputs[i] - this.y[i];
        total += 0.5 * r * r;
        outputGradient[i] = r / n;
      }
    } else {
      probabilities = new Float64Array(n * K);
      targetMass = new Float64Array(n);
      for (let row = 0; row < n; row++) {
        let m = -Infinity;
        for (let k = 0; k < K; k++) m = Math.max(m, outputs[row * K + k]);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(outputs[row * K + k] - m);
        const lse = m + Math.log(sum);
        let mass = 0;
        for (let k = 0; k < K; k++) {
          const yk = this.y[row * K + k];
          mass += yk;
          if (yk !== 0) total += yk * (lse - outputs[row * K + k]);
          probabilities[row * K + k] = Math.exp(outputs[row * K + k] - lse);
        }
        targetMass[row] = mass;
        for (let k = 0; k < K; k++) outputGradient[row * K + k] = (mass * probabilities[row * K + k] - this.y[row * K + k]) / n;
      }
    }
    const state = { theta: Float64Array.from(theta), inputs, d1, d2, outputs, loss: total / n, outputGradient, probabilities, targetMass };
    this.cached = state;
    return state;
  }

  loss(theta: Float64Array): number {
    return this.forward(theta).loss;
  }

  lossAndGradient(theta: Float64Array): { loss: number; gradient: Float64Array } {
    const state = this.forward(theta);
    const gradient = new Float64Array(this.size);
    let delta = state.outputGradient;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l];
      accumulateGradient(gradient, state.inputs[l], delta, layer, this.n);
      if (l > 0) delta = hadamard(backThrough(delta, theta, layer, this.n), state.d1[l - 1]);
    }
    return { loss: state.loss, gradient };
  }

  gradient(theta: Float64Array): Float64Array {
    return this.lossAndGradient(theta).gradient;
  }

  /** H(θ)·v, exact (the R-operator: a forward pass of directional derivatives, then the backward pass's). */
  hessianVector(theta: Float64Array, v: Float64Array): Float64Array {
    const state = this.forward(theta);
    if (v.length !== this.size) throw new Error(`v has ${v.length} entries, the layout has ${this.size}`);
    const { n, layers } = this;
    // R-forward: R{z_l} = R{a_l} W + a_l V + V_b, R{a_{l+1}} = σ′(z_l) R{z_l}.
    const rInputs: Float64Array[] = [new Float64Array(this.x.length)];
    const rZ: Float64Array[] = [];
    layers.forEach((layer, l) => {
      const rz = affine(state.inputs[l], v, layer, n);
      if (l > 0) addInto(rz, multiply(rInputs[l], theta, layer, n));
      rZ.push(rz);
      if (l + 1 < layers.length) rInputs.push(hadamard(rz, state.d1[l]));
    });
    const rOutputs = rZ[layers.length - 1];
    // R{∂L/∂f} = ∇²_f ℓ · R{f}.
    const K = this.mlp.outputDim;
    const rDelta0 = new Float64Array(n * K);
    if (this.mlp.loss === 'mse') {
      for (let i = 0; i < n * K; i++) rDelta0[i] = rOutputs[i] / n;
    } else {
      const p = state.probabilities!;
      for (let row = 0; row < n; row++) {
        let pr = 0;
        for (let k = 0; k < K; k++) pr += p[row * K + k] * rOutputs[row * K + k];
        for (let k = 0; k < K; k++) rDelta0[row * K + k] = (state.targetMass![row] * p[row * K + k] * (rOutputs[row * K + k] - pr)) / n;
      }
    }
    const result = new Float64Array(this.size);
    let delta = state.outputGradient;
    let rDelta = rDelta0;
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l];
      // R{∇_W} = R{a}ᵀδ + aᵀR{δ}; R{∇_b} = Σ R{δ}.
      accumulateGradient(result, state.inputs[l], rDelta, layer, n);
      if (l > 0) accumulateKernel(result, rInputs[l], delta, layer, n);
      if (l === 0) break;
      // δ_a = δ Wᵀ; R{δ_a} = R{δ} Wᵀ + δ Vᵀ; δ′ = σ′ δ_a; R{δ′} = σ″ R{z} δ_a + σ′ R{δ_a}.
      const deltaA = backThrough(delta, theta, layer, n);
      const rDeltaA = backThrough(rDelta, theta, layer, n);
      addInto(rDeltaA, backThrough(delta, v, layer, n));
      const s1 = state.d1[l - 1];
      const s2 = state.d2[l - 1];
      const rz = rZ[l - 1];
      const nextR = new Float64Array(deltaA.length);
      for (let i = 0; i < deltaA.length; i++) nextR[i] = s2[i] * rz[i] * deltaA[i] + s1[i] * rDeltaA[i];
      delta = hadamard(deltaA, s1);
      rDelta = nextR;
    }
    return result;
  }
}

/** a W + b for the layer's kernel and bias read from params (N × fanOut). */
function affine(a: Float64Array, params: Float64Array, layer: Layer, n: number): Float64Array {
  const z = multiply(a, params, layer, n);
  const { fanOut, bias } = layer;
  for (let row = 0; row < n; row++) for (let o = 0; o < fanOut; o++) z[row * fanOut + o] += params[bias + o];
  return z;
}

/** a W (N × fanOut), W the layer's kernel read from params. */
function multiply(a: Float64Array, params: Float64Array, layer: Layer, n: number): Float64Array {
  const { fanIn, fanOut, kernel } = layer;
  const z = new Float64Array(n * fanOut);
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < fanIn; i++) {
      const ai = a[row * fanIn + i];
      if (ai === 0) continue;
      const w = kernel + i * fanOut;
      const out = row * fanOut;
      for (let o = 0; o < fanOut; o++) z[out + o] += ai * params[w + o];
    }
  }
  return z;
}

/** δ Wᵀ (N × fanIn). */
function backThrough(delta: Float64Array, params: Float64Array, layer: Layer, n: number): Float64Array {
  const { fanIn, fanOut, kernel } = layer;
  const out = new Float64Array(n * fanIn);
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < fanIn; i++) {
      let s = 0;
      const w = kernel + i * fanOut;
      for (let o = 0; o < fanOut; o++) s += delta[row * fanOut + o] * params[w + o];
      out[row * fanIn + i] = s;
    }
  }
  return out;
}

/** gradient[kernel] += aᵀδ, gradient[bias] += Σ_rows δ. */
function accumulateGradient(gradient: Float64Array, a: Float64Array, delta: Float64Array, layer: Layer, n: number): void {
  accumulateKernel(gradient, a, delta, layer, n);
  const { fanOut, bias } = layer;
  for (let row = 0; row < n; row++) for (let o = 0; o < fanOut; o++) gradient[bias + o] += delta[row * fanOut + o];
}

function accumulateKernel(gradient: Float64Array, a: Float64Array, delta: Float64Array, layer: Layer, n: number): void {
  const { fanIn, fanOut, kernel } = layer;
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < fanIn; i++) {
      const ai = a[row * fanIn + i];
      if (ai === 0) continue;
      const w = kernel + i * fanOut;
      for (let o = 0; o < fanOut; o++) gradient[w + o] += ai * delta[row * fanOut + o];
    }
  }
}

function hadamard(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

function addInto(target: Float64Array, values: Float64Array): void {
  for (let i = 0; i < target.length; i++) target[i] += values[i];
}

/**
 * The MLP's architecture and the named layout of its flat parameter vector θ.
 *
 * θ holds, layer by layer, the kernel (row-major [in, out]) then the bias ([out]), so the parameters of the
 * last k layers form one contiguous tail of θ: the k-layer Hessian block (DESIGN §5) is addressed by an
 * offset and a size.
 */
import { createRng } from '@lrscape/linalg';

export type Activation = 'tanh' | 'relu' | 'gelu' | 'linear';
export type LossKind = 'mse' | 'cross_entropy';
export const ACTIVATIONS: readonly Activation[] = Object.freeze(['tanh', 'relu', 'gelu', 'linear'] as const);
export const LOSSES: readonly LossKind[] = Object.freeze(['mse', 'cross_entropy'] as const);

/** A fully connected network: hidden layers use `activation`, the last layer is linear and feeds `loss`. */
export interface MlpSpec {
  inputDim: number;
  hidden: number[];
  outputDim: number;
  activation: Activation;
  loss: LossKind;
}

export interface ParameterSlot {
  /** 'dense0/kernel', 'dense0/bias', … */
  name: string;
  /** 0-based layer index. */
  layer: number;
  role: 'kernel' | 'bias';
  shape: number[];
  offset: number;
  size: number;
}

export interface ParameterLayout {
  slots: ParameterSlot[];
  size: number;
  layerCount: number;
}

/** Layer widths [inputDim, ...hidden, outputDim], after checking the spec. */
export function layerWidths(spec: MlpSpec): number[] {
  const widths = [spec.inputDim, ...spec.hidden, spec.outputDim];
  for (const w of widths) {
    if (!Number.isInteger(w) || w < 1) throw new Error(`MlpSpec: layer widths must be positive integers, got [${widths.join(', ')}]`);
  }
  if (!(ACTIVATIONS as readonly string[]).includes(spec.activation)) {
    throw new Error(`MlpSpec: unknown activation '${spec.activation}' (valid: ${ACTIVATIONS.join(', ')})`);
  }
  if (!(LOSSES as readonly string[]).includes(spec.loss)) {
    throw new Error(`MlpSpec: unknown loss '${spec.loss}' (valid: ${LOSSES.join(', ')})`);
  }
  return widths;
}

export function mlpLayout(spec: MlpSpec): ParameterLayout {
  const widths = layerWidths(spec);
  const slots: ParameterSlot[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const [fanIn, fanOut] = [widths[l], widths[l + 1]];
    slots.push({ name: `dense${l}/kernel`, layer: l, role: 'kernel', shape: [fanIn, fanOut], offset, size: fanIn * fanOut });
    offset += fanIn * fanOut;
    slots.push({ name: `dense${l}/bias`, layer: l, role: 'bias', shape: [fanOut], offset, size: fanOut });
    offset += fanOut;
  }
  return { slots, size: offset, layerCount: widths.length - 1 };
}

/** The contiguous tail of θ holding the parameters of the last k layers. */
export function lastLayersBlock(layout: ParameterLayout, k: number): { offset: number; size: number } {
  if (!Number.isInteger(k) || k < 1 || k > layout.layerCount) {
    throw new Error(`lastLayersBlock: k must be an integer in [1, ${layout.layerCount}], got ${k}`);
  }
  const first = layout.layerCount - k;
  const slot = layout.slots.find((s) => s.layer === first && s.role === 'kernel');
  if (!slot) throw new Error(`lastLayersBlock: layout has no kernel for layer ${first}`);
  return { offset: slot.offset, size: layout.size - slot.offset };
}

/**
 * LeCun-uniform initialisation: kernels U(−√(3/fan_in), +√(3/fan_in)) (variance 1/fan_in), biases zero.
 * Draws follow θ's order, so a seed fixes θ_0 bit for bit.
 */
export function initMlpParameters(spec: MlpSpec, seed: number): Float32Array {
  const layout = mlpLayout(spec);
  const rng = createRng(seed);
  const theta = new Float32Array(layout.size);
  for (const slot of layout.slots) {
    if (slot.role !== 'kernel') continue;
    const limit = Math.sqrt(3 / slot.shape[0]);
    for (let i = 0; i < slot.size; i++) theta[slot.offset + i] = (2 * rng.uniform() - 1) * limit;
  }
  return theta;
}

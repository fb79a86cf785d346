/**
 * The float64 reference of the attention model (layout.ts, AttentionSpec) up to its readout's features, by
 * the definitions, as explicit loops over positions, heads and columns, generic in the arithmetic (reference.ts
 * evaluates it on hyper-dual numbers for the exact gradient and Hessian). It shares nothing with the tfjs
 * engine (attention.ts): no one-hot product (a token's row is read from the table), no head split, the softmax
 * built from exp and a division, the residual as a sum.
 */
import type { Arithmetic } from './hyperdual';
import type { AttentionSpec, ParameterLayout } from './layout';

/** θ offsets of the attention model's tables and projections, by slot name (the layout's). */
export interface AttentionOffsets {
  token: number;
  position: number;
  blocks: { query: number; key: number; value: number; output: number }[];
}

export function attentionOffsets(spec: AttentionSpec, layout: ParameterLayout): AttentionOffsets {
  const at = (name: string) => {
    const slot = layout.slots.find((s) => s.name === name);
    if (slot === undefined) throw new Error(`attention reference: the layout has no slot ${name}`);
    return slot.offset;
  };
  return {
    token: at('embed/token'),
    position: at('embed/position'),
    blocks: Array.from({ length: spec.blocks }, (_, b) => ({ query: at(`attn${b}/query`), key: at(`attn${b}/key`), value: at(`attn${b}/value`), output: at(`attn${b}/output`) })),
  };
}

/** Σ_i a_i·b_i. */
function dotOf<T>(ar: Arithmetic<T>, a: T[], b: T[]): T {
  let s = ar.mul(a[0], b[0]);
  for (let i = 1; i < a.length; i++) s = ar.add(s, ar.mul(a[i], b[i]));
  return s;
}

/** Rows of h (T × d) times the d×d kernel at θ offset `kernel` (row-major [in, out]). */
function project<T>(ar: Arithmetic<T>, param: (i: number) => T, h: T[][], kernel: number, d: number): T[][] {
  return h.map((row) =>
    Array.from({ length: d }, (_, c) => {
      let z = ar.mul(row[0], param(kernel + c));
      for (let i = 1; i < d; i++) z = ar.add(z, ar.mul(row[i], param(kernel + i * d + c)));
      return z;
    }),
  );
}

/** softmax of one row: exp(s_u − m)/Σ exp(s − m), m the (constant) largest real part. */
function softmaxRow<T>(ar: Arithmetic<T>, scores: T[]): T[] {
  let m = -Infinity;
  for (const s of scores) m = Math.max(m, ar.real(s));
  const e = scores.map((s) => ar.exp(ar.sub(s, ar.constant(m))));
  const total = e.reduce((a, b) => ar.add(a, b));
  return e.map((x) => ar.div(x, total));
}

/**
 * The readout's features u (d values) of the sequence at input row `row` (token ids x[row·T + t]): h_0 rows
 * E[id_t] + P[t], each block h ← h + concat_heads(softmax(QKᵀ/√(d/H)) V)·W_o, then h[0] or the mean of h's rows.
 */
export function attentionFeatures<T>(ar: Arithmetic<T>, spec: AttentionSpec, offsets: AttentionOffsets, param: (i: number) => T, x: Float32Array, row: number): T[] {
  const { sequenceLength: T, width: d, heads } = spec;
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  let h: T[][] = Array.from({ length: T }, (_, t) => {
    const id = x[row * T + t];
    return Array.from({ length: d }, (_, j) => ar.add(param(offsets.token + id * d + j), param(offsets.position + t * d + j)));
  });
  for (const block of offsets.blocks) {
    const q = project(ar, param, h, block.query, d);
    const k = project(ar, param, h, block.key, d);
    const v = project(ar, param, h, block.value, d);
    const o: T[][] = Array.from({ length: T }, () => new Array<T>(d));
    for (let j = 0; j < heads; j++) {
      const cols = (m: T[]) => m.slice(j * dh, (j + 1) * dh);
      for (let t = 0; t < T; t++) {
        const a = softmaxRow(
          ar,
          k.map((kRow) => ar.scale(dotOf(ar, cols(q[t]), cols(kRow)), scale)),
        );
        for (let c = j * dh; c < (j + 1) * dh; c++) o[t][c] = dotOf(ar, a, v.map((vRow) => vRow[c]));
      }
    }
    const y = project(ar, param, o, block.output, d);
    h = h.map((hRow, t) => hRow.map((value, c) => ar.add(value, y[t][c])));
  }
  if (spec.readout === 'first') return h[0];
  return Array.from({ length: d }, (_, c) => ar.scale(h.reduce((sum, hRow) => ar.add(sum, hRow[c]), ar.constant(0)), 1 / T));
}

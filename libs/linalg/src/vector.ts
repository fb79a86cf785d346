/**
 * Small float64 vector kernels (BLAS level 1) shared by the solvers.
 * Conventions: `axpy` and `scale` work in place (like BLAS) and return their target for chaining;
 * everything else allocates only what it returns.
 */
import type { Rng } from './random';

function sameLength(a: Float64Array, b: Float64Array): void {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
}

/** aᵀb. Unrolled by four with four partial sums (independent adds; V8 does not vectorise). */
export function dot(a: Float64Array, b: Float64Array): number {
  sameLength(a, b);
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + (s2 + s3);
}

/** Euclidean norm ‖a‖₂. */
export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + a·x, in place; returns y. */
export function axpy(a: number, x: Float64Array, y: Float64Array): Float64Array {
  sameLength(x, y);
  const n = y.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    y[i] += a * x[i];
    y[i + 1] += a * x[i + 1];
    y[i + 2] += a * x[i + 2];
    y[i + 3] += a * x[i + 3];
  }
  for (; i < n; i++) y[i] += a * x[i];
  return y;
}

/** x ← a·x, in place; returns x. */
export function scale(a: number, x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] *= a;
  return x;
}

/** cos∠(a, b) = aᵀb / (‖a‖‖b‖); NaN when either vector is zero (the angle is undefined). */
export function cosine(a: Float64Array, b: Float64Array): number {
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 || nb === 0) return NaN;
  return Math.max(-1, Math.min(1, dot(a, b) / (na * nb)));
}

/**
 * Modified Gram–Schmidt of a list, with one re-orthogonalisation pass per vector ("twice is enough",
 * so the result is orthonormal to working precision even for nearly dependent inputs).
 * Returns fresh orthonormal vectors spanning the same space as the inputs; a vector whose remainder after
 * projection is below `dropTolerance` times its own norm is linearly dependent on the earlier ones and is
 * dropped, so the result may be shorter than the input (its length is the numerical rank).
 */
export function orthonormalise(vectors: Float64Array[], dropTolerance = 1e-10): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const v of vectors) {
    const w = Float64Array.from(v);
    const original = norm(w);
    if (original === 0) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) axpy(-dot(q, w), q, w);
    }
    const remainder = norm(w);
    if (remainder <= dropTolerance * original) continue;
    basis.push(scale(1 / remainder, w));
  }
  return basis;
}

/**
 * The kernels over a basis (projectInto, subtractCombination, combineInto) that Lanczos's reorthogonalisation,
 * thick restarts and Ritz vectors spend their own work in. The JS ones below are the default; a caller with a
 * native BLAS (the engine, where its addon loads: libs/engine/src/native/linalg.ts) installs its own with
 * setBasisKernels, which every solver here then uses. They must compute the same values (to rounding).
 */
export interface BasisKernels {
  projectInto(out: Float64Array, vectors: readonly Float64Array[], w: Float64Array, from?: number, to?: number): Float64Array;
  subtractCombination(w: Float64Array, vectors: readonly Float64Array[], coefficients: ArrayLike<number>, from?: number, to?: number): number;
  combineInto(outputs: readonly Float64Array[], inputs: readonly Float64Array[], coefficients: Float64Array): void;
}

let basisKernels: BasisKernels | null = null;

/** Installs kernels over a basis for every solver of this lib (null: the JS ones); returns the previous ones. */
export function setBasisKernels(kernels: BasisKernels | null): BasisKernels | null {
  const previous = basisKernels;
  basisKernels = kernels;
  return previous;
}

/** out[i − from] ← vectors[i]ᵀw for from ≤ i < to (all products from the same w, like one pass of CGS); returns out. */
export function projectInto(out: Float64Array, vectors: readonly Float64Array[], w: Float64Array, from = 0, to = vectors.length): Float64Array {
  return basisKernels === null ? projectIntoJs(out, vectors, w, from, to) : basisKernels.projectInto(out, vectors, w, from, to);
}

/** w ← w − Σ_{from ≤ i < to} coefficients[i − from]·vectors[i], in place; returns ‖w‖² of the result. */
export function subtractCombination(w: Float64Array, vectors: readonly Float64Array[], coefficients: ArrayLike<number>, from = 0, to = vectors.length): number {
  return basisKernels === null ? subtractCombinationJs(w, vectors, coefficients, from, to) : basisKernels.subtractCombination(w, vectors, coefficients, from, to);
}

/** outputs[o] ← Σ_i coefficients[i·m + o]·inputs[i] (m = outputs.length); the outputs must not alias the inputs. */
export function combineInto(outputs: readonly Float64Array[], inputs: readonly Float64Array[], coefficients: Float64Array): void {
  if (basisKernels === null) combineIntoJs(outputs, inputs, coefficients);
  else basisKernels.combineInto(outputs, inputs, coefficients);
}

/*
 * The JS kernels over a list of vectors (BLAS level 2 on a basis kept as separate arrays): the cost of Lanczos's own work
 * is memory traffic through the basis, so each kernel reads every basis vector once, four at a time (one load
 * of the shared operand per four products, four independent sums), walking the n entries in chunks so that the
 * shared operand's chunk stays in L1 while the basis streams past.
 */
const CHUNK = 4096;

function checkLengths(vectors: readonly Float64Array[], from: number, to: number, n: number): void {
  for (let i = from; i < to; i++) {
    if (vectors[i].length !== n) throw new RangeError(`vector lengths differ: ${vectors[i].length} vs ${n}`);
  }
}

/** projectInto in JS. */
export function projectIntoJs(
  out: Float64Array,
  vectors: readonly Float64Array[],
  w: Float64Array,
  from = 0,
  to = vectors.length,
): Float64Array {
  const n = w.length;
  checkLengths(vectors, from, to, n);
  out.fill(0, 0, to - from);
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    let i = from;
    for (; i + 3 < to; i += 4) {
      const a = vectors[i];
      const b = vectors[i + 1];
      const c = vectors[i + 2];
      const d = vectors[i + 3];
      let sa = 0;
      let sb = 0;
      let sc = 0;
      let sd = 0;
      for (let t = start; t < end; t++) {
        const x = w[t];
        sa += a[t] * x;
        sb += b[t] * x;
        sc += c[t] * x;
        sd += d[t] * x;
      }
      out[i - from] += sa;
      out[i + 1 - from] += sb;
      out[i + 2 - from] += sc;
      out[i + 3 - from] += sd;
    }
    for (; i < to; i++) {
      const a = vectors[i];
      let s = 0;
      for (let t = start; t < end; t++) s += a[t] * w[t];
      out[i - from] += s;
    }
  }
  return out;
}

/**
 * subtractCombination in JS: w ← w − Σ_{from ≤ i < to} coefficients[i − from]·vectors[i], in place; returns ‖w‖² of
 * the result, summed in the same pass (the caller needs the new norm anyway).
 */
export function subtractCombinationJs(
  w: Float64Array,
  vectors: readonly Float64Array[],
  coefficients: ArrayLike<number>,
  from = 0,
  to = vectors.length,
): number {
  const n = w.length;
  checkLengths(vectors, from, to, n);
  let squares = 0;
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    let i = from;
    for (; i + 3 < to; i += 4) {
      const a = vectors[i];
      const b = vectors[i + 1];
      const c = vectors[i + 2];
      const d = vectors[i + 3];
      const ca = coefficients[i - from];
      const cb = coefficients[i + 1 - from];
      const cc = coefficients[i + 2 - from];
      const cd = coefficients[i + 3 - from];
      for (let t = start; t < end; t++) w[t] -= ca * a[t] + cb * b[t] + (cc * c[t] + cd * d[t]);
    }
    for (; i < to; i++) {
      const a = vectors[i];
      const ca = coefficients[i - from];
      for (let t = start; t < end; t++) w[t] -= ca * a[t];
    }
    let s = 0;
    for (let t = start; t < end; t++) s += w[t] * w[t];
    squares += s;
  }
  return squares;
}

/**
 * outputs[o] ← Σ_i coefficients[i·m + o]·inputs[i] for the m = outputs.length outputs (a product Q·M with M held
 * row-major, inputs.length × m): Ritz vectors and thick restarts. The outputs must not alias the inputs.
 * Two outputs at a time from four inputs at a time: each loaded input entry serves two products (this one is
 * bound by arithmetic, not memory: the chunk of the inputs stays in cache across outputs).
 */
export function combineIntoJs(outputs: readonly Float64Array[], inputs: readonly Float64Array[], coefficients: Float64Array): void {
  const m = outputs.length;
  const k = inputs.length;
  if (coefficients.length !== k * m) throw new RangeError(`combineInto: ${coefficients.length} coefficients for ${k} × ${m}`);
  if (m === 0) return;
  const n = outputs[0].length;
  checkLengths(outputs, 0, m, n);
  checkLengths(inputs, 0, k, n);
  const chunk = CHUNK / 2;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    for (let o = 0; o < m; o += 2) {
      const y = outputs[o];
      const pair = o + 1 < m;
      const z = pair ? outputs[o + 1] : y;
      const p = pair ? 1 : 0; // z's coefficients: the next column, or a harmless repeat of y's when m is odd
      y.fill(0, start, end);
      if (pair) z.fill(0, start, end);
      let i = 0;
      for (; i + 3 < k; i += 4) {
        const a = inputs[i];
        const b = inputs[i + 1];
        const c = inputs[i + 2];
        const d = inputs[i + 3];
        const ya = coefficients[i * m + o];
        const yb = coefficients[(i + 1) * m + o];
        const yc = coefficients[(i + 2) * m + o];
        const yd = coefficients[(i + 3) * m + o];
        if (pair) {
          const za = coefficients[i * m + o + p];
          const zb = coefficients[(i + 1) * m + o + p];
          const zc = coefficients[(i + 2) * m + o + p];
          const zd = coefficients[(i + 3) * m + o + p];
          for (let t = start; t < end; t++) {
            const at = a[t];
            const bt = b[t];
            const ct = c[t];
            const dt = d[t];
            y[t] += ya * at + yb * bt + (yc * ct + yd * dt);
            z[t] += za * at + zb * bt + (zc * ct + zd * dt);
          }
        } else {
          for (let t = start; t < end; t++) y[t] += ya * a[t] + yb * b[t] + (yc * c[t] + yd * d[t]);
        }
      }
      for (; i < k; i++) {
        const a = inputs[i];
        const ya = coefficients[i * m + o];
        const za = coefficients[i * m + o + p];
        if (pair) {
          for (let t = start; t < end; t++) {
            const at = a[t];
            y[t] += ya * at;
            z[t] += za * at;
          }
        } else {
          for (let t = start; t < end; t++) y[t] += ya * a[t];
        }
      }
    }
  }
}

/** The |a| × |b| matrix of products a_iᵀb_j, row-major. */
export function crossProducts(a: readonly Float64Array[], b: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(a.length * b.length);
  const row = new Float64Array(b.length);
  a.forEach((u, i) => {
    projectInto(row, b, u);
    out.set(row, i * b.length);
  });
  return out;
}

/**
 * w ← (I − QQᵀ)w for orthonormal Q = [q_0 … q_{k−1}], by classical Gram–Schmidt applied twice (CGS2):
 * all coefficients of a pass are taken from the same w, then subtracted. One CGS pass loses orthogonality
 * in proportion to the condition of [Q w]; the second pass restores it to working precision.
 */
export function orthogonaliseAgainst(w: Float64Array, basis: readonly Float64Array[], passes = 2): Float64Array {
  const coefficients = new Float64Array(basis.length);
  for (let pass = 0; pass < passes; pass++) {
    projectInto(coefficients, basis, w);
    subtractCombination(w, basis, coefficients);
  }
  return w;
}

/** Vector of n independent standard normals. */
export function randomNormalVector(n: number, rng: Rng): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

/** Vector of n independent Rademacher (±1) entries. */
export function rademacherVector(n: number, rng: Rng): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.sign();
  return v;
}

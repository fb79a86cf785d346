/**
 * Hyper-dual numbers a + b·ε1 + c·ε2 + d·ε1ε2 with ε1² = ε2² = 0 (Fike & Alonso). Evaluating a function g
 * on x + e_i·ε1 + e_j·ε2 yields g(x) + ∂_i g·ε1 + ∂_j g·ε2 + ∂_i∂_j g·ε1ε2 exactly (to rounding): no step
 * size, no cancellation. The float64 reference MLP evaluates its scalar loss code on these numbers to
 * get the exact gradient and Hessian.
 *
 * Every non-polynomial primitive f is lifted by its value, first and second derivative:
 * f(a + bε1 + cε2 + dε1ε2) = f(a) + f'(a)b·ε1 + f'(a)c·ε2 + (f'(a)d + f''(a)bc)·ε1ε2.
 */
export class HyperDual {
  constructor(
    readonly a: number,
    readonly b = 0,
    readonly c = 0,
    readonly d = 0,
  ) {}
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf in float64 to ~1e-16 absolute. For |x| < 6 by the series
 * erf(x) = (2/√π)·e^{−x²}·Σ_{n≥0} 2ⁿx^{2n+1}/(1·3·…·(2n+1)), whose terms are all positive (no cancellation);
 * beyond, erf(x) = ±1 to double precision (erfc(6) ≈ 2e-17).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  const twoX2 = 2 * ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 500; n++) {
    term *= twoX2 / (2 * n + 1);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return Math.sign(x) * Math.min(1, TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * sum);
}

/** Standard normal cdf Φ(x) = ½(1 + erf(x/√2)). */
export function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x * Math.SQRT1_2));
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** Arithmetic a generic scalar computation is written against (plain numbers or hyper-duals). */
export interface Arithmetic<T> {
  constant(x: number): T;
  real(x: T): number;
  add(x: T, y: T): T;
  sub(x: T, y: T): T;
  mul(x: T, y: T): T;
  div(x: T, y: T): T;
  /** x·s for a plain number s. */
  scale(x: T, s: number): T;
  exp(x: T): T;
  log(x: T): T;
  /** max(x, 0): the identity where the real part is positive, zero elsewhere. */
  relu(x: T): T;
  /** Standard normal cdf Φ, lifted with Φ' = φ, Φ'' = −xφ. */
  normalCdf(x: T): T;
}

export const REALS: Arithmetic<number> = {
  constant: (x) => x,
  real: (x) => x,
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  scale: (x, s) => x * s,
  exp: Math.exp,
  log: Math.log,
  relu: (x) => (x > 0 ? x : 0),
  normalCdf,
};

/** f lifted through its value f0, first derivative f1 and second derivative f2 at x.a. */
function lift(x: HyperDual, f0: number, f1: number, f2: number): HyperDual {
  return new HyperDual(f0, f1 * x.b, f1 * x.c, f1 * x.d + f2 * x.b * x.c);
}

const ZERO = new HyperDual(0);

export const HYPER_DUALS: Arithmetic<HyperDual> = {
  constant: (x) => new HyperDual(x),
  real: (x) => x.a,
  add: (x, y) => new HyperDual(x.a + y.a, x.b + y.b, x.c + y.c, x.d + y.d),
  sub: (x, y) => new HyperDual(x.a - y.a, x.b - y.b, x.c - y.c, x.d - y.d),
  mul: (x, y) => new HyperDual(x.a * y.a, x.a * y.b + x.b * y.a, x.a * y.c + x.c * y.a, x.a * y.d + x.b * y.c + x.c * y.b + x.d * y.a),
  div: (x, y) => {
    const inv = 1 / y.a;
    return HYPER_DUALS.mul(x, lift(y, inv, -inv * inv, 2 * inv * inv * inv));
  },
  scale: (x, s) => new HyperDual(x.a * s, x.b * s, x.c * s, x.d * s),
  exp: (x) => {
    const e = Math.exp(x.a);
    return lift(x, e, e, e);
  },
  log: (x) => lift(x, Math.log(x.a), 1 / x.a, -1 / (x.a * x.a)),
  relu: (x) => (x.a > 0 ? x : ZERO),
  normalCdf: (x) => {
    const pdf = normalPdf(x.a);
    return lift(x, normalCdf(x.a), pdf, -x.a * pdf);
  },
};

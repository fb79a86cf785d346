import { describe, expect, it } from 'vitest';
import { HYPER_DUALS as H, HyperDual, REALS, erf, normalCdf, normalPdf } from './hyperdual';

describe('erf (float64)', () => {
  it('matches tabulated values to ~1e-15', () => {
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4.5, 0.9999999998033839],
    ];
    for (const [x, v] of table) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(2e-15);
      expect(Math.abs(erf(-x) + v)).toBeLessThan(2e-15);
    }
    expect(erf(7)).toBe(1);
    expect(normalCdf(0)).toBe(0.5);
    expect(Math.abs(normalCdf(1.96) - 0.9750021048517795)).toBeLessThan(1e-15);
  });
  it('is continuous at the series cut-off and has derivative 2/√π e^{−x²}', () => {
    expect(Math.abs(erf(6 - 1e-12) - 1)).toBeLessThan(1e-15);
    for (const x of [-2.3, -0.4, 0.7, 1.9, 3.3]) {
      const h = 1e-5;
      const fd = (erf(x + h) - erf(x - h)) / (2 * h);
      expect(Math.abs(fd - 2 * normalPdf(x * Math.SQRT2) * Math.sqrt(2))).toBeLessThan(1e-9);
    }
  });
});

describe('hyper-dual arithmetic', () => {
  /** g(x, y) evaluated at (x + ε1, y + ε2): d part = ∂x∂y g; at (x + ε1 + ε2, y): d part = ∂x² g. */
  const g = <T>(ar: typeof REALS | typeof H, x: T, y: T): T => {
    const a = ar as unknown as import('./hyperdual').Arithmetic<T>;
    // g = exp(x·y) / log(x + 3) + Φ(x − y)·relu(y)
    return a.add(a.div(a.exp(a.mul(x, y)), a.log(a.add(x, a.constant(3)))), a.mul(a.normalCdf(a.sub(x, y)), a.relu(y)));
  };
  const x0 = 0.4;
  const y0 = 0.9;
  const real = (x: number, y: number) => g(REALS, x, y);
  it('gives exact first and mixed second derivatives', () => {
    const mixed = g(H, new HyperDual(x0, 1, 0, 0), new HyperDual(y0, 0, 1, 0));
    const h = 1e-4;
    expect(mixed.a).toBeCloseTo(real(x0, y0), 15);
    expect(Math.abs(mixed.b - (real(x0 + h, y0) - real(x0 - h, y0)) / (2 * h))).toBeLessThan(1e-7);
    expect(Math.abs(mixed.c - (real(x0, y0 + h) - real(x0, y0 - h)) / (2 * h))).toBeLessThan(1e-7);
    const fdMixed = (real(x0 + h, y0 + h) - real(x0 + h, y0 - h) - real(x0 - h, y0 + h) + real(x0 - h, y0 - h)) / (4 * h * h);
    expect(Math.abs(mixed.d - fdMixed)).toBeLessThan(1e-6);
    const pure = g(H, new HyperDual(x0, 1, 1, 0), new HyperDual(y0));
    const fdPure = (real(x0 + h, y0) - 2 * real(x0, y0) + real(x0 - h, y0)) / (h * h);
    expect(Math.abs(pure.d - fdPure)).toBeLessThan(1e-5);
  });
  it('follows the product rule symbolically', () => {
    // (x·x·x)'' = 6x exactly.
    const x = new HyperDual(1.5, 1, 1, 0);
    const cube = H.mul(H.mul(x, x), x);
    expect(cube.a).toBe(3.375);
    expect(cube.b).toBe(6.75);
    expect(cube.d).toBe(9);
  });
});

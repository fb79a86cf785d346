import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activationOps } from './activations';
import { selectBackend } from './backend';
import { normalCdf } from './hyperdual';
import { ACTIVATIONS, type Activation } from './layout';

/** σ in float64, independently of the tfjs ops. */
const SIGMA: Record<Activation, (x: number) => number> = {
  tanh: Math.tanh,
  relu: (x) => Math.max(x, 0),
  gelu: (x) => x * normalCdf(x),
  linear: (x) => x,
};

// Grid off relu's kink at 0, of float32 values (what the tensor holds), so both sides see the same z.
const GRID = Array.from({ length: 25 }, (_, i) => Math.fround(-3.05 + 0.25 * i));

// Absolute tolerances on |z| ≤ 3.05, from the float32 approximations: wasm's tanh = 2·sigmoid(2z) − 1 is within
// 1.8e-7 of tanh (activations.ts), and tfjs's erf (Abramowitz–Stegun 7.1.26) within 1.5e-7 of erf, so gelu = zΦ(z)
// within ~2.3e-7; σ' = 1 − t² and σ'' = −2t(1 − t²) at most double and quadruple tanh's error. Worst measured
// (wasm and cpu): σ 2.5e-7, σ' 1.2e-7, σ'' 2.3e-7. The float64 differences add ≲ 1e-9 (σ') and 5e-8 (σ'').
const FORWARD_TOL = 5e-7;
const FIRST_TOL = 5e-7;
const SECOND_TOL = 1e-6;

describe.each(ACTIVATIONS)('activation %s', (name) => {
  const ops = activationOps(name);
  const sigma = SIGMA[name];
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  async function evaluate(which: 'forward' | 'derivative' | 'secondDerivative'): Promise<number[] | null> {
    const z = tf.tensor2d(GRID, [5, 5]);
    const a = ops.forward(z);
    const out = which === 'forward' ? a : ops[which](z, a);
    const values = out === null ? null : Array.from(await out.data());
    for (const t of [z, a, out]) t?.dispose();
    return values;
  }

  it('forward matches the float64 σ', async () => {
    const values = (await evaluate('forward'))!;
    GRID.forEach((x, i) => expect(Math.abs(values[i] - sigma(x))).toBeLessThan(FORWARD_TOL));
  });

  it("σ' matches central differences of σ (null means ≡ 1)", async () => {
    const values = await evaluate('derivative');
    const h = 1e-6;
    GRID.forEach((x, i) => {
      const fd = (sigma(x + h) - sigma(x - h)) / (2 * h);
      expect(Math.abs((values === null ? 1 : values[i]) - fd)).toBeLessThan(FIRST_TOL);
    });
    expect(values === null).toBe(name === 'linear');
  });

  it("σ'' matches second differences of σ (null means ≡ 0)", async () => {
    const values = await evaluate('secondDerivative');
    const h = 1e-4;
    GRID.forEach((x, i) => {
      const fd = (sigma(x + h) - 2 * sigma(x) + sigma(x - h)) / (h * h);
      expect(Math.abs((values === null ? 0 : values[i]) - fd)).toBeLessThan(SECOND_TOL);
    });
    expect(values === null).toBe(name === 'linear' || name === 'relu');
  });
});

describe('activationOps', () => {
  it('rejects an unknown name', () => {
    expect(() => activationOps('sigmoid' as never)).toThrow(/unknown activation 'sigmoid'/);
  });
});

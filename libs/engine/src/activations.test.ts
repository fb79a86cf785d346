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

// Grid off relu's kink at 0.
const GRID = Array.from({ length: 25 }, (_, i) => -3.05 + 0.25 * i);

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
    GRID.forEach((x, i) => expect(Math.abs(values[i] - sigma(x))).toBeLessThan(2e-6));
  });

  it("σ' matches central differences of σ (null means ≡ 1)", async () => {
    const values = await evaluate('derivative');
    const h = 1e-6;
    GRID.forEach((x, i) => {
      const fd = (sigma(x + h) - sigma(x - h)) / (2 * h);
      expect(Math.abs((values === null ? 1 : values[i]) - fd)).toBeLessThan(2e-6);
    });
    expect(values === null).toBe(name === 'linear');
  });

  it("σ'' matches second differences of σ (null means ≡ 0)", async () => {
    const values = await evaluate('secondDerivative');
    const h = 1e-4;
    GRID.forEach((x, i) => {
      const fd = (sigma(x + h) - 2 * sigma(x) + sigma(x - h)) / (h * h);
      expect(Math.abs((values === null ? 0 : values[i]) - fd)).toBeLessThan(1e-5);
    });
    expect(values === null).toBe(name === 'linear' || name === 'relu');
  });
});

describe('activationOps', () => {
  it('rejects an unknown name', () => {
    expect(() => activationOps('sigmoid' as never)).toThrow(/unknown activation 'sigmoid'/);
  });
});

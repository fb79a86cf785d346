import { describe, expect, it } from 'vitest';
import { checkBatch } from './batch';
import type { MlpSpec } from './layout';

describe('checkBatch', () => {
  const spec: MlpSpec = { inputDim: 2, hidden: [3], outputDim: 2, activation: 'tanh', loss: 'cross_entropy' };
  const ok = { x: new Float32Array(6), y: new Float32Array(6), n: 3 };
  it('accepts consistent shapes', () => {
    expect(() => checkBatch(spec, ok)).not.toThrow();
    expect(() => checkBatch(spec, { ...ok, labels: new Int32Array(3) })).not.toThrow();
  });
  it('names what is wrong', () => {
    expect(() => checkBatch(spec, { ...ok, n: 0 })).toThrow(/positive integer/);
    expect(() => checkBatch(spec, { ...ok, x: new Float32Array(5) })).toThrow(/x has 5 values/);
    expect(() => checkBatch(spec, { ...ok, y: new Float32Array(3) })).toThrow(/y has 3 values/);
    expect(() => checkBatch(spec, { ...ok, labels: new Int32Array(2) })).toThrow(/labels has 2 entries/);
  });
});

import { describe, expect, it } from 'vitest';
import { learningRateAt, peakLearningRate, scheduleSchema } from './schedule';

describe('learningRateAt', () => {
  it('constant', () => {
    expect(learningRateAt({ kind: 'constant', eta: 0.1 }, 0)).toBe(0.1);
    expect(learningRateAt({ kind: 'constant', eta: 0.1 }, 999)).toBe(0.1);
  });
  it('drop switches at switchStep exactly', () => {
    const s = { kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 400 } as const;
    expect(learningRateAt(s, 399)).toBe(0.2);
    expect(learningRateAt(s, 400)).toBe(0.02);
    expect(peakLearningRate(s)).toBe(0.2);
  });
  it('cyclic is triangular between η_lo and η_hi with period T', () => {
    const s = { kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 100 } as const;
    expect(learningRateAt(s, 0)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(s, 25)).toBeCloseTo(0.2, 12);
    expect(learningRateAt(s, 50)).toBeCloseTo(0.3, 12);
    expect(learningRateAt(s, 75)).toBeCloseTo(0.2, 12);
    expect(learningRateAt(s, 100)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(s, 150)).toBeCloseTo(0.3, 12);
  });
});

describe('scheduleSchema', () => {
  it('accepts the three kinds', () => {
    expect(scheduleSchema.parse({ kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 0 })).toEqual({ kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 0 });
    expect(scheduleSchema.parse({ kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 1 }).kind).toBe('cyclic');
  });
  it('rejects non-positive or infinite η, fractional steps, unknown kinds and extra fields', () => {
    expect(scheduleSchema.safeParse({ kind: 'constant', eta: 0 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'constant', eta: Infinity }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 1.5 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 0 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'linear', eta: 0.1 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'constant', eta: 0.1, steps: 3 }).success).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { cumulativeLearningRate, firstStepAtTime, learningRateAt, peakLearningRate, sameLearningRate, scheduleSchema } from './schedule';

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
    expect(scheduleSchema.parse({ kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 2 }).kind).toBe('cyclic');
    // Ratio 1 (η_hi = η_lo) is a constant η written as a cycle: allowed.
    expect(scheduleSchema.parse({ kind: 'cyclic', etaLow: 0.1, etaHigh: 0.1, period: 2 }).kind).toBe('cyclic');
  });
  it('rejects non-positive or infinite η, fractional steps, unknown kinds and extra fields', () => {
    expect(scheduleSchema.safeParse({ kind: 'constant', eta: 0 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'constant', eta: Infinity }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 1.5 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 0 }).success).toBe(false);
  });
  it('refuses a cyclic period shorter than 2 steps and η_hi below η_lo, naming the field', () => {
    const issue = (value: unknown) => scheduleSchema.safeParse(value).error?.issues[0];
    expect(issue({ kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 1 })).toMatchObject({ path: ['period'], message: expect.stringContaining('shorter than 2 steps') });
    expect(issue({ kind: 'cyclic', etaLow: 0.2, etaHigh: 0.1, period: 10 })).toMatchObject({ path: ['etaHigh'], message: expect.stringContaining('at least 1') });
    expect(scheduleSchema.safeParse({ kind: 'linear', eta: 0.1 }).success).toBe(false);
    expect(scheduleSchema.safeParse({ kind: 'constant', eta: 0.1, steps: 3 }).success).toBe(false);
  });
});

describe('cumulative learning rate τ_t = Σ_{s<t} η_s', () => {
  it('is η·t for a constant η, piecewise for a drop, and the sum of the triangle for a cycle', () => {
    expect(cumulativeLearningRate({ kind: 'constant', eta: 0.1 }, 0)).toBe(0);
    expect(cumulativeLearningRate({ kind: 'constant', eta: 0.1 }, 30)).toBeCloseTo(3, 12);
    expect(cumulativeLearningRate({ kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 10 }, 15)).toBeCloseTo(2 + 0.1, 12);
    // Period 4 between 0.1 and 0.3: η = 0.1, 0.2, 0.3, 0.2, 0.1, … → τ_4 = 0.8, τ_6 = 0.8 + 0.3.
    const cyclic = { kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 4 } as const;
    expect(cumulativeLearningRate(cyclic, 4)).toBeCloseTo(0.8, 12);
    expect(cumulativeLearningRate(cyclic, 6)).toBeCloseTo(1.1, 12);
  });
  it('firstStepAtTime: the first step with τ_t ≥ τ, exact at representable ties, null past the end', () => {
    expect(firstStepAtTime({ kind: 'constant', eta: 0.1 }, 5, 1000)).toBe(50);
    expect(firstStepAtTime({ kind: 'constant', eta: 0.1 }, 5.01, 1000)).toBe(51);
    expect(firstStepAtTime({ kind: 'constant', eta: 0.03 }, 1, 1000)).toBe(34);
    expect(firstStepAtTime({ kind: 'constant', eta: 0.01 }, 100, 9999)).toBeNull();
    expect(firstStepAtTime({ kind: 'constant', eta: 0.01 }, 100, 10000)).toBe(10000);
    // Drop 0.2 → 0.02 at step 10: τ_10 = 2, then 0.02 per step → τ = 2.1 at step 15.
    expect(firstStepAtTime({ kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 10 }, 2.1, 100)).toBe(15);
    expect(firstStepAtTime({ kind: 'cyclic', etaLow: 0.1, etaHigh: 0.3, period: 4 }, 1.1, 100)).toBe(6);
    expect(firstStepAtTime({ kind: 'constant', eta: 0.1 }, 0, 10)).toBe(0);
    expect(() => firstStepAtTime({ kind: 'constant', eta: 0.1 }, -1, 10)).toThrow(/not a non-negative/);
  });
  it('agrees with the running sum for every grid τ (the constant shortcut against the loop)', () => {
    for (const eta of [0.01, 0.02, 0.05, 0.08, 0.1, 0.3]) {
      for (const tau of [0.5, 1, 2, 5, 10, 20, 40]) {
        const t = firstStepAtTime({ kind: 'constant', eta }, tau, 100000)!;
        let sum = 0;
        for (let s = 0; s < t - 1; s++) sum += eta;
        expect(sum, `η ${eta} τ ${tau}`).toBeLessThan(tau * (1 - 1e-12));
        expect(cumulativeLearningRate({ kind: 'constant', eta }, t)).toBeGreaterThanOrEqual(tau * (1 - 1e-12));
      }
    }
  });
});

describe('sameLearningRate', () => {
  it('matches η and ratios as a config writes them (to 1e-9 relative), and nothing farther apart', () => {
    expect(sameLearningRate(0.1 / 16, 0.00625)).toBe(true);
    expect(sameLearningRate(0.1 / 0.0125, 8)).toBe(true);
    expect(sameLearningRate(0.1, 0.1 * (1 + 2e-9))).toBe(false);
    expect(sameLearningRate(0.1, 0.1001)).toBe(false);
    expect(sameLearningRate(0, 0)).toBe(true);
  });
});

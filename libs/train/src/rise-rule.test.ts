import { describe, expect, it } from 'vitest';
import { describeDetector, hasRisen, riseDetectorSchema, riseLevel } from './rise-rule';

describe('the rise rule', () => {
  it('relative: above base·(1 + r); absolute: above base + p', () => {
    expect(riseLevel({ kind: 'relative', threshold: 0.1 }, 2)).toBeCloseTo(2.2, 12);
    expect(riseLevel({ kind: 'absolute', threshold: 0.1 }, 2)).toBeCloseTo(2.1, 12);
    // On a tiny loss the two disagree: +50% is a relative rise of 0.5 but 5e-5 in loss units.
    expect(hasRisen({ kind: 'relative', threshold: 0.1 }, 1e-4, 1.5e-4)).toBe(true);
    expect(hasRisen({ kind: 'absolute', threshold: 0.02 }, 1e-4, 1.5e-4)).toBe(false);
    // The level itself is not a rise (strictly above).
    expect(hasRisen({ kind: 'absolute', threshold: 0.5 }, 1, 1.5)).toBe(false);
    expect(hasRisen({ kind: 'absolute', threshold: 0.5 }, 1, 1.5000001)).toBe(true);
  });

  it('schema: a kind and a positive threshold, nothing else', () => {
    expect(riseDetectorSchema.parse({ kind: 'absolute', threshold: 0.1 })).toEqual({ kind: 'absolute', threshold: 0.1 });
    expect(riseDetectorSchema.safeParse({ kind: 'absolute', threshold: 0 }).success).toBe(false);
    expect(riseDetectorSchema.safeParse({ kind: 'prominence', threshold: 0.1 }).success).toBe(false);
    expect(riseDetectorSchema.safeParse({ kind: 'relative', threshold: 0.1, extra: 1 }).success).toBe(false);
    expect(describeDetector({ kind: 'relative', threshold: 0.05 })).toBe('relative 0.05');
  });
});

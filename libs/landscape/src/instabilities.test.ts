import { describe, expect, it } from 'vitest';
import { detectInstabilities, type TracePoint } from './instabilities';

const trace = (losses: number[], sharpness: (step: number) => number | null, lr = 0.1): TracePoint[] =>
  losses.map((loss, step) => ({ step, lr, loss, sharpness: sharpness(step) }));

/** Smooth decay with Gaussian bumps of given heights (relative) centred at given steps. */
function spiky(n: number, spikes: { at: number; height: number }[]): number[] {
  return Array.from({ length: n }, (_, t) => {
    const base = Math.exp(-t / 200);
    const bump = spikes.reduce((s, { at, height }) => s + height * Math.exp(-((t - at) ** 2) / 18), 0);
    return base * (1 + bump);
  });
}

describe('detectInstabilities', () => {
  it('finds none in a smooth decay', () => {
    expect(detectInstabilities(trace(spiky(300, []), () => 30))).toEqual([]);
  });

  it('finds exactly three in a trace with three spikes above threshold, with heating and cooling phases', () => {
    const losses = spiky(400, [
      { at: 80, height: 2 },
      { at: 180, height: 1 },
      { at: 300, height: 3 },
    ]);
    const found = detectInstabilities(trace(losses, () => 25)); // 25 > 2/0.1
    expect(found).toHaveLength(3);
    found.forEach((event, i) => {
      expect(event.index).toBe(i + 1);
      expect(event.start).toBeLessThan(event.peak);
      expect(event.end).not.toBeNull();
      expect(event.peak).toBeGreaterThan(event.end! - 30);
      expect(event.heatingSteps).toBe(event.peak - event.start);
      expect(event.coolingSteps).toBe(event.end! - event.peak);
      expect(event.peakLoss).toBeGreaterThan(event.lossBefore * 1.1);
      expect(losses[event.end!]).toBeLessThanOrEqual(event.lossBefore);
    });
    expect(found.map((e) => e.peak)).toEqual([80, 180, 300].map((at) => expect.closeTo(at, -1)));
  });

  it('ignores a spike below the prominence threshold', () => {
    const losses = spiky(300, [
      { at: 100, height: 0.05 },
      { at: 200, height: 1 },
    ]);
    const found = detectInstabilities(trace(losses, () => 25), { prominence: 0.1 });
    expect(found).toHaveLength(1);
    expect(found[0].peak).toBeCloseTo(200, -1);
  });

  it('ignores a loss rise while λmax stays below 2/η', () => {
    const losses = spiky(300, [{ at: 150, height: 1 }]);
    expect(detectInstabilities(trace(losses, () => 15))).toEqual([]); // 15 < 2/0.1 = 20
    // Sharpness sampled only every 10 steps, crossing 2/η inside the heating phase only.
    const sampled = detectInstabilities(trace(losses, (s) => (s % 10 === 0 ? (s >= 145 && s <= 150 ? 21 : 15) : null)));
    expect(sampled).toHaveLength(1);
    expect(sampled[0].sharpnessPeak).toBe(21);
    expect(sampled[0].sharpnessBefore).toBe(15);
  });

  it('leaves end null when the loss never comes back, and stops at divergence', () => {
    const losses = [1, 0.9, 0.8, 2, 5, 9, Number.NaN, 0.1];
    const [event, ...rest] = detectInstabilities(trace(losses, () => 30));
    expect(rest).toHaveLength(0);
    expect(event.start).toBe(2);
    expect(event.peak).toBe(5);
    expect(event.end).toBeNull();
    expect(event.coolingSteps).toBeNull();
  });
});

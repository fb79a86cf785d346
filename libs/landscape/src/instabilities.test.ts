import { describe, expect, it } from 'vitest';
import type { RiseDetector } from '@lrscape/train';
import { detectInstabilities, localMaxima, peakProminences, prominentExcursions, RangeExtreme, type TracePoint } from './instabilities';

const RELATIVE: RiseDetector = { kind: 'relative', threshold: 0.1 };
const ABSOLUTE: RiseDetector = { kind: 'absolute', threshold: 0.1 };
const ETA = 0.1; // 2/η = 20

const trace = (losses: readonly number[], sharpness: (step: number) => number | null, lr = ETA): TracePoint[] =>
  losses.map((loss, step) => ({ step, lr, loss, sharpness: sharpness(step) }));

const decay = (t: number) => Math.exp(-t / 200);

/** Decay with triangular spikes of relative height `height`, ±6 steps around each centre. */
function spiky(n: number, spikes: readonly { at: number; height: number }[]): number[] {
  return Array.from({ length: n }, (_, t) => {
    const bump = spikes.reduce((s, { at, height }) => s + height * Math.max(0, 1 - Math.abs(t - at) / 6), 0);
    return decay(t) * (1 + bump);
  });
}

/**
 * λmax 15 (below 2/η = 20) except around each spike centre t0: above threshold from t0 − 4 to t0 + 1 with its
 * peak 26 at t0 − 2, then the catapult's trough 13 at t0 + 2, back to 15 by t0 + 5.
 */
const AROUND: Record<number, number> = { [-4]: 22, [-3]: 24, [-2]: 26, [-1]: 25, 0: 23, 1: 21, 2: 13, 3: 14, 4: 15 };
const sharpnessAround = (centres: readonly number[]) => (t: number) => {
  for (const c of centres) if (t - c in AROUND) return AROUND[t - c];
  return 15;
};

describe('detectInstabilities', () => {
  it('finds none in a smooth decay, with either detector', () => {
    const points = trace(spiky(300, []), () => 30);
    expect(detectInstabilities(points, { detector: RELATIVE })).toEqual([]);
    expect(detectInstabilities(points, { detector: { kind: 'absolute', threshold: 0.02 } })).toEqual([]);
  });

  it('finds three spikes with their loss start, peak, recovery, crossings of 2/η and λmax peak and trough', () => {
    const centres = [60, 150, 240];
    const points = trace(spiky(300, centres.map((at) => ({ at, height: 2 }))), sharpnessAround(centres));
    for (const detector of [RELATIVE, ABSOLUTE]) {
      const found = detectInstabilities(points, { detector });
      expect(found.map((e) => e.index)).toEqual([1, 2, 3]);
      found.forEach((e, i) => {
        const c = centres[i];
        expect([e.start, e.peak, e.end]).toEqual([c - 6, c, c + 6]);
        expect([e.upCrossing, e.downCrossing]).toEqual([c - 4, c + 2]);
        expect([e.sharpnessPeak, e.sharpnessPeakStep, e.sharpnessTrough, e.sharpnessTroughStep]).toEqual([26, c - 2, 13, c + 2]);
        expect([e.ratioPeak, e.ratioPeakStep, e.ratioTrough, e.ratioTroughStep]).toEqual([1.3, c - 2, 0.65, c + 2]);
        expect([e.sharpnessBefore, e.sharpnessAfter]).toEqual([15, 15]);
        expect([e.heatingSteps, e.coolingSteps]).toEqual([6, 6]);
        expect(e.lossBefore).toBe(decay(c - 6));
        expect(e.peakLoss).toBeCloseTo(3 * decay(c), 12);
      });
    }
  });

  it('ignores a bump below the threshold (5% against relative 10%, 0.04 against absolute 0.1)', () => {
    const points = trace(spiky(300, [{ at: 100, height: 0.05 }, { at: 200, height: 1 }]), sharpnessAround([100, 200]));
    for (const detector of [RELATIVE, ABSOLUTE]) {
      const found = detectInstabilities(points, { detector });
      expect(found.map((e) => e.peak)).toEqual([200]);
    }
  });

  it('finds none in an edge-of-stability oscillation with a flat loss (λmax ±0.5 around 2/η, loss ±0.001)', () => {
    const n = 2000;
    const points = trace(
      Array.from({ length: n }, (_, t) => 0.3 + 0.001 * (-1) ** t),
      (t) => 20 + 0.5 * (-1) ** t,
    );
    expect(detectInstabilities(points, { detector: RELATIVE })).toEqual([]);
    expect(detectInstabilities(points, { detector: { kind: 'absolute', threshold: 0.02 } })).toEqual([]);
  });

  it('ignores a loss rise while λmax stays below 2/η; a sparse sample above it inside the heating phase counts', () => {
    const losses = spiky(300, [{ at: 150, height: 1 }]);
    expect(detectInstabilities(trace(losses, () => 15), { detector: RELATIVE })).toEqual([]);
    // Sharpness every 5 steps, above 2/η only at step 145, inside the heating phase 144–150.
    const sampled = trace(losses, (t) => (t % 5 === 0 ? (t === 145 ? 21 : 15) : null));
    const [event, ...rest] = detectInstabilities(sampled, { detector: RELATIVE });
    expect(rest).toEqual([]);
    expect([event.upCrossing, event.downCrossing, event.sharpnessPeak, event.sharpnessPeakStep, event.sharpnessBefore]).toEqual([145, 150, 21, 145, 15]);
  });

  it('on a tiny late loss, the relative rule counts a 50% wiggle that the absolute rule (loss units) ignores', () => {
    const losses = Array.from({ length: 200 }, (_, t) => (t < 100 ? 1 - t / 100 + 1e-3 : 1e-3 * (1 + 0.5 * Math.max(0, 1 - Math.abs(t - 150) / 6))));
    const points = trace(losses, () => 25);
    expect(detectInstabilities(points, { detector: RELATIVE }).map((e) => e.peak)).toEqual([150]);
    expect(detectInstabilities(points, { detector: { kind: 'absolute', threshold: 0.02 } })).toEqual([]);
  });

  it('leaves the recovery null when the loss never comes back, and stops at divergence', () => {
    const losses = [1, 0.9, 0.8, 2, 5, 9, 7, Number.NaN, 0.1];
    for (const detector of [RELATIVE, ABSOLUTE]) {
      const [event, ...rest] = detectInstabilities(trace(losses, () => 30), { detector });
      expect(rest).toHaveLength(0);
      expect([event.start, event.peak, event.end, event.coolingSteps]).toEqual([2, 5, null, null]);
      expect(event.downCrossing).toBeNull(); // λmax never back under 2/η
    }
  });

  it('with peakFollowsSharpness, moves the peak forward while λmax still rises (never past recovery)', () => {
    const centre = 100;
    const rising: Record<number, number> = { [-2]: 22, [-1]: 23, 0: 24, 1: 25, 2: 26, 3: 13 };
    const points = trace(spiky(200, [{ at: centre, height: 2 }]), (t) => rising[t - centre] ?? 15);
    const plain = detectInstabilities(points, { detector: RELATIVE })[0];
    const moved = detectInstabilities(points, { detector: RELATIVE, peakFollowsSharpness: true })[0];
    expect(plain.peak).toBe(centre);
    expect(moved.peak).toBe(centre + 2);
    expect([moved.heatingSteps, moved.coolingSteps]).toEqual([8, 4]);
    expect(moved.peakLoss).toBe(points[centre + 2].loss);
  });

  it('handles a 20,000-step trace with an oscillating loss: one instability per spike (absolute), a clock (relative)', () => {
    const n = 20_000;
    const centres = Array.from({ length: 10 }, (_, k) => 1000 + 2000 * k);
    const base = (t: number) => 0.5 * Math.exp(-t / 5000) + 0.001 * (-1) ** t;
    const losses = Array.from({ length: n }, (_, t) => base(t) + centres.reduce((s, c) => s + 0.2 * Math.max(0, 1 - Math.abs(t - c) / 6), 0));
    const points = trace(losses, (t) => (centres.some((c) => Math.abs(t - c) <= 3) ? 24 : 20 + 0.5 * (-1) ** t));
    const absolute = detectInstabilities(points, { detector: { kind: 'absolute', threshold: 0.02 } });
    expect(absolute.map((e) => e.peak)).toEqual(centres);
    // Late on the ±0.001 oscillation is more than 10% of a loss near 0.009: the relative rule ticks with it.
    expect(detectInstabilities(points, { detector: RELATIVE }).length).toBeGreaterThan(100);
  });
});

describe('find_peaks semantics, against scipy.signal 1.17.1', () => {
  // x, its local maxima (scipy.signal.find_peaks(x)), and peak_prominences(x, peaks): prominences, left_bases.
  const x = [3, 1, 2, 2, 2, 1, 4, 0.5, 0.5, 3, 3, 1, 5, 5, 4, 4.5, 2, 2, 6, 1, 1, 2, 0.2, 0.7, 0.7];
  const walk = [
    0.0, 0.3, 0.0, -0.9, -1.3, -2.3, -2.3, -0.9, -1.4, -2.0, -1.5, -1.2, -1.1, -2.0, -2.0, -1.3, -2.7, -3.1, -5.0, -6.3, -8.2, -8.4, -9.7, -9.4, -9.2, -9.4,
    -11.9, -12.5, -12.5, -12.4, -14.0, -14.4, -15.4, -16.2, -15.2, -16.0, -16.0, -15.1, -15.7, -15.8,
  ];

  it('local maxima: plateaus give their middle (rounded down), the ends are never peaks', () => {
    expect(localMaxima(x)).toEqual([3, 6, 9, 12, 15, 18, 21]);
    expect(localMaxima(walk)).toEqual([1, 7, 12, 15, 24, 29, 34, 37]);
  });

  it('prominences and left bases (nearest the peak among tied minima)', () => {
    const a = peakProminences(x, localMaxima(x));
    expect(a.map((p) => p.prominence)).toEqual([1, 3, 2, 3, 0.5, 5.5, 1]);
    expect(a.map((p) => p.leftBase)).toEqual([1, 5, 8, 8, 14, 8, 20]);
    const b = peakProminences(walk, localMaxima(walk));
    b.forEach((p, i) => expect(p.prominence).toBeCloseTo([0.3, 1.4, 0.9, 0.7, 0.5, 0.1, 0.8, 0.7][i], 12));
    expect(b.map((p) => p.leftBase)).toEqual([0, 6, 9, 14, 22, 28, 33, 33]);
  });

  it('selects by prominence ≥ p as find_peaks(x, prominence=1.5): peaks 6, 9, 12, 18 with left bases 5, 8, 8, 8', () => {
    const found = prominentExcursions(Float64Array.from(x), 1.5);
    expect(found.map((e) => [e.peak, e.start])).toEqual([
      [6, 5],
      [9, 8],
      [12, 8],
      [18, 8],
    ]);
    // Recovery: the first sample after the peak at or under its left base's loss.
    expect(found.map((e) => e.end)).toEqual([7, 22, 22, 22]);
  });
});

describe('RangeExtreme', () => {
  it('finds the extreme of every range, ties to the first or last index, NaN never winning', () => {
    const values = [3, 1, 4, 1, 5, Number.NaN, 2, 6, 5, 3, 5];
    const lastMin = new RangeExtreme(values, 'min', 'last');
    const firstMax = new RangeExtreme(values, 'max', 'first');
    for (let a = 0; a < values.length; a++) {
      for (let b = a; b < values.length; b++) {
        const range = values.slice(a, b + 1).map((v, i) => ({ v: Number.isNaN(v) ? null : v, i: a + i })).filter((e) => e.v !== null) as { v: number; i: number }[];
        if (!range.length) continue;
        const min = Math.min(...range.map((e) => e.v));
        const max = Math.max(...range.map((e) => e.v));
        expect(lastMin.index(a, b)).toBe(range.filter((e) => e.v === min).at(-1)!.i);
        expect(firstMax.index(a, b)).toBe(range.find((e) => e.v === max)!.i);
      }
    }
  });
});

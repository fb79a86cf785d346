/**
 * Instabilities of a GD run from its loss and sharpness traces (docs/architecture.md, "Science definitions as
 * implemented"). Two detectors of the loss rise, both built on libs/train's rise rule:
 *
 * - `relative` (the original rule): scanning forward, a rise of the loss above riseLevel(running minimum) starts
 *   an excursion; its start is that running minimum, its peak the loss maximum until the loss is back under the
 *   pre-rise level (recovery), where the next scan starts.
 * - `absolute`: the local maxima of the loss whose topographic prominence is ≥ p in loss units, exactly as
 *   scipy.signal.find_peaks(loss, prominence=p) selects them (plateaus give their middle sample, the first and
 *   last samples are never peaks); the start is the peak's left base (find_peaks' `left_bases`).
 *
 * Either way an excursion is an instability only if λmax > 2/η_t at some sharpness sample from its start to its
 * peak (a loss rise with the sharpness below threshold is not the large-learning-rate mechanism). Each records
 * the crossings of λmax through 2/η around it, the λmax peak and trough, and loss recovery. Everything is
 * O(n log n) in the trace length (range extremes by sparse tables), so 20,000-step traces with an oscillating
 * loss cost milliseconds.
 */
import type { TableRow } from '@lrscape/artifacts';
import { riseLevel, type RiseDetector } from '@lrscape/train';

export interface TracePoint {
  step: number;
  lr: number;
  loss: number | null;
  sharpness: number | null;
}

export interface Instability {
  index: number;
  /** Step of the last loss minimum before the rise (the pre-rise level). */
  start: number;
  /** Step of the loss peak (moved forward while λmax still rises, with peakFollowsSharpness). */
  peak: number;
  /** Loss recovery: the first step after the peak with the loss back at or under the pre-rise level; null if never. */
  end: number | null;
  lossBefore: number;
  peakLoss: number;
  /** The last sharpness sample at or before the peak that is above 2/η_t while the sample before it was not; null if none. */
  upCrossing: number | null;
  /** The first sample at or after the up-crossing (or the start, without one) back under 2/η_t; null if never. */
  downCrossing: number | null;
  /** Sharpness samples nearest the start (at or before) and the recovery (at or after). */
  sharpnessBefore: number | null;
  sharpnessAfter: number | null;
  /** λmax peak over the instability (start to recovery, or to the trace's end) and its trough after that peak. */
  sharpnessPeak: number | null;
  sharpnessPeakStep: number | null;
  sharpnessTrough: number | null;
  sharpnessTroughStep: number | null;
  /** The same for λmax/(2/η_t), the worst case that along-run flattening follows. */
  ratioPeak: number | null;
  ratioPeakStep: number | null;
  ratioTrough: number | null;
  ratioTroughStep: number | null;
  heatingSteps: number;
  coolingSteps: number | null;
}

export interface InstabilityOptions {
  detector: RiseDetector;
  /** Move each peak forward while λmax still rises (the first author's public code); default off. */
  peakFollowsSharpness?: boolean;
}

/** Points must be sorted by step; a null or non-finite loss ends the scan (divergence). */
export function detectInstabilities(points: readonly TracePoint[], options: InstabilityOptions): Instability[] {
  return new InstabilityScan(points).detect(options);
}

/**
 * One trace prepared once for any number of detectors (the sensitivity sweep): the sharpness tables and the
 * loss peaks' prominences are computed on first use and shared.
 */
export class InstabilityScan {
  private readonly usable: TracePoint[] = [];
  private readonly loss: Float64Array;
  private trace: SharpnessTrace | null = null;
  private prominent: ProminentExcursion[] | null = null;

  constructor(points: readonly TracePoint[]) {
    for (const p of points) {
      if (p.loss === null || !Number.isFinite(p.loss)) break;
      this.usable.push(p);
    }
    this.loss = Float64Array.from(this.usable, (p) => p.loss!);
  }

  detect(options: InstabilityOptions): Instability[] {
    if (this.usable.length === 0) return [];
    const { detector } = options;
    const excursions: Excursion[] =
      detector.kind === 'relative'
        ? relativeExcursions(this.loss, detector)
        : this.peaks().filter((p) => p.prominence >= detector.threshold);
    const trace = (this.trace ??= new SharpnessTrace(this.usable));
    const found: Instability[] = [];
    for (const excursion of excursions) {
      const peak = options.peakFollowsSharpness ? trace.followRise(excursion.peak, excursion.end ?? this.usable.length - 1) : excursion.peak;
      if (!trace.aboveThresholdWithin(excursion.start, peak)) continue;
      found.push(describe(found.length + 1, { ...excursion, peak }, this.usable, this.loss, trace));
    }
    return found;
  }

  /** Every local maximum of the loss with its prominence, left base and recovery (absolute thresholds filter these). */
  private peaks(): ProminentExcursion[] {
    return (this.prominent ??= prominentExcursions(this.loss, -Infinity));
  }
}

interface Excursion {
  /** Indices into the usable points. */
  start: number;
  peak: number;
  end: number | null;
}

/** The relative rule's excursions: rise over the running minimum since the last recovery, peak, recovery. */
export function relativeExcursions(loss: Float64Array, detector: RiseDetector): Excursion[] {
  const found: Excursion[] = [];
  let minIndex = 0;
  for (let i = 0; i < loss.length; i++) {
    if (loss[i] < loss[minIndex]) minIndex = i;
    if (!(loss[i] > riseLevel(detector, loss[minIndex]))) continue;
    const level = loss[minIndex];
    let peak = i;
    let end: number | null = null;
    for (let j = i; j < loss.length; j++) {
      if (loss[j] > loss[peak]) peak = j;
      if (loss[j] <= level) {
        end = j;
        break;
      }
    }
    found.push({ start: minIndex, peak, end });
    if (end === null) break;
    i = end;
    minIndex = end;
  }
  return found;
}

/** scipy.signal's _local_maxima_1d: indices of local maxima (a plateau gives its middle, rounded down). */
export function localMaxima(x: ArrayLike<number>): number[] {
  const peaks: number[] = [];
  const last = x.length - 1;
  let i = 1;
  while (i < last) {
    if (x[i - 1] < x[i]) {
      let ahead = i + 1;
      while (ahead < last && x[ahead] === x[i]) ahead++;
      if (x[ahead] < x[i]) {
        peaks.push((i + ahead - 1) >> 1);
        i = ahead;
      }
    }
    i++;
  }
  return peaks;
}

/**
 * Topographic prominence of each peak as scipy.signal.peak_prominences (wlen = None): the peak's height over
 * the higher of its two bases, each base the minimum between the peak and the nearest strictly higher sample
 * on that side (or the signal's end). leftBase is the index of the left minimum, nearest the peak among ties.
 */
export function peakProminences(x: ArrayLike<number>, peaks: readonly number[]): { prominence: number; leftBase: number }[] {
  const n = x.length;
  // Nearest strictly higher sample on each side of every index, by monotonic stacks: O(n).
  const higherLeft = new Int32Array(n).fill(-1);
  const higherRight = new Int32Array(n).fill(n);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    while (stack.length && x[stack[stack.length - 1]] <= x[i]) stack.pop();
    if (stack.length) higherLeft[i] = stack[stack.length - 1];
    stack.push(i);
  }
  stack.length = 0;
  for (let i = n - 1; i >= 0; i--) {
    while (stack.length && x[stack[stack.length - 1]] <= x[i]) stack.pop();
    if (stack.length) higherRight[i] = stack[stack.length - 1];
    stack.push(i);
  }
  const minimum = new RangeExtreme(x, 'min', 'last');
  return peaks.map((peak) => {
    const leftBase = minimum.index(higherLeft[peak] + 1, peak);
    const rightMin = x[minimum.index(peak, higherRight[peak] - 1)];
    return { prominence: x[peak] - Math.max(x[leftBase], rightMin), leftBase };
  });
}

interface ProminentExcursion extends Excursion {
  prominence: number;
}

/** The absolute rule's excursions: peaks of prominence ≥ p (find_peaks' `prominence=p`), from the left base to recovery. */
export function prominentExcursions(loss: Float64Array, minProminence: number): ProminentExcursion[] {
  const peaks = localMaxima(loss);
  const prominences = peakProminences(loss, peaks);
  const found: ProminentExcursion[] = [];
  // Recovery: the first index after the peak with the loss at or under the pre-rise level, by a range minimum and bisection.
  const minimum = new RangeExtreme(loss, 'min', 'first');
  peaks.forEach((peak, k) => {
    const { prominence, leftBase } = prominences[k];
    if (!(prominence >= minProminence)) return;
    found.push({ start: leftBase, peak, end: firstAtOrBelow(loss, minimum, peak + 1, loss[leftBase]), prominence });
  });
  return found;
}

/** The first index ≥ from whose value is ≤ level, or null: bisection on prefix minima of the range. */
function firstAtOrBelow(x: ArrayLike<number>, minimum: RangeExtreme, from: number, level: number): number | null {
  const last = x.length - 1;
  if (from > last || x[minimum.index(from, last)] > level) return null;
  let lo = from;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[minimum.index(from, mid)] <= level) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Index of the extreme (min or max) of x over an inclusive index range in O(1) after an O(n log n) sparse table.
 * Ties go to the first or the last index of the range, as asked. Non-finite values never win unless all are.
 */
export class RangeExtreme {
  private readonly levels: Int32Array[] = [];

  constructor(
    private readonly x: ArrayLike<number>,
    private readonly kind: 'min' | 'max',
    private readonly ties: 'first' | 'last',
  ) {
    const n = x.length;
    this.levels.push(Int32Array.from({ length: n }, (_, i) => i));
    for (let width = 2; width <= n; width *= 2) {
      const previous = this.levels[this.levels.length - 1];
      const level = new Int32Array(n - width + 1);
      for (let i = 0; i < level.length; i++) level[i] = this.better(previous[i], previous[i + width / 2]);
      this.levels.push(level);
    }
  }

  /** The winner of indices a < b by value, ties by position. */
  private better(a: number, b: number): number {
    const va = this.value(a);
    const vb = this.value(b);
    if (va === vb) return this.ties === 'first' ? a : b;
    return (this.kind === 'min' ? va < vb : va > vb) ? a : b;
  }

  private value(i: number): number {
    const v = this.x[i];
    if (Number.isNaN(v)) return this.kind === 'min' ? Infinity : -Infinity;
    return v;
  }

  /** Inclusive range from ≤ to. */
  index(from: number, to: number): number {
    if (from > to) throw new RangeError(`RangeExtreme: empty range ${from}…${to}`);
    const level = 31 - Math.clz32(to - from + 1);
    const width = 1 << level;
    const a = this.levels[level][from];
    const b = this.levels[level][to - width + 1];
    return a <= b ? this.better(a, b) : this.better(b, a);
  }
}

/** The sharpness samples of a trace, indexed by trace position, with what the instability rows ask of them. */
class SharpnessTrace {
  readonly sharpness: Float64Array;
  readonly ratio: Float64Array;
  /** Index of the last sample at or before i (−1 if none), and of the first at or after i (n if none). */
  private readonly previousSample: Int32Array;
  private readonly nextSample: Int32Array;
  /** Index of the last up-crossing sample at or before i (−1 if none). */
  private readonly lastUpCrossing: Int32Array;
  /** Index of the first down-crossing sample at or after i (n if none). */
  private readonly nextDownCrossing: Int32Array;
  /** Prefix count of samples above 2/η_t, for "above somewhere in a range". */
  private readonly aboveCount: Int32Array;
  private readonly maxSharpness: RangeExtreme;
  private readonly minSharpness: RangeExtreme;
  private readonly maxRatio: RangeExtreme;
  private readonly minRatio: RangeExtreme;

  constructor(readonly points: readonly TracePoint[]) {
    const n = points.length;
    this.sharpness = Float64Array.from(points, (p) => (p.sharpness !== null && Number.isFinite(p.sharpness) ? p.sharpness : NaN));
    this.ratio = Float64Array.from(points, (p, i) => this.sharpness[i] / (2 / p.lr));
    this.previousSample = new Int32Array(n);
    this.nextSample = new Int32Array(n);
    this.lastUpCrossing = new Int32Array(n);
    this.nextDownCrossing = new Int32Array(n);
    this.aboveCount = new Int32Array(n + 1);
    let previous = -1;
    let lastUp = -1;
    for (let i = 0; i < n; i++) {
      const sampled = !Number.isNaN(this.ratio[i]);
      if (sampled && previous >= 0 && this.ratio[previous] <= 1 && this.ratio[i] > 1) lastUp = i;
      if (sampled) previous = i;
      this.previousSample[i] = previous;
      this.lastUpCrossing[i] = lastUp;
      this.aboveCount[i + 1] = this.aboveCount[i] + (sampled && this.ratio[i] > 1 ? 1 : 0);
    }
    let next = n;
    let nextDown = n;
    for (let i = n - 1; i >= 0; i--) {
      const sampled = !Number.isNaN(this.ratio[i]);
      if (sampled) {
        const before = this.previousSample[i > 0 ? i - 1 : 0];
        if (i > 0 && before >= 0 && this.ratio[before] >= 1 && this.ratio[i] < 1) nextDown = i;
        next = i;
      }
      this.nextSample[i] = next;
      this.nextDownCrossing[i] = nextDown;
    }
    this.maxSharpness = new RangeExtreme(this.sharpness, 'max', 'first');
    this.minSharpness = new RangeExtreme(this.sharpness, 'min', 'first');
    this.maxRatio = new RangeExtreme(this.ratio, 'max', 'first');
    this.minRatio = new RangeExtreme(this.ratio, 'min', 'first');
  }

  aboveThresholdWithin(from: number, to: number): boolean {
    return this.aboveCount[to + 1] - this.aboveCount[from] > 0;
  }

  /** From a peak index, forward from sample to sample while λmax still rises, never past `limit`. */
  followRise(peak: number, limit: number): number {
    let current = this.previousSample[peak];
    if (current < 0) return peak;
    let at = peak;
    while (at < limit) {
      const next = this.nextSample[at + 1];
      if (next > limit || !(this.sharpness[next] > this.sharpness[current])) break;
      current = next;
      at = next;
    }
    return at;
  }

  upCrossingAtOrBefore(i: number): number | null {
    const k = this.lastUpCrossing[i];
    return k >= 0 ? k : null;
  }

  downCrossingAtOrAfter(i: number): number | null {
    const k = this.nextDownCrossing[i];
    return k < this.points.length ? k : null;
  }

  sampleAtOrBefore(i: number): number | null {
    const k = this.previousSample[i];
    return k >= 0 ? this.sharpness[k] : null;
  }

  sampleAtOrAfter(i: number): number | null {
    const k = this.nextSample[i];
    return k < this.points.length ? this.sharpness[k] : null;
  }

  /** The extreme of a series over an inclusive range, null where the range holds no sample. */
  extreme(series: 'sharpness' | 'ratio', kind: 'min' | 'max', from: number, to: number): { value: number; index: number } | null {
    const table = series === 'sharpness' ? (kind === 'max' ? this.maxSharpness : this.minSharpness) : kind === 'max' ? this.maxRatio : this.minRatio;
    const index = table.index(from, to);
    const value = (series === 'sharpness' ? this.sharpness : this.ratio)[index];
    return Number.isNaN(value) ? null : { value, index };
  }
}

function describe(index: number, excursion: Excursion, points: readonly TracePoint[], loss: Float64Array, trace: SharpnessTrace): Instability {
  const { start, peak, end } = excursion;
  const step = (i: number | null) => (i === null ? null : points[i].step);
  const windowEnd = end ?? points.length - 1;
  const up = trace.upCrossingAtOrBefore(peak);
  const down = trace.downCrossingAtOrAfter(up ?? start);
  const sharpnessPeak = trace.extreme('sharpness', 'max', start, windowEnd);
  const sharpnessTrough = sharpnessPeak ? trace.extreme('sharpness', 'min', sharpnessPeak.index, windowEnd) : null;
  const ratioPeak = trace.extreme('ratio', 'max', start, windowEnd);
  const ratioTrough = ratioPeak ? trace.extreme('ratio', 'min', ratioPeak.index, windowEnd) : null;
  return {
    index,
    start: points[start].step,
    peak: points[peak].step,
    end: step(end),
    lossBefore: loss[start],
    peakLoss: loss[peak],
    upCrossing: step(up),
    downCrossing: step(down),
    sharpnessBefore: trace.sampleAtOrBefore(start),
    sharpnessAfter: end === null ? null : trace.sampleAtOrAfter(end),
    sharpnessPeak: sharpnessPeak?.value ?? null,
    sharpnessPeakStep: step(sharpnessPeak?.index ?? null),
    sharpnessTrough: sharpnessTrough?.value ?? null,
    sharpnessTroughStep: step(sharpnessTrough?.index ?? null),
    ratioPeak: ratioPeak?.value ?? null,
    ratioPeakStep: step(ratioPeak?.index ?? null),
    ratioTrough: ratioTrough?.value ?? null,
    ratioTroughStep: step(ratioTrough?.index ?? null),
    heatingSteps: points[peak].step - points[start].step,
    coolingSteps: end === null ? null : points[end].step - points[peak].step,
  };
}

/** The `instabilities` rows of one run's instabilities found by `options.detector`. */
export function instabilityRows(run: Pick<TableRow<'runs'>, 'run' | 'eta'>, found: readonly Instability[], options: InstabilityOptions): TableRow<'instabilities'>[] {
  return found.map((e) => ({
    run: run.run,
    eta: run.eta,
    index: e.index,
    start: e.start,
    peak: e.peak,
    end: e.end,
    loss_before: e.lossBefore,
    peak_loss: e.peakLoss,
    sharpness_before: e.sharpnessBefore,
    sharpness_peak: e.sharpnessPeak,
    sharpness_after: e.sharpnessAfter,
    heating_steps: e.heatingSteps,
    cooling_steps: e.coolingSteps,
    detector: options.detector.kind,
    threshold: options.detector.threshold,
    up_crossing: e.upCrossing,
    down_crossing: e.downCrossing,
    sharpness_peak_step: e.sharpnessPeakStep,
    sharpness_trough: e.sharpnessTrough,
    sharpness_trough_step: e.sharpnessTroughStep,
    ratio_peak: e.ratioPeak,
    ratio_peak_step: e.ratioPeakStep,
    ratio_trough: e.ratioTrough,
    ratio_trough_step: e.ratioTroughStep,
  }));
}

/** A run's steps as a detector's trace, sorted by step. */
export function traceOf(steps: readonly TableRow<'steps'>[]): TracePoint[] {
  return [...steps].sort((a, b) => a.step - b.step).map((s) => ({ step: s.step, lr: s.lr, loss: s.loss, sharpness: s.sharpness }));
}

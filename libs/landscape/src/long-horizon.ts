/**
 * Open question 1 of the paper: over long training, does the worst-case sharpness of each instability keep
 * falling, saturate, and where relative to 2/η? (docs/architecture.md, "Science definitions as implemented").
 * Per constant-η run:
 *
 * - the trend: the OLS slope of the per-instability peak (and trough) of λmax/(2/η) against ln(step) over the
 *   later half of the run's instabilities (by index; at least MIN_INSTABILITIES of them) — is it still falling
 *   when the instabilities are late in their sequence?
 * - where it ends: the last instability's peak and trough, and λmax/(2/η) over the late part of training (the
 *   last lateFraction of the steps) from the steps table — the power estimate and, where training checked it,
 *   warm Lanczos — with the number of instabilities that late (none: the instabilities have stopped).
 *
 * The finding is computed from those rows: t-intervals over per-seed means (seeds are the independent units;
 * the statistics are means, and with 3–5 seeds a percentile bootstrap covers poorly).
 */
import type { TableRow } from '@lrscape/artifacts';
import { eligibleRuns, MIN_INSTABILITIES } from './along-run';
import { median } from './power-check';
import { formatInterval, nullVerdict, signVerdict, tInterval, type Interval } from './statistics';

export interface LongHorizonSettings {
  /** The late part of training, as a fraction of each run's steps (0.5: the second half). */
  lateFraction: number;
}

/**
 * |slope| of λmax/(2/η) per e-fold of steps below which the trend counts as flat: over a doubling of t it moves
 * the ratio by < 0.014, about the power estimate's median error inside instabilities (~1% on W-reg and SRC, the
 * power_check table), so a finer margin would claim a resolution the measurement lacks.
 */
export const FLAT_SLOPE = 0.02;

type Event = Pick<TableRow<'instabilities'>, 'run' | 'index' | 'peak' | 'ratio_peak' | 'ratio_trough'>;

/** OLS slope of y on x; null with fewer than MIN_INSTABILITIES points or no spread in x. */
export function olsSlope(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n !== y.length || n < MIN_INSTABILITIES) return null;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : null;
}

const sortedMedian = (values: number[]) => median(values.sort((a, b) => a - b));

export function longHorizonRows(
  runs: readonly TableRow<'runs'>[],
  stepsByRun: ReadonlyMap<string, readonly TableRow<'steps'>[]>,
  instabilities: readonly Event[],
  settings: LongHorizonSettings,
): TableRow<'long_horizon'>[] {
  return eligibleRuns(runs).map((run) => {
    const own = instabilities.filter((e) => e.run === run.run && e.peak > 0).sort((a, b) => a.index - b.index);
    const tail = own.slice(Math.floor(own.length / 2));
    const tailPeaks = tail.filter((e) => e.ratio_peak !== null);
    const tailTroughs = tail.filter((e) => e.ratio_trough !== null);
    const lateFrom = Math.round((1 - settings.lateFraction) * run.steps);
    const late = (stepsByRun.get(run.run) ?? []).filter((s) => s.step >= lateFrom && s.sharpness !== null && s.lr > 0);
    const ratios = late.map((s) => s.sharpness! / (2 / s.lr));
    const checks = late.filter((s) => s.sharpness_check !== null).map((s) => s.sharpness_check! / (2 / s.lr));
    const last = own.at(-1);
    return {
      run: run.run,
      eta: run.eta,
      seed: run.seed,
      steps: run.steps,
      instabilities: own.length,
      last_peak: last?.peak ?? null,
      tail_from_index: tail[0]?.index ?? null,
      tail_slope_peak: olsSlope(tailPeaks.map((e) => Math.log(e.peak)), tailPeaks.map((e) => e.ratio_peak!)),
      tail_slope_trough: olsSlope(tailTroughs.map((e) => Math.log(e.peak)), tailTroughs.map((e) => e.ratio_trough!)),
      last_ratio_peak: last?.ratio_peak ?? null,
      last_ratio_trough: last?.ratio_trough ?? null,
      late_from: lateFrom,
      late_instabilities: own.filter((e) => e.peak >= lateFrom).length,
      late_ratio_median: sortedMedian(ratios),
      late_ratio_max: ratios.length ? Math.max(...ratios) : null,
      late_check_median: sortedMedian(checks),
    };
  });
}

/** t-interval over seeds of each seed's mean of `value` over its runs (runs without a value left out). */
export function perSeedInterval(rows: readonly TableRow<'long_horizon'>[], value: (row: TableRow<'long_horizon'>) => number | null): Interval | null {
  const bySeed = new Map<number, number[]>();
  for (const row of rows) {
    const v = value(row);
    if (v !== null) push(bySeed, row.seed, v);
  }
  return tInterval([...bySeed.values()].map((vs) => vs.reduce((s, v) => s + v, 0) / vs.length));
}

export type LongHorizonTrend = 'keeps falling' | 'rises' | 'is flat' | 'is undetermined';

/** What a slope's interval says: below 0, above 0, within ±FLAT_SLOPE, or none of these. */
export function trendOf(interval: Interval | null): LongHorizonTrend | null {
  if (!interval) return null;
  if (signVerdict(interval, 'negative') === 'pass') return 'keeps falling';
  if (signVerdict(interval, 'positive') === 'pass') return 'rises';
  if (nullVerdict(interval, FLAT_SLOPE) === 'pass') return 'is flat';
  return 'is undetermined';
}

/** Where an interval of λmax/(2/η) lies against 1 (λmax = 2/η). */
export function against2OverEta(interval: Interval | null): string {
  if (!interval) return 'not computed';
  if (interval.lower > 1) return 'above 2/η';
  if (interval.upper < 1) return 'below 2/η';
  return 'at 2/η within its CI';
}

const ci = (interval: Interval | null) => (interval ? formatInterval(interval) : '— (needs 2 seeds)');

/**
 * long-horizon-flattening (open question 1), one claim carrying the finding: the slope of the worst-case
 * λmax/(2/η) against ln t over the later half of the instabilities is < 0 (it keeps falling: pass; rises: fail;
 * else inconclusive), with where it ends — the last instability's peak, whether any instability is left in the
 * late part of training, and λmax/(2/η) there. Null (no claim) when the experiment has no long-horizon rows.
 */
export function longHorizonClaim(rows: readonly TableRow<'long_horizon'>[]): TableRow<'claims'> | null {
  if (rows.length === 0) return null;
  const withInstabilities = rows.filter((r) => r.instabilities > 0);
  const slope = perSeedInterval(rows, (r) => r.tail_slope_peak);
  const troughSlope = perSeedInterval(rows, (r) => r.tail_slope_trough);
  const lastPeak = perSeedInterval(withInstabilities, (r) => r.last_ratio_peak);
  const lastTrough = perSeedInterval(withInstabilities, (r) => r.last_ratio_trough);
  const checked = rows.every((r) => r.late_check_median !== null);
  const level = perSeedInterval(rows, (r) => (checked ? r.late_check_median : r.late_ratio_median));
  const trend = trendOf(slope);
  const late = rows.reduce((s, r) => s + r.late_instabilities, 0);
  const lastSteps = withInstabilities.map((r) => r.last_peak!).sort((a, b) => a - b);
  const lateFrom = [...new Set(rows.map((r) => r.late_from))].join('/');
  const etas = [...new Set(rows.map((r) => r.eta))].sort((a, b) => a - b);
  const finding = [
    trend
      ? `finding: the worst-case sharpness ${trend} through the later half of the instabilities (slope of peak λmax/(2/η) per e-fold of steps ${ci(slope)}; flat means within ±${FLAT_SLOPE}; trough slope ${ci(troughSlope)})`
      : `finding: no trend (the later half of a run's instabilities needs ≥ ${MIN_INSTABILITIES}, in runs of at least 2 seeds)`,
    `the last instability peaks at λmax/(2/η) ${ci(lastPeak)}, ${against2OverEta(lastPeak)}, its trough ${ci(lastTrough)}, ${against2OverEta(lastTrough)}` +
      (lastSteps.length ? `, at steps ${lastSteps[0]}–${lastSteps.at(-1)}` : ''),
    late === 0
      ? `no instability in the late part of training (from step ${lateFrom}): the instabilities have stopped`
      : `${late} instabilities in the late part of training (from step ${lateFrom})`,
    `there λmax/(2/η) has median ${ci(level)} (${checked ? 'warm Lanczos checks' : 'power estimate'}), ${against2OverEta(level)}` +
      `; max of the power estimate ${Math.max(...rows.map((r) => r.late_ratio_max ?? -Infinity)).toFixed(3)}`,
  ].join('; ');
  return {
    id: 'long-horizon-flattening',
    claim: 'Open question 1, long horizon: the worst-case sharpness of each instability (peak λmax/(2/η)) keeps falling late in training',
    measured: slope?.estimate ?? null,
    expected:
      `OLS slope of the per-instability peak λmax/(2/η) against ln(step) over the later half of each run's instabilities, mean per seed: its 95% t-interval over seeds below 0 (pass), above 0 (fail), else inconclusive; ` +
      `within ±${FLAT_SLOPE} per e-fold it is flat; η = ${etas.join(', ')}, each slope within one run`,
    verdict: signVerdict(slope, 'negative'),
    detail: `${finding}; per run: ${rows.map((r) => `${r.run}: ${r.instabilities} instabilities, last at ${r.last_peak ?? '—'}, slope ${r.tail_slope_peak === null ? '—' : r.tail_slope_peak.toFixed(4)}`).join(', ')}`,
  };
}

/** Appends to the list under `key` (no copying: lists here can hold every step of a 20,000-step run). */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

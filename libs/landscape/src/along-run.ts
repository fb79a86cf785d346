/**
 * Along-run flattening (docs/architecture.md, "Science definitions as implemented"): within one run at constant
 * η, the worst-case sharpness of each instability — the peak of λmax/(2/η) over it — against its index i. The
 * paper's reading is that each instability moves the run to a flatter region, so the peaks fall with i.
 *
 * - Per run, Kendall τ of (i, ratio peak), never pooled across η (different η sit at different sharpness
 *   scales and instability rates). Runs with fewer than MIN_INSTABILITIES instabilities are left out, counted.
 * - Over runs: the mean τ of each seed's runs, and a t-interval over those per-seed means. Seeds are the
 *   independent units (runs of one seed share θ_0); the statistic is a mean; and with 2–5 seeds a percentile
 *   bootstrap has only a handful of distinct resamples and covers poorly, so the t-interval it is.
 * - The confound: i grows with time, and sharpness may drift with time whatever the instabilities do. Within
 *   a run i and t are rank-identical, so no within-run statistic can separate them; across the seeds of one η
 *   they differ (instabilities come at different times), so the partial τ of (i, ratio peak) given ln t is
 *   computed per η over its seeds' pooled instabilities, its CI by a group bootstrap over seeds.
 */
import type { TableRow } from '@lrscape/artifacts';
import { formatInterval, groupBootstrap, kendallTau, partialKendallTau, signVerdict, tInterval, type Interval, type Verdict } from './statistics';

type Claim = TableRow<'claims'>;
type Run = Pick<TableRow<'runs'>, 'run' | 'eta' | 'seed' | 'schedule' | 'diverged'>;
type Event = Pick<TableRow<'instabilities'>, 'run' | 'index' | 'peak' | 'ratio_peak' | 'ratio_trough'>;

/** τ over 2 points is ±1 whatever the data: at least 3 instabilities per run. */
export const MIN_INSTABILITIES = 3;

export interface RunTrend {
  count: number;
  tauPeak: number | null;
  tauTrough: number | null;
  firstRatioPeak: number | null;
  lastRatioPeak: number | null;
}

/** One run's instabilities (any order): τ of the ratio peak and trough against the index, and the first and last peak. */
export function runTrend(events: readonly Event[]): RunTrend {
  const sorted = [...events].sort((a, b) => a.index - b.index);
  const withPeak = sorted.filter((e) => e.ratio_peak !== null);
  const withTrough = sorted.filter((e) => e.ratio_trough !== null);
  const tau = (rows: readonly Event[], y: (e: Event) => number) =>
    rows.length >= MIN_INSTABILITIES ? kendallTau(rows.map((e) => e.index), rows.map(y)) : null;
  return {
    count: sorted.length,
    tauPeak: tau(withPeak, (e) => e.ratio_peak!),
    tauTrough: tau(withTrough, (e) => e.ratio_trough!),
    firstRatioPeak: withPeak[0]?.ratio_peak ?? null,
    lastRatioPeak: withPeak.at(-1)?.ratio_peak ?? null,
  };
}

export interface AlongRunSummary {
  /** t-interval over the per-seed mean τ. */
  interval: Interval | null;
  verdict: Verdict;
  perSeed: { seed: number; mean: number; runs: number }[];
  /** Runs with a τ, and eligible runs left out for having fewer than MIN_INSTABILITIES instabilities. */
  used: number;
  tooFew: number;
  reason: string | null;
}

/** The claim's summary from per-run τ (null τ: too few instabilities). Only constant-η, non-diverged runs belong here. */
export function summarizeTrend(perRun: readonly { seed: number; tau: number | null }[]): AlongRunSummary {
  const bySeed = new Map<number, number[]>();
  for (const r of perRun) if (r.tau !== null) push(bySeed, r.seed, r.tau);
  const perSeed = [...bySeed.entries()].sort((a, b) => a[0] - b[0]).map(([seed, taus]) => ({ seed, mean: taus.reduce((s, v) => s + v, 0) / taus.length, runs: taus.length }));
  const used = perSeed.reduce((s, p) => s + p.runs, 0);
  const tooFew = perRun.length - used;
  const interval = tInterval(perSeed.map((p) => p.mean));
  const reason = interval
    ? null
    : used === 0
      ? `no constant-η run has ${MIN_INSTABILITIES} or more instabilities`
      : `a CI over seeds needs τ from at least 2 seeds; ${perSeed.length} seed(s) have one`;
  return { interval, verdict: signVerdict(interval, 'negative'), perSeed, used, tooFew, reason };
}

/** The constant-η, non-diverged runs: the along-run statistics are about a fixed η. */
export const eligibleRuns = <R extends Run>(runs: readonly R[]): R[] => runs.filter((r) => r.schedule === 'constant' && !r.diverged);

export interface PartialByEta {
  eta: number;
  seeds: number;
  instabilities: number;
  partial: number | null;
}

/** Partial τ of (index, ratio peak) given ln(peak step), per η over its seeds' pooled instabilities. */
export function partialTauByEta(runs: readonly Run[], events: readonly Event[]): PartialByEta[] {
  const runOf = new Map(eligibleRuns(runs).map((r) => [r.run, r]));
  const byEta = new Map<number, { seed: number; event: Event }[]>();
  for (const e of events) {
    const run = runOf.get(e.run);
    if (!run || e.ratio_peak === null) continue;
    push(byEta, run.eta, { seed: run.seed, event: e });
  }
  return [...byEta.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([eta, rows]) => ({ eta, seeds: new Set(rows.map((r) => r.seed)).size, instabilities: rows.length, partial: pooledPartial(rows.map((r) => r.event)) }));
}

function pooledPartial(events: readonly Event[]): number | null {
  if (events.length < MIN_INSTABILITIES) return null;
  return partialKendallTau(
    events.map((e) => e.index),
    events.map((e) => e.ratio_peak!),
    events.map((e) => Math.log(Math.max(1, e.peak))),
  );
}

/** Seeds a bootstrap interval of the partial τ needs: 3 seeds give 10 distinct resamples, and a resample of one seed makes index and time collinear. */
export const MIN_BOOTSTRAP_SEEDS = 5;

/**
 * Mean over η of the pooled partial τ, with a percentile bootstrap over seeds (each resample draws seeds with
 * replacement and pools their instabilities per η); null with fewer than MIN_BOOTSTRAP_SEEDS seeds.
 */
export function partialTauInterval(runs: readonly Run[], events: readonly Event[]): Interval | null {
  const eligible = eligibleRuns(runs);
  const seeds = [...new Set(eligible.map((r) => r.seed))].sort((a, b) => a - b);
  if (seeds.length < MIN_BOOTSTRAP_SEEDS) return null;
  const runOf = new Map(eligible.map((r) => [r.run, r]));
  const groups = seeds.map((seed) =>
    events.filter((e) => e.ratio_peak !== null && runOf.get(e.run)?.seed === seed).map((e) => ({ eta: runOf.get(e.run)!.eta, event: e })),
  );
  const statistic = (pooled: readonly { eta: number; event: Event }[]) => {
    const byEta = new Map<number, Event[]>();
    for (const p of pooled) push(byEta, p.eta, p.event);
    const values = [...byEta.values()].map(pooledPartial).filter((v): v is number => v !== null);
    return values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
  };
  return groupBootstrap(groups, statistic, { seed: 9 });
}

const fixed = (x: number | null, digits = 3) => (x === null ? '—' : x.toFixed(digits));

/** The per-run τ of the along-run claim, computed from the primary detector's `instabilities` rows. */
export function primaryTrends(runs: readonly Run[], instabilities: readonly Event[]): { run: Run; trend: RunTrend }[] {
  const byRun = new Map<string, Event[]>();
  for (const e of instabilities) push(byRun, e.run, e);
  return eligibleRuns(runs).map((run) => ({ run, trend: runTrend(byRun.get(run.run) ?? []) }));
}

/**
 * along-run-flattening: τ(instability index, peak λmax/(2/η)) < 0 within runs, CI over seeds; the partial τ
 * given ln t and the trough's τ in the text.
 */
export function alongRunFlatteningClaim(runs: readonly Run[], instabilities: readonly Event[]): Claim {
  const trends = primaryTrends(runs, instabilities);
  const summary = summarizeTrend(trends.map(({ run, trend }) => ({ seed: run.seed, tau: trend.tauPeak })));
  const trough = summarizeTrend(trends.map(({ run, trend }) => ({ seed: run.seed, tau: trend.tauTrough })));
  const partial = partialTauByEta(runs, instabilities);
  const partialCi = partialTauInterval(runs, instabilities);
  const perRun = trends.filter((t) => t.trend.tauPeak !== null).map(({ run, trend }) => `${run.run}: τ ${fixed(trend.tauPeak)} over ${trend.count}`);
  const partialText = partial.length
    ? `partial τ given ln t, per η over its seeds: ${partial.map((p) => `η ${p.eta}: ${fixed(p.partial)} (${p.seeds} seed(s), ${p.instabilities})`).join(', ')}` +
      (partialCi ? `; mean ${formatInterval(partialCi)}` : `; no CI: a bootstrap over fewer than ${MIN_BOOTSTRAP_SEEDS} seeds has too few distinct resamples`)
    : 'no partial τ (no instabilities)';
  return {
    id: 'along-run-flattening',
    claim: 'Along-run flattening: within a run, the worst-case sharpness of each instability (peak λmax/(2/η)) falls with its index',
    measured: summary.interval?.estimate ?? null,
    expected:
      `mean Kendall τ(index, peak λmax/(2/η)) < 0: the 95% t-interval over per-seed means (each seed's constant-η runs with ≥ ${MIN_INSTABILITIES} primary instabilities; τ over 2 is ±1) lies below 0; ` +
      'a t-interval because seeds are the independent units and a percentile bootstrap over 2–3 seeds has too few distinct resamples; ' +
      'τ is within-run (never pooled across η); the index grows with time, so the partial τ given ln t is shown beside it',
    verdict: summary.verdict,
    detail: [
      summary.interval ? `τ ${formatInterval(summary.interval)}` : `not computed: ${summary.reason}`,
      `${summary.used} run(s) used, ${summary.tooFew} with fewer than ${MIN_INSTABILITIES} instabilities left out`,
      perRun.join(', ') || 'no per-run τ',
      `trough after the peak: τ ${trough.interval ? formatInterval(trough.interval) : '—'}`,
      partialText,
    ].join('; '),
  };
}

/** The along-run verdict at every swept threshold (from `instability_sensitivity`), and whether it is the same at all. */
export interface ThresholdVerdict {
  detector: 'relative' | 'absolute';
  threshold: number;
  summary: AlongRunSummary;
}

export function sweepVerdicts(runs: readonly Run[], sensitivity: readonly TableRow<'instability_sensitivity'>[]): ThresholdVerdict[] {
  const eligible = new Set(eligibleRuns(runs).map((r) => r.run));
  const keys = new Map<string, { detector: 'relative' | 'absolute'; threshold: number }>();
  for (const row of sensitivity) keys.set(`${row.detector}\u0000${row.threshold}`, { detector: row.detector, threshold: row.threshold });
  return [...keys.values()]
    .sort((a, b) => (a.detector === b.detector ? a.threshold - b.threshold : a.detector === 'relative' ? -1 : 1))
    .map(({ detector, threshold }) => {
      const rows = sensitivity.filter((r) => r.detector === detector && r.threshold === threshold && eligible.has(r.run));
      return { detector, threshold, summary: summarizeTrend(rows.map((r) => ({ seed: r.seed, tau: r.tau_peak }))) };
    });
}

/**
 * along-run-flattening-robust: the along-run verdict is the same at every swept threshold where it is computable
 * ("robust", pass) or not ("threshold-dependent", fail); not-run when a detector's threshold list is empty or
 * fewer than 2 thresholds give a verdict.
 */
export function alongRunRobustnessClaim(runs: readonly Run[], sensitivity: readonly TableRow<'instability_sensitivity'>[]): Claim {
  const verdicts = sweepVerdicts(runs, sensitivity);
  const computable = verdicts.filter((v) => v.summary.verdict !== 'not-run');
  const distinct = new Set(computable.map((v) => v.summary.verdict));
  const empty = runs.length ? (['relative', 'absolute'] as const).filter((kind) => !sensitivity.some((r) => r.detector === kind)) : [];
  const list = verdicts
    .map((v) => `${v.detector} ${v.threshold}: ${v.summary.verdict}${v.summary.interval ? ` (τ ${formatInterval(v.summary.interval, 2)})` : ''}`)
    .join('; ');
  let verdict: Verdict;
  let detail: string;
  if (empty.length) {
    verdict = 'not-run';
    detail = `${empty.map((kind) => `analysis.instabilities.sweep.${kind}`).join(' and ')} ${empty.length === 1 ? 'is' : 'are'} empty: the sweep needs thresholds of both detectors`;
  } else if (computable.length < 2) {
    verdict = 'not-run';
    detail = `the verdict is computable at ${computable.length} of ${verdicts.length} thresholds; robustness needs at least 2${list ? ` (${list})` : ''}`;
  } else {
    verdict = distinct.size === 1 ? 'pass' : 'fail';
    detail = `${distinct.size === 1 ? 'robust' : 'threshold-dependent'}: ${[...distinct].join(' / ')} at the ${computable.length} of ${verdicts.length} thresholds where computable; ${list}`;
  }
  return {
    id: 'along-run-flattening-robust',
    claim: 'The along-run flattening verdict does not depend on the instability detector or its threshold (analysis.instabilities.sweep)',
    measured: computable.length,
    expected: 'the same verdict (pass, fail or inconclusive) at every swept threshold where it is computable, at 2 or more of them: "robust"; otherwise "threshold-dependent"; measured: the number of thresholds where it is computable',
    verdict,
    detail,
  };
}

/** Appends to the list under `key` (no copying: lists here can hold every step of a 20,000-step run). */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

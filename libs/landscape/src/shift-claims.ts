/**
 * The landscape-shift claims (docs/architecture.md, "Landscape shift"), each for both metrics (overlap s and
 * cos of the RMS principal angle) at the experiment's fixed m, full Hessian:
 *
 * - primary, `shift-window[-cos-rms]`: an instability turns the top eigenspace more than an equally long
 *   quiet stretch of the same run just before it. Per instability d = metric(across it) − metric(across the
 *   quiet window); per seed the mean over that seed's paired instabilities (every constant η); a t-interval
 *   over seeds; predicted d < 0. The confound ruled out: time and drift. Both windows last L steps at the same
 *   η in the same run, so the O(η) drift of GD from gradient flow, and any steady turning of the landscape,
 *   enter both alike; the windows are training's event checkpoints, paired by a rule fixed in advance.
 * - secondary, `shift-matched-slope[-cos-rms]`: against the baseline at matched τ = Σ η_s, the metric falls
 *   faster with η above the instability onset than below it. Per seed and grid τ, the OLS slope of the metric
 *   against η over the runs at or above the onset η* (the smallest η of the seed with a primary instability)
 *   minus the slope over the runs below it, anchored at the baseline itself (η_base, 1); per seed the mean over
 *   τ; a t-interval over seeds; predicted < 0. Matching τ removes the step-matched confound (a run at 2η is
 *   twice as far along a stable path at the same step).
 *
 * The verdict is the interval's sign (signVerdict: no tolerance to tune; a zero-straddling interval is
 * inconclusive). An experiment with one seed gets `inconclusive (one seed)`: with one seed there is no
 * interval, and a single trajectory's sign is no evidence about the claim.
 */
import type { TableRow } from '@lrscape/artifacts';
import { olsSlope, perSeedMeans } from './drop-flattening';
import { formatInterval, mean, signVerdict, tInterval } from './statistics';

type Claim = TableRow<'claims'>;
type Metric = 'overlap' | 'cos-rms';

const METRIC_LABEL: Record<Metric, string> = { overlap: 'overlap s', 'cos-rms': 'cos of the RMS principal angle' };
/** The verdict row for per-seed values of a statistic predicted negative; one seed in the experiment: inconclusive. */
function seedClaim(base: Pick<Claim, 'id' | 'claim' | 'expected'>, perSeed: readonly { seed: number; mean: number }[], experimentSeeds: number, detail: string): Claim {
  if (perSeed.length === 0) return { ...base, measured: null, verdict: 'not-run', detail };
  const interval = tInterval(perSeed.map((s) => s.mean));
  const seeds = perSeed.map((s) => `s${s.seed} ${s.mean.toPrecision(3)}`).join(', ');
  if (experimentSeeds < 2 || !interval) {
    return { ...base, measured: mean(perSeed.map((s) => s.mean)), verdict: 'inconclusive', detail: `inconclusive (one seed): ${seeds}; ${detail}` };
  }
  return { ...base, measured: interval.estimate, verdict: signVerdict(interval, 'negative'), detail: `${formatInterval(interval)}; per seed ${seeds}; ${detail}` };
}

const seedsOf = (runs: readonly TableRow<'runs'>[]) => new Set(runs.filter((r) => r.schedule === 'constant').map((r) => r.seed)).size;

/** The primary window test, one claim per metric. */
export function shiftWindowClaims(runs: readonly TableRow<'runs'>[], windows: readonly TableRow<'shift_windows'>[]): Claim[] {
  const diverged = new Set(runs.filter((r) => r.diverged).map((r) => r.run));
  const paired = windows.filter((w) => w.status === 'paired' && !diverged.has(w.run));
  const m = [...new Set(windows.map((w) => w.m))].join(', ') || '—';
  return (['overlap', 'cos-rms'] as const).map((metric) => {
    const difference = (w: TableRow<'shift_windows'>) => (metric === 'overlap' ? w.overlap_instability! - w.overlap_quiet! : w.cos_rms_instability! - w.cos_rms_quiet!);
    const ill = paired.filter((w) => w.well_defined === false).length;
    const skipped = windows.filter((w) => w.status === 'skipped').length;
    const detail = paired.length
      ? `${paired.length} paired instabilities over ${new Set(paired.map((w) => w.run)).size} run(s) (η ${[...new Set(paired.map((w) => w.eta))].sort((a, b) => a - b).join(', ')}), ${skipped} without a quiet window; m = ${m}; ${ill} with a gap below minGap at some end (kept: dropping them would select on the outcome)`
      : `no instability with a quiet window of equal length before it (${skipped} skipped; see shift_windows)`;
    return seedClaim(
      {
        id: metric === 'overlap' ? 'shift-window' : 'shift-window-cos-rms',
        claim: `Landscape shift (primary): an instability turns the top eigenspace more than an equally long quiet window just before it (${METRIC_LABEL[metric]})`,
        expected: `per-seed mean of ${metric === 'overlap' ? 's' : 'cos-RMS'}(across the instability) − (across the quiet window) < 0: the 95% t-interval over seeds below 0`,
      },
      perSeedMeans(paired, difference),
      seedsOf(runs),
      detail,
    );
  });
}

/** The secondary matched-time slope comparison, one claim per metric. */
export function matchedSlopeClaims(runs: readonly TableRow<'runs'>[], matched: readonly TableRow<'matched_time'>[], instabilities: readonly TableRow<'instabilities'>[]): Claim[] {
  const unstable = new Set(instabilities.map((i) => i.run));
  const byRun = new Map(runs.map((r) => [r.run, r]));
  const ok = matched.filter((row) => row.status === 'ok' && !byRun.get(row.run)?.diverged);
  const notRun = matched.filter((row) => row.status === 'not-run').length;
  return (['overlap', 'cos-rms'] as const).map((metric) => {
    const values: { seed: number; mean: number }[] = [];
    const notes: string[] = [];
    for (const seed of [...new Set(ok.map((r) => r.seed))].sort((a, b) => a - b)) {
      const rows = ok.filter((r) => r.seed === seed);
      const onset = Math.min(...runs.filter((r) => r.seed === seed && r.schedule === 'constant' && !r.diverged && unstable.has(r.run)).map((r) => r.eta));
      if (!Number.isFinite(onset)) {
        notes.push(`s${seed}: no unstable η`);
        continue;
      }
      const differences: number[] = [];
      for (const tau of [...new Set(rows.map((r) => r.tau))].sort((a, b) => a - b)) {
        const at = rows.filter((r) => r.tau === tau && byRun.get(r.run)?.schedule === 'constant');
        const value = (r: TableRow<'matched_time'>) => (metric === 'overlap' ? r.overlap! : r.cos_rms_angle!);
        const baselineEta = byRun.get(at[0]?.baseline ?? '')?.eta;
        if (baselineEta === undefined) continue;
        const below = [{ eta: baselineEta, value: 1 }, ...at.filter((r) => r.eta < onset).map((r) => ({ eta: r.eta, value: value(r) }))];
        const above = at.filter((r) => r.eta >= onset).map((r) => ({ eta: r.eta, value: value(r) }));
        const slopeBelow = olsSlope(below.map((p) => p.eta), below.map((p) => p.value));
        const slopeAbove = olsSlope(above.map((p) => p.eta), above.map((p) => p.value));
        if (slopeBelow !== null && slopeAbove !== null) differences.push(slopeAbove - slopeBelow);
      }
      if (differences.length) values.push({ seed, mean: mean(differences) });
      else notes.push(`s${seed}: fewer than two η on one side of the onset η* = ${onset} at every τ`);
    }
    const taus = [...new Set(ok.map((r) => r.tau))].sort((a, b) => a - b);
    const detail = ok.length
      ? `τ grid ${taus.join(', ')} (${notRun} comparisons not-run: beyond a run or the baseline, see matched_time)${notes.length ? `; ${notes.join('; ')}` : ''}`
      : matched.length
        ? `no comparison within the horizon (${notRun} not-run, see matched_time)`
        : 'no matched-time comparisons (config matchedTime not set)';
    return seedClaim(
      {
        id: metric === 'overlap' ? 'shift-matched-slope' : 'shift-matched-slope-cos-rms',
        claim: `Landscape shift (secondary): at matched τ = Σ η_s, the ${METRIC_LABEL[metric]} to the baseline falls faster with η above the instability onset than below it`,
        expected: 'per-seed mean over τ of slope(metric vs η, η ≥ onset) − slope(η < onset, anchored at the baseline) < 0: the 95% t-interval over seeds below 0',
      },
      values,
      seedsOf(runs),
      detail,
    );
  });
}

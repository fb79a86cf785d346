/**
 * Progressive sharpening (Cohen et al. 2021), as the paper means it: λmax rises to the stability threshold 2/η
 * from below, after the initial transient. A run that starts above 2/η catapults at once (λmax falls under the
 * threshold within a few steps); that start is not progressive sharpening, so the transient is cut: it ends at
 * the first sharpness sample under 2/η (step 0 for a run that starts under it). After it, λmax must be clearly
 * below — at most LOW·2/η, outside the ±15% band of the edge-of-stability check — and later reach REACH·2/η.
 */
import type { TableRow } from '@lrscape/artifacts';

type Claim = TableRow<'claims'>;

/** "Clearly below": outside the ±15% band eos-hover counts as hovering at 2/η. */
export const LOW = 0.85;
/** "Reaches 2/η": the level the claim used before, kept (λmax hovers a few % under 2/η at the edge of stability). */
export const REACH = 0.95;

export interface SharpeningRise {
  /** End of the initial transient: the first sample under 2/η. */
  transientEnd: number;
  /** Initial λmax/(2/η). */
  initialRatio: number;
  /** The first sample after the transient at or under LOW·2/η, then the first after it at or over REACH·2/η (null if none). */
  below: number | null;
  reached: number | null;
}

/** A run's rise from below to 2/η after its transient; null without a sample under 2/η (it never leaves the start's regime). */
export function sharpeningRise(steps: readonly Pick<TableRow<'steps'>, 'step' | 'lr' | 'sharpness'>[]): SharpeningRise | null {
  const samples = steps
    .filter((s) => s.sharpness !== null && Number.isFinite(s.sharpness))
    .sort((a, b) => a.step - b.step)
    .map((s) => ({ step: s.step, ratio: s.sharpness! / (2 / s.lr) }));
  const start = samples.findIndex((s) => s.ratio < 1);
  if (start < 0) return null;
  let below: number | null = null;
  let reached: number | null = null;
  for (const s of samples.slice(start)) {
    if (below === null && s.ratio <= LOW) below = s.step;
    else if (below !== null && s.ratio >= REACH) {
      reached = s.step;
      break;
    }
  }
  return { transientEnd: samples[start].step, initialRatio: samples[0].ratio, below, reached };
}

/** progressive-sharpening: some constant-η, non-diverged run rises from ≤ LOW to ≥ REACH of 2/η after its transient. */
export function progressiveSharpeningClaim(runs: readonly TableRow<'runs'>[], steps: readonly TableRow<'steps'>[]): Claim {
  const stepsByRun = new Map<string, TableRow<'steps'>[]>();
  for (const s of steps) {
    const own = stepsByRun.get(s.run);
    if (own) own.push(s);
    else stepsByRun.set(s.run, [s]);
  }
  const rises = runs
    .filter((r) => r.schedule === 'constant' && !r.diverged)
    .map((run) => ({ run: run.run, rise: sharpeningRise(stepsByRun.get(run.run) ?? []) }))
    .filter((r) => r.rise !== null) as { run: string; rise: SharpeningRise }[];
  const rising = rises.filter((r) => r.rise.reached !== null);
  const catapults = rises.filter((r) => r.rise.initialRatio >= 1);
  const computable = rises.length > 0;
  return {
    id: 'progressive-sharpening',
    claim: 'Progressive sharpening: after the initial transient, λmax rises from below to the stability threshold 2/η',
    measured: computable ? rising.length : null,
    expected:
      `≥ 1 non-diverged constant-η run whose λmax/(2/η), after the transient (which ends at the first sample under 2/η, so an initial catapult is excluded), ` +
      `falls to ≤ ${LOW} (outside the ±15% hover band) and later reaches ≥ ${REACH}; measured: how many runs do`,
    verdict: computable ? (rising.length > 0 ? 'pass' : 'fail') : 'not-run',
    detail: computable
      ? [
          rising.length ? `rises from below: ${rising.map((r) => `${r.run} (≤ ${LOW} at step ${r.rise.below}, ≥ ${REACH} at step ${r.rise.reached})`).join(', ')}` : 'no run rises from below to 2/η',
          catapults.length ? `initial catapult excluded in ${catapults.map((r) => `${r.run} (starts at ${r.rise.initialRatio.toFixed(2)}, under 2/η from step ${r.rise.transientEnd})`).join(', ')}` : 'no initial catapult (no run that comes under 2/η started above it)',
        ].join('; ')
      : 'no constant-η run with a sharpness sample under 2/η',
  };
}

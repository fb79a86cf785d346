/**
 * Delayed-drop flattening, the statistics and claims (docs/architecture.md, "Flattening"). Everything is
 * in units of the stability threshold of η_lo: r = λ(L*)/(2/η_lo), λmax at matched training loss L*.
 *
 * - Matched pairs (primary): per instability, Δ = [r(after) − r(before)] − [r(before) − r(quiet start)], the
 *   change of r across the instability minus the change across the equal-length quiet window right
 *   before it: both windows last as long, so time at η_hi is the same on both sides. Flattening predicts
 *   Δ < 0. One value per instability, averaged per seed, a t-interval over seeds.
 * - Against the control: per seed, the OLS slope of r against t_switch (per 1000 steps) of the unstable
 *   family minus that of the control family (a stable η_hi, the same η_lo and t_switch), where later drops
 *   reflect time alone. Flattening predicts a negative difference.
 * - The control's null: its slope's t-interval must lie within ±controlMargin of 0 (nullVerdict);
 *   inconclusive is not a success.
 */
import type { TableRow } from '@lrscape/artifacts';
import { formatInterval, nullVerdict, signVerdict, tInterval } from './statistics';

type Claim = TableRow<'claims'>;
type FlatteningRow = TableRow<'flattening'>;
type DropFamilyRow = TableRow<'drop_families'>;
type Role = FlatteningRow['role'];

export interface MatchedPair {
  seed: number;
  instability: number;
  /** r(after) − r(before): across the instability. */
  across: number;
  /** r(before) − r(quiet start): across the quiet window. */
  quiet: number;
  /** across − quiet. */
  difference: number;
}

/** The matched pairs of one role; an instability with a continuation the verdict cannot use is left out, listed. */
export function matchedPairs(rows: readonly FlatteningRow[], role: Role): { pairs: MatchedPair[]; excluded: { seed: number; instability: number; why: string }[] } {
  const own = rows.filter((r) => r.role === role);
  const pairs: MatchedPair[] = [];
  const excluded: { seed: number; instability: number; why: string }[] = [];
  const keys = [...new Map(own.map((r) => [`${r.seed}:${r.instability}`, { seed: r.seed, instability: r.instability }])).values()];
  for (const { seed, instability } of keys) {
    const at = (kind: FlatteningRow['kind']) => own.find((r) => r.seed === seed && r.instability === instability && r.kind === kind);
    const quiet = at('quiet-start');
    const before = at('before-instability');
    const after = at('after-instability');
    const unusable = [quiet, before, after].filter((r) => !r || r.use !== 'used' || r.ratio_matched === null);
    if (unusable.length) {
      excluded.push({ seed, instability, why: unusable.map((r) => (r ? `${r.kind} ${r.use}` : 'a switch point missing')).join(', ') });
      continue;
    }
    const across = after!.ratio_matched! - before!.ratio_matched!;
    const window = before!.ratio_matched! - quiet!.ratio_matched!;
    pairs.push({ seed, instability, across, quiet: window, difference: across - window });
  }
  return { pairs, excluded };
}

/** Mean of `value` per seed, seeds in ascending order. */
export function perSeedMeans<T extends { seed: number }>(items: readonly T[], value: (item: T) => number): { seed: number; mean: number; n: number }[] {
  const seeds = [...new Set(items.map((i) => i.seed))].sort((a, b) => a - b);
  return seeds.map((seed) => {
    const own = items.filter((i) => i.seed === seed).map(value);
    return { seed, mean: own.reduce((s, v) => s + v, 0) / own.length, n: own.length };
  });
}

/** Least-squares slope of y on x; null with fewer than two distinct x. */
export function olsSlope(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length || new Set(x).size < 2) return null;
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** Per seed, the slope of r against t_switch per 1000 steps over the role's usable continuations. */
export function switchSlopes(rows: readonly FlatteningRow[], role: Role): Map<number, number | null> {
  const used = rows.filter((r) => r.role === role && r.use === 'used' && r.ratio_matched !== null);
  const slopes = new Map<number, number | null>();
  for (const seed of [...new Set(rows.filter((r) => r.role === role).map((r) => r.seed))].sort((a, b) => a - b)) {
    const own = used.filter((r) => r.seed === seed);
    const slope = olsSlope(own.map((r) => r.t_switch), own.map((r) => r.ratio_matched!));
    slopes.set(seed, slope === null ? null : slope * 1000);
  }
  return slopes;
}

const SIGN_CONVENTION = 'r = λmax at matched train loss L* over 2/η_lo';

/**
 * The three delayed-drop claims, for the experiment's first drop family (the one its config lists first),
 * in a fixed order: drop-flattening-pairs, drop-flattening-vs-control, drop-control-null. Each is not-run,
 * with its reason, where it cannot be computed.
 */
export function dropFlatteningClaims(flattening: readonly FlatteningRow[], dropFamilies: readonly DropFamilyRow[]): Claim[] {
  const texts = {
    pairs: 'Delayed drop, matched pairs: an instability lowers the sharpness reached at matched loss more than an equal-length quiet window does',
    control: 'Delayed drop against its control: later drops from the unstable run reach flatter solutions faster than later drops from a stable run (time alone)',
    null: 'Delayed drop, the control shows its null: drops from a stable run at later and later steps reach the same sharpness at matched loss',
  };
  const family = dropFamilies[0]?.family;
  if (family === undefined) {
    const reason = 'no drop family configured (`dropFamilies` is empty)';
    return [
      notRun('drop-flattening-pairs', texts.pairs, 'Δ < 0', reason),
      notRun('drop-flattening-vs-control', texts.control, 'slope difference < 0', reason),
      notRun('drop-control-null', texts.null, 'slope within the margin of 0', reason),
    ];
  }
  const seeds = dropFamilies.filter((d) => d.family === family);
  const { field, matched_loss: matchedLoss, eta_low: etaLow, pinned_ratio: pinnedRatio, control_margin: margin } = seeds[0];
  const rows = flattening.filter((r) => r.family === family);
  const counts = (role: Role) => {
    const own = rows.filter((r) => r.role === role);
    const n = (use: FlatteningRow['use']) => own.filter((r) => r.use === use).length;
    return `${own.length} ${role} continuations: ${n('used')} used, ${n('pinned')} pinned (r > ${pinnedRatio}), ${n('capped')} capped, ${n('diverged')} diverged, ${n('below-at-switch')} already below L* at the switch`;
  };
  const seedNotes = seeds.filter((s) => s.status !== 'ok').map((s) => `seed ${s.seed}: ${s.reason}`);
  const notes = (role: Role) => [`family ${family}, η_lo = ${etaLow}, L* = ${matchedLoss}`, counts(role), ...seedNotes].join('; ');
  // An L* no continuation reaches: say which setting to change.
  const unreachable = rows.length > 0 && rows.every((r) => r.step_matched === null)
    ? `no continuation reached L* = ${matchedLoss} within \`${field}.maxSteps\` = ${seeds[0].max_steps} steps (${rows.filter((r) => r.status === 'capped').length} capped, ${rows.filter((r) => r.status === 'diverged').length} diverged): raise \`${field}.matchedLoss\` or \`${field}.maxSteps\``
    : null;
  const noRows = rows.length === 0 ? `no continuations were computed${seedNotes.length ? ` (${seedNotes.join('; ')})` : ''}` : null;
  // A control that itself had an instability before a switch point is no control of time alone.
  const unstableControl = rows.filter((r) => r.role === 'control' && r.instabilities_before > 0);
  const controlProblem = unstableControl.length
    ? `the control run${[...new Set(unstableControl.map((r) => r.source))].map((s) => ` ${s}`).join(',')} had instabilities before ${unstableControl.length} of its switch points: \`${field}.controlEta\` = ${seeds[0].eta_control} is not stable there`
    : null;

  // Matched pairs.
  const pairsExpected = `Δ = [r(after) − r(before)] − [r(before) − r(quiet start)] < 0 (${SIGN_CONVENTION}; one Δ per instability, mean per seed): the 95% t-interval over seeds lies below 0`;
  const unstablePairs = matchedPairs(rows, 'unstable');
  const pairSeeds = perSeedMeans(unstablePairs.pairs, (p) => p.difference);
  const pairsInterval = tInterval(pairSeeds.map((s) => s.mean));
  const across = tInterval(perSeedMeans(unstablePairs.pairs, (p) => p.across).map((s) => s.mean));
  const quiet = tInterval(perSeedMeans(unstablePairs.pairs, (p) => p.quiet).map((s) => s.mean));
  const placebo = matchedPairs(rows, 'control');
  const placeboInterval = tInterval(perSeedMeans(placebo.pairs, (p) => p.difference).map((s) => s.mean));
  const pairsReason = noRows ?? unreachable ?? (pairsInterval === null ? `needs matched pairs in ≥ 2 seeds, has ${pairSeeds.length} (${unstablePairs.pairs.length} pairs; ${unstablePairs.excluded.length} instabilities left out)` : null);
  const pairsDetail = [
    `Δ ${formatInterval(pairsInterval)}`,
    `across the instability ${formatInterval(across)}, across the quiet window ${formatInterval(quiet)}`,
    `per seed: ${pairSeeds.map((s) => `${s.seed}: ${s.mean.toPrecision(3)} (${s.n} pair${s.n === 1 ? '' : 's'})`).join(', ') || 'none'}`,
    ...(unstablePairs.excluded.length ? [`left out: ${unstablePairs.excluded.map((e) => `seed ${e.seed} instability ${e.instability} (${e.why})`).join('; ')}`] : []),
    `the same pairs on the control (no instability in either window): ${formatInterval(placeboInterval)}`,
    notes('unstable'),
  ].join('; ');
  const pairsClaim: Claim = pairsReason
    ? notRun('drop-flattening-pairs', texts.pairs, pairsExpected, `${pairsReason}; ${notes('unstable')}`)
    : { id: 'drop-flattening-pairs', claim: texts.pairs, measured: pairsInterval!.estimate, expected: pairsExpected, verdict: signVerdict(pairsInterval, 'negative'), detail: pairsDetail };

  // Slopes against t_switch.
  const unstableSlopes = switchSlopes(rows, 'unstable');
  const controlSlopes = switchSlopes(rows, 'control');
  const differences = [...unstableSlopes].flatMap(([seed, slope]) => {
    const control = controlSlopes.get(seed);
    return slope !== null && control !== undefined && control !== null ? [{ seed, value: slope - control }] : [];
  });
  const differenceInterval = tInterval(differences.map((d) => d.value));
  const listSlopes = (slopes: Map<number, number | null>) => [...slopes].map(([seed, s]) => `${seed}: ${s === null ? '—' : s.toPrecision(3)}`).join(', ');
  const slopeDetail = `unstable slopes per seed ${listSlopes(unstableSlopes)}; control slopes per seed ${listSlopes(controlSlopes)} (units of 2/η_lo per 1000 steps)`;
  const vsExpected = `slope of r against t_switch (per 1000 steps) of the unstable family minus the control's < 0 (${SIGN_CONVENTION}): the 95% t-interval over seeds lies below 0`;
  const vsReason = noRows ?? unreachable ?? controlProblem ?? (differenceInterval === null ? `needs both slopes in ≥ 2 seeds, has ${differences.length}` : null);
  const vsClaim: Claim = vsReason
    ? notRun('drop-flattening-vs-control', texts.control, vsExpected, `${vsReason}; ${slopeDetail}; ${notes('unstable')}`)
    : {
        id: 'drop-flattening-vs-control',
        claim: texts.control,
        measured: differenceInterval!.estimate,
        expected: vsExpected,
        verdict: signVerdict(differenceInterval, 'negative'),
        detail: `difference ${formatInterval(differenceInterval)}; ${slopeDetail}; ${notes('unstable')}`,
      };

  // The control's null.
  const controlValues = [...controlSlopes.values()].filter((s): s is number => s !== null);
  const controlInterval = tInterval(controlValues);
  const nullExpected =
    `the control's slope of r against t_switch lies within ±${margin} of 0 (units of 2/η_lo per 1000 steps): its whole 95% t-interval over seeds in the band. ` +
    `Why ${margin}: a time effect that small moves λ* by less than ${margin}·2/η_lo over 1000 steps of delay (more than the span of the switch points), ` +
    `${Math.round((100 * margin) / pinnedRatio)}% of the band 0…${pinnedRatio}·2/η_lo in which usable λ* lie; an interval reaching outside it is inconclusive, not a success`;
  const nullReason = noRows ?? unreachable ?? controlProblem ?? (controlInterval === null ? `needs a control slope in ≥ 2 seeds, has ${controlValues.length}` : null);
  const nullClaim: Claim = nullReason
    ? notRun('drop-control-null', texts.null, nullExpected, `${nullReason}; ${slopeDetail}; ${notes('control')}`)
    : {
        id: 'drop-control-null',
        claim: texts.null,
        measured: controlInterval!.estimate,
        expected: nullExpected,
        verdict: nullVerdict(controlInterval, margin),
        detail: `control slope ${formatInterval(controlInterval)}; ${slopeDetail}; ${notes('control')}`,
      };
  return [pairsClaim, vsClaim, nullClaim];
}

function notRun(id: string, claim: string, expected: string, detail: string): Claim {
  return { id, claim, measured: null, expected, verdict: 'not-run', detail };
}


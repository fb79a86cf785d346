import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { dropFlatteningClaims, matchedPairs, olsSlope, perSeedMeans, switchSlopes } from './drop-flattening';

type Row = TableRow<'flattening'>;
type Family = TableRow<'drop_families'>;
const ETA_LOW = 0.1; // 2/η_lo = 20

function row(seed: number, role: Row['role'], kind: Row['kind'], instability: number, t: number, ratio: number | null, overrides: Partial<Row> = {}): Row {
  return {
    family: 'main', run: `${role}-${seed}-${instability}-${kind}`, source: role === 'unstable' ? `eta-0.5-s${seed}` : `eta-0.1-s${seed}`, role, seed, kind, instability, t_switch: t,
    instabilities_before: role === 'control' ? 0 : kind === 'after-instability' ? instability : instability - 1, eta_high: role === 'unstable' ? 0.5 : 0.1, eta_low: ETA_LOW,
    loss_at_switch: 0.3, matched_loss: 0.2, step_matched: ratio === null ? null : t + 100, sharpness_matched: ratio === null ? null : ratio * 20, ratio_matched: ratio,
    test_loss_matched: 0.25, sharpness_converged: ratio === null ? null : ratio * 20, max_sharpness: ratio === null ? null : ratio * 20, steps: 100,
    status: ratio === null ? 'capped' : 'converged', use: ratio === null ? 'capped' : 'used', ...overrides,
  };
}
const family = (seed: number, overrides: Partial<Family> = {}): Family => ({
  family: 'main', field: 'dropFamilies.0', seed, parent: `eta-0.5-s${seed}`, control: `eta-0.1-s${seed}`, eta_parent: 0.5, eta_control: 0.1, eta_low: ETA_LOW,
  matched_loss: 0.2, max_steps: 1000, pinned_ratio: 0.8, control_margin: 0.05, status: 'ok', reason: '', parent_instabilities: 4, control_instabilities: 0,
  paired: 2, continuations: 12, reached: 12, capped: 0, diverged: 0, pinned: 0, ...overrides,
});

/**
 * One instability per seed at t = 100/200/300 (quiet start, before, after), with r = base, base + quiet, base +
 * quiet + across: Δ = across − quiet. The control's r = c0 + slope·t/1000 at the same steps.
 */
function seedRows(seed: number, across: number, quiet: number, controlSlope = 0, base = 0.5): Row[] {
  const points = [['quiet-start', 100, base], ['before-instability', 200, base + quiet], ['after-instability', 300, base + quiet + across]] as const;
  return points.flatMap(([kind, t, r]) => [row(seed, 'unstable', kind, 1, t, r), row(seed, 'control', kind, 1, t, 0.6 + (controlSlope * t) / 1000)]);
}
const T_975_2 = 4.302652729911275; // t quantile (0.975, 2 dof), scipy.stats.t.ppf
const claimsOf = (rows: Row[], families: Family[]) => Object.fromEntries(dropFlatteningClaims(rows, families).map((c) => [c.id, c]));

describe('matched pairs and slopes', () => {
  it('pairs each instability’s three switch points: Δ = [r(after) − r(before)] − [r(before) − r(quiet start)]', () => {
    const { pairs, excluded } = matchedPairs([...seedRows(0, -0.1, 0.02), ...seedRows(1, -0.05, 0)], 'unstable');
    expect(pairs.map((p) => [p.seed, p.across, p.quiet, p.difference])).toEqual([
      [0, expect.closeTo(-0.1, 12), expect.closeTo(0.02, 12), expect.closeTo(-0.12, 12)],
      [1, expect.closeTo(-0.05, 12), 0, expect.closeTo(-0.05, 12)],
    ]);
    expect(excluded).toEqual([]);
  });

  it('leaves out an instability whose continuation is pinned, capped or missing, and says which', () => {
    const rows = [
      ...seedRows(0, -0.1, 0).map((r) => (r.kind === 'after-instability' && r.role === 'unstable' ? { ...r, use: 'pinned' as const } : r)),
      ...seedRows(1, -0.1, 0).filter((r) => r.kind !== 'quiet-start'),
    ];
    const { pairs, excluded } = matchedPairs(rows, 'unstable');
    expect(pairs).toEqual([]);
    expect(excluded).toEqual([
      { seed: 0, instability: 1, why: 'after-instability pinned' },
      { seed: 1, instability: 1, why: 'a switch point missing' },
    ]);
  });

  it('averages per seed, fits OLS slopes per 1000 steps, and needs two distinct t for a slope', () => {
    expect(perSeedMeans([{ seed: 1, v: 4 }, { seed: 0, v: 1 }, { seed: 1, v: 2 }], (x) => x.v)).toEqual([{ seed: 0, mean: 1, n: 1 }, { seed: 1, mean: 3, n: 2 }]);
    expect(olsSlope([0, 1, 2], [1, 3, 5])).toBeCloseTo(2, 14);
    expect(olsSlope([0, 1, 2, 3], [1, 0, 1, 0])).toBeCloseTo(-0.2, 14);
    expect(olsSlope([5, 5], [1, 2])).toBeNull();
    const slopes = switchSlopes([...seedRows(0, 0, 0, 0.3), ...seedRows(1, 0, 0, -0.1)], 'control');
    expect([...slopes.entries()].map(([s, v]) => [s, v!])).toEqual([[0, expect.closeTo(0.3, 10)], [1, expect.closeTo(-0.1, 10)]]);
  });
});

describe('dropFlatteningClaims', () => {
  const families = [family(0), family(1), family(2)];

  it('passes the matched pairs when the t-interval over seeds lies below 0, with the interval in the text', () => {
    // Δ per seed −0.05, −0.03, −0.04: mean −0.04, sd 0.01 → half-width t·0.01/√3.
    const rows = [...seedRows(0, -0.05, 0), ...seedRows(1, -0.03, 0), ...seedRows(2, -0.04, 0)];
    const pairs = claimsOf(rows, families)['drop-flattening-pairs'];
    const half = (T_975_2 * 0.01) / Math.sqrt(3);
    expect(pairs.verdict).toBe('pass');
    expect(pairs.measured).toBeCloseTo(-0.04, 12);
    expect(pairs.detail).toContain(`Δ ${(-0.04).toPrecision(3)} [${(-0.04 - half).toPrecision(3)}, ${(-0.04 + half).toPrecision(3)}] (95% t-interval over 3)`);
    expect(pairs.expected).toMatch(/Δ = \[r\(after\) − r\(before\)\] − \[r\(before\) − r\(quiet start\)\] < 0/);
  });

  it('fails the matched pairs when the interval lies above 0, and is inconclusive when it straddles 0', () => {
    const up = [...seedRows(0, 0.05, 0), ...seedRows(1, 0.03, 0), ...seedRows(2, 0.04, 0)];
    expect(claimsOf(up, families)['drop-flattening-pairs'].verdict).toBe('fail');
    const mixed = [...seedRows(0, -0.05, 0), ...seedRows(1, 0.04, 0), ...seedRows(2, -0.01, 0)];
    expect(claimsOf(mixed, families)['drop-flattening-pairs'].verdict).toBe('inconclusive');
  });

  it('compares the unstable family’s slope with the control’s, and checks the control’s null against its margin', () => {
    // Unstable r over t = 100, 200, 300: 0.5, 0.5, 0.4 → slope −0.5 per 1000 steps in every seed.
    const flat = [...seedRows(0, -0.1, 0, 0.001), ...seedRows(1, -0.1, 0, -0.002), ...seedRows(2, -0.1, 0, 0.0005)];
    const c = claimsOf(flat, families);
    expect(c['drop-flattening-vs-control'].verdict).toBe('pass');
    expect(c['drop-flattening-vs-control'].measured).toBeCloseTo(-0.5 - (0.001 - 0.002 + 0.0005) / 3, 10);
    expect(c['drop-control-null'].verdict).toBe('pass');
    expect(c['drop-control-null'].measured).toBeCloseTo((0.001 - 0.002 + 0.0005) / 3, 10);
    expect(c['drop-control-null'].expected).toMatch(/within ±0\.05 of 0 .*Why 0\.05/);
    // The same control pairs as a placebo, in the pairs' detail.
    expect(c['drop-flattening-pairs'].detail).toMatch(/the same pairs on the control \(no instability in either window\): /);

    // A control whose slopes scatter widely is inconclusive (not a success); one that drifts clearly fails.
    const scattered = [...seedRows(0, -0.1, 0, 0.04), ...seedRows(1, -0.1, 0, -0.04), ...seedRows(2, -0.1, 0, 0.0)];
    expect(claimsOf(scattered, families)['drop-control-null'].verdict).toBe('inconclusive');
    const drifting = [...seedRows(0, -0.1, 0, 0.2), ...seedRows(1, -0.1, 0, 0.21), ...seedRows(2, -0.1, 0, 0.19)];
    const d = claimsOf(drifting, families);
    expect(d['drop-control-null'].verdict).toBe('fail');
    // The drifting control explains the unstable slope away: −0.5 − 0.2 is still negative here.
    expect(d['drop-flattening-vs-control'].measured).toBeCloseTo(-0.7, 10);
  });

  it('returns the three ids in a fixed order, all not-run without a drop family', () => {
    const claims = dropFlatteningClaims([], []);
    expect(claims.map((c) => [c.id, c.verdict])).toEqual([
      ['drop-flattening-pairs', 'not-run'],
      ['drop-flattening-vs-control', 'not-run'],
      ['drop-control-null', 'not-run'],
    ]);
    expect(claims[0].detail).toMatch(/no drop family configured/);
  });

  it('is not-run, naming matchedLoss, when no continuation reaches L*', () => {
    const capped = [0, 1, 2].flatMap((s) => seedRows(s, 0, 0)).map((r) => ({ ...r, step_matched: null, sharpness_matched: null, ratio_matched: null, status: 'capped' as const, use: 'capped' as const }));
    for (const claim of dropFlatteningClaims(capped, families)) {
      expect(claim.verdict).toBe('not-run');
      expect(claim.detail).toMatch(/no continuation reached L\* = 0\.2 within `dropFamilies\.0\.maxSteps` = 1000 steps \(18 capped, 0 diverged\): raise `dropFamilies\.0\.matchedLoss`/);
    }
  });

  it('is not-run with the seeds’ reasons when diverged parents leave fewer than two seeds', () => {
    const reason = 'pipelines/x/experiment.json: field `dropFamilies.0.parentEta`: the parent run eta-0.5-s1 diverged at step 9';
    const c = claimsOf(seedRows(0, -0.1, 0), [family(0), family(1, { status: 'parent-diverged', reason, continuations: 0 })]);
    expect(c['drop-flattening-pairs'].verdict).toBe('not-run');
    expect(c['drop-flattening-pairs'].detail).toMatch(/needs matched pairs in ≥ 2 seeds, has 1/);
    expect(c['drop-flattening-pairs'].detail).toContain(`seed 1: ${reason}`);
  });

  it('does not count a control with an instability before a switch point as a control', () => {
    const rows = [0, 1, 2].flatMap((s) => seedRows(s, -0.1, 0)).map((r) => (r.role === 'control' && r.seed === 2 && r.t_switch === 300 ? { ...r, instabilities_before: 1 } : r));
    const c = claimsOf(rows, families);
    expect(c['drop-flattening-pairs'].verdict).toBe('pass');
    for (const id of ['drop-flattening-vs-control', 'drop-control-null']) {
      expect(c[id].verdict).toBe('not-run');
      expect(c[id].detail).toMatch(/the control run eta-0\.1-s2 had instabilities before 1 of its switch points: `dropFamilies\.0\.controlEta` = 0\.1 is not stable there/);
    }
  });

  it('leaves pinned continuations out of the verdict and counts them', () => {
    const rows = [...seedRows(0, -0.05, 0), ...seedRows(1, -0.03, 0), ...seedRows(2, -0.04, 0), row(2, 'unstable', 'quiet-start', 2, 500, 0.9, { use: 'pinned' }), row(2, 'unstable', 'before-instability', 2, 600, 0.9, { use: 'pinned' }), row(2, 'unstable', 'after-instability', 2, 700, 0.85, { use: 'pinned' })];
    const pairs = claimsOf(rows, families)['drop-flattening-pairs'];
    expect(pairs.measured).toBeCloseTo(-0.04, 12);
    expect(pairs.detail).toMatch(/12 unstable continuations: 9 used, 3 pinned \(r > 0\.8\)/);
    expect(pairs.detail).toMatch(/left out: seed 2 instability 2 \(quiet-start pinned, before-instability pinned, after-instability pinned\)/);
  });
});

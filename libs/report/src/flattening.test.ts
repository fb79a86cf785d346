import { describe, expect, test } from 'vitest';
import { dropFamilyNames, flatteningFigure, flatteningSection, flatteningStatement } from './flattening.ts';
import type { DropFamiliesRow, FlatteningRow, RunsRow } from './rows.ts';
import { marksOf, parse, yPixelOf } from './testing/dom.ts';

function run(name: string, eta: number, seed = 0): RunsRow {
  return { run: name, eta, schedule: 'constant', seed, steps: 1000, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null };
}
const runs = [run('eta-0.02', 0.02), run('eta-0.1', 0.1), run('eta-0.02-s1', 0.02, 1), run('eta-0.1-s1', 0.1, 1)];

function row(seed: number, role: FlatteningRow['role'], kind: FlatteningRow['kind'], instability: number, t: number, ratio: number | null, use: FlatteningRow['use'] = 'used'): FlatteningRow {
  const suffix = seed === 0 ? '' : `-s${seed}`;
  return {
    family: 'main', run: `${role}-${seed}-${instability}-${kind}`, source: role === 'unstable' ? `eta-0.1${suffix}` : `eta-0.02${suffix}`, role, seed, kind, instability, t_switch: t,
    instabilities_before: 0, eta_high: role === 'unstable' ? 0.1 : 0.02, eta_low: 0.01, loss_at_switch: 0.1, matched_loss: 0.08, step_matched: ratio === null ? null : t + 500,
    sharpness_matched: ratio === null ? null : ratio * 200, ratio_matched: ratio, test_loss_matched: 0.07, sharpness_converged: null, max_sharpness: null, steps: 500,
    status: ratio === null ? 'capped' : 'converged', use,
  };
}
/** Per seed and instability: r = 0.3 at the quiet start and before, 0.25 after; the control flat at 0.4. */
const rows: FlatteningRow[] = [0, 1].flatMap((seed) =>
  [1, 2].flatMap((i) => {
    const b = 200 * i;
    return (['unstable', 'control'] as const).flatMap((role) => {
      const r = (x: number) => (role === 'unstable' ? x - 0.05 * (i - 1) : 0.4);
      return [row(seed, role, 'quiet-start', i, b - 20, r(0.3)), row(seed, role, 'before-instability', i, b, r(0.3)), row(seed, role, 'after-instability', i, b + 20, r(0.25))];
    });
  }),
);
const family = (seed: number, overrides: Partial<DropFamiliesRow> = {}): DropFamiliesRow => ({
  family: 'main', field: 'dropFamilies.0', seed, parent: seed ? `eta-0.1-s${seed}` : 'eta-0.1', control: seed ? `eta-0.02-s${seed}` : 'eta-0.02', eta_parent: 0.1, eta_control: 0.02,
  eta_low: 0.01, matched_loss: 0.08, max_steps: 1000, pinned_ratio: 0.8, control_margin: 0.05, status: 'ok', reason: '', parent_instabilities: 3, control_instabilities: 0,
  paired: 2, continuations: 12, reached: 12, capped: 0, diverged: 0, pinned: 0, ...overrides,
});
const families = [family(0), family(1)];

describe('flatteningFigure', () => {
  const doc = parse(flatteningFigure(rows, families, 'main', runs));
  const panel = (key: string) => doc.querySelector(`.lrs-panel[data-panel="${key}"]`)!;

  test('(a) draws r = λ(L*)/(2/η_lo) against t_switch, one line per role and seed, with the pinned limit', () => {
    const a = panel('switch');
    expect(a.querySelector('.lrs-panel-title')!.textContent).toMatch(/matched loss L\*/);
    expect(marksOf(a, 'unstable-line')).toHaveLength(2);
    expect(marksOf(a, 'control-line')).toHaveLength(2);
    expect(marksOf(a, 'unstable-continuation')).toHaveLength(12);
    expect(marksOf(a, 'control-continuation')).toHaveLength(12);
    // Continuations carry their source run, so the page's run selector dims them with it.
    expect(marksOf(a, 'unstable-continuation', 'eta-0.1-s1')).toHaveLength(6);
    const limit = a.querySelector('g[data-role="pinned-limit"] line')!;
    expect(Number(limit.getAttribute('y1'))).toBeCloseTo(yPixelOf(a, 0.8), 3);
    expect(marksOf(a, 'unstable-continuation', 'eta-0.1')[0].querySelector('title')!.textContent).toMatch(/drop at step 180 \(quiet-window start 1\)[\s\S]*0\.3·2\/η_lo/);
  });

  test('(b) draws one point per instability: change across it against change across its quiet window', () => {
    const b = panel('pairs');
    expect(marksOf(b, 'pair')).toHaveLength(4);
    expect(marksOf(b, 'control-pair')).toHaveLength(4);
    expect(marksOf(b, 'diagonal')).toHaveLength(1);
    expect(marksOf(b, 'pair', 'eta-0.1')[0].querySelector('title')!.textContent).toMatch(/across the quiet window 0, across the instability -0\.05/);
  });

  test('draws a left-out continuation hollow and leaves its instability out of the pairs', () => {
    const pinned = rows.map((r) => (r.role === 'unstable' && r.seed === 0 && r.instability === 1 && r.kind === 'after-instability' ? { ...r, ratio_matched: 0.85, use: 'pinned' as const } : r));
    const d = parse(flatteningFigure(pinned, families, 'main', runs));
    const hollow = marksOf(d.querySelector('.lrs-panel[data-panel="switch"]')!, 'unstable-continuation').filter((m) => m.closest('g')!.getAttribute('fill') === 'white');
    expect(hollow).toHaveLength(1);
    expect(marksOf(d.querySelector('.lrs-panel[data-panel="pairs"]')!, 'pair')).toHaveLength(3);
  });

  test('says when a family has nothing to draw, with the reason', () => {
    expect(flatteningFigure([], [family(0, { status: 'parent-diverged', reason: 'field `dropFamilies.0.parentEta`: diverged' })], 'main')).toMatch(/No data: drop family main has no continuations \(field `dropFamilies.0.parentEta`: diverged\)/);
    const capped = rows.map((r) => ({ ...r, ratio_matched: null, step_matched: null, use: 'capped' as const }));
    const d = parse(flatteningFigure(capped, families, 'main', runs));
    expect(d.querySelector('.lrs-panel[data-panel="switch"] .lrs-nodata')!.textContent).toMatch(/no continuation reached L\*/);
    expect(d.querySelector('.lrs-panel[data-panel="pairs"] .lrs-nodata')).not.toBeNull();
  });
});

describe('flatteningSection and flatteningStatement', () => {
  test('give one figure per family with counts computed from the tables, and nothing without families', () => {
    const figure = (markup: string, caption: string) => `<figure>${markup}<figcaption>${caption}</figcaption></figure>`;
    const other = rows.map((r) => ({ ...r, family: 'second' }));
    expect(dropFamilyNames([...rows, ...other], families)).toEqual(['main', 'second']);
    const doc = parse(flatteningSection([...rows, ...other], families, runs, figure, 'Caption.')!);
    expect(doc.querySelectorAll('body > figure')).toHaveLength(2);
    const statement = parse(flatteningStatement(rows, [...families, family(2, { status: 'parent-diverged', reason: 'x `dropFamilies.0.parentEta` y' })], 'main')).body.textContent!;
    expect(statement).toContain('Family main: η 0.1 (control 0.02) → η_lo = 0.01, L* = 0.08, 3 seeds');
    expect(statement).toContain('12 unstable continuations (12 used, 0 pinned, 0 capped, 0 diverged, 0 already below L*)');
    expect(statement).toContain('seed 2: x `dropFamilies.0.parentEta` y');
    expect(flatteningSection([], [], runs, figure, 'Caption.')).toBeNull();
  });
});

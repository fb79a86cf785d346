/**
 * Delayed-drop flattening (docs/architecture.md, "Flattening"), one figure per drop family, two panels:
 * (a) λmax at matched loss L* as a fraction of 2/η_lo against the switch step, the unstable family and its
 * control, one line per seed; (b) the matched pairs: per instability, the change of that fraction across the
 * instability against the change across the equal-length quiet window before it (below the diagonal: the
 * instability flattened more than time did).
 */
import * as Plot from '@observablehq/plot';
import { escapeHtml, formatNumber } from './html.ts';
import { etaColour, isFiniteNumber, noData, panels, renderPlot, tagged } from './plot.ts';
import type { DropFamiliesRow, FlatteningRow, RunsRow } from './rows.ts';

const PANEL_WIDTH = 470;
const PANEL_HEIGHT = 340;
const KIND_LABEL: Record<FlatteningRow['kind'], string> = {
  'quiet-start': 'quiet-window start',
  'before-instability': 'before the instability',
  'after-instability': 'after the instability',
};
const KIND_SYMBOL = { domain: Object.values(KIND_LABEL), range: ['circle', 'triangle', 'square'], legend: true } satisfies Plot.ScaleOptions;

/** The drop families the flattening table has rows for, in the order of the drop_families table. */
export function dropFamilyNames(flattening: readonly FlatteningRow[], families: readonly DropFamiliesRow[]): string[] {
  return [...new Set([...families.map((f) => f.family), ...flattening.map((r) => r.family)])];
}

export function flatteningFigure(flattening: FlatteningRow[], families: DropFamiliesRow[], family: string, runs: RunsRow[] = []): string {
  const own = flattening.filter((r) => r.family === family);
  const settings = families.find((f) => f.family === family);
  if (own.length === 0) return noData(`drop family ${family} has no continuations${settings?.reason ? ` (${settings.reason})` : ''}.`);
  const colour = etaColour(runs.length ? runs : own.map((r) => ({ eta: r.eta_high })));
  const plotted = own.filter((r) => isFiniteNumber(r.ratio_matched));
  return panels([
    {
      key: 'switch',
      title: '(a) λmax at matched loss L*, as a fraction of 2/η_lo, against the switch step',
      html: plotted.length ? switchPanel(plotted, settings?.pinned_ratio ?? null, colour) : noData('no continuation reached L*.'),
    },
    { key: 'pairs', title: '(b) matched pairs: change across the instability against change across a quiet window', html: pairsPanel(own, colour) },
  ]);
}

const tag = (role: string, r: FlatteningRow) => tagged(role, { run: r.source, eta: r.eta_high });
const title = (r: FlatteningRow) =>
  `${r.role === 'control' ? 'control' : 'unstable'} ${r.source} (seed ${r.seed}), drop at step ${r.t_switch} (${KIND_LABEL[r.kind]} ${r.instability}) to η_lo = ${formatNumber(r.eta_low)}\n` +
  `λmax at L* = ${formatNumber(r.matched_loss)}: ${formatNumber(r.sharpness_matched)} = ${formatNumber(r.ratio_matched)}·2/η_lo after ${r.step_matched === null ? '—' : r.step_matched - r.t_switch} steps\n` +
  `${r.instabilities_before} instabilit${r.instabilities_before === 1 ? 'y' : 'ies'} before the drop; ${r.use === 'used' ? 'in the verdict' : `left out: ${r.use}`}`;

function switchPanel(rows: FlatteningRow[], pinnedRatio: number | null, colour: Plot.ScaleOptions): string {
  const marks: Plot.Markish[] = [];
  if (pinnedRatio !== null) {
    marks.push(Plot.ruleY([pinnedRatio], { stroke: '#c0392b', strokeDasharray: '5 4', title: () => `pinned above ${formatNumber(pinnedRatio)}·2/η_lo: left out of the verdict`, ...tagged('pinned-limit') }));
  }
  const groups = new Map<string, FlatteningRow[]>();
  for (const r of rows) groups.set(`${r.role}:${r.seed}`, [...(groups.get(`${r.role}:${r.seed}`) ?? []), r]);
  for (const group of groups.values()) {
    const line = [...group].sort((a, b) => a.t_switch - b.t_switch);
    const first = line[0];
    const control = first.role === 'control';
    marks.push(Plot.line(line, { x: 't_switch', y: 'ratio_matched', stroke: () => first.eta_high, strokeWidth: 1.5, strokeDasharray: control ? '4 3' : undefined, ...tag(control ? 'control-line' : 'unstable-line', first) }));
    for (const use of ['used', 'other'] as const) {
      const dots = line.filter((r) => (use === 'used') === (r.use === 'used'));
      if (!dots.length) continue;
      marks.push(
        Plot.dot(dots, {
          x: 't_switch',
          y: 'ratio_matched',
          symbol: (r: FlatteningRow) => KIND_LABEL[r.kind],
          r: 4,
          // Hollow: left out of the verdict (pinned or met L* at the switch).
          fill: use === 'used' ? () => first.eta_high : 'white',
          stroke: () => first.eta_high,
          title,
          ...tag(control ? 'control-continuation' : 'unstable-continuation', first),
        }),
      );
    }
  }
  return renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 56,
    x: { label: 't_switch (step of the drop)', grid: true },
    y: { label: 'λmax(L*) / (2/η_lo)', grid: true, domain: [0, Math.max(pinnedRatio ?? 0, ...rows.map((r) => r.ratio_matched!)) * 1.08] },
    color: colour,
    symbol: KIND_SYMBOL,
    marks,
  });
}

interface PairPoint {
  seed: number;
  instability: number;
  role: FlatteningRow['role'];
  source: string;
  eta: number;
  quiet: number;
  across: number;
}

/** One point per (role, seed, instability) whose three continuations the verdict uses. */
function pairPoints(rows: readonly FlatteningRow[]): PairPoint[] {
  const points: PairPoint[] = [];
  const keys = new Set(rows.map((r) => `${r.role}\u0000${r.seed}\u0000${r.instability}`));
  for (const key of keys) {
    const [role, seed, instability] = key.split('\u0000');
    const at = (kind: FlatteningRow['kind']) => rows.find((r) => r.role === role && r.seed === Number(seed) && r.instability === Number(instability) && r.kind === kind);
    const [q, b, a] = [at('quiet-start'), at('before-instability'), at('after-instability')];
    if (!q || !b || !a || [q, b, a].some((r) => r.use !== 'used' || !isFiniteNumber(r.ratio_matched))) continue;
    points.push({ seed: Number(seed), instability: Number(instability), role: b.role, source: b.source, eta: b.eta_high, quiet: b.ratio_matched! - q.ratio_matched!, across: a.ratio_matched! - b.ratio_matched! });
  }
  return points;
}

function pairsPanel(rows: FlatteningRow[], colour: Plot.ScaleOptions): string {
  const points = pairPoints(rows);
  if (points.length === 0) return noData('no instability has all three of its continuations in the verdict.');
  const extent = Math.max(1e-6, ...points.flatMap((p) => [Math.abs(p.quiet), Math.abs(p.across)])) * 1.15;
  const pointTitle = (p: PairPoint) =>
    `${p.role === 'control' ? 'control' : 'unstable'} ${p.source} (seed ${p.seed}), instability ${p.instability}\nacross the quiet window ${formatNumber(p.quiet)}, across the instability ${formatNumber(p.across)} (units of 2/η_lo)\nΔ = ${formatNumber(p.across - p.quiet)}`;
  const marks: Plot.Markish[] = [
    Plot.line([[-extent, -extent], [extent, extent]], { stroke: '#888', strokeDasharray: '4 3', ...tagged('diagonal') }),
    Plot.ruleX([0], { stroke: '#ccc' }),
    Plot.ruleY([0], { stroke: '#ccc' }),
  ];
  for (const role of ['control', 'unstable'] as const) {
    for (const p of points.filter((x) => x.role === role)) {
      marks.push(
        Plot.dot([p], {
          x: 'quiet',
          y: 'across',
          r: 4.5,
          fill: role === 'unstable' ? () => p.eta : 'white',
          stroke: () => p.eta,
          title: pointTitle,
          ...tagged(role === 'unstable' ? 'pair' : 'control-pair', { run: p.source, eta: p.eta }),
        }),
      );
    }
  }
  return renderPlot({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    marginLeft: 64,
    x: { label: 'r(before) − r(quiet start)', domain: [-extent, extent], grid: true },
    y: { label: 'r(after) − r(before)', domain: [-extent, extent], grid: true },
    color: { ...colour, legend: false },
    marks,
  });
}

/** The family's counts, computed from its tables, for the sentence under the figure. */
export function flatteningStatement(flattening: readonly FlatteningRow[], families: readonly DropFamiliesRow[], family: string): string {
  const own = flattening.filter((r) => r.family === family);
  const seeds = families.filter((f) => f.family === family);
  const count = (role: FlatteningRow['role'], use: FlatteningRow['use']) => own.filter((r) => r.role === role && r.use === use).length;
  const part = (role: FlatteningRow['role']) => {
    const n = own.filter((r) => r.role === role).length;
    return `${n} ${role} continuation${n === 1 ? '' : 's'} (${count(role, 'used')} used, ${count(role, 'pinned')} pinned, ${count(role, 'capped')} capped, ${count(role, 'diverged')} diverged, ${count(role, 'below-at-switch')} already below L*)`;
  };
  const s = seeds[0];
  const head = s ? `Family ${family}: η ${formatNumber(s.eta_parent)} (control ${formatNumber(s.eta_control)}) → η_lo = ${formatNumber(s.eta_low)}, L* = ${formatNumber(s.matched_loss)}, ${seeds.length} seed${seeds.length === 1 ? '' : 's'}` : `Family ${family}`;
  const notes = seeds.filter((f) => f.status !== 'ok').map((f) => `seed ${f.seed}: ${f.reason}`);
  return `<p class="lrs-stated"><strong>${escapeHtml(head)}</strong>: ${escapeHtml(part('unstable'))}; ${escapeHtml(part('control'))}.${notes.length ? ` ${escapeHtml(notes.join(' '))}` : ''}</p>`;
}

/**
 * The page's flattening section: per drop family its figure (with `caption`) and the counts under it; null
 * without drop families. `figure` wraps markup and caption as the page's figures are.
 */
export function flatteningSection(
  flattening: readonly FlatteningRow[],
  families: readonly DropFamiliesRow[],
  runs: RunsRow[],
  figure: (markup: string, caption: string) => string,
  caption: string,
): string | null {
  const names = dropFamilyNames(flattening, families);
  if (names.length === 0) return null;
  return names.map((name) => figure(flatteningFigure([...flattening], [...families], name, runs), caption) + flatteningStatement(flattening, families, name)).join('');
}

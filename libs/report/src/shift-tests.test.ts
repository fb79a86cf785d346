import { describe, expect, test } from 'vitest';
import type { MatchedTimeRow, RunsRow, ShiftWindowsRow } from './rows.ts';
import { matchedTimeFigure, windowTestFigure } from './shift-tests.ts';
import { marksOf, parse, yPixelOf } from './testing/dom.ts';

const run = (name: string, eta: number, seed = 0): RunsRow => ({ run: name, eta, schedule: 'constant', seed, steps: 100, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null });
const runs = [run('base', 0.01), run('a', 0.05), run('b', 0.1)];

const window = (name: string, eta: number, instability: number, across: number, quiet: number, status: 'paired' | 'skipped' = 'paired'): ShiftWindowsRow => ({
  run: name, eta, seed: 0, instability, status, reason: status === 'skipped' ? 'no quiet window' : '', quiet_start: 10, before: 20, after: 30, m: 2,
  overlap_instability: across, overlap_quiet: quiet, cos_rms_instability: across - 0.1, cos_rms_quiet: quiet - 0.1, well_defined: true,
});

describe('windowTestFigure', () => {
  const rows = [window('a', 0.05, 1, 0.6, 0.9), window('a', 0.05, 2, 0.8, 0.85), window('b', 0.1, 1, 0.5, 0.95), window('b', 0.1, 2, 0.1, 0.1, 'skipped')];
  test('one dot per paired instability at (quiet, across), tagged with its run, and the diagonal', () => {
    const doc = parse(windowTestFigure(rows, runs, 'overlap'));
    expect(marksOf(doc, 'window-point', 'a')).toHaveLength(2);
    expect(marksOf(doc, 'window-point', 'b')).toHaveLength(1);
    expect(marksOf(doc, 'diagonal')).toHaveLength(1);
    const [dot] = marksOf(doc, 'window-point', 'b');
    expect(Number(dot!.getAttribute('cy'))).toBeCloseTo(yPixelOf(doc, 0.5), 3);
    expect(dot!.querySelector('title')!.textContent).toContain('across the quiet window 0.95, across the instability 0.5');
  });
  test('draws the chosen metric, and says when nothing is paired', () => {
    const doc = parse(windowTestFigure(rows, runs, 'cos-rms'));
    expect(Number(marksOf(doc, 'window-point', 'b')[0]!.getAttribute('cy'))).toBeCloseTo(yPixelOf(doc, 0.4), 3);
    expect(windowTestFigure(rows.filter((r) => r.status === 'skipped'), runs, 'overlap')).toContain('No data');
  });
});

const matched = (name: string, eta: number, tau: number, overlap: number | null): MatchedTimeRow => ({
  run: name, baseline: 'base', eta, seed: 0, tau, status: overlap === null ? 'not-run' : 'ok', reason: overlap === null ? 'beyond the run' : '',
  step: overlap === null ? null : Math.round(tau / eta), baseline_step: overlap === null ? null : Math.round(tau / 0.01), tau_run: tau, tau_baseline: tau, m: 2,
  overlap, cos_rms_angle: overlap === null ? null : overlap / 2, well_defined: true,
});

describe('matchedTimeFigure', () => {
  const rows = [matched('a', 0.05, 1, 0.95), matched('a', 0.05, 2, 0.9), matched('b', 0.1, 1, 0.8), matched('b', 0.1, 2, 0.6), matched('b', 0.1, 4, null)];
  test('a line and dots per run over τ, only the comparisons that ran', () => {
    const doc = parse(matchedTimeFigure(rows, runs, 'overlap'));
    expect(marksOf(doc, 'matched-time-point', 'a')).toHaveLength(2);
    const b = marksOf(doc, 'matched-time-point', 'b');
    expect(b).toHaveLength(2);
    expect(Number(b[1]!.getAttribute('cy'))).toBeCloseTo(yPixelOf(doc, 0.6), 3);
    expect(b[0]!.querySelector('title')!.textContent).toContain('τ = 1: step 10 (τ 1) against base step 100');
    expect(Number(marksOf(parse(matchedTimeFigure(rows, runs, 'cos-rms')), 'matched-time-point', 'b')[1]!.getAttribute('cy'))).toBeCloseTo(yPixelOf(parse(matchedTimeFigure(rows, runs, 'cos-rms')), 0.3), 3);
    expect(matchedTimeFigure(rows.filter((r) => r.status === 'not-run'), runs, 'overlap')).toContain('No data');
  });
});

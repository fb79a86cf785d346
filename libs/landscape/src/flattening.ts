/**
 * Landscape flattening (docs/architecture.md, "Science definitions as implemented"): (a) along a run, the sharpness of the solution reached after the i-th
 * instability against i; (b) drop schedules with later and later t_switch, the final sharpness against the
 * number of instabilities met before the drop.
 */
import type { TableRow } from '@lrscape/artifacts';

export interface DropRun {
  run: string;
  switchStep: number;
}

export function flatteningRows(runs: readonly TableRow<'runs'>[], instabilities: readonly TableRow<'instabilities'>[], drops: readonly DropRun[]): TableRow<'flattening'>[] {
  const rows: TableRow<'flattening'>[] = [];
  for (const run of runs) {
    if (run.diverged) continue;
    const events = instabilities.filter((e) => e.run === run.run).sort((a, b) => a.index - b.index);
    for (const event of events) {
      if (event.sharpness_after === null) continue;
      rows.push({ run: run.run, kind: 'along_run', t_switch: null, instabilities: event.index, sharpness: event.sharpness_after });
    }
    const drop = drops.find((d) => d.run === run.run);
    if (drop && run.final_sharpness !== null) {
      const before = events.filter((e) => e.start < drop.switchStep).length;
      rows.push({ run: run.run, kind: 'drop', t_switch: drop.switchStep, instabilities: before, sharpness: run.final_sharpness });
    }
  }
  return rows;
}

/** Spearman rank correlation (average ranks for ties); null with fewer than 3 points or no spread. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length || x.length < 3) return null;
  const ranks = (v: readonly number[]) => {
    const order = v.map((value, i) => ({ value, i })).sort((a, b) => a.value - b.value);
    const r = new Array<number>(v.length);
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && order[j + 1].value === order[i].value) j++;
      for (let k = i; k <= j; k++) r[order[k].i] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return r;
  };
  const rx = ranks(x);
  const ry = ranks(y);
  const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
  const mx = mean(rx);
  const my = mean(ry);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

/**
 * The instability tables of an experiment (docs/architecture.md, "Science definitions as implemented"): the
 * primary detector's `instabilities` rows, and `instability_sensitivity`, one row per (detector, threshold of
 * the sweep, run) with the count and the along-run statistics, so that a reader can see how much of every
 * result is the detector's choice (the paper's own limitation). Each run's trace is prepared once for all
 * detectors (InstabilityScan).
 */
import type { TableRow } from '@lrscape/artifacts';
import type { RiseDetector, RiseDetectorKind } from '@lrscape/train';
import { runTrend } from './along-run';
import { InstabilityScan, instabilityRows, traceOf } from './instabilities';

export interface InstabilitySettings {
  primary: RiseDetector;
  sweep: { readonly [K in RiseDetectorKind]: readonly number[] };
  peakFollowsSharpness: boolean;
}

export function instabilityTables(
  runs: readonly TableRow<'runs'>[],
  stepsByRun: ReadonlyMap<string, readonly TableRow<'steps'>[]>,
  settings: InstabilitySettings,
): { instabilities: TableRow<'instabilities'>[]; instability_sensitivity: TableRow<'instability_sensitivity'>[] } {
  const instabilities: TableRow<'instabilities'>[] = [];
  const sensitivity: TableRow<'instability_sensitivity'>[] = [];
  const { peakFollowsSharpness } = settings;
  for (const run of runs) {
    const scan = new InstabilityScan(traceOf(stepsByRun.get(run.run) ?? []));
    instabilities.push(...instabilityRows(run, scan.detect({ detector: settings.primary, peakFollowsSharpness }), { detector: settings.primary }));
    for (const kind of ['relative', 'absolute'] as const) {
      for (const threshold of settings.sweep[kind]) {
        const detector = { kind, threshold };
        const trend = runTrend(instabilityRows(run, scan.detect({ detector, peakFollowsSharpness }), { detector }));
        sensitivity.push({
          detector: kind,
          threshold,
          run: run.run,
          eta: run.eta,
          seed: run.seed,
          count: trend.count,
          tau_peak: trend.tauPeak,
          tau_trough: trend.tauTrough,
          first_ratio_peak: trend.firstRatioPeak,
          last_ratio_peak: trend.lastRatioPeak,
        });
      }
    }
  }
  return { instabilities, instability_sensitivity: sensitivity };
}

/** The sweep lists that are empty, as config field names (the robustness claim is then not-run and says so). */
export function emptySweepFields(settings: Pick<InstabilitySettings, 'sweep'>): string[] {
  return (['relative', 'absolute'] as const).filter((kind) => settings.sweep[kind].length === 0).map((kind) => `analysis.instabilities.sweep.${kind}`);
}

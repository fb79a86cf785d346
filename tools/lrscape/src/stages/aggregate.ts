/**
 * `<exp>:aggregate` — gathers every run's metrics and Hessian outputs into the experiment's tidy Arrow
 * tables (DESIGN §6) under artifacts/<exp>/tables, and computes what needs several checkpoints or runs:
 * instabilities, flattening, landscape shift (eigenspace overlaps) and parameter displacement.
 */
import { join } from 'node:path';
import { readSafetensors, readTable, TABLE_NAMES, verifyManifest, writeFolderAtomically, writeTable, type TableName, type TableRow } from '@lrscape/artifacts';
import { modelLayout, type ModelSpec } from '@lrscape/engine';
import {
  alongRunOverlaps,
  baselineOverlaps,
  displacementRows,
  effectiveRows,
  flatteningRows,
  instabilityOverlaps,
  instabilityRows,
  type CheckpointEigenspace,
} from '@lrscape/landscape';
import { checkpointFileName, readCheckpoint } from '@lrscape/train';
import type { RunSpec } from '../experiment-config';
import { experimentPaths, loadStageExperiment, readRunSummary, runStage, tableMetadata, type RunSummary } from './common';


/** The baseline of a run: the smallest constant η with the same seed (same θ_0). */
function baselineOf(run: RunSpec, runs: readonly RunSpec[]): RunSpec | undefined {
  return runs.filter((r) => r.schedule.kind === 'constant' && r.seed === run.seed).sort((a, b) => a.eta - b.eta)[0];
}

runStage('aggregate', async ([name]) => {
  const experiment = loadStageExperiment(name);
  const paths = experimentPaths(experiment.name);
  const { analysis } = experiment.config;
  const tables: { [N in TableName]?: TableRow<N>[] } = {};
  const add = <N extends TableName>(table: N, rows: readonly TableRow<N>[]) => {
    const list = (tables[table] ??= []) as TableRow<N>[];
    for (const row of rows) list.push(row);
  };
  const summaries = new Map<string, RunSummary>();
  const backends = new Set<string>();

  for (const run of experiment.runs) {
    const runDir = paths.run(run.slug);
    const hessianDir = paths.hessian(run.slug);
    await verifyManifest(runDir);
    await verifyManifest(hessianDir);
    const summary = await readRunSummary(runDir);
    summaries.set(run.slug, summary);
    backends.add(summary.backend);
    add('runs', [
      {
        run: run.slug,
        eta: run.eta,
        schedule: run.schedule.kind,
        seed: run.seed,
        steps: summary.steps,
        diverged: summary.diverged,
        final_loss: summary.finalLoss,
        final_sharpness: summary.finalSharpness,
        seconds: summary.seconds,
        backend: summary.backend,
      },
    ]);
    add('steps', (await readTable(join(runDir, 'metrics.arrow'), 'steps')).rows);
    for (const table of ['spectra', 'klayer', 'density', 'trace', 'perturbations'] as const) {
      add(table, (await readTable(join(hessianDir, `${table}.arrow`), table)).rows);
    }
  }

  const runsRows = tables.runs ?? [];
  const steps = tables.steps ?? [];
  const spectra = tables.spectra ?? [];
  const instabilities = runsRows.flatMap((run) => instabilityRows(run, steps, { prominence: analysis.prominence }));
  add('instabilities', instabilities);
  add('effective', effectiveRows(spectra, analysis.alphaFraction));
  const drops = experiment.runs.flatMap((r) => (r.schedule.kind === 'drop' ? [{ run: r.slug, switchStep: r.schedule.switchStep }] : []));
  add('flattening', flatteningRows(runsRows, instabilities, drops));

  // Landscape shift: eigenspaces of every checkpoint and scope, m from the outlier split.
  const outlierCount = new Map<string, number>();
  for (const row of spectra) {
    const key = `${row.run}|${row.step}|${row.scope}`;
    outlierCount.set(key, (outlierCount.get(key) ?? 0) + (row.is_outlier ? 1 : 0));
  }
  const eigenspaces = new Map<string, Map<string, CheckpointEigenspace[]>>(); // run → scope → checkpoints
  for (const run of experiment.runs) {
    const byScope = new Map<string, CheckpointEigenspace[]>();
    for (const checkpoint of summaries.get(run.slug)!.checkpoints) {
      const { tensors } = await readSafetensors(join(paths.hessian(run.slug), 'vectors', checkpointFileName(checkpoint.step)));
      const scopes = new Map<string, Float64Array[]>();
      for (const [key, tensor] of Object.entries(tensors).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
        const [scope] = key.split('/');
        scopes.set(scope, [...(scopes.get(scope) ?? []), Float64Array.from(tensor.data)]);
      }
      for (const [scope, vectors] of scopes) {
        const m = outlierCount.get(`${run.slug}|${checkpoint.step}|${scope}`) ?? 1;
        byScope.set(scope, [...(byScope.get(scope) ?? []), { step: checkpoint.step, vectors, m }]);
      }
    }
    eigenspaces.set(run.slug, byScope);
  }
  for (const run of experiment.runs) {
    const events = instabilities.filter((e) => e.run === run.slug);
    const baseline = baselineOf(run, experiment.runs);
    for (const [scope, checkpoints] of eigenspaces.get(run.slug)!) {
      add('overlaps', alongRunOverlaps(run.slug, scope, checkpoints));
      add('overlaps', instabilityOverlaps(run.slug, scope, checkpoints, events));
      if (baseline && baseline.slug !== run.slug) {
        add('overlaps', baselineOverlaps(run.slug, baseline.slug, scope, checkpoints, eigenspaces.get(baseline.slug)?.get(scope) ?? []));
      }
    }
  }

  // Parameter displacement against the baseline's, from the checkpoints both runs share.
  const thetas = new Map<string, Map<number, Float32Array>>();
  const thetasOf = async (slug: string) => {
    if (!thetas.has(slug)) {
      const summary = summaries.get(slug)!;
      const layout = modelLayout(summary.spec);
      const byStep = new Map<number, Float32Array>();
      for (const c of summary.checkpoints) byStep.set(c.step, (await readCheckpoint(join(paths.run(slug), c.file), layout)).theta);
      thetas.set(slug, byStep);
    }
    return thetas.get(slug)!;
  };
  for (const run of experiment.runs) {
    const baseline = baselineOf(run, experiment.runs);
    if (!baseline || baseline.slug === run.slug) continue;
    const own = await thetasOf(run.slug);
    const theta0 = own.get(0);
    if (theta0) add('displacement', displacementRows(run.slug, theta0, own, await thetasOf(baseline.slug)));
  }

  const metadata = { ...tableMetadata(experiment, [...backends].join(',') || 'none'), prominence: String(analysis.prominence), alpha_fraction: String(analysis.alphaFraction) };
  await writeFolderAtomically(paths.tables, async (dir) => {
    // Every table of DESIGN §6 but claims (verify's), empty where an experiment has no rows for it.
    for (const table of TABLE_NAMES.filter((t) => t !== 'claims')) {
      await writeTable(join(dir, `${table}.arrow`), table, (tables[table] ?? []) as TableRow<typeof table>[], metadata);
    }
  });
  const counts = Object.entries(tables).map(([t, rows]) => `${t} ${rows!.length}`).join(', ');
  console.log(`${experiment.name}: ${counts} → ${paths.tables}`);
});

/**
 * `<exp>:aggregate` — reads every run's metrics, Hessian rows, eigenvectors and checkpoints, and writes the
 * experiment's tidy Arrow tables (docs/architecture.md, "The aggregate stage") under artifacts/<exp>/tables.
 */
import { join } from 'node:path';
import { readEigenvectors, readTable, verifyManifest, writeFolderAtomically, writeTable, type TableRow } from '@lrscape/artifacts';
import { modelLayout } from '@lrscape/engine';
import { aggregateExperiment, emptySweepFields, quietWindowPlan, type CoolingTables, type DropFamilyInput, type ExperimentTables, type HessianRows, type RunInput } from '@lrscape/landscape';
import { checkpointFileName, readCheckpoint, readFamilyRecord, readRunSummary, type FamilyRecord } from '@lrscape/train';
import { dropTasks, hasCoolingTask } from '../experiment-config';
import { experimentPaths, loadStageExperiment, runStage, tableMetadata } from './common';

const HESSIAN_TABLES = ['spectra', 'klayer', 'density', 'trace', 'perturbations', 'quadrature', 'exact_spectrum', 'light_spectra'] as const satisfies readonly (keyof HessianRows)[];

runStage('aggregate', async ([name]) => {
  const experiment = loadStageExperiment(name);
  const paths = experimentPaths(experiment.name);
  const inputs: RunInput[] = [];
  for (const run of experiment.runs) {
    const runDir = paths.run(run.slug);
    const hessianDir = paths.hessian(run.slug);
    await verifyManifest(runDir);
    await verifyManifest(hessianDir);
    const summary = await readRunSummary(runDir);
    const layout = modelLayout(summary.spec);
    const hessian = Object.fromEntries(
      await Promise.all(HESSIAN_TABLES.map(async (table) => [table, (await readTable(join(hessianDir, `${table}.arrow`), table)).rows])),
    ) as unknown as HessianRows;
    const checkpoints = [];
    for (const checkpoint of summary.checkpoints) {
      const eigenvectors = await readEigenvectors(join(hessianDir, 'vectors', checkpointFileName(checkpoint.step)));
      const { theta } = await readCheckpoint(join(runDir, checkpoint.file), layout);
      checkpoints.push({ step: checkpoint.step, eigenvectors, theta });
    }
    // The replayed quiet-window starts have vectors but no checkpoint of the run.
    for (const step of new Set(hessian.light_spectra.filter((r) => r.kind === 'quiet-start').map((r) => r.step))) {
      checkpoints.push({ step, eigenvectors: await readEigenvectors(join(hessianDir, 'vectors', checkpointFileName(step))), theta: null });
    }
    checkpoints.sort((a, b) => a.step - b.step);
    const steps = (await readTable(join(runDir, 'metrics.arrow'), 'steps')).rows;
    inputs.push({ slug: run.slug, schedule: run.schedule, seed: run.seed, summary, steps, hessian, checkpoints, checkpointReasons: summary.checkpoints });
  }
  const { analysis } = experiment.config;
  const m = analysis.shift.m;
  if (m === null) throw new Error(`${experiment.file}: field \`analysis.shift.m\`: not resolved by validation`);
  // The cooling task's tables, where the config has one (a folder left from an earlier selection is not read).
  let cooling: CoolingTables | undefined;
  if (hasCoolingTask(experiment)) {
    await verifyManifest(paths.cooling);
    const read = async <N extends keyof CoolingTables>(table: N) => (await readTable(join(paths.cooling, `${table}.arrow`), table)).rows;
    cooling = { cooling: await read('cooling'), cooling_instabilities: await read('cooling_instabilities') };
  }
  // Each drop family's continuations (one continue task per seed), with the family's analysis settings.
  const records = new Map<number, FamilyRecord[]>();
  for (const task of dropTasks(experiment)) {
    const dir = paths.continuations(task.family.name, task.seed);
    await verifyManifest(dir);
    records.set(task.index, [...(records.get(task.index) ?? []), await readFamilyRecord(dir)]);
  }
  const dropFamilies: DropFamilyInput[] = experiment.config.dropFamilies.map(({ name: family, parentEta, controlEta, etaLow, matchedLoss, maxSteps, pinnedRatio, controlMargin }, index) => ({
    settings: { name: family, field: `dropFamilies.${index}`, parentEta, controlEta, etaLow, matchedLoss, maxSteps, pinnedRatio, controlMargin },
    records: records.get(index) ?? [],
  }));
  for (const field of emptySweepFields(analysis.instabilities)) console.warn(`${experiment.file}: field \`${field}\` is empty: no sensitivity rows for that detector, the robustness claim is not run`);
  const { matchedTime, hessian: { light } } = experiment.config;
  const shift = { ...analysis.shift, m, matchedTime, windows: quietWindowPlan(light) };
  const tables = aggregateExperiment(inputs, { ...analysis, shift }, cooling, dropFamilies);
  const backends = [...new Set(inputs.map((r) => r.summary.backend))].join(',') || 'none';
  const metadata = tableMetadata(experiment, 'aggregate', backends);
  await writeFolderAtomically(paths.tables, async (dir) => {
    for (const table of Object.keys(tables) as (keyof ExperimentTables)[]) {
      await writeTable(join(dir, `${table}.arrow`), table, tables[table] as TableRow<typeof table>[], metadata);
    }
  });
  const counts = Object.entries(tables).map(([t, rows]) => `${t} ${rows.length}`).join(', ');
  console.log(`${experiment.name}: ${counts} → ${paths.tables}`);
});

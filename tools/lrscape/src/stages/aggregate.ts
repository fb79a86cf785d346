/**
 * `<exp>:aggregate` — reads every run's metrics, Hessian rows, eigenvectors and checkpoints, and writes the
 * experiment's tidy Arrow tables (docs/architecture.md, "The aggregate stage") under artifacts/<exp>/tables.
 */
import { join } from 'node:path';
import { readEigenvectors, readTable, verifyManifest, writeFolderAtomically, writeTable, type TableRow } from '@lrscape/artifacts';
import { modelLayout } from '@lrscape/engine';
import { aggregateExperiment, type ExperimentTables, type HessianRows, type RunInput } from '@lrscape/landscape';
import { checkpointFileName, readCheckpoint, readRunSummary } from '@lrscape/train';
import { experimentPaths, loadStageExperiment, runStage, tableMetadata } from './common';

const HESSIAN_TABLES = ['spectra', 'klayer', 'density', 'trace', 'perturbations'] as const satisfies readonly (keyof HessianRows)[];

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
    const steps = (await readTable(join(runDir, 'metrics.arrow'), 'steps')).rows;
    inputs.push({ slug: run.slug, schedule: run.schedule, seed: run.seed, summary, steps, hessian, checkpoints });
  }
  const tables = aggregateExperiment(inputs, experiment.config.analysis);
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

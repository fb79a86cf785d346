/**
 * `<exp>:aggregate` — gathers every run's metrics and every Hessian spectrum into the experiment's tidy
 * Arrow tables (DESIGN §6) under artifacts/<exp>/tables.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readTable, verifyManifest, writeFolderAtomically, writeTable, type TableRow } from '@lrscape/artifacts';
import { effectiveRows, instabilityRows } from '@lrscape/landscape';
import { experimentPaths, loadStageExperiment, runStage, tableMetadata } from './common';

interface RunSummary {
  run: string;
  eta: number;
  schedule: { kind: string };
  seed: number;
  steps: number;
  diverged: boolean;
  finalLoss: number | null;
  finalSharpness: number | null;
  seconds: number;
  backend: string;
}

runStage('aggregate', async ([name]) => {
  const experiment = loadStageExperiment(name);
  const paths = experimentPaths(experiment.name);
  const runs: TableRow<'runs'>[] = [];
  const steps: TableRow<'steps'>[] = [];
  const spectra: TableRow<'spectra'>[] = [];
  const klayer: TableRow<'klayer'>[] = [];
  const backends = new Set<string>();
  for (const run of experiment.runs) {
    const runDir = paths.run(run.slug);
    const hessianDir = paths.hessian(run.slug);
    await verifyManifest(runDir);
    await verifyManifest(hessianDir);
    const summary = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as RunSummary;
    backends.add(summary.backend);
    runs.push({
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
    });
    steps.push(...(await readTable(join(runDir, 'metrics.arrow'), 'steps')).rows);
    spectra.push(...(await readTable(join(hessianDir, 'spectra.arrow'), 'spectra')).rows);
    klayer.push(...(await readTable(join(hessianDir, 'klayer.arrow'), 'klayer')).rows);
  }
  const { prominence } = experiment.config.analysis;
  const instabilities = runs.flatMap((run) => instabilityRows(run, steps, { prominence }));
  const metadata = tableMetadata(experiment, [...backends].join(',') || 'none');
  await writeFolderAtomically(paths.tables, async (dir) => {
    await writeTable(join(dir, 'runs.arrow'), 'runs', runs, metadata);
    await writeTable(join(dir, 'steps.arrow'), 'steps', steps, metadata);
    await writeTable(join(dir, 'spectra.arrow'), 'spectra', spectra, metadata);
    await writeTable(join(dir, 'instabilities.arrow'), 'instabilities', instabilities, metadata);
    await writeTable(join(dir, 'effective.arrow'), 'effective', effectiveRows(spectra), metadata);
    await writeTable(join(dir, 'klayer.arrow'), 'klayer', klayer, metadata);
  });
  console.log(`${experiment.name}: ${runs.length} runs, ${steps.length} step rows, ${spectra.length} spectrum rows → ${paths.tables}`);
});

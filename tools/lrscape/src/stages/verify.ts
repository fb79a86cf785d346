/**
 * `<exp>:verify` — checks the experiment's reproduction claims on its real outputs and records each
 * verdict in artifacts/<exp>/claims/claims.arrow for the report. A failed claim is a result, not an error.
 */
import { join } from 'node:path';
import { readTable, verifyManifest, writeFolderAtomically, writeTable } from '@lrscape/artifacts';
import { readDataset } from '@lrscape/data';
import { verifyExperiment } from '@lrscape/landscape';
import { experimentPaths, loadStageExperiment, runStage, tableMetadata } from './common';

runStage('verify', async ([name]) => {
  const experiment = loadStageExperiment(name);
  const paths = experimentPaths(experiment.name);
  await verifyManifest(paths.tables);
  await verifyManifest(paths.data);
  const read = <N extends 'runs' | 'steps' | 'spectra' | 'instabilities' | 'overlaps' | 'flattening'>(table: N) =>
    readTable(join(paths.tables, `${table}.arrow`), table);
  const [runs, steps, spectra, instabilities, overlaps, flattening] = await Promise.all(
    [read('runs'), read('steps'), read('spectra'), read('instabilities'), read('overlaps'), read('flattening')],
  );
  const { dataset } = await readDataset(join(paths.data, 'test.arrow'));
  const classes = dataset.task === 'classification' ? dataset.outputDim : null;
  const [sensitivity, longHorizon] = await Promise.all([
    readTable(join(paths.tables, 'instability_sensitivity.arrow'), 'instability_sensitivity'),
    readTable(join(paths.tables, 'long_horizon.arrow'), 'long_horizon'),
  ]);
  const [cooling, coolingInstabilities] = await Promise.all([
    readTable(join(paths.tables, 'cooling.arrow'), 'cooling'),
    readTable(join(paths.tables, 'cooling_instabilities.arrow'), 'cooling_instabilities'),
  ]);
  const tables = {
    runs: runs.rows, steps: steps.rows, spectra: spectra.rows, instabilities: instabilities.rows, overlaps: overlaps.rows, flattening: flattening.rows,
    instability_sensitivity: sensitivity.rows, long_horizon: longHorizon.rows,
    cooling: cooling.rows, cooling_instabilities: coolingInstabilities.rows,
    drop_families: (await readTable(join(paths.tables, 'drop_families.arrow'), 'drop_families')).rows,
    shift_windows: (await readTable(join(paths.tables, 'shift_windows.arrow'), 'shift_windows')).rows,
    matched_time: (await readTable(join(paths.tables, 'matched_time.arrow'), 'matched_time')).rows,
  };
  const claims = verifyExperiment(tables, classes);
  await writeFolderAtomically(paths.claims, async (dir) => {
    await writeTable(join(dir, 'claims.arrow'), 'claims', claims, tableMetadata(experiment, 'verify', runs.metadata.backend));
  });
  for (const claim of claims) {
    const measured = claim.measured === null ? '—' : claim.measured.toPrecision(4);
    console.log(`  [${claim.verdict.toUpperCase()}] ${claim.id}: ${claim.claim}: measured ${measured}, expected ${claim.expected} (${claim.detail})`);
  }
  const count = (v: string) => claims.filter((c) => c.verdict === v).length;
  console.log(`${experiment.name}: ${count('pass')} pass, ${count('fail')} fail, ${count('inconclusive')} inconclusive, ${count('not-run')} not run`);
});

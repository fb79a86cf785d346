/** `<exp>:prepare` — generates or loads the dataset, splits it, writes train/test Arrow tables and a manifest. */
import { join } from 'node:path';
import { writeFolderAtomically } from '@lrscape/artifacts';
import { buildDataset, writeDataset } from '@lrscape/data';
import { experimentPaths, loadStageExperiment, runStage, tableMetadata } from './common';

runStage('prepare', async ([name]) => {
  const experiment = loadStageExperiment(name);
  const { train, test } = await buildDataset(experiment.config.dataset);
  const metadata = tableMetadata(experiment, 'prepare', 'none');
  await writeFolderAtomically(experimentPaths(experiment.name).data, async (dir) => {
    await writeDataset(join(dir, 'train.arrow'), train, metadata);
    await writeDataset(join(dir, 'test.arrow'), test, metadata);
  });
  console.log(`${experiment.name}: ${train.n} train / ${test.n} test examples of ${train.name} (${train.inputDim} → ${train.outputDim})`);
});

/**
 * `<exp>-<run>:hessian` — the checkpoint analysis of docs/architecture.md ("The hessian stage") at every
 * checkpoint of the run: spectra, density, trace, output-space responses and k-layer rows to Arrow, the top
 * eigenvectors (float32) to vectors/step-NNNNNN.safetensors, a record to hessian.json.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyManifest, writeEigenvectors, writeFolderAtomically, writeTable, type TableRow } from '@lrscape/artifacts';
import { readDataset, takeExamples } from '@lrscape/data';
import { ModelObjective, modelDims, modelLayout, modelScopes, selectBackend, engineLabel } from '@lrscape/engine';
import { analyzeCheckpoint, evenGrid, writeHessianRecord, type CheckpointAnalysis, type HessianRecord, type OutputResponse, type WarmStart } from '@lrscape/landscape';
import { checkpointFileName, readCheckpoint, readRunSummary } from '@lrscape/train';
import { experimentPaths, formatSeconds, loadStageExperiment, loadStageRun, runStage, tableMetadata } from './common';

runStage('hessian', async ([name, slug]) => {
  const experiment = loadStageExperiment(name);
  const run = loadStageRun(experiment, slug);
  const settings = experiment.config.hessian;
  const paths = experimentPaths(experiment.name);
  await selectBackend();
  // The engine as it runs: the backend, and on wasm the matrix kernels (e.g. wasm+openblas/Haswell).
  const backend = engineLabel()!;
  const runDir = paths.run(run.slug);
  await verifyManifest(runDir);
  await verifyManifest(paths.data);
  const summary = await readRunSummary(runDir);
  const layout = modelLayout(summary.spec);
  const scopes = modelScopes(layout, settings.kLayers);
  const { dataset: fullTrain } = await readDataset(join(paths.data, 'train.arrow'));
  // Validation refuses a subset larger than the training set where the config tells its size; here the files do.
  if (settings.subset && settings.subset > fullTrain.n) throw new Error(`${experiment.file}: field \`hessian.subset\`: ${settings.subset} exceeds the ${fullTrain.n} training examples`);
  const train = settings.subset ? takeExamples(fullTrain, settings.subset) : fullTrain;
  const objective = new ModelObjective(summary.spec, train, { chunkSize: experiment.config.training.chunkSize });
  // A 1-D regression's directions are read along a grid of x; a classifier's per class.
  const grid = train.labels === undefined && modelDims(summary.spec).inputDim === 1 ? evenGrid(train.x, 61) : null;
  const response: OutputResponse = grid ? { kind: 'grid', xs: grid } : { kind: 'classes', classes: summary.spec.outputDim };
  const outputs = (theta: Float32Array) => (grid ? objective.outputs(theta, grid, grid.length) : objective.outputs(theta));
  console.log(`${experiment.name}/${run.slug}: backend ${backend}, ${summary.checkpoints.length} checkpoints, P = ${layout.size}, top ${settings.topK} of full + k ∈ {${settings.kLayers.join(', ')}} on ${train.n} examples`);

  const rows: CheckpointAnalysis['rows'] = { spectra: [], klayer: [], density: [], trace: [], perturbations: [], quadrature: [], exact_spectrum: [] };
  const record: HessianRecord = { run: run.slug, backend, settings, examples: train.n, totalHvps: 0, seconds: 0, checkpoints: [] };
  let warm: WarmStart | undefined;
  const started = Date.now();
  await writeFolderAtomically(paths.hessian(run.slug), async (dir) => {
    await mkdir(join(dir, 'vectors'));
    for (const [index, checkpoint] of summary.checkpoints.entries()) {
      const { theta } = await readCheckpoint(join(runDir, checkpoint.file), layout);
      const curvature = await objective.curvatureAt(theta);
      const exactSpectrum = settings.exactSpectrumRuns.includes(run.slug) && index === summary.checkpoints.length - 1;
      const analysis = await analyzeCheckpoint(curvature, { run: run.slug, step: checkpoint.step, theta, scopes, outputs, response, exactSpectrum }, settings, warm).finally(() => curvature.dispose());
      for (const table of Object.keys(rows) as (keyof typeof rows)[]) (rows[table] as TableRow<typeof table>[]).push(...analysis.rows[table]);
      warm = analysis.warm;
      await writeEigenvectors(join(dir, 'vectors', checkpointFileName(checkpoint.step)), analysis.vectors, { step: String(checkpoint.step), run: run.slug });
      record.checkpoints.push({ step: checkpoint.step, reason: checkpoint.reason, scopes: analysis.scopes });
      record.totalHvps += analysis.scopes.reduce((sum, s) => sum + s.hvps, 0);
      const remaining = ((Date.now() - started) / 1000 / (index + 1)) * (summary.checkpoints.length - index - 1);
      const top = analysis.spectra[0].pairs[0]?.value ?? NaN;
      console.log(`  step ${String(checkpoint.step).padStart(6)} (${checkpoint.reason}): λmax ${top.toFixed(4)}, ${analysis.scopes.map((s) => `${s.scope} ${s.hvps} HVPs m=${s.m}`).join(', ')} | ETA ${formatSeconds(remaining)}`);
    }
    const metadata = tableMetadata(experiment, 'hessian', backend, run);
    for (const table of Object.keys(rows) as (keyof typeof rows)[]) await writeTable(join(dir, `${table}.arrow`), table, rows[table] as TableRow<typeof table>[], metadata);
    await writeHessianRecord(dir, { ...record, seconds: (Date.now() - started) / 1000 });
  });
  objective.dispose();
  console.log(`${experiment.name}/${run.slug}: ${rows.spectra.length} Ritz values, ${record.totalHvps} HVPs`);
});

/**
 * `<exp>-<run>:hessian` — the checkpoint analysis of docs/architecture.md ("The hessian stage", "Light checkpoints")
 * at every checkpoint of the run and at the replayed quiet-window starts: spectra, density, trace, output-space
 * responses, k-layer and light rows to Arrow, the top eigenvectors (float32) to vectors/step-NNNNNN.safetensors,
 * a record to hessian.json.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyManifest, writeEigenvectors, writeFolderAtomically, writeTable, type TableRow } from '@lrscape/artifacts';
import { readDataset, takeExamples } from '@lrscape/data';
import { ModelObjective, modelDims, modelLayout, modelScopes, selectBackend, engineLabel } from '@lrscape/engine';
import { analyzeRun, evenGrid, writeHessianRecord, type OutputResponse, type RunAnalysisRows } from '@lrscape/landscape';
import { checkpointFileName, readCheckpoint, readRunSummary, replayTo } from '@lrscape/train';
import { experimentPaths, formatSeconds, loadStageExperiment, loadStageRun, runStage, tableMetadata } from './common';

runStage('hessian', async ([name, slug]) => {
  const experiment = loadStageExperiment(name);
  const run = loadStageRun(experiment, slug);
  const settings = experiment.config.hessian;
  const paths = experimentPaths(experiment.name);
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
  // The engine for this workload (auto sends only large ones to a GPU), recorded as it runs (e.g. wasm+openblas/Haswell).
  await selectBackend(undefined, { parameters: layout.size, rows: train.n });
  const backend = engineLabel()!;
  const { chunkSize } = experiment.config.training;
  const objective = new ModelObjective(summary.spec, train, { chunkSize });
  // A quiet-window start is replayed over the whole training set in training's chunks (its float32 trajectory is
  // the trained one); with hessian.subset that needs an objective of its own, made only if a replay happens.
  let replay: ModelObjective | undefined;
  const replayObjective = () => (settings.subset ? (replay ??= new ModelObjective(summary.spec, fullTrain, { chunkSize })) : objective);
  // A 1-D regression's directions are read along a grid of x; a classifier's per class.
  const grid = train.labels === undefined && modelDims(summary.spec).inputDim === 1 ? evenGrid(train.x, 61) : null;
  const response: OutputResponse = grid ? { kind: 'grid', xs: grid } : { kind: 'classes', classes: summary.spec.outputDim };
  const files = new Map(summary.checkpoints.map((c) => [c.step, c.file]));
  console.log(`${experiment.name}/${run.slug}: backend ${backend}, ${summary.checkpoints.length} checkpoints, P = ${layout.size}, top ${settings.topK} of full + k ∈ {${settings.kLayers.join(', ')}} on ${train.n} examples`);

  const started = Date.now();
  await writeFolderAtomically(paths.hessian(run.slug), async (dir) => {
    await mkdir(join(dir, 'vectors'));
    const analysis = await analyzeRun(
      {
        run: run.slug,
        checkpoints: summary.checkpoints,
        scopes,
        outputs: (theta) => (grid ? objective.outputs(theta, grid, grid.length) : objective.outputs(theta)),
        response,
        exactSpectrum: settings.exactSpectrumRuns.includes(run.slug),
        theta: async ({ step }) =>
          files.has(step) ? (await readCheckpoint(join(runDir, files.get(step)!), layout)).theta : (await replayTo({ runDir, layout, objective: replayObjective(), step })).theta,
        curvatureAt: (theta) => objective.curvatureAt(theta),
        writeVectors: (step, vectors) => writeEigenvectors(join(dir, 'vectors', checkpointFileName(step)), vectors, { step: String(step), run: run.slug }),
        onStep: (at, line, index, total) => {
          const remaining = ((Date.now() - started) / 1000 / (index + 1)) * (total - index - 1);
          if (at.reason !== 'light' || index % 10 === 0) console.log(`  step ${String(at.step).padStart(6)} (${at.reason}): ${line} | ETA ${formatSeconds(remaining)}`);
        },
      },
      settings,
    );
    const metadata = tableMetadata(experiment, 'hessian', backend, run);
    for (const table of Object.keys(analysis.rows) as (keyof RunAnalysisRows)[]) {
      await writeTable(join(dir, `${table}.arrow`), table, analysis.rows[table] as TableRow<typeof table>[], metadata);
    }
    const { checkpoints, totalHvps, lightSeconds } = analysis;
    await writeHessianRecord(dir, { run: run.slug, backend, settings, examples: train.n, totalHvps, seconds: (Date.now() - started) / 1000, lightSeconds, checkpoints });
    console.log(`${experiment.name}/${run.slug}: ${analysis.rows.spectra.length} Ritz values, ${analysis.rows.light_spectra.length} light, ${totalHvps} HVPs`);
  });
  objective.dispose();
  replay?.dispose();
});

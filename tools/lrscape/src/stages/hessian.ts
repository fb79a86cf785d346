/**
 * `<exp>-<run>:hessian` — at every checkpoint of the run, the top-M eigenpairs of the full Hessian and of
 * each last-k-layer block (DESIGN §5), with residuals. Eigenvalues go to spectra.arrow, the top eigenvectors
 * (float32) to vectors/step-NNNNNN.safetensors, one tensor per scope and rank.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyManifest, writeFileAtomically, writeFolderAtomically, writeSafetensors, writeTable, type TableRow } from '@lrscape/artifacts';
import { readDataset, selectExamples } from '@lrscape/data';
import { lastLayersBlock, MlpObjective, mlpLayout, selectBackend, type MlpSpec } from '@lrscape/engine';
import { decomposeHessian, klayerComparison, splitOutliers } from '@lrscape/landscape';
import { checkpointFileName, readCheckpoint } from '@lrscape/train';
import { experimentPaths, formatSeconds, loadStageExperiment, loadStageRun, runStage, tableMetadata } from './common';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface RunSummary {
  diverged: boolean;
  checkpoints: { step: number; reason: string; file: string }[];
  spec: MlpSpec;
}

runStage('hessian', async ([name, slug]) => {
  const experiment = loadStageExperiment(name);
  const run = loadStageRun(experiment, slug);
  const settings = experiment.config.hessian;
  const paths = experimentPaths(experiment.name);
  const backend = await selectBackend();

  const runDir = paths.run(run.slug);
  await verifyManifest(runDir);
  await verifyManifest(paths.data);
  const summary = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as RunSummary;
  const spec = summary.spec;
  const layout = mlpLayout(spec);
  const { dataset: fullTrain } = await readDataset(join(paths.data, 'train.arrow'));
  const train = settings.subset && settings.subset < fullTrain.n ? selectExamples(fullTrain, range(settings.subset)) : fullTrain;
  const objective = new MlpObjective(spec, train, { chunkSize: experiment.config.training.chunkSize });
  console.log(
    `${experiment.name}/${run.slug}: backend ${backend}, ${summary.checkpoints.length} checkpoints, P = ${layout.size}, ` +
      `top ${settings.topK} of full + k ∈ {${settings.kLayers.join(', ')}} on ${train.n} examples`,
  );

  const rows: TableRow<'spectra'>[] = [];
  const klayer: TableRow<'klayer'>[] = [];
  const perCheckpoint: { step: number; reason: string; scopes: { scope: string; iterations: number; hvps: number; converged: boolean; m: number }[] }[] = [];
  let warm = new Map<string, Float64Array[]>();
  let totalHvps = 0;
  const started = Date.now();

  await writeFolderAtomically(paths.hessian(run.slug), async (dir) => {
    await mkdir(join(dir, 'vectors'));
    for (const [index, checkpoint] of summary.checkpoints.entries()) {
      const { theta } = await readCheckpoint(join(runDir, checkpoint.file), layout);
      const curvature = await objective.curvatureAt(theta);
      let spectra;
      try {
        spectra = await decomposeHessian(curvature, {
          topK: settings.topK,
          maxIterations: settings.maxIterations,
          tolerance: settings.tolerance,
          kLayers: settings.kLayers,
          blockSize: (k) => lastLayersBlock(layout, k).size,
          seed: settings.seed,
          warm,
        });
      } finally {
        curvature.dispose();
      }
      const vectors: Record<string, { shape: number[]; data: Float32Array }> = {};
      const scopes = [];
      for (const spectrum of spectra) {
        const values = spectrum.pairs.map((p) => p.value);
        const { m } = splitOutliers(values);
        spectrum.pairs.forEach((pair, rank) => {
          rows.push({ run: run.slug, step: checkpoint.step, scope: spectrum.scope, rank: rank + 1, eigenvalue: pair.value, residual: pair.residual, is_outlier: rank < m });
          if (rank < settings.storeVectors) vectors[`${spectrum.scope}/${rank + 1}`] = { shape: [pair.vector.length], data: Float32Array.from(pair.vector) };
        });
        totalHvps += spectrum.operatorCalls;
        scopes.push({ scope: spectrum.scope, iterations: spectrum.iterations, hvps: spectrum.operatorCalls, converged: spectrum.converged, m });
      }
      klayer.push(...klayerComparison(run.slug, checkpoint.step, spectra, (k) => lastLayersBlock(layout, k).offset));
      warm = new Map(spectra.map((s) => [s.scope, s.pairs.map((p) => p.vector)]));
      await writeSafetensors(join(dir, 'vectors', checkpointFileName(checkpoint.step)), vectors, { step: String(checkpoint.step), run: run.slug });
      perCheckpoint.push({ step: checkpoint.step, reason: checkpoint.reason, scopes });
      const top = spectra[0].pairs[0]?.value ?? NaN;
      const elapsed = (Date.now() - started) / 1000;
      const eta = (elapsed / (index + 1)) * (summary.checkpoints.length - index - 1);
      console.log(
        `  step ${String(checkpoint.step).padStart(6)} (${checkpoint.reason}): λmax ${top.toFixed(4)}, ` +
          `${scopes.map((s) => `${s.scope} ${s.hvps} HVPs m=${s.m}`).join(', ')} | ETA ${formatSeconds(eta)}`,
      );
    }
    await writeTable(join(dir, 'spectra.arrow'), 'spectra', rows, tableMetadata(experiment, backend));
    await writeTable(join(dir, 'klayer.arrow'), 'klayer', klayer, tableMetadata(experiment, backend));
    await writeFileAtomically(
      join(dir, 'hessian.json'),
      JSON.stringify({ run: run.slug, backend, settings, examples: train.n, totalHvps, seconds: (Date.now() - started) / 1000, checkpoints: perCheckpoint }, null, 2),
    );
  });
  objective.dispose();
  console.log(`${experiment.name}/${run.slug}: ${rows.length} Ritz values, ${totalHvps} HVPs`);
});

/**
 * `<exp>-<run>:hessian` — at every checkpoint of the run, the top-M eigenpairs of the full Hessian and of
 * each last-k-layer block (DESIGN §5), with residuals. Eigenvalues go to spectra.arrow, the top eigenvectors
 * (float32) to vectors/step-NNNNNN.safetensors, one tensor per scope and rank.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyManifest, writeFileAtomically, writeFolderAtomically, writeSafetensors, writeTable, type TableRow } from '@lrscape/artifacts';
import { readDataset, takeExamples } from '@lrscape/data';
import { lastLayersBlock, ModelObjective, modelDims, modelLayout, selectBackend, type ModelSpec } from '@lrscape/engine';
import { hutchinsonTrace, slqDensity, type LinearOperator } from '@lrscape/linalg';
import {
  classPerturbationRows,
  decomposeHessian,
  directionalOutputChange,
  gridPerturbationRows,
  klayerComparison,
  splitOutliers,
  type ScopeSpectrum,
} from '@lrscape/landscape';
import { checkpointFileName, readCheckpoint } from '@lrscape/train';
import { experimentPaths, formatSeconds, loadStageExperiment, loadStageRun, readRunSummary, runStage, tableMetadata } from './common';

/** Evenly spaced points over the range of a 1-D input. */
function xGrid(x: Float32Array, points: number): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return Float32Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
}

function operatorOf(curvature: { hvp(v: Float64Array): Promise<Float64Array>; blockHvp(k: number): LinearOperator }, scope: string): LinearOperator {
  return scope === 'full' ? (v) => curvature.hvp(v) : curvature.blockHvp(Number(scope.slice(1)));
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
  const summary = await readRunSummary(runDir);
  const spec = summary.spec;
  const layout = modelLayout(spec);
  const { dataset: fullTrain } = await readDataset(join(paths.data, 'train.arrow'));
  const train = settings.subset ? takeExamples(fullTrain, settings.subset) : fullTrain;
  const objective = new ModelObjective(spec, train, { chunkSize: experiment.config.training.chunkSize });
  console.log(
    `${experiment.name}/${run.slug}: backend ${backend}, ${summary.checkpoints.length} checkpoints, P = ${layout.size}, ` +
      `top ${settings.topK} of full + k ∈ {${settings.kLayers.join(', ')}} on ${train.n} examples`,
  );

  const rows: TableRow<'spectra'>[] = [];
  const klayer: TableRow<'klayer'>[] = [];
  const density: TableRow<'density'>[] = [];
  const trace: TableRow<'trace'>[] = [];
  const perturbations: TableRow<'perturbations'>[] = [];
  // Where the output-space response of a direction is read: per class, or along a grid of x for 1-D regression.
  const classification = train.labels !== undefined;
  const grid = !classification && modelDims(spec).inputDim === 1 ? xGrid(train.x, 61) : null;
  const perCheckpoint: { step: number; reason: string; scopes: { scope: string; iterations: number; hvps: number; converged: boolean; m: number }[] }[] = [];
  let warm = new Map<string, Float64Array[]>();
  let totalHvps = 0;
  const started = Date.now();

  await writeFolderAtomically(paths.hessian(run.slug), async (dir) => {
    await mkdir(join(dir, 'vectors'));
    for (const [index, checkpoint] of summary.checkpoints.entries()) {
      const { theta } = await readCheckpoint(join(runDir, checkpoint.file), layout);
      const curvature = await objective.curvatureAt(theta);
      let spectra: ScopeSpectrum[];
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
        // Bulk density and trace of each scope, at the same θ (the cached forward state is reused).
        for (const spectrum of spectra) {
          const op = operatorOf(curvature, spectrum.scope);
          const n = spectrum.pairs[0]?.vector.length ?? 0;
          const slq = await slqDensity(op, n, { ...settings.density, steps: Math.min(settings.density.steps, n), seed: settings.seed + checkpoint.step });
          slq.lambda.forEach((lambda, i) => density.push({ run: run.slug, step: checkpoint.step, scope: spectrum.scope, lambda, density: slq.density[i] }));
          if (settings.traceProbes > 0) {
            const t = await hutchinsonTrace(op, n, { probes: settings.traceProbes, seed: settings.seed + checkpoint.step });
            trace.push({ run: run.slug, step: checkpoint.step, scope: spectrum.scope, estimate: t.estimate, stderr: Number.isFinite(t.stderr) ? t.stderr : 0 });
          }
        }
      } finally {
        curvature.dispose();
      }
      const vectors: Record<string, { shape: number[]; data: Float32Array }> = {};
      const scopes = [];
      for (const spectrum of spectra) {
        const { m } = splitOutliers(spectrum.pairs.map((p) => p.value));
        spectrum.pairs.forEach((pair, rank) => {
          rows.push({ run: run.slug, step: checkpoint.step, scope: spectrum.scope, rank: rank + 1, eigenvalue: pair.value, residual: pair.residual, is_outlier: rank < m });
          if (rank < settings.storeVectors) vectors[`${spectrum.scope}/${rank + 1}`] = { shape: [pair.vector.length], data: Float32Array.from(pair.vector) };
        });
        totalHvps += spectrum.operatorCalls;
        scopes.push({ scope: spectrum.scope, iterations: spectrum.iterations, hvps: spectrum.operatorCalls, converged: spectrum.converged, m });
      }
      // What each top direction of the full Hessian does to the outputs.
      const full = spectra[0];
      const outputs = (t: Float32Array) => (grid ? objective.outputs(t, grid, grid.length) : objective.outputs(t));
      for (let d = 0; d < Math.min(settings.storeVectors, full.pairs.length); d++) {
        const change = await directionalOutputChange(outputs, theta, full.pairs[d].vector, settings.perturbationEpsilon);
        perturbations.push(
          ...(grid
            ? gridPerturbationRows(run.slug, checkpoint.step, d + 1, change, grid)
            : classPerturbationRows(run.slug, checkpoint.step, d + 1, change, spec.outputDim)),
        );
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
    await writeTable(join(dir, 'density.arrow'), 'density', density, tableMetadata(experiment, backend));
    await writeTable(join(dir, 'trace.arrow'), 'trace', trace, tableMetadata(experiment, backend));
    await writeTable(join(dir, 'perturbations.arrow'), 'perturbations', perturbations, tableMetadata(experiment, backend));
    await writeFileAtomically(
      join(dir, 'hessian.json'),
      JSON.stringify({ run: run.slug, backend, settings, examples: train.n, totalHvps, seconds: (Date.now() - started) / 1000, checkpoints: perCheckpoint }, null, 2),
    );
  });
  objective.dispose();
  console.log(`${experiment.name}/${run.slug}: ${rows.length} Ritz values, ${totalHvps} HVPs`);
});

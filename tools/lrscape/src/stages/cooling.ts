/**
 * `<exp>:cooling` — open question 2 (docs/architecture.md, "Cooling"): each selected instability of the runs
 * in the config's `cooling` section, replayed step by step from its event-before checkpoint with the
 * training's update, the float64 diagnostics at every step; writes the `cooling` and `cooling_instabilities`
 * tables to artifacts/<exp>/cooling. A selected run or instability that does not exist becomes a row naming
 * the config field; the rest is still computed.
 */
import { join } from 'node:path';
import { readTable, verifyManifest, writeFolderAtomically, writeTable } from '@lrscape/artifacts';
import { readDataset } from '@lrscape/data';
import { engineLabel, ModelObjective, modelLayout, selectBackend } from '@lrscape/engine';
import { coolingRun, Float64Mlp, missingRunRow, unsupportedRunRow, type CoolingInstabilityRow, type CoolingRow } from '@lrscape/landscape';
import { learningRateAt, readCheckpoint, readRunSummary } from '@lrscape/train';
import { coolingSelection } from '../experiment-config';
import { experimentPaths, loadStageExperiment, runStage, tableMetadata } from './common';

runStage('cooling', async ([name]) => {
  const experiment = loadStageExperiment(name);
  const paths = experimentPaths(experiment.name);
  const settings = experiment.config.cooling;
  const { runs, missing } = coolingSelection(experiment);
  const steps: CoolingRow[] = [];
  const instabilities: CoolingInstabilityRow[] = missing.map((m) => missingRunRow(experiment.file, m.position, m.slug));
  for (const row of instabilities) console.log(`  ${row.reason}`);
  // Recorded as it runs (the replay's float32 gradient uses it; the float64 diagnostics are plain JavaScript).
  const backend = runs.length ? (await selectBackend(), engineLabel()!) : 'none';
  if (runs.length) {
    await verifyManifest(paths.data);
    const { dataset: train } = await readDataset(join(paths.data, 'train.arrow'));
    for (const run of runs) {
      const runDir = paths.run(run.slug);
      await verifyManifest(runDir);
      const summary = await readRunSummary(runDir);
      const layout = modelLayout(summary.spec);
      let model: Float64Mlp;
      try {
        model = new Float64Mlp(summary.spec, layout, train);
      } catch (error) {
        const field = `cooling.runs.${settings.runs.indexOf(run.slug)}`;
        instabilities.push(unsupportedRunRow(run.slug, `${experiment.file}: field \`${field}\`: run ${run.slug}: ${(error as Error).message}`));
        continue;
      }
      const files = new Map(summary.checkpoints.map((c) => [c.step, c.file]));
      // The replay sums the gradient in the training's chunks, so that its float32 trajectory is the trained one.
      const objective = new ModelObjective(summary.spec, train, { chunkSize: experiment.config.training.chunkSize });
      const started = Date.now();
      const result = await coolingRun({
        run: run.slug,
        file: experiment.file,
        checkpoints: summary.checkpoints,
        // A diverged run's last step is the non-finite one: replay up to the step before it.
        lastStep: summary.diverged ? Math.max(0, summary.steps - 1) : summary.steps,
        lrAt: (step) => learningRateAt(summary.schedule, step),
        logged: (await readTable(join(runDir, 'metrics.arrow'), 'steps')).rows,
        readTheta: async (step) => (await readCheckpoint(join(runDir, files.get(step)!), layout)).theta,
        objective,
        model,
        instabilities: settings.instabilities,
        settings,
        onInstability: (r) =>
          console.log(`  ${run.slug} #${r.instability} (${r.status}): steps ${r.start}–${r.start! + r.steps - 1}, peak ${r.peak}; replay |Δloss| ≤ ${r.loss_error_max?.toExponential(1)}, |Δθ| ≤ ${r.theta_error_max?.toExponential(1) ?? '—'}; D_heating ${r.heating_net?.toFixed(2)}, D_cooling ${r.cooling_net?.toFixed(2)} (${((Date.now() - started) / 1000).toFixed(1)} s)`),
      }).finally(() => objective.dispose());
      for (const r of result.instabilities) if (r.status !== 'computed' && r.status !== 'truncated') console.log(`  ${r.reason}`);
      steps.push(...result.steps);
      instabilities.push(...result.instabilities);
    }
  }
  const metadata = tableMetadata(experiment, 'cooling', backend);
  await writeFolderAtomically(paths.cooling, async (dir) => {
    await writeTable(join(dir, 'cooling.arrow'), 'cooling', steps, metadata);
    await writeTable(join(dir, 'cooling_instabilities.arrow'), 'cooling_instabilities', instabilities, metadata);
  });
  console.log(`${experiment.name}: cooling ${steps.length} steps of ${instabilities.filter((r) => r.status === 'computed').length} instabilities → ${paths.cooling}`);
});

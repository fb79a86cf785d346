/**
 * `<exp>-drop-<family>-s<seed>:continue` — the delayed drops of one drop family from one seed
 * (docs/architecture.md, "Flattening"): the parent and control runs and the data for @lrscape/train's
 * continueFamily, whose record goes to artifacts/<exp>/continuations/<family>/s<seed>/continuations.json
 * (the folder written whole, with its manifest).
 */
import { join, relative } from 'node:path';
import { verifyManifest, writeFolderAtomically } from '@lrscape/artifacts';
import { readDataset } from '@lrscape/data';
import { engineLabel, ModelObjective, modelLayout, selectBackend } from '@lrscape/engine';
import { continueFamily, readRunSummary, runSource, writeFamilyRecord } from '@lrscape/train';
import { findDropTask, stageProvenance } from '../experiment-config';
import { experimentPaths, formatSeconds, loadStageExperiment, runStage, workspaceRoot } from './common';

runStage('continue', async ([name, familyName, seedArg]) => {
  const experiment = loadStageExperiment(name);
  if (!familyName || !/^\d+$/.test(seedArg ?? '')) throw new Error(`usage: continue ${experiment.name} <family> <seed>`);
  const task = findDropTask(experiment, familyName, Number(seedArg));
  const { family, seed, parent, control } = task;
  const { training } = experiment.config;
  const paths = experimentPaths(experiment.name);
  await verifyManifest(paths.data);
  const { dataset: train } = await readDataset(join(paths.data, 'train.arrow'));
  const { dataset: test } = await readDataset(join(paths.data, 'test.arrow'));
  const [parentSummary, controlSummary] = await Promise.all(
    [parent, control].map(async (run) => {
      await verifyManifest(paths.run(run.slug));
      return readRunSummary(paths.run(run.slug));
    }),
  );
  // The engine for this workload (a large one may go to a GPU), recorded as it runs (e.g. wasm+openblas/Haswell).
  await selectBackend(undefined, { parameters: modelLayout(parentSummary.spec).size, rows: train.n });
  const backend = engineLabel()!;
  const objective = new ModelObjective(parentSummary.spec, train, { chunkSize: training.chunkSize });
  const testObjective = test.n > 0 ? new ModelObjective(parentSummary.spec, test, { chunkSize: training.chunkSize }) : undefined;
  const layout = modelLayout(parentSummary.spec);
  const source = (slug: string, summary: typeof parentSummary) => runSource(paths.run(slug), summary, layout, objective);
  const { etaLow, matchedLoss, convergence, maxSteps, sharpnessEvery, instabilities, minSwitchStep } = family;
  const settings = { etaLow, matchedLoss, convergence, maxSteps, sharpnessEvery, sharpnessIterations: training.sharpnessIterations, divergenceFactor: training.divergenceFactor };
  console.log(`${experiment.name}/${family.name} seed ${seed}: backend ${backend}, ${parent.slug} (control ${control.slug}) → η_lo = ${etaLow} until loss ≤ ${matchedLoss} (at most ${maxSteps} steps)`);
  const started = Date.now();
  let lastLine = 0;
  const record = await continueFamily({
    family: family.name,
    // Workspace-relative: the reasons are stored (and cached), so they name no machine's paths.
    where: { file: relative(workspaceRoot, experiment.file), field: `dropFamilies.${task.index}` },
    seeds: [{ seed, parent: source(parent.slug, parentSummary), control: source(control.slug, controlSummary) }],
    plan: { instabilities, minStep: minSwitchStep },
    settings,
    objective,
    testObjective,
    onEvent: (e) => {
      if (e.kind === 'plan') console.log(`  ${e.record.status}: instabilities in ${e.record.parent}: ${e.record.parentInstabilities}, paired ${e.record.paired.join(', ') || 'none'}${e.record.reason ? `: ${e.record.reason}` : ''}`);
      if (e.kind === 'progress' && Date.now() - lastLine > 5000) {
        lastLine = Date.now();
        console.log(`  continuation ${e.index}/${e.total} ${e.id}: step ${e.progress.step} (+${e.progress.done}/${e.progress.cap}), loss ${e.progress.loss.toPrecision(4)} | ETA ${e.etaSeconds === null ? '-' : formatSeconds(e.etaSeconds)}`);
      }
      if (e.kind === 'done') {
        const c = e.continuation;
        const at = c.matched ? `λ(L*) ${c.matched.sharpness.toFixed(3)} = ${((c.matched.sharpness * etaLow) / 2).toFixed(3)}·2/η_lo at step ${c.matched.step}` : 'L* not reached';
        console.log(`  continuation ${e.index}/${e.total} ${c.id}: ${c.status} after ${c.steps} steps, ${at} (${c.seconds.toFixed(1)} s)`);
      }
    },
  });
  objective.dispose();
  testObjective?.dispose();
  const seconds = (Date.now() - started) / 1000;
  const provenance = stageProvenance(experiment, 'continue', task);
  await writeFolderAtomically(paths.continuations(family.name, seed), (dir) => writeFamilyRecord(dir, { ...record, backend, seconds, provenance }));
  console.log(`${experiment.name}/${family.name} seed ${seed}: ${record.continuations.length} continuations, ${record.continuations.filter((c) => c.matched).length} reached L*, ${formatSeconds(seconds)}`);
});

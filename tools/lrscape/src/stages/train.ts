/**
 * `<exp>-<run>:train` — full-batch GD of one run: the data and objective for @lrscape/train's trainRun, which
 * resumes an interrupted task from artifacts/<exp>/resume/<run> and renames the finished run into runs/<run>.
 */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { verifyManifest } from '@lrscape/artifacts';
import { readDataset } from '@lrscape/data';
import { initModelParameters, ModelObjective, modelLayout, selectBackend, engineLabel } from '@lrscape/engine';
import { peakLearningRate, replicateInitSeed, trainRun } from '@lrscape/train';
import { sliceHash, stageSlices } from '../experiment-config';
import { experimentPaths, formatSeconds, loadStageExperiment, loadStageRun, modelSpecOf, runStage, tableMetadata } from './common';

// Test hook (e2e resume test): with LRSCAPE_TEST_KILL_AFTER_RESUME_POINTS=N the process SIGKILLs itself right
// after writing its N-th resume point, a deterministic interruption at a known step.
const killAfter = Number(process.env.LRSCAPE_TEST_KILL_AFTER_RESUME_POINTS ?? 0);

runStage('train', async ([name, slug]) => {
  const experiment = loadStageExperiment(name);
  const run = loadStageRun(experiment, slug);
  const { config } = experiment;
  const paths = experimentPaths(experiment.name);
  await verifyManifest(paths.data);
  const { dataset: train } = await readDataset(join(paths.data, 'train.arrow'));
  const { dataset: test } = await readDataset(join(paths.data, 'test.arrow'));
  const spec = modelSpecOf(experiment, train);
  // The engine for this workload (auto sends only large ones to a GPU), recorded as it runs (e.g. wasm+openblas/Haswell).
  await selectBackend(undefined, { parameters: modelLayout(spec).size, rows: train.n });
  const backend = engineLabel()!;
  console.log(`${experiment.name}/${run.slug}: backend ${backend}, ${run.steps} steps, η ${JSON.stringify(run.schedule)}`);
  const { chunkSize, testEvery, sharpnessEvery, sharpnessIterations, sharpnessMethod, sharpnessCheckEvery, checkpointEvery, divergenceFactor } = config.training;
  const { eventCheckpoints, eventDetector: detector, maxEventCheckpoints: maxCount } = config.training;
  const objective = new ModelObjective(spec, train, { chunkSize });
  const testObjective = test.n > 0 ? new ModelObjective(spec, test, { chunkSize }) : undefined;
  const slice = stageSlices(experiment, run).train;

  const threshold = 2 / peakLearningRate(run.schedule);
  const format = `${run.slug} [{bar}] {value}/{total} | loss {loss} | λmax {sharpness} (2/η {threshold}) | ETA {eta_formatted}`;
  const bar = new cliProgress.SingleBar({ format, noTTYOutput: true, notTTYSchedule: 5000, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
  let lastSharpness = '-';
  const { summary } = await trainRun({
    resumeDir: paths.resume(run.slug),
    runDir: paths.run(run.slug),
    objective,
    testObjective,
    layout: modelLayout(spec),
    theta0: initModelParameters(spec, replicateInitSeed(config.model.initSeed, run.seed)),
    schedule: run.schedule,
    stop: { kind: 'steps', steps: run.steps },
    settings: {
      testEvery, sharpnessEvery, sharpnessIterations, sharpnessMethod, sharpnessCheckEvery, checkpointEvery, divergenceFactor,
      eventCheckpoints: eventCheckpoints ? { detector, maxCount } : null,
      lightCheckpointSteps: run.lightSteps,
    },
    inputsHash: sliceHash(slice),
    run,
    provenance: { backend, spec, configSlice: slice, tableMetadata: tableMetadata(experiment, 'train', backend, run) },
    onEvent: (e) => {
      if (e.kind === 'rejected') console.log(`resume point rejected (${e.rejection.kind}), starting over: ${e.rejection.message}`);
      if (e.kind === 'start') {
        if (e.resumed) console.log(`resuming from step ${e.step} (${e.dir})`);
        bar.start(e.cap, e.step, { loss: '-', sharpness: '-', threshold: threshold.toFixed(2) });
      }
      if (e.kind === 'progress') {
        if (e.sharpness !== null) lastSharpness = e.sharpness.toFixed(2);
        bar.update(e.step, { loss: e.loss.toPrecision(4), sharpness: lastSharpness });
      }
      if (e.kind === 'resume-point' && e.count === killAfter) process.kill(process.pid, 'SIGKILL');
    },
  });
  bar.stop();
  objective.dispose();
  testObjective?.dispose();
  const verdict = summary.diverged ? `DIVERGED at step ${summary.divergedAt}` : `final loss ${summary.finalLoss?.toPrecision(4)}, λmax ${summary.finalSharpness?.toFixed(3)} (2/η = ${threshold.toFixed(3)})`;
  console.log(`${experiment.name}/${run.slug}: ${verdict}, ${summary.checkpoints.length} checkpoints, ${formatSeconds(summary.seconds)}`);
});

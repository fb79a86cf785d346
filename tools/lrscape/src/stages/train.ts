/**
 * `<exp>-<run>:train` — full-batch GD of one run. Work in progress lives in artifacts/<exp>/resume/<run>
 * (checkpoints and a resume point at each cadence checkpoint), so a killed task resumes where it stopped;
 * the finished run is renamed into artifacts/<exp>/runs/<run> with its manifest, so nothing downstream
 * ever sees half a run.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { processIsAlive, readSafetensors, sha256Hex, verifyManifest, writeFileAtomically, writeFolderAtomically, writeSafetensors, writeTable, type TableRow } from '@lrscape/artifacts';
import { readDataset } from '@lrscape/data';
import { initModelParameters, ModelObjective, modelLayout, selectBackend } from '@lrscape/engine';
import { checkpointFileName, peakLearningRate, trainFullBatchGD, writeCheckpoint, type ResumeState } from '@lrscape/train';
import { sliceHash, stageSlices } from '../experiment-config';
import { experimentPaths, formatSeconds, loadStageExperiment, loadStageRun, modelSpecOf, RUN_SUMMARY_FILE, runStage, tableMetadata, type RunSummary } from './common';

interface ResumeIndex {
  sliceHash: string;
  step: number;
  stateSha256: string;
  records: ResumeState['records'];
  checkpoints: ResumeState['checkpoints'];
  seconds: number;
}

runStage('train', async ([name, slug]) => {
  const experiment = loadStageExperiment(name);
  const run = loadStageRun(experiment, slug);
  const { config } = experiment;
  const paths = experimentPaths(experiment.name);
  const backend = await selectBackend();
  console.log(`${experiment.name}/${run.slug}: backend ${backend}, ${run.steps} steps, η ${JSON.stringify(run.schedule)}`);

  await verifyManifest(paths.data);
  const { dataset: train } = await readDataset(join(paths.data, 'train.arrow'));
  const { dataset: test } = await readDataset(join(paths.data, 'test.arrow'));
  const spec = modelSpecOf(experiment, train);
  const layout = modelLayout(spec);
  const objective = new ModelObjective(spec, train, { chunkSize: config.training.chunkSize });
  const testObjective = test.n > 0 ? new ModelObjective(spec, test, { chunkSize: config.training.chunkSize }) : undefined;
  const theta0 = initModelParameters(spec, config.model.initSeed + 1000 * run.seed);

  const resumeDir = paths.resume(run.slug);
  const releaseLock = await lockRun(`${resumeDir}.lock`);
  const trainHash = sliceHash(stageSlices(experiment, run).train);
  const resume = await loadResumePoint(resumeDir, trainHash);
  if (resume) console.log(`resuming from step ${resume.state.step} (${resumeDir})`);
  else {
    await rm(resumeDir, { recursive: true, force: true });
    await mkdir(join(resumeDir, 'checkpoints'), { recursive: true });
  }
  const earlierSeconds = resume?.seconds ?? 0;

  const threshold = 2 / peakLearningRate(run.schedule);
  const bar = new cliProgress.SingleBar(
    {
      format: `${run.slug} [{bar}] {value}/{total} | loss {loss} | λmax {sharpness} (2/η {threshold}) | ETA {eta_formatted}`,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(run.steps, resume?.state.step ?? 0, { loss: '-', sharpness: '-', threshold: threshold.toFixed(2) });
  let lastSharpness = '-';
  const started = Date.now();
  const result = await trainFullBatchGD({
    objective,
    testObjective,
    theta0,
    schedule: run.schedule,
    steps: run.steps,
    testEvery: config.training.testEvery,
    sharpnessEvery: config.training.sharpnessEvery,
    sharpnessIterations: config.training.sharpnessIterations,
    sharpnessMethod: config.training.sharpnessMethod,
    checkpointEvery: config.training.checkpointEvery,
    eventCheckpoints: config.training.eventCheckpoints
      ? { prominence: config.training.eventProminence, maxCount: config.training.maxEventCheckpoints }
      : null,
    divergenceFactor: config.training.divergenceFactor,
    resume: resume?.state,
    onCheckpoint: async (step, theta, reason, loss) => {
      await writeCheckpoint(join(resumeDir, 'checkpoints', checkpointFileName(step)), layout, theta, { step, eta: run.eta, loss, reason });
    },
    onResumePoint: async (state) => {
      await writeSafetensors(join(resumeDir, 'state.safetensors'), {
        theta: { shape: [state.theta.length], data: state.theta },
        ...(state.sharpnessVector ? { sharpness_vector: { shape: [state.sharpnessVector.length], data: Float32Array.from(state.sharpnessVector) } } : {}),
      }, { step: String(state.step) });
      const index: ResumeIndex = {
        sliceHash: trainHash,
        step: state.step,
        stateSha256: sha256Hex(await readFile(join(resumeDir, 'state.safetensors'))),
        records: state.records,
        checkpoints: state.checkpoints,
        seconds: earlierSeconds + (Date.now() - started) / 1000,
      };
      await writeFileAtomically(join(resumeDir, 'resume.json'), JSON.stringify(index));
    },
    onProgress: (p) => {
      if (p.sharpness !== null) lastSharpness = p.sharpness.toFixed(2);
      bar.update(p.step, { loss: p.loss.toPrecision(4), sharpness: lastSharpness });
    },
  });
  bar.stop();
  const seconds = earlierSeconds + (Date.now() - started) / 1000;
  const last = result.records.at(-1)!;
  const lastSharp = [...result.records].reverse().find((r) => r.sharpness !== null)?.sharpness ?? null;
  const summary: RunSummary = {
    run: run.slug,
    eta: run.eta,
    schedule: run.schedule,
    seed: run.seed,
    steps: last.step,
    diverged: result.diverged,
    divergedAt: result.divergedAt,
    finalLoss: Number.isFinite(last.loss) ? last.loss : null,
    finalSharpness: lastSharp,
    seconds,
    backend,
    parameters: layout.size,
    sharpnessHvps: result.sharpnessHvps,
    checkpoints: result.checkpoints.map((c) => ({ ...c, file: `checkpoints/${checkpointFileName(c.step)}` })).sort((a, b) => a.step - b.step),
    layout: layout.slots,
    spec,
    configSlice: stageSlices(experiment, run).train,
  };
  const rows: TableRow<'steps'>[] = result.records.map((r) => ({
    run: run.slug,
    step: r.step,
    lr: r.lr,
    loss: Number.isFinite(r.loss) ? r.loss : null,
    accuracy: r.accuracy,
    test_loss: r.testLoss,
    test_accuracy: r.testAccuracy,
    grad_norm: r.gradNorm,
    sharpness: r.sharpness,
  }));
  await writeFolderAtomically(paths.run(run.slug), async (dir) => {
    await rename(join(resumeDir, 'checkpoints'), join(dir, 'checkpoints'));
    await writeTable(join(dir, 'metrics.arrow'), 'steps', rows, tableMetadata(experiment, backend));
    await writeFileAtomically(join(dir, RUN_SUMMARY_FILE), JSON.stringify(summary, null, 2));
  });
  await rm(resumeDir, { recursive: true, force: true });
  await releaseLock();
  objective.dispose();
  testObjective?.dispose();
  const verdict = result.diverged ? `DIVERGED at step ${result.divergedAt}` : `final loss ${summary.finalLoss?.toPrecision(4)}, λmax ${lastSharp?.toFixed(3)} (2/η = ${threshold.toFixed(3)})`;
  console.log(`${experiment.name}/${run.slug}: ${verdict}, ${result.checkpoints.length} checkpoints, ${formatSeconds(seconds)}`);
});

/**
 * One process trains a run at a time: two would move the same checkpoints. A lock left by a killed process
 * (its pid no longer runs) is taken over.
 */
async function lockRun(lockFile: string): Promise<() => Promise<void>> {
  await mkdir(dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processIsAlive(holder)) {
        throw new Error(`${lockFile}: another process (pid ${holder}) is training this run; wait for it or stop it`);
      }
      await rm(lockFile, { force: true });
    }
  }
}


/** The last resume point of an interrupted run, if it belongs to the same config and its files are intact. */
async function loadResumePoint(dir: string, trainHash: string): Promise<{ state: ResumeState; seconds: number } | null> {
  const indexPath = join(dir, 'resume.json');
  if (!existsSync(indexPath)) return null;
  try {
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as ResumeIndex;
    if (index.sliceHash !== trainHash) return null;
    const bytes = await readFile(join(dir, 'state.safetensors'));
    if (sha256Hex(bytes) !== index.stateSha256) return null;
    for (const c of index.checkpoints) {
      if (!existsSync(join(dir, 'checkpoints', checkpointFileName(c.step)))) return null;
    }
    const { tensors } = await readSafetensors(join(dir, 'state.safetensors'));
    const vector = tensors.sharpness_vector?.data;
    return {
      state: {
        step: index.step,
        theta: tensors.theta.data,
        records: index.records,
        checkpoints: index.checkpoints,
        sharpnessVector: vector ? Float64Array.from(vector) : null,
      },
      seconds: index.seconds,
    };
  } catch {
    return null; // unreadable: start over rather than trust it
  }
}

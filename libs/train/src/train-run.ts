/**
 * One run from "objective built" to "run folder written" (docs/architecture.md, "The task graph"): resume or start, full-batch GD,
 * checkpoints and resume points in the resume folder, then the run folder (checkpoints/, metrics.arrow,
 * run.json, manifest) renamed into place whole, so nothing downstream ever sees half a run.
 */
import { readdir, rename, rm, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256Hex, writeFolderAtomically, writeTable, type TableMetadata, type TableRow } from '@lrscape/artifacts';
import type { ModelSpec, ParameterLayout } from '@lrscape/engine';
import { checkpointFileName, readCheckpoint, writeCheckpoint } from './checkpoint';
import { gdStep, startState, trainFullBatchGD, type ResumeState, type StepRecord, type TrainableObjective, type TrainSettings } from './gradient-descent';
import { acquireRunLock } from './lock';
import { loadResumePoint, writeResumePoint, type ResumeRejection } from './resume';
import { readRunSummary, writeRunSummary, type RunSummary } from './run-summary';
import { learningRateAt, type LearningRateSchedule } from './schedule';
import { stepCap, type StopRule } from './stop-rule';

/**
 * The seed of θ_0 for a replicate: distinct θ_0 per replicate seed, and the same θ_0 for every run (every η,
 * every schedule) of one seed, so runs of a seed differ by their schedule alone. The stride 1000 keeps
 * replicates apart from nearby initSeeds (initSeed + 1000 would collide with replicate 1 of initSeed).
 */
export function replicateInitSeed(initSeed: number, replicateSeed: number): number {
  return initSeed + 1000 * replicateSeed;
}

export type TrainRunEvent =
  /** A resume point was there but is not used: the run starts over (or from `start`). */
  | { kind: 'rejected'; rejection: ResumeRejection }
  | { kind: 'start'; step: number; cap: number; resumed: boolean; dir: string }
  /** Emitted after the point is on disk; count: resume points written by this call. */
  | { kind: 'resume-point'; step: number; count: number }
  /** etaSeconds: remaining time at this call's mean seconds per step (null before the first step is done). */
  | { kind: 'progress'; step: number; cap: number; loss: number; sharpness: number | null; etaSeconds: number | null };

export interface TrainRunOptions {
  /** Work in progress (checkpoints/, resume point); its lock is `<resumeDir>.lock`. Removed once the run folder is written. */
  resumeDir: string;
  /** The finished run folder, written atomically. */
  runDir: string;
  objective: TrainableObjective;
  testObjective?: TrainableObjective;
  layout: ParameterLayout;
  theta0: Float32Array;
  schedule: LearningRateSchedule;
  stop: StopRule;
  settings: TrainSettings;
  /** Start from this θ at this step (a stored checkpoint, e.g. readCheckpoint's result) instead of θ_0 at step 0. */
  start?: { theta: Float32Array; step: number };
  /** Hash of every input that shapes the trajectory (config slice, data): a resume point under another is not used. */
  inputsHash: string;
  run: { slug: string; eta: number; seed: number };
  /** What run.json and the steps table record about where the run came from. */
  provenance: { backend: string; spec: ModelSpec; configSlice: unknown; tableMetadata: TableMetadata };
  onEvent?: (event: TrainRunEvent) => void;
}

export interface TrainRunResult {
  summary: RunSummary;
  records: StepRecord[];
  finalTheta: Float32Array;
  /** The step a resume point let this call start at (null: it started over). */
  resumedFrom: number | null;
}

export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { resumeDir, layout, run } = options;
  const emit = options.onEvent ?? (() => undefined);
  const checkpointDir = join(resumeDir, 'checkpoints');
  // A resume point belongs to one start: fold a given start's step and θ into the hash it is written under.
  const sliceHash = options.start
    ? sha256Hex(`${options.inputsHash}:${options.start.step}:${sha256Hex(new Uint8Array(options.start.theta.buffer, options.start.theta.byteOffset, options.start.theta.byteLength))}`)
    : options.inputsHash;
  await mkdir(dirname(resumeDir), { recursive: true });
  const lock = await acquireRunLock(`${resumeDir}.lock`);
  try {
    const lookup = await loadResumePoint(resumeDir, { sliceHash, size: layout.size });
    let resume: ResumeState | undefined;
    let earlierSeconds = 0;
    if (lookup.status === 'accepted') {
      resume = lookup.state;
      earlierSeconds = lookup.seconds;
      await removeUnlistedCheckpoints(checkpointDir, resume);
    } else {
      if (lookup.status === 'rejected') emit({ kind: 'rejected', rejection: lookup.rejection });
      await rm(resumeDir, { recursive: true, force: true });
      await mkdir(checkpointDir, { recursive: true });
      if (options.start) resume = startState(options.start.theta, options.start.step);
    }
    const startStep = resume?.step ?? 0;
    const cap = stepCap(options.stop);
    emit({ kind: 'start', step: startStep, cap, resumed: lookup.status === 'accepted', dir: resumeDir });

    const started = Date.now();
    const seconds = () => earlierSeconds + (Date.now() - started) / 1000;
    let written = 0;
    const result = await trainFullBatchGD({
      ...options.settings,
      objective: options.objective,
      testObjective: options.testObjective,
      theta0: options.theta0,
      schedule: options.schedule,
      stop: options.stop,
      resume,
      onCheckpoint: (step, theta, reason, loss) => writeCheckpoint(join(checkpointDir, checkpointFileName(step)), layout, theta, { step, eta: run.eta, loss, reason }),
      onResumePoint: async (state) => {
        await writeResumePoint(resumeDir, state, { sliceHash, seconds: seconds() });
        emit({ kind: 'resume-point', step: state.step, count: ++written });
      },
      onProgress: (p) => {
        const done = p.step - startStep + 1;
        const etaSeconds = done > 0 ? ((Date.now() - started) / 1000 / done) * (p.cap - p.step) : null;
        emit({ kind: 'progress', step: p.step, cap: p.cap, loss: p.loss, sharpness: p.sharpness, etaSeconds });
      },
    });

    const last = result.records.at(-1)!;
    const summary: RunSummary = {
      run: run.slug,
      eta: run.eta,
      schedule: options.schedule,
      seed: run.seed,
      steps: last.step,
      stoppedBy: result.stoppedBy,
      diverged: result.diverged,
      divergedAt: result.divergedAt,
      finalLoss: Number.isFinite(last.loss) ? last.loss : null,
      finalSharpness: result.records.findLast((r) => r.sharpness !== null)?.sharpness ?? null,
      seconds: seconds(),
      backend: options.provenance.backend,
      parameters: layout.size,
      sharpnessHvps: result.sharpnessHvps,
      checkpoints: result.checkpoints.map((c) => ({ ...c, file: `checkpoints/${checkpointFileName(c.step)}` })).sort((a, b) => a.step - b.step),
      layout: layout.slots,
      spec: options.provenance.spec,
      configSlice: options.provenance.configSlice,
    };
    await writeFolderAtomically(options.runDir, async (dir) => {
      await rename(checkpointDir, join(dir, 'checkpoints'));
      await writeTable(join(dir, 'metrics.arrow'), 'steps', stepsRows(run.slug, result.records), options.provenance.tableMetadata);
      await writeRunSummary(dir, summary);
    });
    await rm(resumeDir, { recursive: true, force: true });
    return { summary, records: result.records, finalTheta: result.finalTheta, resumedFrom: lookup.status === 'accepted' ? startStep : null };
  } finally {
    await lock.release();
  }
}

/** The steps table rows of a run's records (a non-finite loss, at divergence, is stored as null). */
export function stepsRows(run: string, records: readonly StepRecord[]): TableRow<'steps'>[] {
  return records.map((r) => ({
    run,
    step: r.step,
    lr: r.lr,
    loss: Number.isFinite(r.loss) ? r.loss : null,
    accuracy: r.accuracy,
    test_loss: r.testLoss,
    test_accuracy: r.testAccuracy,
    grad_norm: r.gradNorm,
    sharpness: r.sharpness,
    sharpness_check: r.sharpnessCheck,
  }));
}

/** Checkpoints a killed process wrote after its last resume point: the resumed run writes its own. */
async function removeUnlistedCheckpoints(dir: string, state: ResumeState): Promise<void> {
  const listed = new Set(state.checkpoints.map((c) => checkpointFileName(c.step)));
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) if (!listed.has(name)) await rm(join(dir, name), { force: true });
}

/**
 * θ at `step` of a finished run, replayed from the nearest checkpoint at or before it with the run's schedule and
 * the update rule of training (gdStep), so it equals the original θ_step bit for bit as long as the objective's
 * gradient is deterministic (the engine's is, for a fixed backend and chunking).
 */
export async function replayTo(options: {
  runDir: string;
  layout: ParameterLayout;
  objective: Pick<TrainableObjective, 'lossAndGradient'>;
  step: number;
}): Promise<{ step: number; theta: Float32Array; fromCheckpoint: number }> {
  const { runDir, step } = options;
  const summary = await readRunSummary(runDir);
  if (!Number.isInteger(step) || step < 0 || step > summary.steps) {
    throw new RangeError(`${runDir}: cannot replay to step ${step}: the run has steps 0…${summary.steps}`);
  }
  const from = summary.checkpoints.filter((c) => c.step <= step).at(-1);
  if (!from) throw new Error(`${runDir}: no checkpoint at or before step ${step} (the first is at step ${summary.checkpoints[0]?.step})`);
  const checkpoint = await readCheckpoint(join(runDir, from.file), options.layout);
  if (checkpoint.step !== from.step) throw new Error(`${join(runDir, from.file)}: holds step ${checkpoint.step}, run.json lists it as step ${from.step}`);
  let theta = checkpoint.theta;
  for (let t = from.step; t < step; t++) {
    const { gradient } = await options.objective.lossAndGradient(theta);
    theta = gdStep(theta, gradient, learningRateAt(summary.schedule, t));
  }
  return { step, theta, fromCheckpoint: from.step };
}

/**
 * Delayed drops, controlled (docs/architecture.md, "Science definitions as implemented", "Flattening"): the
 * switch points of a parent run, taken from its event checkpoints (training's own detector, so no analysis
 * setting moves them), and continuations at η_lo from θ at a switch point until the loss reaches L* (then,
 * optionally, a convergence criterion), with a step cap. A capped or diverged continuation is a result.
 */
import { join } from 'node:path';
import { writeFileAtomically } from '@lrscape/artifacts';
import type { ParameterLayout } from '@lrscape/engine';
import { z } from 'zod';
import { readCheckpoint } from './checkpoint';
import { parseWith, readJsonFile } from './json-file';
import { gdStep, startState, trainFullBatchGD, type CheckpointEntry, type StepRecord, type TrainableObjective } from './gradient-descent';
import type { RunSummary } from './run-summary';
import { learningRateAt } from './schedule';
import { criterionMet, type StopRule } from './stop-rule';

/** quiet-start: the start of the equal-length quiet window right before an instability. */
export const SWITCH_KINDS = ['quiet-start', 'before-instability', 'after-instability'] as const;
export type SwitchKind = (typeof SWITCH_KINDS)[number];

/** One instability as the event checkpoints mark it: `before` the loss minimum before the rise, `after` the step the loss is back under it. */
export interface EventWindow {
  /** 1-based, in step order. */
  index: number;
  before: number | null;
  after: number | null;
}

/**
 * The instabilities a run's checkpoint list marks. An event checkpoint that fell on a step already
 * checkpointed for another reason keeps that reason (training saves one checkpoint per step), so a window
 * may lack its `before` or `after`: such a window is listed with null there, never guessed.
 */
export function eventWindows(checkpoints: readonly CheckpointEntry[]): EventWindow[] {
  const windows: EventWindow[] = [];
  let open: number | null = null;
  for (const checkpoint of [...checkpoints].sort((a, b) => a.step - b.step)) {
    if (checkpoint.reason === 'event-before') {
      if (open !== null) windows.push({ index: windows.length + 1, before: open, after: null });
      open = checkpoint.step;
    } else if (checkpoint.reason === 'event-after') {
      windows.push({ index: windows.length + 1, before: open, after: checkpoint.step });
      open = null;
    }
  }
  if (open !== null) windows.push({ index: windows.length + 1, before: open, after: null });
  return windows;
}

export interface SwitchPoint {
  kind: SwitchKind;
  /** The instability (EventWindow.index) the point belongs to. */
  instability: number;
  step: number;
  /** Instabilities that started before this step (a window counts once its loss minimum is behind). */
  instabilitiesBefore: number;
}

export interface SwitchPlan {
  windows: EventWindow[];
  /** The instabilities paired with a quiet window, in step order (at most `instabilities`). */
  paired: number[];
  points: SwitchPoint[];
  /** Instabilities looked at and not paired, with the reason (in step order, up to the last paired one). */
  skipped: { instability: number; reason: string }[];
}

export interface SwitchPlanOptions {
  /** Instabilities to pair (three switch points each). */
  instabilities: number;
  /** No switch point before this step: the initial fall of the loss from θ_0 is no quiet window. */
  minStep: number;
}

/**
 * The pairing rule, fixed before any continuation runs: take the run's instabilities in step order; one of
 * length L = after − before is paired when the equal-length window [before − L, before] lies after the end
 * of the previous instability (so it holds none) and at or after minStep; the first `instabilities` paired
 * ones give three switch points each: the quiet window's start, just before the heating (the loss minimum),
 * just after the cooling (loss recovery).
 */
export function planSwitchPoints(checkpoints: readonly CheckpointEntry[], options: SwitchPlanOptions): SwitchPlan {
  const windows = eventWindows(checkpoints);
  const starts = windows.map((w) => w.before).filter((s): s is number => s !== null);
  const startedBefore = (step: number) => starts.filter((s) => s < step).length;
  const paired: number[] = [];
  const skipped: SwitchPlan['skipped'] = [];
  const points: SwitchPoint[] = [];
  let previousEnd: number | null = 0;
  for (const window of windows) {
    if (paired.length >= options.instabilities) break;
    const { index, before, after } = window;
    const end = previousEnd;
    previousEnd = after;
    if (before === null || after === null) {
      skipped.push({ instability: index, reason: before === null ? 'its start shares a step with another checkpoint' : 'the loss never recovered (or the end shares a step with another checkpoint)' });
      continue;
    }
    const quietStart = before - (after - before);
    if (end === null) {
      skipped.push({ instability: index, reason: 'the end of the previous instability is unknown' });
      continue;
    }
    if (quietStart < Math.max(end, options.minStep)) {
      const bound = end >= options.minStep ? `the previous instability’s end at step ${end}` : `minSwitchStep ${options.minStep}`;
      skipped.push({ instability: index, reason: `its ${after - before}-step quiet window would start at step ${quietStart}, before ${bound}` });
      continue;
    }
    paired.push(index);
    const point = (kind: SwitchKind, step: number): SwitchPoint => ({ kind, instability: index, step, instabilitiesBefore: startedBefore(step) });
    points.push(point('quiet-start', quietStart), point('before-instability', before), point('after-instability', after));
  }
  return { windows, paired, points, skipped };
}

export interface ContinuationSettings {
  /** η after the drop. */
  etaLow: number;
  /** L*: the training loss at which λmax is compared (the primary measurement). */
  matchedLoss: number;
  /** Where a continuation counts as converged beyond L* (either threshold); absent: at L*. */
  convergence?: { loss?: number; gradNorm?: number };
  /** Most GD steps after the drop. */
  maxSteps: number;
  /** λmax by warm Lanczos every this many steps after the drop (and always at L* and at the last step). */
  sharpnessEvery: number;
  sharpnessIterations: number;
  divergenceFactor: number;
}

export const CONTINUATION_STATUSES = ['converged', 'capped', 'diverged'] as const;

export interface ContinuationOutcome {
  /** converged: reached L* (and the convergence criterion, where one is set) within the cap. */
  status: (typeof CONTINUATION_STATUSES)[number];
  /** GD steps taken after the drop (to convergence, the cap or divergence). */
  steps: number;
  lossAtSwitch: number;
  /** The first step with loss ≤ L*: λmax there (warm Lanczos) and the test loss. */
  matched: { step: number; sharpness: number; testLoss: number | null } | null;
  /** λmax at the step the continuation converged (null unless converged). */
  sharpnessConverged: number | null;
  /** The largest λmax sampled after the drop (every sharpnessEvery steps, L* and the last step). */
  maxSharpness: number | null;
  finalLoss: number | null;
}

export interface ContinuationProgress {
  step: number;
  /** Steps after the drop so far, and the cap. */
  done: number;
  cap: number;
  loss: number;
}

/**
 * GD at constant η_lo from θ at step `step` until loss ≤ L* (the step cap counting from the drop), λmax by
 * warm Lanczos at L*, then on to the convergence criterion where one is set. Step numbers stay those of
 * the parent, so a continuation's records continue its parent's.
 */
export async function runContinuation(options: {
  objective: TrainableObjective;
  testObjective?: TrainableObjective;
  theta: Float32Array;
  step: number;
  settings: ContinuationSettings;
  onProgress?: (progress: ContinuationProgress) => void;
}): Promise<ContinuationOutcome> {
  const { settings, step: switchStep } = options;
  const cap = switchStep + settings.maxSteps;
  const run = (theta: Float32Array, step: number, stop: StopRule) =>
    trainFullBatchGD({
      objective: options.objective,
      testObjective: options.testObjective,
      theta0: theta,
      resume: startState(theta, step),
      schedule: { kind: 'constant', eta: settings.etaLow },
      stop,
      // The test loss is wanted at L* only (evaluated at the last step); no checkpoints, no event detection.
      testEvery: cap + 1,
      sharpnessEvery: settings.sharpnessEvery,
      sharpnessIterations: settings.sharpnessIterations,
      sharpnessMethod: 'lanczos',
      checkpointEvery: cap + 1,
      eventCheckpoints: null,
      divergenceFactor: settings.divergenceFactor,
      onProgress: (p) => options.onProgress?.({ step: p.step, done: p.step - switchStep, cap: settings.maxSteps, loss: p.loss }),
    });
  const toMatched = await run(options.theta, switchStep, { kind: 'criterion', loss: settings.matchedLoss, maxSteps: cap });
  const records: StepRecord[] = [...toMatched.records];
  const lossAtSwitch = records[0].loss;
  const last = records.at(-1)!;
  const matched = toMatched.stoppedBy === 'converged' ? { step: last.step, sharpness: last.sharpness!, testLoss: last.testLoss } : null;
  let status: ContinuationOutcome['status'] = toMatched.diverged ? 'diverged' : matched ? 'converged' : 'capped';
  let sharpnessConverged = matched?.sharpness ?? null;

  const convergence = settings.convergence;
  if (matched && convergence && (convergence.loss !== undefined || convergence.gradNorm !== undefined)) {
    const rule: StopRule = { kind: 'criterion', maxSteps: cap, ...convergence } as StopRule;
    if (!criterionMet(rule, last.loss, last.gradNorm)) {
      const onward = await run(toMatched.finalTheta, last.step, rule);
      // Its first record re-evaluates the L* step.
      records.push(...onward.records.slice(1));
      status = onward.diverged ? 'diverged' : onward.stoppedBy === 'converged' ? 'converged' : 'capped';
      sharpnessConverged = status === 'converged' ? onward.records.at(-1)!.sharpness : null;
    }
  }
  const end = records.at(-1)!;
  const sampled = records.filter((r) => r.step > switchStep && r.sharpness !== null).map((r) => r.sharpness!);
  return {
    status,
    steps: end.step - switchStep,
    lossAtSwitch,
    matched,
    sharpnessConverged,
    maxSharpness: sampled.length ? Math.max(...sampled) : null,
    finalLoss: Number.isFinite(end.loss) ? end.loss : null,
  };
}

const nonNegativeInt = z.number().int().nonnegative();
const finite = z.number().finite();

export const FAMILY_SEED_STATUSES = ['ok', 'too-few-instabilities', 'parent-diverged', 'control-diverged'] as const;

/** continuations.json: what a finished `continue` task records about one drop family. */
export const familyRecordSchema = z
  .object({
    family: z.string().min(1),
    backend: z.string().min(1),
    seconds: z.number().nonnegative(),
    /** The config slice hashes the task ran under (as in every table's metadata). */
    provenance: z.record(z.string(), z.string()),
    seeds: z.array(
      z
        .object({
          seed: nonNegativeInt,
          parent: z.string().min(1),
          control: z.string().min(1),
          status: z.enum(FAMILY_SEED_STATUSES),
          /** Empty when ok; otherwise what went wrong, naming the config file and field. */
          reason: z.string(),
          /** Instabilities the event checkpoints mark in the parent and in the control run. */
          parentInstabilities: nonNegativeInt,
          controlInstabilities: nonNegativeInt,
          paired: z.array(nonNegativeInt),
          skipped: z.array(z.object({ instability: nonNegativeInt, reason: z.string() }).strict()),
        })
        .strict(),
    ),
    continuations: z.array(
      z
        .object({
          id: z.string().min(1),
          seed: nonNegativeInt,
          role: z.enum(['unstable', 'control']),
          source: z.string().min(1),
          etaHigh: finite.positive(),
          kind: z.enum(SWITCH_KINDS),
          instability: nonNegativeInt,
          step: nonNegativeInt,
          instabilitiesBefore: nonNegativeInt,
          /** GD steps replayed from the nearest earlier checkpoint to reach the switch point. */
          replayed: nonNegativeInt,
          status: z.enum(CONTINUATION_STATUSES),
          steps: nonNegativeInt,
          lossAtSwitch: finite,
          matched: z.object({ step: nonNegativeInt, sharpness: finite, testLoss: finite.nullable() }).strict().nullable(),
          sharpnessConverged: finite.nullable(),
          maxSharpness: finite.nullable(),
          finalLoss: finite.nullable(),
          seconds: z.number().nonnegative(),
        })
        .strict(),
    ),
  })
  .strict();
export type FamilyRecord = z.infer<typeof familyRecordSchema>;

export const FAMILY_RECORD_FILE = 'continuations.json';

/** Writes continuations.json into `dir` (atomically), checked against the schema its reader uses. */
export async function writeFamilyRecord(dir: string, record: FamilyRecord): Promise<void> {
  const file = join(dir, FAMILY_RECORD_FILE);
  await writeFileAtomically(file, JSON.stringify(parseWith(file, familyRecordSchema, record), null, 2));
}

/** continuations.json of a family folder, validated; an error names the file and the field. */
export function readFamilyRecord(dir: string): Promise<FamilyRecord> {
  return readJsonFile(join(dir, FAMILY_RECORD_FILE), familyRecordSchema);
}
export type ContinuationRecord = FamilyRecord['continuations'][number];
export type FamilySeedRecord = FamilyRecord['seeds'][number];

/** A run continuations start from: what its run.json says, and θ at any of its steps (by replay). */
export interface ContinuationSource {
  slug: string;
  eta: number;
  diverged: boolean;
  divergedAt: number | null;
  /** The last step of the run. */
  steps: number;
  checkpoints: readonly CheckpointEntry[];
  thetaAt(step: number): Promise<{ theta: Float32Array; replayed: number }>;
}

/**
 * A finished run folder as a ContinuationSource: θ_step by replay from the nearest checkpoint at or before
 * it with the run's schedule and training's update rule (as replayTo does, so θ is the run's bit for bit),
 * going on from the last replayed θ when that is nearer, since a family asks for its steps in order.
 */
export function runSource(runDir: string, summary: RunSummary, layout: ParameterLayout, objective: Pick<TrainableObjective, 'lossAndGradient'>): ContinuationSource {
  let cached: { step: number; theta: Float32Array } | null = null;
  return {
    slug: summary.run,
    eta: summary.eta,
    diverged: summary.diverged,
    divergedAt: summary.divergedAt,
    steps: summary.steps,
    checkpoints: summary.checkpoints,
    async thetaAt(step) {
      if (!Number.isInteger(step) || step < 0 || step > summary.steps) throw new RangeError(`${runDir}: no step ${step} (the run has steps 0…${summary.steps})`);
      const from = summary.checkpoints.filter((c) => c.step <= step).at(-1);
      if (!from) throw new Error(`${runDir}: no checkpoint at or before step ${step}`);
      let start: { step: number; theta: Float32Array };
      if (cached && cached.step <= step && cached.step >= from.step) start = cached;
      else {
        const checkpoint = await readCheckpoint(join(runDir, from.file), layout);
        if (checkpoint.step !== from.step) throw new Error(`${join(runDir, from.file)}: holds step ${checkpoint.step}, run.json lists it as step ${from.step}`);
        start = { step: from.step, theta: checkpoint.theta };
      }
      let theta = start.theta;
      for (let t = start.step; t < step; t++) {
        const { gradient } = await objective.lossAndGradient(theta);
        theta = gdStep(theta, gradient, learningRateAt(summary.schedule, t));
      }
      cached = { step, theta };
      return { theta: Float32Array.from(theta), replayed: step - from.step };
    },
  };
}

export type FamilyEvent =
  | { kind: 'plan'; seed: number; record: FamilySeedRecord; points: number }
  | { kind: 'start'; index: number; total: number; id: string }
  | { kind: 'progress'; index: number; total: number; id: string; progress: ContinuationProgress; etaSeconds: number | null }
  | { kind: 'done'; index: number; total: number; continuation: ContinuationRecord };

/**
 * Every continuation of one drop family: per seed, the parent's switch points (planSwitchPoints) run from
 * the parent and, at the same steps, from the control run. A diverged parent or control gives no
 * continuations for that seed and a reason naming the config field; the other seeds are still computed.
 */
export async function continueFamily(options: {
  family: string;
  /** Where the family is configured, for the reasons: the config file and the family's field (`dropFamilies.0`). */
  where: { file: string; field: string };
  seeds: readonly { seed: number; parent: ContinuationSource; control: ContinuationSource }[];
  plan: SwitchPlanOptions;
  settings: ContinuationSettings;
  objective: TrainableObjective;
  testObjective?: TrainableObjective;
  onEvent?: (event: FamilyEvent) => void;
}): Promise<Omit<FamilyRecord, 'backend' | 'seconds' | 'provenance'>> {
  const fieldOf = (setting: string) => `${options.where.file}: field \`${options.where.field}.${setting}\``;
  const emit = options.onEvent ?? (() => undefined);
  const seeds: FamilySeedRecord[] = [];
  const jobs: { seed: number; role: 'unstable' | 'control'; source: ContinuationSource; point: SwitchPoint }[] = [];
  for (const { seed, parent, control } of options.seeds) {
    const plan = planSwitchPoints(parent.checkpoints, options.plan);
    const controlInstabilities = eventWindows(control.checkpoints).length;
    const base = { seed, parent: parent.slug, control: control.slug, parentInstabilities: plan.windows.length, controlInstabilities, skipped: plan.skipped };
    let record: FamilySeedRecord;
    if (parent.diverged) {
      record = { ...base, paired: [], skipped: [], status: 'parent-diverged', reason: `${fieldOf('parentEta')}: the parent run ${parent.slug} diverged at step ${parent.divergedAt}; no continuations from seed ${seed}` };
    } else if (control.diverged) {
      record = { ...base, paired: [], skipped: [], status: 'control-diverged', reason: `${fieldOf('controlEta')}: the control run ${control.slug} diverged at step ${control.divergedAt}; no continuations from seed ${seed}` };
    } else {
      const few = plan.paired.length < options.plan.instabilities;
      const why = plan.skipped.length ? ` (${plan.skipped.map((s) => `instability ${s.instability}: ${s.reason}`).join('; ')})` : '';
      record = {
        ...base,
        paired: plan.paired,
        status: few ? 'too-few-instabilities' : 'ok',
        reason: few
          ? `${fieldOf('instabilities')}: the parent run ${parent.slug} has ${plan.windows.length} instabilities, ${plan.paired.length} of them paired with a quiet window, ${options.plan.instabilities} asked for${why}`
          : '',
      };
      const last = Math.min(parent.steps, control.steps);
      // The control's own instabilities before the step (none for a stable control).
      const controlStarts = eventWindows(control.checkpoints).map((w) => w.before ?? w.after!);
      for (const point of plan.points.filter((p) => p.step <= last)) {
        const controlPoint = { ...point, instabilitiesBefore: controlStarts.filter((s) => s < point.step).length };
        jobs.push({ seed, role: 'unstable', source: parent, point }, { seed, role: 'control', source: control, point: controlPoint });
      }
    }
    seeds.push(record);
    emit({ kind: 'plan', seed, record, points: record.paired.length * 3 });
  }

  const continuations: ContinuationRecord[] = [];
  const started = Date.now();
  let stepsDone = 0;
  for (const [i, job] of jobs.entries()) {
    const { seed, role, source, point } = job;
    const id = `${role === 'unstable' ? 'u' : 'c'}-s${seed}-i${point.instability}-${point.kind}-t${point.step}`;
    emit({ kind: 'start', index: i + 1, total: jobs.length, id });
    const t0 = Date.now();
    const { theta, replayed } = await source.thetaAt(point.step);
    const outcome = await runContinuation({
      objective: options.objective,
      testObjective: options.testObjective,
      theta,
      step: point.step,
      settings: options.settings,
      onProgress: (progress) => {
        // Remaining time at the mean seconds per step so far, taking each remaining continuation as long as the mean finished one.
        const perStep = (Date.now() - started) / 1000 / Math.max(1, stepsDone + progress.done);
        const meanSteps = i > 0 ? stepsDone / i : options.settings.maxSteps;
        const remaining = Math.max(0, meanSteps - progress.done) + meanSteps * (jobs.length - i - 1);
        emit({ kind: 'progress', index: i + 1, total: jobs.length, id, progress, etaSeconds: stepsDone + progress.done > 0 ? perStep * remaining : null });
      },
    });
    stepsDone += outcome.steps;
    const continuation: ContinuationRecord = {
      id,
      seed,
      role,
      source: source.slug,
      etaHigh: source.eta,
      kind: point.kind,
      instability: point.instability,
      step: point.step,
      instabilitiesBefore: point.instabilitiesBefore,
      replayed,
      ...outcome,
      seconds: (Date.now() - t0) / 1000,
    };
    continuations.push(continuation);
    emit({ kind: 'done', index: i + 1, total: jobs.length, continuation });
  }
  return { family: options.family, seeds, continuations };
}

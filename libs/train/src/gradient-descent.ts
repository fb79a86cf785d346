/**
 * Full-batch gradient descent θ_{t+1} = θ_t − η_t ∇L(θ_t) (docs/architecture.md, "Science definitions as implemented"), with per-step metrics, sharpness
 * tracked by warm-started Lanczos (or one power step) at a cadence, cadence, requested and event
 * checkpoints, a stop rule, and divergence recorded as a result rather than thrown.
 */
import type { Curvature } from '@lrscape/engine';
import { lanczosTopEigenpairs, powerStep } from '@lrscape/linalg';
import { hasRisen, type RiseDetector } from './rise-rule';
import { learningRateAt, type LearningRateSchedule } from './schedule';
import { criterionMet, stepCap, type StopReason, type StopRule } from './stop-rule';

/** What training needs from a model + data (the engine's ModelObjective fits; tests use quadratics). */
export interface TrainableObjective {
  readonly layout: { size: number };
  lossAndGradient(theta: Float32Array): Promise<{ loss: number; accuracy: number | null; gradient: Float32Array }>;
  evaluate(theta: Float32Array): Promise<{ loss: number; accuracy: number | null }>;
  curvatureAt(theta: Float32Array): Promise<Curvature>;
  /** Gradient and curvature from one forward/backward pass, where the engine offers it (the same gradient). */
  lossGradientAndCurvature?(theta: Float32Array): Promise<{ loss: number; accuracy: number | null; gradient: Float32Array; curvature: Curvature }>;
}

/**
 * How λmax is estimated at a sharpness step: `lanczos` runs warm-started Lanczos to a relative residual of
 * sharpnessTolerance (at most sharpnessIterations HVPs); `power` spends exactly one HVP, a Rayleigh quotient of the
 * previous step's vector that then moves one power-iteration step (cheap enough for every GD step).
 */
export type SharpnessMethod = 'lanczos' | 'power';

export interface StepRecord {
  step: number;
  lr: number;
  loss: number;
  accuracy: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  gradNorm: number | null;
  sharpness: number | null;
  /** A warm Lanczos estimate of λmax beside the power one, at sharpnessCheckEvery steps (null elsewhere). */
  sharpnessCheck: number | null;
}

/**
 * requested: a step the caller listed (checkpointSteps); final: the step the run stopped at (not after divergence);
 * light: a step of lightCheckpointSteps, analysed downstream by its top eigenvectors only (docs/architecture.md,
 * "Light checkpoints"). Any other reason at the same step wins over light.
 */
export const CHECKPOINT_REASONS = ['cadence', 'requested', 'event-before', 'event-after', 'final', 'light'] as const;
export type CheckpointReason = (typeof CHECKPOINT_REASONS)[number];

export interface CheckpointEntry {
  step: number;
  reason: CheckpointReason;
}

export interface TrainProgress {
  step: number;
  /** The last step the run may reach (the stop rule's cap). */
  cap: number;
  loss: number;
  lr: number;
  sharpness: number | null;
}

export interface EventCheckpointOptions {
  /** The rise of the loss over its running minimum that marks an instability (rise-rule.ts). */
  detector: RiseDetector;
  /** At most this many event checkpoints (each costs a Hessian decomposition downstream). */
  maxCount: number;
}

/** The event detector's running state, part of a resume point so a resumed run finds the same events. */
export interface EventState {
  /** Running minimum of the loss since the last event (+∞ before the first step). */
  minLoss: number;
  minStep: number;
  minTheta: Float32Array | null;
  inEvent: boolean;
  /** The running minimum when the current event began: the event ends when the loss is back under it. */
  preRiseLevel: number;
  count: number;
}

/**
 * Everything GD needs to go on from step `step` exactly as an uninterrupted run would: θ_step, the records and
 * checkpoints of the steps before it, and the trackers' state at the start of that step.
 */
export interface ResumeState {
  step: number;
  theta: Float32Array;
  records: StepRecord[];
  checkpoints: CheckpointEntry[];
  /** Warm start of the next sharpness estimate (null: none yet). */
  sharpnessVector: Float64Array | null;
  sharpnessHvps: number;
  events: EventState;
}

/** The settings of a run beyond its objective, θ_0, schedule and stop rule (those of experiment.json's `training`). */
export interface TrainSettings {
  testEvery: number;
  sharpnessEvery: number;
  sharpnessIterations: number;
  sharpnessMethod?: SharpnessMethod;
  /**
   * Relative residual at which a Lanczos estimate stops (default 1e-3). The Ritz value's error is of order
   * residual²·λ/gap, so 1e-3 already gives λmax to ~1e-6 relative when the top eigenvalue is separated.
   */
  sharpnessTolerance?: number;
  /**
   * With sharpnessMethod 'power': every this many steps (0 or absent: never) also run warm Lanczos from the
   * power vector and record it as sharpnessCheck, to measure the power estimate's lag (at catapults). The power
   * vector is not replaced by the Lanczos one, so the power trace is the same with or without checks.
   */
  sharpnessCheckEvery?: number;
  checkpointEvery: number;
  /** Steps to checkpoint besides the cadence, the events and the final step (ones past the stop are skipped). */
  checkpointSteps?: readonly number[];
  /** Light checkpoints (reason light): θ only, for the dense shift analysis; any other reason at a step wins. */
  lightCheckpointSteps?: readonly number[];
  eventCheckpoints: EventCheckpointOptions | null;
  /** Loss above divergenceFactor × the first step's loss, or non-finite, ends the run as diverged. */
  divergenceFactor: number;
}

export interface TrainOptions extends TrainSettings {
  objective: TrainableObjective;
  testObjective?: TrainableObjective;
  theta0: Float32Array;
  schedule: LearningRateSchedule;
  stop: StopRule;
  /** Go on from this state (an interrupted run's resume point, or startState of a stored checkpoint). */
  resume?: ResumeState;
  onCheckpoint?: (step: number, theta: Float32Array, reason: CheckpointReason, loss: number) => Promise<void> | void;
  /** Called at the start of each cadence step (after the first) with everything needed to resume there. */
  onResumePoint?: (state: ResumeState) => Promise<void> | void;
  onProgress?: (progress: TrainProgress) => void;
}

export interface TrainResult {
  records: StepRecord[];
  checkpoints: CheckpointEntry[];
  diverged: boolean;
  divergedAt: number | null;
  stoppedBy: StopReason;
  /** θ at the last recorded step. */
  finalTheta: Float32Array;
  /** Operator applications spent on sharpness tracking (those before a resume point included). */
  sharpnessHvps: number;
}

export const freshEventState = (): EventState => ({ minLoss: Infinity, minStep: -1, minTheta: null, inEvent: false, preRiseLevel: Infinity, count: 0 });

/** The state that starts a run at `step` from θ (a stored checkpoint): no history, no warm start. */
export function startState(theta: Float32Array, step: number): ResumeState {
  return { step, theta: Float32Array.from(theta), records: [], checkpoints: [], sharpnessVector: null, sharpnessHvps: 0, events: freshEventState() };
}

/**
 * One GD step θ − η∇L, each entry in float64 and rounded once to float32: the one update rule that training
 * and replay share, so a replay reproduces θ bit for bit.
 */
export function gdStep(theta: Float32Array, gradient: Float32Array, lr: number): Float32Array {
  const next = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) next[i] = theta[i] - lr * gradient[i];
  return next;
}

export async function trainFullBatchGD(options: TrainOptions): Promise<TrainResult> {
  const { objective } = options;
  const size = objective.layout.size;
  const cap = stepCap(options.stop);
  const resume = options.resume;
  const startStep = resume?.step ?? 0;
  if (startStep > cap) throw new RangeError(`trainFullBatchGD: start step ${startStep} is past the stop rule's last step ${cap}`);
  const records: StepRecord[] = resume ? [...resume.records] : [];
  const checkpoints: CheckpointEntry[] = resume ? [...resume.checkpoints] : [];
  let theta: Float32Array = Float32Array.from(resume?.theta ?? options.theta0);
  let sharpnessVector: Float64Array | null = resume?.sharpnessVector ?? null;
  let sharpnessHvps = resume?.sharpnessHvps ?? 0;
  // θ arrays are never written after gdStep makes them, so the event state may hold one by reference.
  const events: EventState = resume ? { ...resume.events } : freshEventState();
  let referenceLoss: number | null = records.length ? records[0].loss : null;
  const requested = new Set(options.checkpointSteps ?? []);
  const light = new Set(options.lightCheckpointSteps ?? []);

  const saveCheckpoint = async (step: number, params: Float32Array, reason: CheckpointReason, loss: number) => {
    const index = checkpoints.findIndex((c) => c.step === step);
    // An event-before is found after its step; if that step was saved as light, it becomes the event (same θ).
    if (index >= 0 && !(checkpoints[index].reason === 'light' && reason !== 'light')) return;
    if (index >= 0) checkpoints[index] = { step, reason };
    else checkpoints.push({ step, reason });
    await options.onCheckpoint?.(step, params, reason, loss);
  };

  for (let step = startStep; ; step++) {
    const cadence = step % options.checkpointEvery === 0;
    // A resume point holds the state at the start of its step, so a resumed run recomputes that step identically.
    if (cadence && step > startStep && step < cap) {
      await options.onResumePoint?.({
        step,
        theta,
        records: [...records],
        checkpoints: [...checkpoints],
        sharpnessVector,
        sharpnessHvps,
        events: { ...events },
      });
    }
    const lr = learningRateAt(options.schedule, step);
    const sharpnessDue = step % options.sharpnessEvery === 0 || step === cap;
    // At a sharpness step, take the curvature from the gradient's own pass when the engine can.
    let curvature: Curvature | null = null;
    let evaluation: { loss: number; accuracy: number | null; gradient: Float32Array };
    if (sharpnessDue && objective.lossGradientAndCurvature) {
      const fused = await objective.lossGradientAndCurvature(theta);
      curvature = fused.curvature;
      evaluation = fused;
    } else {
      evaluation = await objective.lossAndGradient(theta);
    }
    const { loss, accuracy, gradient } = evaluation;
    let gradNormSq = 0;
    for (let i = 0; i < size; i++) gradNormSq += gradient[i] * gradient[i];
    const gradNorm = Number.isFinite(gradNormSq) ? Math.sqrt(gradNormSq) : null;
    referenceLoss ??= loss;
    const diverged = !Number.isFinite(loss) || gradNorm === null || loss > options.divergenceFactor * Math.max(referenceLoss, 1e-12);

    const record: StepRecord = { step, lr, loss, accuracy, testLoss: null, testAccuracy: null, gradNorm, sharpness: null, sharpnessCheck: null };
    if (diverged) {
      curvature?.dispose();
      records.push(record);
      options.onProgress?.({ step, cap, loss, lr, sharpness: null });
      return { records, checkpoints, diverged: true, divergedAt: step, stoppedBy: 'diverged', finalTheta: theta, sharpnessHvps };
    }
    const converged = criterionMet(options.stop, loss, gradNorm);
    const last = converged || step === cap;
    if (options.testObjective && (step % options.testEvery === 0 || last)) {
      const test = await options.testObjective.evaluate(theta);
      record.testLoss = test.loss;
      record.testAccuracy = test.accuracy;
    }
    if (sharpnessDue || last) {
      curvature ??= await objective.curvatureAt(theta);
      try {
        const powered = (options.sharpnessMethod ?? 'lanczos') === 'power' && sharpnessVector !== null;
        const estimate = await estimateSharpness(curvature, size, sharpnessVector, options);
        sharpnessHvps += estimate.hvps;
        record.sharpness = estimate.value;
        sharpnessVector = estimate.vector;
        const checkEvery = options.sharpnessCheckEvery ?? 0;
        if (powered && checkEvery > 0 && step % checkEvery === 0) {
          const check = await lanczosSharpness(curvature, size, sharpnessVector, options);
          sharpnessHvps += check.hvps;
          record.sharpnessCheck = check.value;
        }
      } finally {
        curvature.dispose();
      }
    }
    records.push(record);

    if (options.eventCheckpoints && step > 0) {
      const { detector, maxCount } = options.eventCheckpoints;
      if (!events.inEvent) {
        if (loss < events.minLoss) {
          Object.assign(events, { minLoss: loss, minStep: step, minTheta: theta });
        } else if (hasRisen(detector, events.minLoss, loss) && events.count < maxCount && events.minTheta) {
          Object.assign(events, { count: events.count + 1, inEvent: true, preRiseLevel: events.minLoss });
          await saveCheckpoint(events.minStep, events.minTheta, 'event-before', events.minLoss);
        }
      } else if (loss <= events.preRiseLevel) {
        Object.assign(events, { inEvent: false, minLoss: loss, minStep: step, minTheta: theta });
        await saveCheckpoint(step, theta, 'event-after', loss);
      }
    }
    if (last) await saveCheckpoint(step, theta, 'final', loss);
    else if (cadence) await saveCheckpoint(step, theta, 'cadence', loss);
    else if (requested.has(step)) await saveCheckpoint(step, theta, 'requested', loss);
    else if (light.has(step)) await saveCheckpoint(step, theta, 'light', loss);
    options.onProgress?.({ step, cap, loss, lr, sharpness: record.sharpness });
    if (last) {
      const stoppedBy: StopReason = converged ? 'converged' : options.stop.kind === 'steps' ? 'steps' : 'capped';
      return { records, checkpoints, diverged: false, divergedAt: null, stoppedBy, finalTheta: theta, sharpnessHvps };
    }
    theta = gdStep(theta, gradient, lr);
  }
}

async function estimateSharpness(
  curvature: Curvature,
  size: number,
  warm: Float64Array | null,
  options: TrainOptions,
): Promise<{ value: number; vector: Float64Array; hvps: number }> {
  if ((options.sharpnessMethod ?? 'lanczos') === 'lanczos' || !warm) return lanczosSharpness(curvature, size, warm, options);
  // One power step from the unit vector of the last estimate: λ ≈ vᵀHv, then v ← Hv/‖Hv‖.
  const { value, vector } = await powerStep((v) => curvature.hvp(v), warm);
  return { value, vector, hvps: 1 };
}

/** Warm-started Lanczos to relative residual sharpnessTolerance: the largest algebraic eigenvalue. */
async function lanczosSharpness(
  curvature: Curvature,
  size: number,
  warm: Float64Array | null,
  options: TrainOptions,
): Promise<{ value: number; vector: Float64Array; hvps: number }> {
  const result = await lanczosTopEigenpairs((v) => curvature.hvp(v), size, {
    count: 1,
    maxIterations: Math.min(options.sharpnessIterations, size),
    tolerance: options.sharpnessTolerance ?? 1e-3,
    startVector: warm ?? undefined,
    trueResiduals: false,
  });
  return { value: result.pairs[0].value, vector: result.pairs[0].vector, hvps: result.operatorCalls };
}

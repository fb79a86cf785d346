/**
 * Full-batch gradient descent θ_{t+1} = θ_t − η_t ∇L(θ_t) (DESIGN §5), with per-step metrics, sharpness
 * tracked by warm-started Lanczos at a cadence, cadence and event checkpoints, and divergence recorded
 * as a result rather than thrown.
 */
import { lanczosTopEigenpairs } from '@lrscape/linalg';
import { learningRateAt, type LearningRateSchedule } from './schedule';

/** What training needs from a model + data (the engine's MlpObjective fits; tests use quadratics). */
export interface TrainableObjective {
  readonly layout: { size: number };
  lossAndGradient(theta: Float32Array): Promise<{ loss: number; accuracy: number | null; gradient: Float32Array }>;
  evaluate(theta: Float32Array): Promise<{ loss: number; accuracy: number | null }>;
  curvatureAt(theta: Float32Array): Promise<Curvature>;
  /** Gradient and curvature from one forward/backward pass, where the engine offers it. */
  lossGradientAndCurvature?(theta: Float32Array): Promise<{ loss: number; accuracy: number | null; gradient: Float32Array; curvature: Curvature }>;
}

interface Curvature {
  hvp(v: Float64Array): Promise<Float64Array>;
  dispose(): void;
}

/**
 * How λmax is estimated at a sharpness step: `lanczos` runs warm-started Lanczos to a relative residual of
 * 1e-4 (at most sharpnessIterations HVPs); `power` spends exactly one HVP, a Rayleigh quotient of the
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
}

export type CheckpointReason = 'cadence' | 'event-before' | 'event-after' | 'final';

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  sharpness: number | null;
}

export interface EventCheckpointOptions {
  /** Relative rise of the loss over its running minimum that marks an instability. */
  prominence: number;
  /** At most this many event checkpoints (each costs a Hessian decomposition downstream). */
  maxCount: number;
}

export interface ResumeState {
  step: number;
  theta: Float32Array;
  records: StepRecord[];
  checkpoints: { step: number; reason: CheckpointReason }[];
  sharpnessVector: Float64Array | null;
}

export interface TrainOptions {
  objective: TrainableObjective;
  testObjective?: TrainableObjective;
  theta0: Float32Array;
  schedule: LearningRateSchedule;
  steps: number;
  testEvery: number;
  sharpnessEvery: number;
  sharpnessIterations: number;
  sharpnessMethod?: SharpnessMethod;
  /**
   * Relative residual at which a Lanczos estimate stops (default 1e-3). The Ritz value's error is of order
   * residual²·λ/gap, so 1e-3 already gives λmax to ~1e-6 relative when the top eigenvalue is separated.
   */
  sharpnessTolerance?: number;
  checkpointEvery: number;
  eventCheckpoints: EventCheckpointOptions | null;
  /** Loss above divergenceFactor × initial loss, or non-finite, ends the run as diverged. */
  divergenceFactor: number;
  /** Continue an interrupted run from its last saved state. */
  resume?: ResumeState;
  onCheckpoint?: (step: number, theta: Float32Array, reason: CheckpointReason, loss: number) => Promise<void> | void;
  /** Called after each cadence checkpoint with everything needed to resume from it. */
  onResumePoint?: (state: ResumeState) => Promise<void> | void;
  onProgress?: (progress: TrainProgress) => void;
}

export interface TrainResult {
  records: StepRecord[];
  checkpoints: { step: number; reason: CheckpointReason }[];
  diverged: boolean;
  divergedAt: number | null;
  finalTheta: Float32Array;
  /** Operator applications spent on sharpness tracking. */
  sharpnessHvps: number;
}

const isCheckpointStep = (step: number, options: TrainOptions) => step % options.checkpointEvery === 0 || step === options.steps;

export async function trainFullBatchGD(options: TrainOptions): Promise<TrainResult> {
  const { objective, steps } = options;
  const size = objective.layout.size;
  const startStep = options.resume?.step ?? 0;
  // The resume point's own step is recomputed, so keep only what came before it.
  const records: StepRecord[] = options.resume ? options.resume.records.filter((r) => r.step < startStep) : [];
  const checkpoints: { step: number; reason: CheckpointReason }[] = options.resume ? [...options.resume.checkpoints] : [];
  let theta = Float32Array.from(options.resume?.theta ?? options.theta0);
  let sharpnessVector: Float64Array | null = options.resume?.sharpnessVector ?? null;
  let sharpnessHvps = 0;
  const initialLoss = records.length ? records[0].loss : null;
  let referenceLoss = initialLoss;

  // Running-minimum state for event checkpoints.
  let minLoss = Infinity;
  let minStep = -1;
  let minTheta: Float32Array | null = null;
  let inEvent = false;
  let preRiseLevel = Infinity;
  let eventCount = checkpoints.filter((c) => c.reason === 'event-before').length;

  const saveCheckpoint = async (step: number, params: Float32Array, reason: CheckpointReason, loss: number) => {
    if (checkpoints.some((c) => c.step === step)) return;
    checkpoints.push({ step, reason });
    await options.onCheckpoint?.(step, params, reason, loss);
  };

  for (let step = startStep; step <= steps; step++) {
    const lr = learningRateAt(options.schedule, step);
    const wantsSharpness = step % options.sharpnessEvery === 0 || step === steps;
    // At a sharpness step, take the curvature from the gradient's own pass when the engine can.
    let curvature: Curvature | null = null;
    let evaluation: { loss: number; accuracy: number | null; gradient: Float32Array };
    if (wantsSharpness && objective.lossGradientAndCurvature) {
      const fused = await objective.lossGradientAndCurvature(theta);
      curvature = fused.curvature;
      evaluation = fused;
    } else {
      evaluation = await objective.lossAndGradient(theta);
    }
    const { loss, accuracy, gradient } = evaluation;
    let gradNormSq = 0;
    for (let i = 0; i < size; i++) gradNormSq += gradient[i] * gradient[i];
    if (referenceLoss === null) referenceLoss = loss;
    const diverged = !Number.isFinite(loss) || !Number.isFinite(gradNormSq) || loss > options.divergenceFactor * Math.max(referenceLoss, 1e-12);

    const record: StepRecord = {
      step,
      lr,
      loss,
      accuracy,
      testLoss: null,
      testAccuracy: null,
      gradNorm: Number.isFinite(gradNormSq) ? Math.sqrt(gradNormSq) : null,
      sharpness: null,
    };
    if (diverged) {
      curvature?.dispose();
      records.push(record);
      options.onProgress?.({ step, steps, loss, lr, sharpness: null });
      return { records, checkpoints, diverged: true, divergedAt: step, finalTheta: theta, sharpnessHvps };
    }
    if (options.testObjective && (step % options.testEvery === 0 || step === steps)) {
      const test = await options.testObjective.evaluate(theta);
      record.testLoss = test.loss;
      record.testAccuracy = test.accuracy;
    }
    if (wantsSharpness) {
      curvature ??= await objective.curvatureAt(theta);
      try {
        const estimate = await estimateSharpness(curvature, size, sharpnessVector, options);
        sharpnessHvps += estimate.hvps;
        record.sharpness = estimate.value;
        sharpnessVector = estimate.vector;
      } finally {
        curvature.dispose();
      }
    }
    records.push(record);

    if (options.eventCheckpoints && step > 0) {
      const events = options.eventCheckpoints;
      if (!inEvent) {
        if (loss < minLoss) {
          minLoss = loss;
          minStep = step;
          minTheta = Float32Array.from(theta);
        } else if (loss > minLoss * (1 + events.prominence) && eventCount < events.maxCount && minTheta) {
          eventCount++;
          inEvent = true;
          preRiseLevel = minLoss;
          await saveCheckpoint(minStep, minTheta, 'event-before', minLoss);
        }
      } else if (loss <= preRiseLevel) {
        inEvent = false;
        minLoss = loss;
        minStep = step;
        minTheta = Float32Array.from(theta);
        await saveCheckpoint(step, theta, 'event-after', loss);
      }
    }
    if (isCheckpointStep(step, options)) {
      await saveCheckpoint(step, theta, step === steps ? 'final' : 'cadence', loss);
      if (step < steps) {
        await options.onResumePoint?.({ step, theta: Float32Array.from(theta), records: [...records], checkpoints: [...checkpoints], sharpnessVector });
      }
    }
    options.onProgress?.({ step, steps, loss, lr, sharpness: record.sharpness });
    if (step === steps) break;

    const next = new Float32Array(size);
    for (let i = 0; i < size; i++) next[i] = theta[i] - lr * gradient[i];
    theta = next;
  }
  return { records, checkpoints, diverged: false, divergedAt: null, finalTheta: theta, sharpnessHvps };
}

async function estimateSharpness(
  curvature: Curvature,
  size: number,
  warm: Float64Array | null,
  options: TrainOptions,
): Promise<{ value: number; vector: Float64Array; hvps: number }> {
  if ((options.sharpnessMethod ?? 'lanczos') === 'lanczos' || !warm) {
    const result = await lanczosTopEigenpairs((v) => curvature.hvp(v), size, {
      count: 1,
      maxIterations: Math.min(options.sharpnessIterations, size),
      tolerance: options.sharpnessTolerance ?? 1e-3,
      startVector: warm ?? undefined,
      trueResiduals: false,
    });
    return { value: result.pairs[0].value, vector: result.pairs[0].vector, hvps: result.operatorCalls };
  }
  // One power step: λ ≈ vᵀHv for the unit v carried from the last estimate, then v ← Hv/‖Hv‖.
  const hv = await curvature.hvp(warm);
  let value = 0;
  let norm = 0;
  for (let i = 0; i < size; i++) {
    value += warm[i] * hv[i];
    norm += hv[i] * hv[i];
  }
  norm = Math.sqrt(norm);
  return { value, vector: norm > 0 ? hv.map((x) => x / norm) : warm, hvps: 1 };
}

/** Learning-rate schedules of docs/architecture.md ("Science definitions as implemented"): η_t as a function of the step, and the one schema that validates them. */
import { z } from 'zod';

const positive = z.number().finite().positive();
const count = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** A schedule as written in experiment.json and run.json (strict: a misspelt field is an error, not a default). */
export const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant'), eta: positive }).strict(),
  z.object({ kind: z.literal('drop'), etaHigh: positive, etaLow: positive, switchStep: nonNegativeInt }).strict(),
  // A period of 1 never leaves η_lo, and η_hi below η_lo (a ratio below 1) inverts the cycle: both are mistakes.
  z
    .object({
      kind: z.literal('cyclic'),
      etaLow: positive,
      etaHigh: positive,
      period: count.min(2, 'a cyclic period shorter than 2 steps never rises from etaLow to etaHigh'),
    })
    .strict()
    .refine((s) => s.etaHigh >= s.etaLow, { path: ['etaHigh'], message: 'below etaLow: the ratio etaHigh/etaLow of a cyclic schedule is at least 1' }),
]);

export type LearningRateSchedule = z.infer<typeof scheduleSchema>;

export function learningRateAt(schedule: LearningRateSchedule, step: number): number {
  switch (schedule.kind) {
    case 'constant':
      return schedule.eta;
    case 'drop':
      return step < schedule.switchStep ? schedule.etaHigh : schedule.etaLow;
    case 'cyclic': {
      // Triangular wave: η_lo at t = 0 (mod T), η_hi at t = T/2.
      const phase = (step % schedule.period) / schedule.period;
      const fraction = phase < 0.5 ? 2 * phase : 2 - 2 * phase;
      return schedule.etaLow + (schedule.etaHigh - schedule.etaLow) * fraction;
    }
  }
}

/** The largest η the schedule reaches (its stability threshold 2/η is the lowest). */
export function peakLearningRate(schedule: LearningRateSchedule): number {
  return schedule.kind === 'constant' ? schedule.eta : schedule.etaHigh;
}

/**
 * The gradient-flow time of step t, τ_t = Σ_{s<t} η_s (τ_0 = 0), in float64: comparisons of runs at different η
 * are made at equal τ, not at equal steps (a run at 2η is twice as far along a stable path at the same step).
 */
export function cumulativeLearningRate(schedule: LearningRateSchedule, step: number): number {
  switch (schedule.kind) {
    case 'constant':
      return schedule.eta * step;
    case 'drop':
      return schedule.etaHigh * Math.min(step, schedule.switchStep) + schedule.etaLow * Math.max(0, step - schedule.switchStep);
    case 'cyclic': {
      let tau = 0;
      for (let s = 0; s < step; s++) tau += learningRateAt(schedule, s);
      return tau;
    }
  }
}

/**
 * The first step t ≤ maxStep with τ_t ≥ tau (null if the run ends before it); ties within 1e-12 relative count as
 * reached, so that τ = 5 at η = 0.1 is step 50 whatever the rounding of 0.1·50. Its τ_t exceeds tau by < η_t.
 */
export function firstStepAtTime(schedule: LearningRateSchedule, tau: number, maxStep: number): number | null {
  if (!(tau >= 0)) throw new RangeError(`firstStepAtTime: τ = ${tau} is not a non-negative number`);
  const reached = (t: number) => cumulativeLearningRate(schedule, t) >= tau * (1 - 1e-12);
  if (schedule.kind === 'constant') {
    let t = Math.max(0, Math.floor(tau / schedule.eta) - 1);
    while (!reached(t)) t++;
    return t <= maxStep ? t : null;
  }
  let sum = 0;
  for (let t = 0; t <= maxStep; t++) {
    if (sum >= tau * (1 - 1e-12)) return t;
    sum += learningRateAt(schedule, t);
  }
  return null;
}

/**
 * Two η (or two ratios of η) are the same to 1e-9 relative: a config writes 0.1/16 as 0.00625. The config's
 * validation of the cyclic study and the study itself (libs/landscape/src/cyclic.ts) match runs by it, so they agree.
 */
export function sameLearningRate(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

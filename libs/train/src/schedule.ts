/** Learning-rate schedules of docs/architecture.md ("Science definitions as implemented"): η_t as a function of the step, and the one schema that validates them. */
import { z } from 'zod';

const positive = z.number().finite().positive();
const count = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** A schedule as written in experiment.json and run.json (strict: a misspelt field is an error, not a default). */
export const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant'), eta: positive }).strict(),
  z.object({ kind: z.literal('drop'), etaHigh: positive, etaLow: positive, switchStep: nonNegativeInt }).strict(),
  z.object({ kind: z.literal('cyclic'), etaLow: positive, etaHigh: positive, period: count }).strict(),
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

/** Learning-rate schedules of DESIGN §5: η_t as a function of the step. */
export type LearningRateSchedule =
  | { kind: 'constant'; eta: number }
  | { kind: 'drop'; etaHigh: number; etaLow: number; switchStep: number }
  | { kind: 'cyclic'; etaLow: number; etaHigh: number; period: number };

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

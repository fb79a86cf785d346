/**
 * The one rule that says when the training loss has risen over a base level (docs/architecture.md, "Science
 * definitions as implemented"), shared by training's event checkpoints (online, over the running minimum) and
 * by the analysis detectors in libs/landscape (offline, over a peak's base):
 *
 * - `relative`: loss > base · (1 + threshold), a rise by a fraction of the base (scale-free, but on a tiny
 *   late loss it counts tiny oscillations);
 * - `absolute`: loss > base + threshold, a rise in loss units (scipy.signal.find_peaks' `prominence` when the
 *   base is a peak's higher base).
 */
import { z } from 'zod';

export const RISE_DETECTOR_KINDS = ['relative', 'absolute'] as const;
export type RiseDetectorKind = (typeof RISE_DETECTOR_KINDS)[number];

export interface RiseDetector {
  kind: RiseDetectorKind;
  /** relative: the fraction r of the base; absolute: the height p in loss units. */
  threshold: number;
}

export const riseDetectorSchema = z
  .object({ kind: z.enum(RISE_DETECTOR_KINDS), threshold: z.number().finite().positive() })
  .strict() satisfies z.ZodType<RiseDetector>;

/** The loss level a rise from `base` must exceed. */
export function riseLevel(detector: RiseDetector, base: number): number {
  return detector.kind === 'relative' ? base * (1 + detector.threshold) : base + detector.threshold;
}

/** True when `loss` has risen over `base` by more than the detector's threshold. */
export function hasRisen(detector: RiseDetector, base: number, loss: number): boolean {
  return loss > riseLevel(detector, base);
}

/** "relative 0.1" / "absolute 0.05": how a detector is named in tables and texts. */
export function describeDetector(detector: RiseDetector): string {
  return `${detector.kind} ${detector.threshold}`;
}

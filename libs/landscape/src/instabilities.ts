/**
 * Instabilities of a GD run from its loss and sharpness traces (docs/architecture.md, "Science definitions as implemented"): a heating phase is a rise of
 * the training loss by more than `prominence` (relative to the running minimum before it) while
 * λmax > 2/η; it runs from that minimum to the loss peak; the cooling phase runs from the peak until the
 * loss is back under its pre-rise level.
 */

export interface TracePoint {
  step: number;
  lr: number;
  loss: number | null;
  sharpness: number | null;
}

export interface Instability {
  index: number;
  start: number;
  peak: number;
  /** Step at which the loss is back under its pre-rise level; null if it never was. */
  end: number | null;
  lossBefore: number;
  peakLoss: number;
  sharpnessBefore: number | null;
  sharpnessPeak: number | null;
  sharpnessAfter: number | null;
  heatingSteps: number;
  coolingSteps: number | null;
}

export interface InstabilityOptions {
  /** Relative loss rise over the running minimum that counts (default 0.1 = 10%). */
  prominence?: number;
}

/** Points must be sorted by step; points with a null or non-finite loss end the scan (divergence). */
export function detectInstabilities(points: readonly TracePoint[], options: InstabilityOptions = {}): Instability[] {
  const prominence = options.prominence ?? 0.1;
  const usable: TracePoint[] = [];
  for (const p of points) {
    if (p.loss === null || !Number.isFinite(p.loss)) break;
    usable.push(p);
  }
  const found: Instability[] = [];
  let i = 0;
  let minIndex = 0;
  while (i < usable.length) {
    const loss = usable[i].loss!;
    if (loss < usable[minIndex].loss!) minIndex = i;
    if (loss > usable[minIndex].loss! * (1 + prominence)) {
      const level = usable[minIndex].loss!;
      // Follow the excursion until the loss is back under the pre-rise level.
      let peakIndex = i;
      let endIndex: number | null = null;
      let j = i;
      for (; j < usable.length; j++) {
        if (usable[j].loss! > usable[peakIndex].loss!) peakIndex = j;
        if (usable[j].loss! <= level) {
          endIndex = j;
          break;
        }
      }
      const heating = usable.slice(minIndex, peakIndex + 1);
      const unstable = heating.some((p) => p.sharpness !== null && p.sharpness > 2 / p.lr);
      if (unstable) {
        const sharpnessPeak = heating.reduce<number | null>((m, p) => (p.sharpness === null ? m : m === null ? p.sharpness : Math.max(m, p.sharpness)), null);
        const before = [...usable.slice(0, minIndex + 1)].reverse().find((p) => p.sharpness !== null)?.sharpness ?? null;
        const after = endIndex === null ? null : (usable.slice(endIndex).find((p) => p.sharpness !== null)?.sharpness ?? null);
        found.push({
          index: found.length + 1,
          start: usable[minIndex].step,
          peak: usable[peakIndex].step,
          end: endIndex === null ? null : usable[endIndex].step,
          lossBefore: level,
          peakLoss: usable[peakIndex].loss!,
          sharpnessBefore: before,
          sharpnessPeak,
          sharpnessAfter: after,
          heatingSteps: usable[peakIndex].step - usable[minIndex].step,
          coolingSteps: endIndex === null ? null : usable[endIndex].step - usable[peakIndex].step,
        });
      }
      if (endIndex === null) break;
      i = endIndex;
      minIndex = endIndex;
      continue;
    }
    i++;
  }
  return found;
}

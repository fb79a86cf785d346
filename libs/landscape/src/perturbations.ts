/**
 * What an outlier direction controls in output space (docs/architecture.md, "Science definitions as implemented"): perturb θ ± ε·u and measure the change of
 * the network's outputs, per class (classification) or along x (1-D regression).
 */
import type { TableRow } from '@lrscape/artifacts';

/** (f(θ+εu) − f(θ−εu)) / 2ε, elementwise over the outputs (a central difference: O(ε²) accurate). */
export async function directionalOutputChange(
  outputs: (theta: Float32Array) => Promise<Float32Array>,
  theta: Float32Array,
  direction: Float64Array,
  epsilon: number,
): Promise<Float64Array> {
  const shifted = (sign: number) => Float32Array.from(theta, (t, i) => t + sign * epsilon * direction[i]);
  const plus = await outputs(shifted(1));
  const minus = await outputs(shifted(-1));
  return Float64Array.from(plus, (p, i) => (p - minus[i]) / (2 * epsilon));
}

/**
 * Classification: one row per class c, delta = mean over the examples of the change of output c, rms = its
 * root mean square over the examples. The mean cancels where examples respond in opposite directions; the
 * RMS does not, so it is what says how strongly a direction moves an output.
 */
export function classPerturbationRows(run: string, step: number, direction: number, change: Float64Array, classes: number): TableRow<'perturbations'>[] {
  const n = change.length / classes;
  return Array.from({ length: classes }, (_, c) => {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const d = change[i * classes + c];
      sum += d;
      squares += d * d;
    }
    return { run, step, direction, class_or_x: c, delta: sum / n, rms: Math.sqrt(squares / n) };
  });
}

/** 1-D regression: one row per x of the evaluation grid, delta = change of f(x) (one point each: rms = |delta|). */
export function gridPerturbationRows(run: string, step: number, direction: number, change: Float64Array, xs: Float32Array): TableRow<'perturbations'>[] {
  return Array.from(xs, (x, i) => ({ run, step, direction, class_or_x: x, delta: change[i], rms: Math.abs(change[i]) }));
}

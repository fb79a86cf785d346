/**
 * A small, made-up experiment (a few ηs, three drop schedules, one diverged run, full and k-layer
 * spectra, every landscape table, claims) for the report's tests and for previewing the page.
 * Not science: shapes only, chosen so that every figure of the page has something to draw.
 */
import type { ExperimentPageInput } from '../page.ts';
import type {
  ClaimsRow,
  DensityRow,
  DisplacementRow,
  DropFamiliesRow,
  EffectiveRow,
  FlatteningRow,
  InstabilitiesRow,
  InstabilitySensitivityRow,
  KlayerRow,
  LongHorizonRow,
  OverlapsRow,
  PerturbationsRow,
  PowerCheckRow,
  RunsRow,
  SpectraRow,
  StepsRow,
  TraceRow,
} from '../rows.ts';

export interface SampleOptions {
  experiment?: string;
  /** Steps of the longest runs (default 400). */
  steps?: number;
  /** A classification experiment with this many classes (perturbations by class, m = C outliers); default: a regression. */
  classes?: number;
}

const BASELINE = 'eta-0.01';

export function sampleExperiment(options: SampleOptions = {}): ExperimentPageInput {
  const experiment = options.experiment ?? 'wreg';
  const n = options.steps ?? 400;
  const classes = options.classes;
  const etas = [0.01, 0.03, 0.1, 0.3];
  const runs: RunsRow[] = etas.map((eta, i) => ({
    run: `eta-${eta}`,
    eta,
    schedule: 'constant',
    seed: 0,
    steps: i === 3 ? 120 : n,
    diverged: i === 3,
    final_loss: i === 3 ? null : 0.01 * (i + 1),
    final_sharpness: i === 3 ? null : 1.9 / eta,
    seconds: 12.5 + i,
    backend: 'cpu',
    initial_regime: (eta * 5) / 2,
  }));
  // Drop schedules η 0.1 → 0.01 at later and later t_switch (for the flattening figure).
  const switches = new Map<string, number>();
  for (const fraction of [0.25, 0.5, 0.75]) {
    const t = Math.round(n * fraction);
    const run = `drop-0.1-0.01-t${t}`;
    switches.set(run, t);
    runs.push({ run, eta: 0.1, schedule: 'drop', seed: 0, steps: n, diverged: false, final_loss: 0.02, final_sharpness: 60, seconds: 13, backend: 'cpu', initial_regime: 0.25 });
  }
  const lrOf = (r: RunsRow, t: number) => (r.schedule === 'drop' ? (t < switches.get(r.run)! ? 0.1 : 0.01) : r.eta);
  // Loss spikes every ~78 steps for η ≥ 0.1 (before the drop, for drop schedules): the instabilities.
  const spiking = (r: RunsRow, t: number) => !r.diverged && lrOf(r, t) >= 0.1;

  const steps: StepsRow[] = [];
  for (const r of runs) {
    let sharpness = 5;
    for (let t = 0; t < r.steps; t++) {
      const lr = lrOf(r, t);
      sharpness = Math.min(sharpness * 1.01 + 0.05, (2 / lr) * (1 + 0.03 * Math.sin(t / 5)));
      const spikes = spiking(r, t) ? 1 + 2 * Math.sin(t / 25) ** 16 : 1;
      const loss = r.diverged ? (t > 100 ? Infinity : Math.exp(t / 40)) : Math.exp((-t * Math.sqrt(r.eta)) / 20) * spikes + 0.01;
      steps.push({
        run: r.run,
        step: t,
        lr,
        loss,
        accuracy: classes === undefined ? null : Math.min(0.99, 0.5 + t / (2 * n)),
        test_loss: Number.isFinite(loss) ? loss * 1.1 : null,
        test_accuracy: null,
        grad_norm: 1,
        sharpness: t % 10 === 0 && Number.isFinite(loss) ? sharpness : null,
        // A Lanczos check every 50 steps, the power estimate 1% under it.
        sharpness_check: t % 50 === 0 && Number.isFinite(loss) ? sharpness * 1.01 : null,
      });
    }
  }
  const stepOf = new Map(steps.map((s) => [`${s.run}\u0000${s.step}`, s]));
  const at = (run: string, t: number) => stepOf.get(`${run}\u0000${t}`);
  /** The sharpness sample nearest to step t (they are taken every 10 steps). */
  const sharpnessNear = (run: string, t: number) => at(run, Math.round(t / 10) * 10)?.sharpness ?? at(run, Math.floor(t / 10) * 10)?.sharpness ?? null;

  // Instabilities: each spike peaks at t = 25(π/2 + kπ), rising from 15 steps before to 15 after.
  const instabilities: InstabilitiesRow[] = [];
  for (const r of runs) {
    let index = 0;
    for (let k = 0; ; k++) {
      const peak = Math.round(25 * (Math.PI / 2 + k * Math.PI));
      if (peak >= r.steps) break;
      if (!spiking(r, peak)) continue;
      const start = peak - 15;
      const end = peak + 15 < r.steps && spiking(r, peak + 15) ? peak + 15 : null;
      index += 1;
      instabilities.push({
        run: r.run,
        eta: r.eta,
        index,
        start,
        peak,
        end,
        loss_before: at(r.run, start)!.loss!,
        peak_loss: at(r.run, peak)!.loss!,
        sharpness_before: sharpnessNear(r.run, start),
        sharpness_peak: sharpnessNear(r.run, peak),
        sharpness_after: end === null ? null : sharpnessNear(r.run, end),
        heating_steps: peak - start,
        cooling_steps: end === null ? null : end - peak,
        detector: 'relative',
        threshold: 0.1,
        up_crossing: peak - 10,
        down_crossing: peak + 5,
        sharpness_peak_step: peak,
        sharpness_trough: sharpnessNear(r.run, peak + 10),
        sharpness_trough_step: peak + 10,
        // Later instabilities peak a little lower: flattening along the run.
        ratio_peak: 1.2 - 0.02 * index,
        ratio_peak_step: peak,
        ratio_trough: 0.8 - 0.01 * index,
        ratio_trough_step: peak + 10,
      });
    }
  }

  const m = classes ?? 2;
  const topK = Math.max(8, 2 * m);
  const checkpointsOf = (r: RunsRow) => [0, n / 4, n / 2, (3 * n) / 4, n - 1].map(Math.round).filter((s) => s < r.steps);
  const spectra: SpectraRow[] = [];
  for (const r of runs) {
    for (const step of checkpointsOf(r)) {
      for (const scope of ['full', 'k1', 'k2']) {
        for (let rank = 1; rank <= topK; rank++) {
          const top = Math.min(2 / r.eta, 5 + step / 4);
          const full = rank <= m ? top * (1 - (0.5 * (rank - 1)) / Math.max(1, m - 1)) : 0.4 / (rank - m + 2) - 0.05;
          const factor = scope === 'full' ? 1 : scope === 'k1' ? 0.6 + step / (5 * n) : 0.9;
          spectra.push({ run: r.run, step, scope, end: 'top', rank, eigenvalue: full * factor, residual: 1e-6 * rank, is_outlier: rank <= m });
        }
        // The bottom end: two small negative eigenvalues, growing in magnitude with the top.
        for (let rank = 1; rank <= 2; rank++) {
          const top = Math.min(2 / r.eta, 5 + step / 4);
          spectra.push({ run: r.run, step, scope, end: 'bottom', rank, eigenvalue: -0.02 * top / rank, residual: 1e-6, is_outlier: false });
        }
      }
    }
  }
  const fullSpectrum = (run: string, step: number) => spectra.filter((s) => s.run === run && s.step === step && s.scope === 'full');

  const density: DensityRow[] = [];
  const trace: TraceRow[] = [];
  const effective: EffectiveRow[] = [];
  const klayer: KlayerRow[] = [];
  const gauss = (x: number, mu: number, sd: number) => Math.exp(-(((x - mu) / sd) ** 2) / 2) / (sd * Math.sqrt(2 * Math.PI));
  for (const r of runs) {
    for (const step of checkpointsOf(r)) {
      const eigen = fullSpectrum(r.run, step);
      const outliers = eigen.filter((e) => e.is_outlier).map((e) => e.eigenvalue);
      const top = Math.max(...outliers);
      for (let i = 0; i <= 120; i++) {
        const lambda = -0.5 + ((top * 1.1 + 0.5) * i) / 120;
        const value = 0.95 * gauss(lambda, 0, Math.max(0.15, top / 50)) + outliers.reduce((sum, o) => sum + (0.05 / outliers.length) * gauss(lambda, o, 0.02 * top), 0);
        density.push({ run: r.run, step, scope: 'full', lambda, density: value });
      }
      const sum = eigen.reduce((s, e) => s + e.eigenvalue, 0);
      trace.push({ run: r.run, step, scope: 'full', estimate: 3 * sum + 2, stderr: 0.05 * (3 * sum + 2) });
      for (const scope of ['full', 'k1', 'k2']) {
        const values = spectra.filter((s) => s.run === r.run && s.step === step && s.scope === scope && s.end === 'top');
        const lmax = Math.max(...values.map((v) => v.eigenvalue));
        const alpha = 0.5 * lmax;
        const nEff = values.reduce((s, v) => s + Math.max(v.eigenvalue, 0) / (Math.max(v.eigenvalue, 0) + alpha), 0);
        effective.push({ run: r.run, step, scope, m: values.filter((v) => v.is_outlier).length, n_eff: nEff, n_eff_full: nEff + 3 + step / n, n_eff_exact: null });
      }
      for (const k of [1, 2]) {
        for (let rank = 1; rank <= 4; rank++) {
          const relError = k === 1 ? 0.4 - step / (5 * n) : 0.1;
          const overlap = k === 1 ? 0.55 + (0.3 * step) / n - 0.05 * rank : 0.92 - 0.02 * rank;
          klayer.push({ run: r.run, step, k, rank, rel_error: relError, overlap_to_full: overlap });
        }
      }
    }
  }

  // Landscape shift: larger η turns the top eigenspace faster, along the run and away from the baseline.
  const speed = (r: RunsRow) => Math.min(3, r.eta * 10);
  const overlaps: OverlapsRow[] = [];
  const pair = (runA: string, a: number, runB: string, b: number, overlap: number, kind: OverlapsRow['kind']): OverlapsRow => ({
    run_a: runA,
    step_a: a,
    run_b: runB,
    step_b: b,
    scope: 'full',
    m,
    overlap,
    min_cos_angle: Math.sqrt(overlap) * 0.9,
    cos_rms_angle: Math.sqrt(overlap) * 0.95,
    gap_a: 4,
    gap_b: 4,
    well_defined: true,
    kind,
    tau_a: a * (runs.find((r) => r.run === runA)?.eta ?? 0),
    tau_b: b * (runs.find((r) => r.run === runB)?.eta ?? 0),
  });
  const displacement: DisplacementRow[] = [];
  for (const r of runs) {
    const checkpoints = checkpointsOf(r);
    checkpoints.forEach((a, i) => {
      if (i + 1 < checkpoints.length) overlaps.push(pair(r.run, a, r.run, checkpoints[i + 1]!, Math.exp((-speed(r) * (checkpoints[i + 1]! - a)) / n), 'consecutive'));
      for (const b of checkpoints) overlaps.push(pair(r.run, a, r.run, b, Math.exp((-speed(r) * Math.abs(a - b)) / n), 'step×step'));
      overlaps.push(pair(r.run, a, BASELINE, a, Math.exp((-(speed(r) - 0.1) * a) / n), 'baseline'));
    });
    for (const event of instabilities.filter((e) => e.run === r.run && e.end !== null)) {
      const before = [...checkpoints].reverse().find((c) => c <= event.start);
      const after = checkpoints.find((c) => c >= event.end!);
      if (before !== undefined && after !== undefined && before !== after) overlaps.push(pair(r.run, before, r.run, after, Math.min(0.95, 0.3 + 0.12 * event.index), 'instability'));
    }
    for (let t = 0; t < r.steps; t += 10) {
      const cos = t === 0 ? null : r.run === BASELINE ? 1 : 1 - 0.7 * (1 - Math.exp((-speed(r) * t) / n));
      displacement.push({ run: r.run, step: t, cos_to_baseline: cos });
    }
  }

  // Delayed drops: one family from eta-0.1 (unstable) with the control eta-0.03, η_lo = 0.01, L* = 0.02, three
  // seeds (shapes only: every seed's continuations name the seed-0 runs, the only ones here): λ(L*) falls across
  // each instability and not across its quiet window; the control is flat.
  const flattening: FlatteningRow[] = [];
  const dropFamilies: DropFamiliesRow[] = [];
  const etaLow = 0.01;
  for (const seed of [0, 1, 2]) {
    const parent = 'eta-0.1';
    const control = 'eta-0.03';
    for (const role of ['unstable', 'control'] as const) {
      for (const instability of [1, 2]) {
        const before = 60 + 120 * instability;
        const points = [['quiet-start', before - 30], ['before-instability', before], ['after-instability', before + 30]] as const;
        for (const [kind, t] of points) {
          const passed = instability - 1 + (kind === 'after-instability' ? 1 : 0);
          const ratio = role === 'unstable' ? 0.5 - 0.06 * passed - 0.005 * seed : 0.6 + 0.002 * seed;
          flattening.push({
            family: 'main', run: `${role === 'unstable' ? 'u' : 'c'}-s${seed}-i${instability}-${kind}-t${t}`, source: role === 'unstable' ? parent : control, role, seed, kind, instability,
            t_switch: t, instabilities_before: role === 'unstable' ? passed : 0, eta_high: role === 'unstable' ? 0.1 : 0.03, eta_low: etaLow, loss_at_switch: 0.05, matched_loss: 0.02,
            step_matched: t + 200, sharpness_matched: ratio * (2 / etaLow), ratio_matched: ratio, test_loss_matched: 0.03, sharpness_converged: ratio * (2 / etaLow),
            max_sharpness: ratio * (2 / etaLow), steps: 200, status: 'converged', use: 'used',
          });
        }
      }
    }
    dropFamilies.push({
      family: 'main', field: 'dropFamilies.0', seed, parent, control, eta_parent: 0.1, eta_control: 0.03, eta_low: etaLow, matched_loss: 0.02, max_steps: 1000, pinned_ratio: 0.8,
      control_margin: 0.05, status: 'ok', reason: '', parent_instabilities: 4, control_instabilities: 0, paired: 2, continuations: 12, reached: 12, capped: 0, diverged: 0, pinned: 0,
    });
  }

  // Output-space role: direction u_d moves the output near x = −3 + 2(d − 1) (regression) or mostly class d − 1 (classification).
  const perturbations: PerturbationsRow[] = [];
  for (const r of runs.filter((x) => !x.diverged)) {
    for (const step of checkpointsOf(r).slice(-2)) {
      for (let direction = 1; direction <= Math.max(4, m); direction++) {
        const scale = 1 / direction;
        if (classes === undefined) {
          for (let i = 0; i <= 40; i++) {
            const x = -4 + i / 5;
            const delta = scale * (direction % 2 ? 1 : -1) * Math.exp(-((x + 3 - 2 * (direction - 1)) ** 2));
            perturbations.push({ run: r.run, step, direction, class_or_x: x, delta, rms: Math.abs(delta) });
          }
        } else {
          for (let c = 0; c < classes; c++) {
            const delta = scale * (c === (direction - 1) % classes ? 1 : -0.8 / classes) * (1 + 0.1 * Math.sin(c + direction));
            perturbations.push({ run: r.run, step, direction, class_or_x: c, delta, rms: Math.abs(delta) * (1.2 + 0.3 * Math.cos(c)) });
          }
        }
      }
    }
  }

  // The detector sweep: fewer instabilities at higher thresholds; τ of the peak falling where there are 3 or more.
  const instabilitySensitivity: InstabilitySensitivityRow[] = [];
  const powerCheck: PowerCheckRow[] = [];
  const longHorizon: LongHorizonRow[] = [];
  for (const r of runs.filter((run) => run.schedule === 'constant')) {
    const own = instabilities.filter((e) => e.run === r.run);
    for (const [detector, thresholds] of [['relative', [0.05, 0.1, 0.2, 0.5]], ['absolute', [0.02, 0.05, 0.1, 0.2]]] as const) {
      thresholds.forEach((threshold, k) => {
        const count = Math.max(0, own.length - k);
        instabilitySensitivity.push({
          detector, threshold, run: r.run, eta: r.eta, seed: r.seed, count, tau_peak: count >= 3 ? -0.6 - 0.1 * k : null, tau_trough: count >= 3 ? 0.4 : null,
          first_ratio_peak: count ? 1.18 : null, last_ratio_peak: count ? 1.2 - 0.02 * count : null,
        });
      });
    }
    if (!r.diverged) {
      for (const phase of ['inside', 'outside'] as const) {
        powerCheck.push({ run: r.run, eta: r.eta, phase, checks: phase === 'inside' ? own.length : 8, median_rel_error: phase === 'inside' ? (own.length ? 0.03 : null) : 0.004, max_rel_error: phase === 'inside' ? (own.length ? 0.15 : null) : 0.02 });
      }
      const last = own.at(-1);
      longHorizon.push({
        run: r.run, eta: r.eta, seed: r.seed, steps: r.steps, instabilities: own.length, last_peak: last?.peak ?? null, tail_from_index: own.length ? Math.floor(own.length / 2) + 1 : null,
        tail_slope_peak: own.length >= 6 ? -0.05 : null, tail_slope_trough: own.length >= 6 ? 0.02 : null, last_ratio_peak: last?.ratio_peak ?? null, last_ratio_trough: last?.ratio_trough ?? null,
        late_from: r.steps / 2, late_instabilities: own.filter((e) => e.peak >= r.steps / 2).length, late_ratio_median: 0.99, late_ratio_max: 1.1, late_check_median: 1,
      });
    }
  }

  const claims: ClaimsRow[] = [

    { id: 'eos-hover', claim: 'sharpness rises to 2/η (edge of stability)', measured: 0.98, expected: '≥ 0.9 of 2/η', verdict: 'pass', detail: 'median over constant-η runs' },
    { id: 'outliers-classes', claim: 'number of outliers equals the number of classes', measured: 3, expected: '2', verdict: 'fail', detail: 'm = 3 at the last checkpoint' },
    { id: 'drop-control-null', claim: 'drops from a stable run reach the same sharpness at matched loss', measured: null, expected: 'slope within ±0.05 of 0', verdict: 'not-run', detail: 'needs a control slope in ≥ 2 seeds, has 1' },
  ];

  return {
    experiment,
    title: 'W-shaped regression',
    description: 'Gradient descent on a 1-D W-shaped regression target over a grid of learning rates.\n\nA made-up sample for previewing the report.',
    runs,
    steps,
    spectra,
    claims,
    instabilities,
    instabilitySensitivity,
    powerCheck,
    longHorizon,
    density,
    trace,
    overlaps,
    displacement,
    flattening,
    dropFamilies,
    effective,
    perturbations,
    klayer,
    ...(classes === undefined ? {} : { classes }),
    config: { experiment, etas, steps: n, hessian: { topK, kLayers: [1, 2], cadence: n / 4 } },
    provenance: {
      codeVersion: '0000000',
      backend: 'cpu',
      generatedAt: '2025-01-01T00:00:00Z',
      versions: { node: 'v20', '@tensorflow/tfjs': '4.22.0', '@observablehq/plot': '0.6.17' },
      timings: { prepare: 0.4, train: 52.3, hessian: 130.2, report: 1.1 },
    },
    downloads: [],
  };
}

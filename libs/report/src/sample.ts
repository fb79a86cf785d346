/**
 * A small, made-up experiment (a few ηs, one drop schedule, one diverged run, full and k-layer
 * spectra, claims) for the report's tests and for previewing the page. Not science: shapes only.
 */
import type { ExperimentPageInput } from './page.ts';
import type { ClaimsRow, RunsRow, SpectraRow, StepsRow } from './rows.ts';

export function sampleExperiment(options: { experiment?: string; steps?: number } = {}): ExperimentPageInput {
  const experiment = options.experiment ?? 'wreg';
  const n = options.steps ?? 400;
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
  }));
  runs.push({ run: 'drop-0.1-0.01-t200', eta: 0.1, schedule: 'drop', seed: 0, steps: n, diverged: false, final_loss: 0.02, final_sharpness: 60, seconds: 13, backend: 'cpu' });

  const steps: StepsRow[] = [];
  for (const r of runs) {
    let sharpness = 5;
    for (let t = 0; t < r.steps; t++) {
      const lr = r.schedule === 'drop' ? (t < n / 2 ? 0.1 : 0.01) : r.eta;
      sharpness = Math.min(sharpness * 1.01 + 0.05, (2 / lr) * (1 + 0.03 * Math.sin(t / 5)));
      const spikes = r.eta >= 0.1 ? 1 + 2 * Math.sin(t / 25) ** 16 : 1;
      const loss = r.diverged ? (t > 100 ? Infinity : Math.exp(t / 40)) : Math.exp((-t * Math.sqrt(r.eta)) / 20) * spikes + 0.01;
      steps.push({
        run: r.run,
        step: t,
        lr,
        loss,
        accuracy: null,
        test_loss: Number.isFinite(loss) ? loss * 1.1 : null,
        test_accuracy: null,
        grad_norm: 1,
        sharpness: t % 10 === 0 && Number.isFinite(loss) ? sharpness : null,
      });
    }
  }

  const spectra: SpectraRow[] = [];
  for (const r of runs) {
    for (const step of [0, n / 4, n / 2, (3 * n) / 4, n - 1]) {
      if (step >= r.steps) continue;
      for (const scope of ['full', 'k1', 'k2']) {
        for (let rank = 1; rank <= 8; rank++) {
          const top = Math.min(2 / r.eta, 5 + step / 4);
          const full = rank <= 2 ? top / rank : 0.4 / rank - 0.05;
          const factor = scope === 'full' ? 1 : scope === 'k1' ? 0.6 + step / (5 * n) : 0.9;
          spectra.push({ run: r.run, step, scope, rank, eigenvalue: full * factor, residual: 1e-6 * rank, is_outlier: rank <= 2 });
        }
      }
    }
  }

  const claims: ClaimsRow[] = [
    { claim: 'sharpness rises to 2/η (edge of stability)', measured: 0.98, expected: '≥ 0.9 of 2/η', verdict: 'pass', detail: 'median over constant-η runs' },
    { claim: 'number of outliers equals the number of classes', measured: 3, expected: '2', verdict: 'fail', detail: 'm = 3 at the last checkpoint' },
    { claim: 'landscape flattens after instabilities', measured: null, expected: 'decreasing', verdict: 'not-run', detail: 'needs drop schedules' },
  ];

  return {
    experiment,
    title: 'W-shaped regression',
    description: 'Gradient descent on a 1-D W-shaped regression target over a grid of learning rates.\n\nA made-up sample for previewing the report.',
    runs,
    steps,
    spectra,
    claims,
    config: { experiment, etas, steps: n, hessian: { topK: 8, kLayers: [1, 2], cadence: n / 4 } },
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

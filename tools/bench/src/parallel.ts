/**
 * bench:parallel — do per-η tasks use both cores? (issue 5, goal 5). In a scratch copy of the workspace,
 * one experiment with two η runs their train and hessian tasks through Nx twice, skipping the cache:
 * `--parallel=1` then `--parallel=2`, and the ratio of wall times is printed (goal ≤ 0.6).
 */
import { cpus, loadavg } from 'node:os';
import { createScratchWorkspace } from '../../lrscape/src/testing/scratch-workspace';

const steps = Number(process.env.BENCH_STEPS ?? 400);
const workspace = createScratchWorkspace('lrscape-bench-parallel-');
try {
  workspace.writeExperiment('par', {
    title: 'Parallel bench',
    dataset: { kind: 'fmnist', perClass: 40, seed: 1, testFraction: 0.2 },
    model: { hidden: [64, 64], activation: 'tanh', loss: 'mse' },
    training: { steps, checkpointEvery: steps / 2, sharpnessEvery: 20, testEvery: 100, maxEventCheckpoints: 0 },
    grid: { etas: [0.01, 0.03] },
    hessian: { topK: 8, maxIterations: 40, kLayers: [1], density: { probes: 1, steps: 20, gridSize: 50 }, traceProbes: 2 },
  });
  workspace.nx('run', 'par:prepare');
  const time = (parallel: number) => {
    const started = performance.now();
    const ran = workspace.nx('run-many', '-t', 'train,hessian', '--projects=par-eta-0.01,par-eta-0.03', '--exclude-task-dependencies', `--parallel=${parallel}`, '--skip-nx-cache');
    const seconds = (performance.now() - started) / 1000;
    console.log(`  --parallel=${parallel}: ${seconds.toFixed(1)} s (${ran.length} tasks ran: ${ran.join(', ')})`);
    return seconds;
  };
  console.log(`bench:parallel — two η runs (train + hessian each), fmnist 320 images, MLP 784-64-64-10, ${steps} steps`);
  console.log(`load average before: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  const serial = time(1);
  const parallel = time(2);
  const ratio = parallel / serial;
  console.log(`\nparallel / serial = ${ratio.toFixed(2)} (goal ≤ 0.6)`);
  console.log(`BENCH ${JSON.stringify({ serial_seconds: Number(serial.toFixed(1)), parallel_seconds: Number(parallel.toFixed(1)), ratio: Number(ratio.toFixed(3)) })}`);
} finally {
  workspace.dispose();
}

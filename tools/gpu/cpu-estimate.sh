#!/usr/bin/env bash
# The CPU side of the GPU check's experiment (tools/gpu/README.md): fmnist-gpu (tools/gpu/fmnist-gpu.json) is
# too long to run whole on a 2-core machine, so one of its runs (η = 0.02) is trained for 200 of its 2,000 steps,
# with checkpoints every 100, and its hessian task analyses those checkpoints, through the same stage scripts
# on this machine's default engine (auto: wasm + OpenBLAS here). It prints the cost of a training step and of a
# Hessian checkpoint and the estimate for the whole experiment: 3 runs × 2,000 steps, and per run the
# checkpoints the GPU run had (GPU_CHECKPOINTS, default 5: every 500 steps, no event checkpoint).
#
#   bash tools/gpu/cpu-estimate.sh        # ≈ 5–10 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
ws=${GPU_CPU_HOME:-/tmp/lrscape-gpu-cpu}
experiment=fmnist-gpu-cpu
rm -rf "$ws"
mkdir -p "$ws/pipelines/$experiment"
cp package.json "$ws/"
node - "$ws/pipelines/$experiment/experiment.json" <<'EOF'
const { readFileSync, writeFileSync } = require('node:fs');
const config = JSON.parse(readFileSync('tools/gpu/fmnist-gpu.json', 'utf8'));
config.title = 'GPU check, CPU estimate: the first 200 steps of one run';
Object.assign(config.training, { steps: 200, checkpointEvery: 100 });
config.grid.etas = [0.02];
writeFileSync(process.argv[2], JSON.stringify(config, null, 2) + '\n');
EOF
export LRSCAPE_WORKSPACE=$ws
tsx=$root/node_modules/.bin/tsx
"$tsx" tools/lrscape/src/stages/prepare.ts "$experiment"
"$tsx" tools/lrscape/src/stages/train.ts "$experiment" eta-0.02
"$tsx" tools/lrscape/src/stages/hessian.ts "$experiment" eta-0.02
node - "$ws/artifacts/$experiment" "${GPU_CHECKPOINTS:-5}" <<'EOF'
const { readFileSync } = require('node:fs');
const [dir, checkpointsArg] = process.argv.slice(2);
const run = JSON.parse(readFileSync(`${dir}/runs/eta-0.02/run.json`, 'utf8'));
const hessian = JSON.parse(readFileSync(`${dir}/hessian/eta-0.02/hessian.json`, 'utf8'));
const perStep = run.seconds / run.steps;
const perCheckpoint = hessian.seconds / hessian.checkpoints.length;
const checkpoints = Number(checkpointsArg);
const train = 3 * 2000 * perStep;
const analysis = 3 * checkpoints * perCheckpoint;
const result = {
  engine: run.backend,
  steps: run.steps,
  train_seconds: run.seconds,
  seconds_per_step: perStep,
  checkpoints: hessian.checkpoints.length,
  hvps_per_checkpoint: hessian.totalHvps / hessian.checkpoints.length,
  seconds_per_checkpoint: perCheckpoint,
  estimate: { runs: 3, steps: 2000, checkpoints_per_run: checkpoints, train_seconds: train, hessian_seconds: analysis, total_seconds: train + analysis, on_two_cores_at_best: (train + analysis) / 2 },
};
console.log(`${run.backend}: ${perStep.toFixed(3)} s a training step (${run.steps} steps, λmax every 20), ${perCheckpoint.toFixed(1)} s a Hessian checkpoint (${result.hvps_per_checkpoint.toFixed(0)} HVPs)`);
console.log(`estimate for fmnist-gpu (3 runs × 2,000 steps, ${checkpoints} checkpoints each): train ${(train / 60).toFixed(1)} min + hessian ${(analysis / 60).toFixed(1)} min = ${((train + analysis) / 60).toFixed(1)} min one task at a time (≥ ${((train + analysis) / 120).toFixed(1)} min on both cores)`);
console.log(`RESULT ${JSON.stringify(result)}`);
EOF

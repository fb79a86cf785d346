#!/usr/bin/env bash
# The GPU check (tools/gpu/README.md), for a machine without npm or Node: unpacks .gpu-pack/ (made here by
# tools/gpu/pack.sh) and runs three stages on LRSCAPE_BACKEND=webgpu, each under its own timeout, appending to
# $OUT as it goes (so a stage that runs out of time still leaves what it printed):
#
#   smoke       ≤ 50 s   the adapter; tiny nets' gradient and H·v against the float64 reference, the bench MLP's
#                        against tfjs's cpu backend
#   bench       ≤ 100 s  bench:engine's MLP (784-200-200-10): gradient and HVP on webgpu against PyTorch CUDA on
#                        the same GPU and files, at N = 2,048 and 10,000, side by side; then the size sweep
#   experiment  ≤ 120 s  fmnist-gpu (tools/gpu/fmnist-gpu.json): its three train tasks side by side, then their
#                        three hessian tasks, with wall times
#
# Files in $OUT: check.log (what ran, exit codes, times), smoke.log, bench.log, experiment.log, summary.txt.
#   bash tools/gpu/check.sh                          # on the GPU machine (≤ 5 min)
#   GPU_CHECK_SCALE=smoke bash tools/gpu/check.sh    # on a software adapter (lavapipe): the smoke-sized
#                                                    # experiment, the bench at N = 2,048 only, longer limits
set -uo pipefail
cd "$(dirname "$0")/../.."
# Seconds since a `date +%s%N` reading, to 0.1 s (no bc on a bare machine).
seconds_since() { local ms=$((($(date +%s%N) - $1) / 1000000)); echo "$((ms / 1000)).$(((ms % 1000) / 100))"; }
root=$PWD
pack=$root/.gpu-pack
home=${GPU_CHECK_HOME:-/tmp/lrscape-gpu-check}
scale=${GPU_CHECK_SCALE:-full}
if [ -z "${OUT:-}" ]; then
  export OUT=$root/.gpu-out
  grep -qxF '/.gpu-out/' .git/info/exclude 2>/dev/null || echo '/.gpu-out/' >>.git/info/exclude 2>/dev/null || true
fi
mkdir -p "$OUT"

# ------------------------------------------------------------------ one stage's body (run under timeout)
if [ "${1:-}" = --stage ]; then
  node=$home/node
  bundle=$home/bundle
  # The bundles import webgpu (Dawn) from $home/node_modules, beside them.
  export LRSCAPE_BACKEND=webgpu
  case $2 in
    smoke)
      "$node" "$bundle/smoke.mjs" || exit 1
      # What auto picks here: the bench MLP at N = 10,000 (a GPU's work), W-reg's net on 160 points (the CPU's).
      LRSCAPE_BACKEND=auto "$node" "$bundle/smoke.mjs" auto 199210 10000
      LRSCAPE_BACKEND=auto "$node" "$bundle/smoke.mjs" auto 1153 160
      ;;
    bench)
      if [ "$scale" = smoke ]; then sizes=(2048); export BENCH_REPEATS=2 BENCH_WARMUPS=1 BENCH_MAX_WORK=5e8; else sizes=(2048 10000); fi
      torch_ok=$(python3 -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null || echo 0)
      for n in "${sizes[@]}"; do
        dir=$home/bench-$n
        mkdir -p "$dir"
        echo "== N = $n"
        "$node" "$bundle/bench.mjs" data "$dir" "$n" || exit 1
        # One chunk of N rows, as PyTorch's one batch (the experiment's chunkSize is 10,000 too).
        BENCH_CHUNK=$n "$node" "$bundle/bench.mjs" time "$dir" ours | tee "$dir/ours.log"
        if [ "$torch_ok" = 1 ]; then
          PYTHONUNBUFFERED=1 python3 "$root/tools/gpu/python/bench_cuda.py" "$dir" | tee "$dir/torch.log"
          "$node" "$bundle/bench.mjs" compare "$dir" "$dir/ours.log" "$dir/torch.log"
        else
          echo "PyTorch with CUDA is not available here (python3: $(python3 -c 'import torch; print(torch.__version__)' 2>&1 | tail -1)): ours only"
        fi
      done
      echo "== sizes: where a GPU gains (auto's WEBGPU_MIN_WORK)"
      BENCH_REPEATS=${BENCH_REPEATS:-5} "$node" "$bundle/bench.mjs" sizes
      ;;
    experiment)
      experiment=fmnist-gpu
      [ "$scale" = smoke ] && experiment=fmnist-gpu-smoke
      ws=$home/ws
      export LRSCAPE_WORKSPACE=$ws
      slugs=$("$node" -e "const c = require('$ws/pipelines/$experiment/experiment.json'); console.log(c.grid.etas.map((e) => 'eta-' + e).join(' '))")
      echo "== $experiment: runs $slugs, side by side on one GPU"
      for stage in train hessian; do
        start=$(date +%s%N)
        pids=()
        for slug in $slugs; do
          "$node" "$bundle/$stage.mjs" "$experiment" "$slug" > >(sed -u "s/^/[$stage $slug] /") 2>&1 &
          pids+=($!)
        done
        failed=0
        for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
        echo "== $stage: wall $(seconds_since "$start") s for $(echo $slugs | wc -w) tasks side by side$([ $failed = 1 ] && echo ', a task FAILED')"
        [ $failed = 1 ] && exit 1
      done
      "$node" -e "
        const fs = require('fs');
        for (const slug of '$slugs'.split(' ')) {
          const run = JSON.parse(fs.readFileSync('$ws/artifacts/$experiment/runs/' + slug + '/run.json', 'utf8'));
          const h = JSON.parse(fs.readFileSync('$ws/artifacts/$experiment/hessian/' + slug + '/hessian.json', 'utf8'));
          console.log('RESULT ' + JSON.stringify({ run: slug, backend: run.backend, steps: run.steps ?? null, train_seconds: run.seconds ?? null, diverged: run.diverged ?? null, final_loss: run.finalLoss, sharpness_hvps: run.sharpnessHvps, checkpoints: h.checkpoints.length, hvps: h.totalHvps, hessian_seconds: h.seconds }));
        }"
      ;;
    *)
      echo "unknown stage $2" >&2
      exit 2
      ;;
  esac
  exit $?
fi

# ------------------------------------------------------------------ the check
log=$OUT/check.log
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$log"; }
if [ ! -f "$pack/payload.tar.xz" ]; then
  say "no pack in $pack: run bash tools/gpu/pack.sh first (and carry .gpu-pack)"
  exit 1
fi
started=$(date +%s)
say "GPU check, scale $scale, $(date -u +%Y-%m-%d); pack: $(head -1 "$pack/MANIFEST")"
rm -rf "$home"
mkdir -p "$home"
xz -dc "$pack/node.xz" >"$home/node" && chmod +x "$home/node"
tar -C "$home" -xJf "$pack/payload.tar.xz"
# The Vulkan loader, where the machine has none (the device README: unpack Debian's libvulkan1 into /).
if [ "$(ldconfig -p | grep -c 'libvulkan\.so\.1')" = 0 ]; then
  for deb in "$pack"/debs/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  say "unpacked the Vulkan loader: $(ls "$pack"/debs)"
fi
# NVIDIA's Vulkan driver where the loader does not find it by itself (it lives in the driver's own folder there).
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$nvidia_icd
fi
{
  echo "node $("$home/node" --version); VK_DRIVER_FILES=${VK_DRIVER_FILES:-(unset)}; ICD files: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tr '\n' ' ')"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
} 2>&1 | tee -a "$log"
say "setup done in $(($(date +%s) - started)) s"

if [ "$scale" = smoke ]; then limits=(smoke:300 bench:900 experiment:900); else limits=(smoke:50 bench:100 experiment:120); fi
for entry in "${limits[@]}"; do
  name=${entry%%:*}
  limit=${entry##*:}
  say "stage $name (limit $limit s)"
  t0=$(date +%s%N)
  # Dawn says on every start that it lowered two dynamic-buffer limits: noise, left out.
  timeout -k 5 "$limit" bash "$0" --stage "$name" 2>&1 | grep --line-buffered -v 'artificially reduced' >>"$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  seconds=$(seconds_since "$t0")
  status=$([ "$rc" = 0 ] && echo ok || { [ "$rc" = 124 ] && echo "timed out" || echo "failed (exit $rc)"; })
  say "stage $name: $status after $seconds s"
  echo "$name: $status, $seconds s" >>"$OUT/summary.txt"
  grep -h '^RESULT \|^BENCH \|^== \|^|' "$OUT/$name.log" >>"$OUT/summary.txt" || true
done
say "GPU check done in $(($(date +%s) - started)) s"

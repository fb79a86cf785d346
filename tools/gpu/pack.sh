#!/usr/bin/env bash
# Packs what the GPU check (tools/gpu/check.sh) needs on a machine without npm, into .gpu-pack/ (ignored by git
# through .git/info/exclude; the device tool carries it): this machine's Node binary (xz), one esbuild bundle per
# entry (the smoke test, the engine bench, the train and hessian stages), the `webgpu` package's Dawn binary,
# the experiment's prepared datasets, and the Vulkan loader's .deb. Refuses to leave a pack over 64 MiB.
#
#   bash tools/gpu/pack.sh            # ≈ 2 min on 2 cores (xz of Node's 95 MB binary, the prepare stage of 11,000 images)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pack=$root/.gpu-pack
limit=$((64 * 1024 * 1024))
grep -qxF '/.gpu-pack/' .git/info/exclude 2>/dev/null || echo '/.gpu-pack/' >>.git/info/exclude

for tool in xz tar node; do command -v "$tool" >/dev/null || { echo "pack: $tool is not installed" >&2; exit 1; }; done
esbuild=node_modules/.bin/esbuild
[ -x "$esbuild" ] || { echo "pack: $esbuild is missing (esbuild comes with tsx and vite: run npm ci)" >&2; exit 1; }
dawn=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || { echo "pack: $dawn is missing (the optional dependency webgpu did not install: run npm ci)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
payload=$work/payload
rm -rf "$pack"
mkdir -p "$pack/debs" "$payload/bundle" "$payload/node_modules/webgpu/dist/linux-x64" "$payload/ws"

echo "pack: bundles (esbuild $("$esbuild" --version))"
# webgpu (a native binary) stays outside the bundles, beside them in node_modules; the optional native backends
# stay out (they do not load there: the check runs webgpu, and tfjs's cpu backend inside the bundle).
"$esbuild" tools/gpu/src/smoke.ts tools/gpu/src/bench.ts tools/lrscape/src/stages/train.ts tools/lrscape/src/stages/hessian.ts \
  --bundle --platform=node --format=esm --target=node20 --outdir="$payload/bundle" --entry-names=[name] --out-extension:.js=.mjs --log-level=warning \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-backend-wasm \
  --banner:js="import { createRequire as __lrscapeRequire } from 'node:module'; const require = __lrscapeRequire(import.meta.url);"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$payload/node_modules/webgpu/"
cp "$dawn" "$payload/node_modules/webgpu/dist/linux-x64/"

echo "pack: datasets (the prepare stage, here)"
ws=$payload/ws
cp package.json "$ws/"
# The full experiment, and a smoke-sized one (the same model on 200 images, 20 steps) for a slow adapter.
node - "$ws" <<'EOF'
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const ws = process.argv[2];
const full = JSON.parse(readFileSync('tools/gpu/fmnist-gpu.json', 'utf8'));
const smoke = structuredClone(full);
smoke.title = 'GPU check, smoke size: 200 Fashion-MNIST images, 784-200-200-10';
smoke.description = 'tools/gpu/fmnist-gpu.json at the size a software adapter (lavapipe) runs in minutes.';
smoke.dataset.perClass = 22;
Object.assign(smoke.training, { steps: 20, testEvery: 10, sharpnessEvery: 5, sharpnessIterations: 5, checkpointEvery: 10, maxEventCheckpoints: 1 });
smoke.grid.etas = [0.03];
Object.assign(smoke.hessian, { topK: 4, maxIterations: 12, kLayers: [1], storeVectors: 2, density: { probes: 1, steps: 6, gridSize: 50 }, traceProbes: 1 });
for (const [name, config] of [['fmnist-gpu', full], ['fmnist-gpu-smoke', smoke]]) {
  mkdirSync(`${ws}/pipelines/${name}`, { recursive: true });
  writeFileSync(`${ws}/pipelines/${name}/experiment.json`, JSON.stringify(config, null, 2) + '\n');
}
EOF
for experiment in fmnist-gpu fmnist-gpu-smoke; do
  LRSCAPE_WORKSPACE=$ws node_modules/.bin/tsx tools/lrscape/src/stages/prepare.ts "$experiment"
done

echo "pack: Node $(node --version) ($(command -v node)), xz"
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" >"$pack/node.xz"
echo "pack: payload, xz"
tar -C "$payload" -cf - . | xz -T2 -6 >"$pack/payload.tar.xz"

echo "pack: the Vulkan loader (Debian's libvulkan1, unpacked there with dpkg -x)"
(cd "$pack/debs" && apt-get download libvulkan1 >/dev/null 2>&1) || { apt-get update -qq && (cd "$pack/debs" && apt-get download libvulkan1); }

{
  echo "created $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- libs tools package.json || echo '+changes')"
  echo "node $(node --version); webgpu $(node -p "require('./node_modules/webgpu/package.json').version"); tfjs $(node -p "require('./node_modules/@tensorflow/tfjs/package.json').version")"
  (cd "$pack" && find . -type f ! -name MANIFEST -printf '%s %p\n' | sort -k2)
} >"$pack/MANIFEST"
size=$(du -sb "$pack" | cut -f1)
cat "$pack/MANIFEST"
echo "pack: $pack holds $((size / 1024 / 1024)) MiB ($size bytes; limit 64 MiB with the working tree)"
if [ "$size" -gt "$limit" ]; then
  echo "pack: over 64 MiB" >&2
  exit 1
fi

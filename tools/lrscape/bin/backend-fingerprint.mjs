// Prints what decides the tfjs backend and the kernels of its matrix products on this machine (an Nx runtime
// input of every compute task), without loading tfjs: the requested backend, which native engines are
// installed, whether a GPU is visible, and the wasm backend's kernel path (libs/engine/src/native/kernels.ts):
// LRSCAPE_KERNELS, whether the native addon loads here, the BLAS and the core it runs (OpenBLAS's kernels differ
// in the last bits between cores, e.g. Haswell under OPENBLAS_CORETYPE=Haswell vs SkylakeX unset), the two
// OpenBLAS variables as set (read, never changed), and a hash of the addon's sources (not among the tasks'
// code inputs, which are libs/*/src/**/*.ts). The thread count is left out: it changes no result.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const installed = (name) => {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
};

const NATIVE = fileURLToPath(new URL('../../../libs/engine/native/', import.meta.url));
const ADDON = join(NATIVE, 'build', 'Release', 'lrscape_blas.node');

/** sha256 (first 16 hex digits) of the addon's sources: binding.gyp and src/*. */
function sourcesHash() {
  const hash = createHash('sha256');
  const src = join(NATIVE, 'src');
  const files = ['binding.gyp', ...(existsSync(src) ? readdirSync(src).sort().map((f) => join('src', f)) : [])];
  for (const file of files) {
    const path = join(NATIVE, file);
    if (!existsSync(path)) continue;
    hash.update(`${file}\0`).update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** The kernel path a wasm task would take here (as libs/engine/src/native/kernels.ts decides it, less its self-test). */
function kernels() {
  const requested = process.env.LRSCAPE_KERNELS || 'auto';
  const env = { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE ?? null };
  if (requested === 'wasm') return { requested, path: 'wasm' };
  if (!existsSync(ADDON)) return { requested, path: 'wasm', reason: 'addon not built' };
  try {
    const info = require(ADDON).info();
    return { requested, path: 'native', library: info.library, corename: info.corename, config: info.config, tiles: info.tiles, minTile: info.minTile, sources: sourcesHash(), env };
  } catch (error) {
    return { requested, path: 'wasm', reason: `addon does not load: ${String(error?.message ?? error).split('\n')[0]}` };
  }
}

console.log(
  JSON.stringify({
    requested: process.env.LRSCAPE_BACKEND ?? 'auto',
    tfjsNodeGpu: installed('@tensorflow/tfjs-node-gpu'),
    tfjsNode: installed('@tensorflow/tfjs-node'),
    cudaDevice: existsSync('/dev/nvidiactl'),
    kernels: kernels(),
  }),
);

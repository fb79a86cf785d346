// Prints what decides the tfjs backend and the kernels of its matrix products on this machine (an Nx runtime
// input of every compute task), without loading tfjs: the requested backend, which native engines are
// installed, whether a GPU is visible, and the wasm backend's kernel path (libs/engine/src/native/kernels.ts):
// LRSCAPE_KERNELS, whether the native addon loads here, the BLAS and the core it runs (OpenBLAS's kernels differ
// in the last bits between cores, e.g. Haswell under OPENBLAS_CORETYPE=Haswell vs SkylakeX unset), the two
// OpenBLAS variables as set (read, never changed), and a hash of the addon's sources (not among the tasks'
// code inputs, which are libs/*/src/**/*.ts). The thread count is left out: it changes no result.
// Where webgpu can be chosen (LRSCAPE_BACKEND=webgpu, or auto with a GPU device node visible) it adds what
// decides the adapter Dawn would give, without starting Dawn: the GPU device nodes, the Vulkan drivers the
// loader would read (libs/engine/src/webgpu-devices.ts reads the same places), NVIDIA's driver version and GPU
// models, and the DRM devices' PCI ids. Elsewhere (a CPU-only machine on auto) the field is absent, so the
// fingerprint of such a machine is what it was before webgpu existed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

const read = (path) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};
const list = (dir, pattern) => {
  try {
    return readdirSync(dir).filter((name) => pattern.test(name)).sort();
  } catch {
    return [];
  }
};

/** Device nodes of GPU drivers (as webgpu-devices.ts's gpuDeviceNodes). */
function gpuDeviceNodes() {
  const nodes = ['/dev/nvidiactl', '/dev/kfd', '/dev/dxg'].filter((path) => existsSync(path));
  nodes.push(...list('/dev', /^nvidia\d+$/).map((n) => `/dev/${n}`), ...list('/dev/dri', /^renderD\d+$/).map((n) => `/dev/dri/${n}`));
  return nodes;
}

/** The Vulkan ICD files the loader would read (as webgpu-devices.ts's vulkanIcdFiles), each with its driver library's size. */
function vulkanDrivers() {
  const listed = (value) => (value ?? '').split(':').filter((p) => p !== '');
  const expand = (paths) => paths.flatMap((path) => (list(path, /\.json$/).length ? list(path, /\.json$/).map((f) => join(path, f)) : existsSync(path) && path.endsWith('.json') ? [path] : []));
  const override = listed(process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES);
  const added = expand(listed(process.env.VK_ADD_DRIVER_FILES));
  let files;
  if (override.length > 0) files = [...expand(override), ...added];
  else {
    const config = listed(process.env.XDG_CONFIG_DIRS ?? '/etc/xdg');
    const data = listed(process.env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share');
    const dirs = [...config.map((d) => join(d, 'vulkan', 'icd.d')), '/etc/vulkan/icd.d', ...data.map((d) => join(d, 'vulkan', 'icd.d'))];
    files = [...new Set([...expand(dirs), ...added])];
  }
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  return files.map((file) => {
    let icd = {};
    try {
      icd = JSON.parse(readFileSync(file, 'utf8')).ICD ?? {};
    } catch {
      return { file, unreadable: true };
    }
    const library = icd.library_path ?? null;
    const candidates = library === null ? [] : library.includes('/') ? [library] : libDirs.map((d) => join(d, library));
    const found = candidates.find((path) => existsSync(path));
    return { file, apiVersion: icd.api_version ?? null, library, libraryBytes: found ? statSync(found).size : null };
  });
}

/** What decides Dawn's adapter here, read from files only (Dawn is not started). */
function webgpuInputs() {
  return {
    installed: installed('webgpu') && installed('@tensorflow/tfjs-backend-webgpu'),
    gpuNodes: gpuDeviceNodes(),
    vulkanDrivers: vulkanDrivers(),
    nvidiaDriver: read('/proc/driver/nvidia/version')?.split('\n')[0] ?? null,
    nvidiaGpus: list('/proc/driver/nvidia/gpus', /./).map((id) => read(join('/proc/driver/nvidia/gpus', id, 'information'))?.match(/^Model:\s*(.*)$/m)?.[1] ?? id),
    drm: list('/sys/class/drm', /^renderD\d+$/).map((node) => `${read(`/sys/class/drm/${node}/device/vendor`)}:${read(`/sys/class/drm/${node}/device/device`)}`),
  };
}

const requested = process.env.LRSCAPE_BACKEND ?? 'auto';
const webgpuMatters = requested === 'webgpu' || (requested === 'auto' && gpuDeviceNodes().length > 0);
console.log(
  JSON.stringify({
    requested,
    tfjsNodeGpu: installed('@tensorflow/tfjs-node-gpu'),
    tfjsNode: installed('@tensorflow/tfjs-node'),
    cudaDevice: existsSync('/dev/nvidiactl'),
    kernels: kernels(),
    ...(webgpuMatters ? { webgpu: webgpuInputs() } : {}),
  }),
);

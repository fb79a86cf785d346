/**
 * What can be known about a machine's GPUs without starting Dawn: the device nodes a GPU driver creates and
 * the Vulkan drivers (ICD files) the Vulkan loader would find. 'auto' starts Dawn only where a GPU device node
 * exists (a CPU-only machine never pays for it, even with lavapipe installed); a failed webgpu start says what
 * was found. tools/lrscape/bin/backend-fingerprint.mjs reads the same places for the cache key (plain Node, no
 * TypeScript: keep the two lists alike).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Device nodes of GPU drivers: NVIDIA's, DRM render nodes (AMD, Intel, …), AMD's compute node, WSL's. */
export function gpuDeviceNodes(): string[] {
  const nodes: string[] = [];
  for (const path of ['/dev/nvidiactl', '/dev/kfd', '/dev/dxg']) if (existsSync(path)) nodes.push(path);
  for (const [dir, pattern] of [
    ['/dev', /^nvidia\d+$/],
    ['/dev/dri', /^renderD\d+$/],
  ] as const) {
    try {
      for (const name of readdirSync(dir).sort()) if (pattern.test(name)) nodes.push(join(dir, name));
    } catch {
      // No such folder: none of these nodes.
    }
  }
  return nodes;
}

/**
 * The Vulkan ICD files the loader would read: VK_DRIVER_FILES (or the older VK_ICD_FILENAMES) when set, else
 * the standard folders (XDG config and data folders, /etc/vulkan); plus VK_ADD_DRIVER_FILES.
 */
export function vulkanIcdFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = (value: string | undefined) => (value ?? '').split(':').filter((p) => p !== '');
  const expand = (paths: string[]) =>
    paths.flatMap((path) => {
      try {
        return readdirSync(path)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(path, f));
      } catch {
        return existsSync(path) ? [path] : [];
      }
    });
  const override = listed(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES);
  if (override.length > 0) return [...expand(override), ...expand(listed(env.VK_ADD_DRIVER_FILES))];
  const config = listed(env.XDG_CONFIG_DIRS ?? '/etc/xdg');
  const data = listed(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share');
  const dirs = [...config.map((d) => join(d, 'vulkan', 'icd.d')), '/etc/vulkan/icd.d', ...data.map((d) => join(d, 'vulkan', 'icd.d'))];
  return [...new Set([...expand(dirs), ...expand(listed(env.VK_ADD_DRIVER_FILES))])];
}

/** One line for an error message: the GPU device nodes and Vulkan drivers seen here. */
export function describeGpuEnvironment(): string {
  const nodes = gpuDeviceNodes();
  const icds = vulkanIcdFiles();
  return `GPU device nodes: ${nodes.length ? nodes.join(', ') : 'none'}; Vulkan drivers (ICD files): ${icds.length ? icds.join(', ') : 'none'}`;
}

/**
 * The backend matrix of the engine's tests: the wasm backend with tfjs's own kernels, and with the native
 * kernels (OpenBLAS) where the addon loads here. `describeOnKernels` runs a suite once per path, the path set
 * before the suite and before each of its tests (a test that switches backends and back leaves the path as
 * LRSCAPE_KERNELS says). Where the addon does not load, the native entry is skipped, saying why; CI (.ci/run)
 * sets LRSCAPE_EXPECT_NATIVE=1, and native.test.ts then fails instead.
 */
import { beforeAll, beforeEach, describe } from 'vitest';
import { loadAddon } from '../native/addon';
import { useKernels, type KernelRequest } from '../native/kernels';

export interface KernelPath {
  name: 'wasm' | 'openblas';
  request: KernelRequest;
  /** Why the path cannot run here, or null. */
  unavailable: string | null;
}

const load = loadAddon();
export const NATIVE_UNAVAILABLE: string | null = load.ok ? null : load.reason;

export const KERNEL_PATHS: readonly KernelPath[] = [
  { name: 'wasm', request: 'wasm', unavailable: null },
  { name: 'openblas', request: 'openblas', unavailable: NATIVE_UNAVAILABLE },
];

/** The suite `body` once per kernel path, titled `<title> [<path> kernels]` (skipped where the path cannot run). */
export function describeOnKernels(title: string, body: (path: KernelPath) => void): void {
  for (const path of KERNEL_PATHS) {
    const suite = path.unavailable === null ? describe : describe.skip;
    const name = path.unavailable === null ? `${title} [${path.name} kernels]` : `${title} [${path.name} kernels: skipped, ${path.unavailable}]`;
    suite(name, () => {
      beforeAll(async () => {
        await useKernels(path.request);
      });
      beforeEach(async () => {
        await useKernels(path.request);
      });
      body(path);
    });
  }
}

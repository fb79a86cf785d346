/**
 * The native addon (libs/engine/native: plain C over the system's CBLAS, built by `npm ci` where a BLAS is
 * installed) and what loading it says. Loading never throws: a missing build, a missing library
 * (libopenblas.so.0 not found) or a file that is not this addon gives `{ ok: false, reason }`, and the caller
 * decides between a logged fallback and an error (kernels.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What the addon exports (libs/engine/native/src/lrscape_blas.c documents each function). */
export interface BlasAddon {
  readonly abiVersion: number;
  /** C_b = op(A_b)·op(B_b) (+ bias) for b < batch, on the bytes of `heap`; offsets in bytes, strides in elements. */
  sgemm(
    heap: ArrayBuffer,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    batch: number,
    aOffset: number,
    aStride: number,
    bOffset: number,
    bStride: number,
    cOffset: number,
    biasOffset: number,
    biasLength: number,
  ): void;
  projectInto(out: Float64Array, vectors: readonly Float64Array[], w: Float64Array, from: number, to: number): Float64Array;
  subtractCombination(w: Float64Array, vectors: readonly Float64Array[], coefficients: Float64Array, from: number, to: number): number;
  combineInto(outputs: readonly Float64Array[], inputs: readonly Float64Array[], coefficients: Float64Array): void;
  /** Threads per product (the calling thread included); returns the count in effect. */
  setThreads(threads: number): number;
  /** pool: threads per product; library: OpenBLAS's own thread count (kept at 1 by the addon). */
  threads(): { pool: number; library: number };
  info(): { library: 'openblas' | 'accelerate'; corename: string; config: string; parallel: number; tiles: number; minTile: number };
}

/** The addon's ABI this code speaks (abiVersion in lrscape_blas.c). */
export const ADDON_ABI_VERSION = 1;

/** Where `npm ci` (libs/engine/native/build.mjs) puts the addon. */
export const DEFAULT_ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/lrscape_blas.node', import.meta.url));
/** What the build step wrote when it could not build (the reason is then part of the fallback's message). */
const BUILD_STATUS_PATH = fileURLToPath(new URL('../../native/build/status.json', import.meta.url));

export type AddonLoad = { ok: true; addon: BlasAddon; path: string } | { ok: false; reason: string; path: string };

const require = createRequire(import.meta.url);
const loaded = new Map<string, AddonLoad>();

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

function buildFailure(): string | null {
  try {
    const status = JSON.parse(readFileSync(BUILD_STATUS_PATH, 'utf8')) as { built?: boolean; reason?: string };
    return status.built === false && typeof status.reason === 'string' ? status.reason : null;
  } catch {
    return null;
  }
}

/** Loads the addon at `path` (default: the build's), once per path and thread; never throws. */
export function loadAddon(path: string = DEFAULT_ADDON_PATH): AddonLoad {
  const cached = loaded.get(path);
  if (cached !== undefined) return cached;
  let result: AddonLoad;
  if (!existsSync(path)) {
    const why = path === DEFAULT_ADDON_PATH ? buildFailure() : null;
    result = {
      ok: false,
      path,
      reason: `the native addon is not built (${path} is missing${why === null ? '' : `: ${why}`}); install libopenblas-dev and run \`npm run build:native\``,
    };
  } else {
    try {
      const addon = require(path) as BlasAddon;
      if (addon.abiVersion !== ADDON_ABI_VERSION || typeof addon.sgemm !== 'function') {
        result = { ok: false, path, reason: `${path} is not this version of the addon (abiVersion ${String(addon.abiVersion)}, expected ${ADDON_ABI_VERSION}); rebuild it with \`npm run build:native\`` };
      } else {
        result = { ok: true, addon, path };
      }
    } catch (error) {
      // e.g. "libopenblas.so.0: cannot open shared object file": the library was removed after the build.
      result = { ok: false, path, reason: `the native addon failed to load: ${firstLine(error)}` };
    }
  }
  loaded.set(path, result);
  return result;
}

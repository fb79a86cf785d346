/**
 * What both benches share: the benchmark model and its seeded data, raw little-endian files that the
 * PyTorch side reads (so both sides see the identical batch, θ and directions), finding a Python with
 * torch (never installing one), child processes that report one JSON line, and plain-text tables.
 */
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Activation, Batch, LossKind, MlpSpec } from '@lrscape/engine';
import { createRng } from '@lrscape/linalg';

/** Issue 5's model: MLP 784-200-200-10 on N = 2048 random inputs, float32. */
export const INPUT_DIM = 784;
export const HIDDEN = [200, 200];
export const CLASSES = 10;
export const BATCH_ROWS = 2048;
export const DATA_SEED = 1;
export const INIT_SEED = 0;

export interface BenchCase {
  /** 'tanh-CE', … as in the table. */
  name: string;
  activation: Activation;
  loss: LossKind;
}

export const CASES: readonly BenchCase[] = [
  { name: 'tanh-CE', activation: 'tanh', loss: 'cross_entropy' },
  { name: 'tanh-MSE', activation: 'tanh', loss: 'mse' },
  { name: 'relu-CE', activation: 'relu', loss: 'cross_entropy' },
  { name: 'relu-MSE', activation: 'relu', loss: 'mse' },
];

export function specOf(c: BenchCase): MlpSpec {
  return { inputDim: INPUT_DIM, hidden: [...HIDDEN], outputDim: CLASSES, activation: c.activation, loss: c.loss };
}

/**
 * Random "images": x ~ U[0, 1) per pixel (a nonzero mean, like pixel intensities, so the Hessian has the
 * outliers of real data), labels uniform over the classes, y one-hot (the MSE target too).
 */
export function randomBatch(n: number, seed: number): Batch & { labels: Int32Array } {
  const rng = createRng(seed);
  const x = new Float32Array(n * INPUT_DIM);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  const labels = new Int32Array(n);
  const y = new Float32Array(n * CLASSES);
  for (let r = 0; r < n; r++) {
    labels[r] = rng.int(CLASSES);
    y[r * CLASSES + labels[r]] = 1;
  }
  return { x, y, n, labels };
}

/** A seeded standard normal direction, float32 values held in a Float64Array (what the HVP takes). */
export function randomDirection(size: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const v = new Float64Array(size);
  for (let i = 0; i < size; i++) v[i] = Math.fround(rng.normal());
  return v;
}

// ---------------------------------------------------------------- files shared with the Python side

export function makeWorkDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `lrscape-bench-${prefix}-`));
}

/** Writes a typed array's bytes (little-endian on every platform Node runs on here). */
export function writeArray(dir: string, name: string, values: Float32Array | Int32Array | Float64Array): void {
  writeFileSync(join(dir, name), new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

// ---------------------------------------------------------------- Python peer

export interface PythonProbe {
  /** The interpreter, or null when none has the modules. */
  python: string | null;
  /** Why none was found (what was tried). */
  reason: string;
  versions: Record<string, string>;
}

/**
 * A Python that imports `modules`: $BENCH_PYTHON, else Debian's /usr/bin/python3 (where python3-torch
 * installs), else the `python3` first on PATH. Installs nothing.
 */
export function findPython(modules: string[]): PythonProbe {
  const candidates = process.env.BENCH_PYTHON ? [process.env.BENCH_PYTHON] : ['/usr/bin/python3', 'python3'];
  const code = `import json, ${modules.join(', ')}; print(json.dumps({m: getattr(__import__(m), '__version__', '?') for m in ${JSON.stringify(modules)}}))`;
  const failures: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
    if (r.status === 0) return { python, reason: '', versions: JSON.parse(r.stdout.trim()) as Record<string, string> };
    const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    failures.push(`${python}: ${why}`);
  }
  return { python: null, reason: failures.join('; '), versions: {} };
}

export const PYTHON_DIR = fileURLToPath(new URL('../python/', import.meta.url));

// ---------------------------------------------------------------- child processes

/**
 * Runs a child whose stdout ends with a line `RESULT {json}`; its other output (and stderr) is passed
 * through, indented, so the run log shows what it printed. Resolves with the parsed JSON, or null and the
 * child's last error line when it exits without one.
 */
/** Variables for a child on top of this process's; undefined removes one (for that child only). */
export type ChildEnv = Record<string, string | undefined>;

function childEnv(env: ChildEnv): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

export function runChild<T>(command: string, args: string[], env: ChildEnv = {}): Promise<{ result: T | null; error: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      let result: T | null = null;
      for (const line of stdout.split('\n')) {
        if (line.startsWith('RESULT ')) result = JSON.parse(line.slice('RESULT '.length)) as T;
        else if (line.trim() !== '') console.log(`    | ${line}`);
      }
      const errLines = stderr.split('\n').filter((l) => l.trim() !== '');
      if (result === null) for (const line of errLines) console.log(`    ! ${line}`);
      resolve({ result, error: result === null ? (errLines.pop() ?? `exit code ${code}`) : '' });
    });
  });
}

/** This same script under tsx in a fresh process (so each measurement gets its own backend and peak RSS). */
export function runSelf<T>(script: string, args: string[], env: ChildEnv = {}): Promise<{ result: T | null; error: string }> {
  return runChild<T>(process.execPath, [...process.execArgv, script, ...args], env);
}

export function printResult(value: unknown): void {
  console.log(`RESULT ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------- timing and output

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Wall ms and CPU ms (this process, every thread: user + system) of one call. On a shared machine the CPU time
 * of a one-thread computation is what other jobs change least (they take turns on the cores, not work from it).
 */
export async function timeWallAndCpu(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await fn();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Peak resident set size of this process so far, MiB (Linux reports maxRSS in KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

export const fmt = (x: number | null | undefined, digits = 0): string => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(digits));
export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

export function machineLine(): string {
  const cpus = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  const model = spawnSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], { encoding: 'utf8' }).stdout.trim();
  const load = spawnSync('sh', ['-c', 'cut -d" " -f1-3 /proc/loadavg'], { encoding: 'utf8' }).stdout.trim();
  return `${new Date().toISOString()} · ${cpus} cores (${model || 'unknown CPU'}) · load avg ${load} · node ${process.version}`;
}

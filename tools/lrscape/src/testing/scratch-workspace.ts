/**
 * A scratch copy of the workspace (sources, configs, lockfile; node_modules linked) in which tests run the
 * real Nx graph, with LRSCAPE_TASK_LOG counting the tasks that really executed (a cache hit replays a
 * task's output but runs nothing, so it writes no line).
 *
 * `clone()` copies a scratch workspace whole — sources, pipelines, artifacts, reports and `.nx` (the cache
 * and the workspace-data database that indexes it) — so that each test case can start from one known state
 * (e.g. right after a fresh run) without recomputing it, and nothing a case does reaches another case.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '../../../..');

/** What one nx invocation did. */
export interface NxResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The tasks that really executed during this invocation, sorted. */
  tasks: string[];
}

export interface ScratchWorkspace {
  root: string;
  /** The environment nx runs with (tests may set or delete variables on it). */
  env: NodeJS.ProcessEnv;
  taskLog: string;
  writeExperiment(name: string, config: unknown): void;
  /** Runs nx; throws with its output on failure; returns the tasks that really executed, sorted. */
  nx(...args: string[]): string[];
  /** Runs nx and returns its raw result, whatever the exit status. */
  nxRaw(...args: string[]): NxResult;
  /** nxRaw with extra environment variables for this one invocation (undefined: unset). */
  nxWith(extraEnv: Record<string, string | undefined>, ...args: string[]): NxResult;
  /** A copy of this workspace as it is now (files, artifacts, Nx cache), with its own task log and env. */
  clone(prefix?: string): ScratchWorkspace;
  dispose(): void;
}

/** Outer-shell variables kept: they choose the engine, which a test run may mean to choose. */
const KEPT_LRSCAPE_VARIABLES = ['LRSCAPE_BACKEND', 'LRSCAPE_WORKERS', 'LRSCAPE_DEBUG'];

/**
 * The environment of a scratch workspace's nx: the test's own, less the outer shell's Nx and lrscape
 * switches (NX_CACHE_DIRECTORY, LRSCAPE_WORKSPACE, LRSCAPE_TIER, a test hook, …), which would redirect the
 * cache or the outputs, or change the graph, behind the test's back.
 */
function scratchEnv(taskLog: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('NX_') || (key.startsWith('LRSCAPE_') && !KEPT_LRSCAPE_VARIABLES.includes(key))) continue;
    env[key] = value;
  }
  return { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', CI: 'true', NX_TUI: 'false', LRSCAPE_TASK_LOG: taskLog };
}

/** The scratch workspace whose files are at `root` (node_modules already linked there). */
function scratchWorkspaceAt(root: string, env: NodeJS.ProcessEnv): ScratchWorkspace {
  const taskLog = join(root, 'tasks.log');
  env.LRSCAPE_TASK_LOG = taskLog;
  const run = (runEnv: NodeJS.ProcessEnv, args: string[]): NxResult => {
    writeFileSync(taskLog, '');
    const result = spawnSync(join(root, 'node_modules/.bin/nx'), args, {
      cwd: root,
      env: runEnv,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      // A hung nx fails the test instead of blocking the worker past every vitest timeout.
      timeout: 580_000,
      killSignal: 'SIGKILL',
    });
    const stderr = result.error ? `${result.stderr ?? ''}\n(nx: ${result.error.message})` : result.stderr;
    return { status: result.status, signal: result.signal, stdout: result.stdout, stderr, tasks: readFileSync(taskLog, 'utf8').split('\n').filter(Boolean).sort() };
  };
  const workspace: ScratchWorkspace = {
    root,
    env,
    taskLog,
    writeExperiment(name, config) {
      mkdirSync(join(root, 'pipelines', name), { recursive: true });
      writeFileSync(join(root, 'pipelines', name, 'experiment.json'), JSON.stringify(config, null, 2));
    },
    nxRaw: (...args) => run(env, args),
    nxWith(extraEnv, ...args) {
      const runEnv = { ...env };
      for (const [key, value] of Object.entries(extraEnv)) {
        if (value === undefined) delete runEnv[key];
        else runEnv[key] = value;
      }
      return run(runEnv, args);
    },
    nx(...args) {
      const result = run(env, args);
      if (result.status !== 0) throw new Error(`nx ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
      return result.tasks;
    },
    clone(prefix = 'lrscape-e2e-clone-') {
      const copy = mkdtempSync(join(tmpdir(), prefix));
      const link = join(root, 'node_modules');
      // Timestamps kept (as cp -a): Nx's file hashes are cached by the workspace-data database copied along.
      cpSync(root, copy, { recursive: true, preserveTimestamps: true, filter: (src) => src !== link });
      symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
      return scratchWorkspaceAt(copy, { ...env });
    },
    dispose() {
      if (!process.env.LRSCAPE_KEEP_E2E) rmSync(root, { recursive: true, force: true });
    },
  };
  return workspace;
}

export function createScratchWorkspace(prefix = 'lrscape-e2e-'): ScratchWorkspace {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const entry of ['nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.json', 'libs', 'tools']) {
    cpSync(join(repo, entry), join(root, entry), { recursive: true, filter: (src) => !src.includes('node_modules') });
  }
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'pipelines'));
  return scratchWorkspaceAt(root, scratchEnv(join(root, 'tasks.log')));
}

/** A shipped experiment's config, read from pipelines/<name>/experiment.json. */
export function shippedExperiment(name: string): Record<string, any> {
  return JSON.parse(readFileSync(join(repo, 'pipelines', name, 'experiment.json'), 'utf8'));
}

/**
 * Every file and folder under `dir` (relative path → sha256, size and mtime of a file; `dir/` for a
 * folder): equal digests mean nothing there was created, removed, rewritten or touched. A missing `dir`
 * digests to {}.
 */
export function treeDigest(dir: string): Record<string, string> {
  const digest: Record<string, string> = {};
  if (!existsSync(dir)) return digest;
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      const stat = lstatSync(join(dir, path));
      if (stat.isDirectory()) {
        digest[path] = 'dir/';
        walk(path);
      } else {
        const sha = createHash('sha256').update(readFileSync(join(dir, path))).digest('hex');
        digest[path] = `${sha} ${stat.size} B, mtime ${stat.mtimeMs}`;
      }
    }
  };
  walk('');
  return digest;
}

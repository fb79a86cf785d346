/**
 * A scratch copy of the workspace (sources, configs, lockfile; node_modules linked) in which tests run the
 * real Nx graph, with LRSCAPE_TASK_LOG counting the tasks that really executed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '../../../..');

export interface ScratchWorkspace {
  root: string;
  env: NodeJS.ProcessEnv;
  taskLog: string;
  writeExperiment(name: string, config: unknown): void;
  /** Runs nx; throws with its output on failure; returns the tasks that really executed, sorted. */
  nx(...args: string[]): string[];
  /** Runs nx and returns its raw result, whatever the exit status. */
  nxRaw(...args: string[]): { status: number | null; stdout: string; stderr: string };
  dispose(): void;
}

export function createScratchWorkspace(prefix = 'lrscape-e2e-'): ScratchWorkspace {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const entry of ['nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.json', 'libs', 'tools']) {
    cpSync(join(repo, entry), join(root, entry), { recursive: true, filter: (src) => !src.includes('node_modules') });
  }
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'pipelines'));
  const taskLog = join(root, 'tasks.log');
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', CI: 'true', NX_TUI: 'false', LRSCAPE_TASK_LOG: taskLog };
  const nxRaw = (...args: string[]) => {
    writeFileSync(taskLog, '');
    return spawnSync(join(root, 'node_modules/.bin/nx'), args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  };
  return {
    root,
    env,
    taskLog,
    writeExperiment(name, config) {
      mkdirSync(join(root, 'pipelines', name), { recursive: true });
      writeFileSync(join(root, 'pipelines', name, 'experiment.json'), JSON.stringify(config, null, 2));
    },
    nxRaw,
    nx(...args) {
      const result = nxRaw(...args);
      if (result.status !== 0) throw new Error(`nx ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
      return readFileSync(taskLog, 'utf8').split('\n').filter(Boolean).sort();
    },
    dispose() {
      if (!process.env.LRSCAPE_KEEP_E2E) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A shipped experiment's config, read from pipelines/<name>/experiment.json. */
export function shippedExperiment(name: string): Record<string, any> {
  return JSON.parse(readFileSync(join(repo, 'pipelines', name, 'experiment.json'), 'utf8'));
}

/**
 * How many threads the native products use (libs/engine/native/README.md): the machine's cores
 * shared by the processes (and shard threads) that are computing with them now.
 *
 * Each thread that runs native products marks itself active in a small registry, a folder of empty files
 * named `<pid>-<threadId>` under the system's temporary folder, touching its file at most every
 * `intervalMs` while it computes; an entry untouched for `freshMs` no longer counts. At each such touch the
 * thread counts the fresh entries and takes threads = max(1, ⌊cores / fresh⌋). So one Nx task alone uses both
 * cores of this 2-core machine, two tasks at once (nx.json `parallel: 2`) one each, and a process whose rows
 * are split over LRSCAPE_WORKERS = 2 shard threads one per shard; a task that stops computing frees its core
 * within `freshMs`. `LRSCAPE_BLAS_THREADS=n` fixes the count instead.
 *
 * The count changes speed only, never a result: the addon cuts each product into tiles by its shape alone
 * and hands the tiles to its threads (libs/engine/native/src/lrscape_blas.c, "pool"), so every bit of every
 * product is the same whatever the count (tested in native.test.ts).
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

export interface ThreadPolicyOptions {
  /** Cores to share (default: os.availableParallelism()). */
  cores?: number;
  /** The registry folder (default: <tmpdir>/lrscape-blas-activity). */
  dir?: string;
  /** This thread's entry (default: `<pid>-<threadId>`). */
  id?: string;
  /** A fixed count (default: LRSCAPE_BLAS_THREADS when set, else null: follow the registry). */
  fixed?: number | null;
  /** Milliseconds between two touches of this thread's entry (default 500). */
  intervalMs?: number;
  /** An entry older than this no longer counts (default 2000 ms). */
  freshMs?: number;
  now?: () => number;
}

export const DEFAULT_ACTIVITY_DIR = join(tmpdir(), 'lrscape-blas-activity');
/** Entries older than this are removed by whoever counts (their process is gone or idle for long). */
const STALE_MS = 60_000;

/** LRSCAPE_BLAS_THREADS as a positive integer, null when unset; throws on anything else. */
export function fixedThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  const value = env.LRSCAPE_BLAS_THREADS;
  if (value === undefined || value === '') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`LRSCAPE_BLAS_THREADS must be a positive integer, got ${value}`);
  return n;
}

export class ThreadPolicy {
  readonly cores: number;
  readonly fixed: number | null;
  private readonly dir: string;
  private readonly file: string;
  private readonly intervalMs: number;
  private readonly freshMs: number;
  private readonly now: () => number;
  private last = -Infinity;
  private current = 0;
  /** Active entries at the last count (1 when fixed or when the registry is unusable). */
  sharing = 1;
  /** Why the registry could not be used (the count is then 1), else null. */
  problem: string | null = null;

  constructor(
    /** Sets the count; returns the count in effect. */
    private readonly apply: (threads: number) => number,
    options: ThreadPolicyOptions = {},
  ) {
    this.cores = Math.max(1, options.cores ?? availableParallelism());
    this.fixed = options.fixed === undefined ? fixedThreadsFromEnv() : options.fixed;
    this.dir = options.dir ?? DEFAULT_ACTIVITY_DIR;
    this.file = join(this.dir, options.id ?? `${process.pid}-${threadId}`);
    this.intervalMs = options.intervalMs ?? 500;
    this.freshMs = options.freshMs ?? 2000;
    this.now = options.now ?? Date.now;
    if (this.fixed !== null) this.set(this.fixed);
  }

  /** Threads in effect now. */
  get threads(): number {
    return this.current;
  }

  /** Before a native product: at most every intervalMs, marks this thread active and recounts. */
  tick(): void {
    if (this.fixed !== null) return;
    const now = this.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.set(Math.max(1, Math.floor(this.cores / this.count(now))));
  }

  private set(threads: number): void {
    if (threads !== this.current) this.current = this.apply(threads);
  }

  /** Fresh entries in the registry, this thread's included (touched now); 1 when the registry is unusable. */
  private count(now: number): number {
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(this.file, '');
      let fresh = 0;
      for (const name of readdirSync(this.dir)) {
        const path = join(this.dir, name);
        let age: number;
        try {
          age = now - statSync(path).mtimeMs;
        } catch {
          continue; // removed meanwhile
        }
        if (path === this.file || age <= this.freshMs) fresh++;
        else if (age > STALE_MS) rmSync(path, { force: true });
      }
      this.problem = null;
      this.sharing = fresh;
      return fresh;
    } catch (error) {
      // Never more threads than we can justify: alone on one core until the registry works again.
      this.problem = `the thread registry ${this.dir} is unusable (${(error as Error).message.split('\n')[0]}): 1 thread`;
      this.sharing = this.cores;
      return this.cores;
    }
  }

  /** Removes this thread's entry (its core is free at once rather than after freshMs). */
  release(): void {
    rmSync(this.file, { force: true });
    this.last = -Infinity;
  }
}

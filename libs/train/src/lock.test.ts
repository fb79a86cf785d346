import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRunLock } from './lock';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'lrscape-lock-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('acquireRunLock', () => {
  it('writes this pid into a fresh lock (making its folder) and removes it on release', async () => {
    const file = join(dir, 'resume', 'eta-0.1.lock');
    const lock = await acquireRunLock(file);
    expect(await readFile(file, 'utf8')).toBe(String(process.pid));
    await lock.release();
    expect(existsSync(file)).toBe(false);
    await lock.release(); // a second release does nothing
    const again = await acquireRunLock(file);
    await again.release();
  });

  it('refuses a lock held by a live process, naming the file and the pid', async () => {
    const file = join(dir, 'run.lock');
    await writeFile(file, String(process.ppid)); // the parent runs as long as this test does
    await expect(acquireRunLock(file)).rejects.toThrow(`${file}: another process (pid ${process.ppid}) is training this run`);
    expect(await readFile(file, 'utf8')).toBe(String(process.ppid));
  });

  it('takes over a lock left by a dead process, or one that holds no pid', async () => {
    const file = join(dir, 'run.lock');
    const pid = deadPid();
    expect(pid).toBeGreaterThan(0);
    await writeFile(file, String(pid));
    const lock = await acquireRunLock(file);
    expect(await readFile(file, 'utf8')).toBe(String(process.pid));
    await lock.release();
    await writeFile(file, 'garbage');
    await (await acquireRunLock(file)).release();
    expect(existsSync(file)).toBe(false);
  });
});

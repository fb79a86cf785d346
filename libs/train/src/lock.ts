/**
 * One process trains a run at a time: two would write the same checkpoints and resume point. The lock is a
 * file holding the owner's pid, created exclusively; a lock whose pid no longer runs (a killed task) is taken over.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { processIsAlive } from '@lrscape/artifacts';

export interface RunLock {
  readonly file: string;
  /** Removes the lock file (only once; later calls do nothing). */
  release(): Promise<void>;
}

export async function acquireRunLock(file: string): Promise<RunLock> {
  await mkdir(dirname(file), { recursive: true });
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      let held = true;
      return {
        file,
        release: async () => {
          if (held) await rm(file, { force: true });
          held = false;
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processIsAlive(holder)) {
        throw new Error(`${file}: another process (pid ${holder}) is training this run; wait for it or stop it`);
      }
      // A dead owner, this very process, or an unreadable file: take it over (the exclusive create above decides any race).
      await rm(file, { force: true });
    }
  }
}

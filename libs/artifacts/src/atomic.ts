/**
 * Folders that appear whole or not at all (docs/architecture.md, "The task graph"): a task writes into a temporary sibling
 * folder, adds the manifest, and renames it into place. A process killed half-way leaves only a
 * `<name>.partial-<pid>-<random>` folder, which readers ignore and the next write of the same
 * folder removes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeManifest } from './manifest';

/** Marker in the names of temporary folders and files. */
export const PARTIAL_MARKER = '.partial-';

/** True for the name of a temporary (possibly abandoned) folder or file; readers skip these. */
export function isPartialName(name: string): boolean {
  return name.includes(PARTIAL_MARKER);
}

function partialPath(finalPath: string, suffix = ''): string {
  return `${finalPath}${PARTIAL_MARKER}${process.pid}-${randomBytes(6).toString('hex')}${suffix}`;
}

/** True while a process with this pid runs (EPERM: it runs, under another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary siblings of `finalPath` left by processes that no longer run.
 * Those of live processes (a concurrent writer, or this process) are left alone.
 */
export async function cleanPartials(finalPath: string): Promise<string[]> {
  const parent = dirname(finalPath);
  const prefix = `${basename(finalPath)}${PARTIAL_MARKER}`;
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isInteger(pid) && pid > 0 && processIsAlive(pid)) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed.push(join(parent, name));
  }
  return removed;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a folder atomically: `writer` fills a fresh temporary sibling of `finalDir`, the
 * manifest is written over its contents, then the temporary folder replaces `finalDir`.
 * If `writer` (or the manifest) fails, the temporary folder is removed, `finalDir` is left as it
 * was, and the error is rethrown. Returns what `writer` returns.
 */
export async function writeFolderAtomically<T>(finalDir: string, writer: (tmpDir: string) => Promise<T> | T): Promise<T> {
  await mkdir(dirname(finalDir), { recursive: true });
  await cleanPartials(finalDir);
  const tmpDir = partialPath(finalDir);
  await mkdir(tmpDir);
  let result: T;
  try {
    result = await writer(tmpDir);
    await writeManifest(tmpDir);
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
  // rename() cannot replace a non-empty folder: move the old one aside under a partial name
  // (so that a crash right here leaves something the next write cleans), then swap, then delete.
  const old = (await exists(finalDir)) ? partialPath(finalDir, '-old') : null;
  let movedAside = false;
  try {
    if (old) {
      await rename(finalDir, old);
      movedAside = true;
    }
    await rename(tmpDir, finalDir);
  } catch (error) {
    if (old && movedAside) await rename(old, finalDir).catch(() => undefined);
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
  if (old) await rm(old, { recursive: true, force: true });
  return result;
}

/** Writes one file atomically: a temporary sibling, then a rename over `path`. */
export async function writeFileAtomically(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = partialPath(path);
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

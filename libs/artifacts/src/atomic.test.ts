import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPartialName, MANIFEST_FILE, PARTIAL_MARKER, verifyManifest, writeFolderAtomically } from './index';

let root: string;
let target: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lrscape-atomic-'));
  target = join(root, 'runs', 'eta-0.05');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const siblings = async () => (await readdir(join(root, 'runs'))).sort();

describe('writeFolderAtomically', () => {
  it('creates the folder with its manifest and returns what the writer returns', async () => {
    const result = await writeFolderAtomically(target, async (tmp) => {
      expect(tmp).toContain(`eta-0.05${PARTIAL_MARKER}${process.pid}-`);
      await mkdir(join(tmp, 'checkpoints'));
      await writeFile(join(tmp, 'checkpoints', 'a.bin'), 'A');
      await writeFile(join(tmp, 'run.json'), '{}');
      return 7;
    });
    expect(result).toBe(7);
    expect(await siblings()).toEqual(['eta-0.05']);
    const manifest = await verifyManifest(target);
    expect(Object.keys(manifest.files)).toEqual(['checkpoints/a.bin', 'run.json']);
  });

  it('replaces a previous folder whole', async () => {
    await writeFolderAtomically(target, (tmp) => writeFile(join(tmp, 'old.txt'), 'old'));
    await writeFolderAtomically(target, (tmp) => writeFile(join(tmp, 'new.txt'), 'new'));
    expect((await readdir(target)).sort()).toEqual([MANIFEST_FILE, 'new.txt']);
    expect(await siblings()).toEqual(['eta-0.05']);
  });

  it('leaves the previous folder intact and no partial folder when the writer throws', async () => {
    await writeFolderAtomically(target, (tmp) => writeFile(join(tmp, 'good.txt'), 'good'));
    const before = await readFile(join(target, MANIFEST_FILE), 'utf8');
    await expect(
      writeFolderAtomically(target, async (tmp) => {
        await writeFile(join(tmp, 'good.txt'), 'half-written');
        throw new Error('killed mid-write');
      }),
    ).rejects.toThrow('killed mid-write');
    expect(await siblings()).toEqual(['eta-0.05']);
    expect(await readFile(join(target, 'good.txt'), 'utf8')).toBe('good');
    expect(await readFile(join(target, MANIFEST_FILE), 'utf8')).toBe(before);
    await verifyManifest(target);
  });

  it('cleans leftovers of dead processes on the next write, and keeps those of live ones', async () => {
    const deadPid = 2 ** 30; // beyond any Linux pid_max
    const dead = join(root, 'runs', `eta-0.05${PARTIAL_MARKER}${deadPid}-abcdef`);
    const live = join(root, 'runs', `eta-0.05${PARTIAL_MARKER}${process.pid}-fedcba`);
    const other = join(root, 'runs', `eta-0.1${PARTIAL_MARKER}${deadPid}-abcdef`);
    for (const leftover of [dead, live, other]) {
      await mkdir(leftover, { recursive: true });
      await writeFile(join(leftover, 'half.txt'), 'x');
    }
    expect(isPartialName(dead)).toBe(true);
    expect(isPartialName(target)).toBe(false);
    await writeFolderAtomically(target, (tmp) => writeFile(join(tmp, 'a.txt'), 'a'));
    expect(await siblings()).toEqual(['eta-0.05', `eta-0.05${PARTIAL_MARKER}${process.pid}-fedcba`, `eta-0.1${PARTIAL_MARKER}${deadPid}-abcdef`]);
  });
});

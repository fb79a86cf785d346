import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanPartials, isPartialName, MANIFEST_FILE, PARTIAL_MARKER, verifyManifest, writeFileAtomically, writeFolderAtomically } from './index';

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

describe('writeFileAtomically', () => {
  it('creates parent folders, replaces the file whole and leaves no temporary sibling', async () => {
    const file = join(root, 'deep', 'er', 'run.json');
    await writeFileAtomically(file, '{"a":1}');
    await writeFileAtomically(file, new Uint8Array([0x7b, 0x7d]));
    expect(await readFile(file, 'utf8')).toBe('{}');
    expect(await readdir(join(root, 'deep', 'er'))).toEqual(['run.json']);
  });

  it('keeps the old content and removes its temporary file when the write fails', async () => {
    const file = join(root, 'state.json');
    await writeFileAtomically(file, 'old');
    // A folder where the temporary file's rename target is cannot be replaced by a file.
    const blocked = join(root, 'blocked');
    await mkdir(join(blocked, 'child'), { recursive: true });
    await expect(writeFileAtomically(blocked, 'new')).rejects.toThrow();
    expect((await readdir(root)).filter(isPartialName)).toEqual([]);
    expect(await readFile(file, 'utf8')).toBe('old');
  });
});

describe('cleanPartials', () => {
  it('returns exactly the removed leftovers of dead writers of this path', async () => {
    const deadPid = 2 ** 30;
    await mkdir(join(root, 'runs'), { recursive: true });
    const dead = join(root, 'runs', `eta-0.05${PARTIAL_MARKER}${deadPid}-aa`);
    const garbled = join(root, 'runs', `eta-0.05${PARTIAL_MARKER}notapid`);
    const live = join(root, 'runs', `eta-0.05${PARTIAL_MARKER}${process.pid}-bb`);
    for (const p of [dead, garbled, live]) await mkdir(p);
    expect((await cleanPartials(target)).sort()).toEqual([dead, garbled].sort());
    expect(await siblings()).toEqual([`eta-0.05${PARTIAL_MARKER}${process.pid}-bb`]);
    expect(await cleanPartials(join(root, 'nowhere', 'x'))).toEqual([]);
  });
});

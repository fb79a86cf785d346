import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, readManifest, readVerifiedFile, sha256Hex, verifyManifest, writeManifest } from './index';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lrscape-manifest-'));
  await mkdir(join(dir, 'checkpoints'));
  await writeFile(join(dir, 'run.json'), '{"eta":0.05}');
  await writeFile(join(dir, 'checkpoints', 'step-000400.safetensors'), Buffer.from([1, 2, 3, 4, 5]));
  await writeFile(join(dir, 'empty.txt'), '');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('manifests', () => {
  it('lists every file under the folder with its sha256 and size', async () => {
    const manifest = await writeManifest(dir);
    expect(Object.keys(manifest.files)).toEqual(['checkpoints/step-000400.safetensors', 'empty.txt', 'run.json']);
    expect(manifest.files['run.json']).toEqual({ sha256: sha256Hex('{"eta":0.05}'), bytes: 12 });
    expect(manifest.files['empty.txt'].sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Date(manifest.created).toISOString()).toBe(manifest.created);
    expect(await readManifest(dir)).toEqual(manifest);
    await expect(verifyManifest(dir)).resolves.toEqual(manifest);
    // Re-writing the manifest does not list the manifest itself.
    expect(Object.keys((await writeManifest(dir)).files)).not.toContain(MANIFEST_FILE);
  });

  it('detects one modified byte and names the file', async () => {
    await writeManifest(dir);
    const path = join(dir, 'checkpoints', 'step-000400.safetensors');
    const bytes = await readFile(path);
    bytes[2] ^= 1;
    await writeFile(path, bytes);
    await expect(verifyManifest(dir)).rejects.toThrow(`${path}: content does not match the manifest`);
    await expect(readVerifiedFile(dir, 'checkpoints/step-000400.safetensors')).rejects.toThrow(path);
    await expect(readVerifiedFile(dir, 'run.json')).resolves.toEqual(Buffer.from('{"eta":0.05}'));
  });

  it('names a missing file, an unlisted file and a missing manifest', async () => {
    await expect(verifyManifest(dir)).rejects.toThrow(`${join(dir, MANIFEST_FILE)}: manifest missing`);
    await expect(readVerifiedFile(dir, 'run.json')).rejects.toThrow(join(dir, MANIFEST_FILE));
    await writeManifest(dir);
    await rm(join(dir, 'run.json'));
    await expect(verifyManifest(dir)).rejects.toThrow(`${join(dir, 'run.json')}: listed in the manifest but missing`);
    await writeFile(join(dir, 'late.txt'), 'x');
    await expect(readVerifiedFile(dir, 'late.txt')).rejects.toThrow(`${join(dir, 'late.txt')}: not listed`);
  });

  it('refuses a malformed manifest or one that points outside the folder', async () => {
    await writeFile(join(dir, MANIFEST_FILE), '{"files": {"../x": {"sha256": "' + '0'.repeat(64) + '", "bytes": 1}}, "created": "now"}');
    await expect(verifyManifest(dir)).rejects.toThrow(/leaves the folder/);
    await writeFile(join(dir, MANIFEST_FILE), '{"files": []');
    await expect(verifyManifest(dir)).rejects.toThrow(/not valid JSON/);
  });
});

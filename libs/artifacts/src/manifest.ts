/**
 * Manifests (docs/architecture.md, "Artifacts"): every folder a task writes holds `manifest.json` with the sha256 and
 * size of each file under it, and a reader refuses a file that does not match, naming it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { z } from 'zod';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestEntry {
  sha256: string;
  bytes: number;
}
export interface Manifest {
  /** Relative path (with '/') → hash and size, sorted by path. */
  files: Record<string, ManifestEntry>;
  /** ISO 8601 time the manifest was written. */
  created: string;
}

const manifestSchema = z.object({
  files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() })),
  created: z.string(),
});

async function hashFile(path: string): Promise<ManifestEntry> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Every regular file under `dir`, as sorted relative paths with '/' separators. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** Hashes every file under `dir` except the top-level manifest, and writes the manifest. */
export async function writeManifest(dir: string): Promise<Manifest> {
  const files: Record<string, ManifestEntry> = {};
  for (const rel of await listFiles(dir)) {
    if (rel === MANIFEST_FILE) continue;
    files[rel] = await hashFile(join(dir, rel));
  }
  const manifest: Manifest = { files, created: new Date().toISOString() };
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads and parses `dir/manifest.json`; a missing or malformed manifest is an Error naming it. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: manifest missing or unreadable (${(error as Error).message})`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: manifest is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) throw new Error(`${path}: malformed manifest (${result.error.issues[0]?.message ?? 'invalid'})`);
  for (const rel of Object.keys(result.data.files)) resolveInside(dir, rel, path);
  return result.data;
}

/** `dir/rel`, refusing a path that would leave `dir`. */
function resolveInside(dir: string, rel: string, source: string): string {
  const normalized = normalize(rel);
  if (isAbsolute(rel) || normalized === '..' || normalized.startsWith(`..${sep}`)) {
    throw new Error(`${source}: path "${rel}" leaves the folder`);
  }
  return join(dir, rel);
}

async function checkEntry(dir: string, rel: string, expected: ManifestEntry): Promise<void> {
  const path = join(dir, rel);
  let found: ManifestEntry;
  try {
    found = await hashFile(path);
  } catch (error) {
    throw new Error(`${path}: listed in the manifest but missing or unreadable (${(error as Error).message})`, { cause: error });
  }
  if (found.bytes !== expected.bytes || found.sha256 !== expected.sha256) {
    throw new Error(`${path}: content does not match the manifest (sha256 ${found.sha256}, ${found.bytes} bytes; expected ${expected.sha256}, ${expected.bytes} bytes)`);
  }
}

/**
 * Checks every file listed in `dir/manifest.json` against its hash and size. Throws an Error
 * naming the manifest (missing, malformed) or the first file that is missing or differs.
 * Files present but not listed are not checked (nothing should read them).
 */
export async function verifyManifest(dir: string): Promise<Manifest> {
  const manifest = await readManifest(dir);
  for (const [rel, entry] of Object.entries(manifest.files)) await checkEntry(dir, rel, entry);
  return manifest;
}

/**
 * Reads `dir/rel` after checking it against the manifest of `dir`: a file not listed, missing,
 * or whose content differs is an Error naming it.
 */
export async function readVerifiedFile(dir: string, rel: string): Promise<Buffer> {
  const manifest = await readManifest(dir);
  const key = rel.split(sep).join('/');
  const expected = manifest.files[key];
  const path = resolveInside(dir, key, join(dir, MANIFEST_FILE));
  if (!expected) throw new Error(`${path}: not listed in ${join(dir, MANIFEST_FILE)}`);
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    throw new Error(`${path}: listed in the manifest but missing or unreadable (${(error as Error).message})`, { cause: error });
  }
  const sha256 = createHash('sha256').update(content).digest('hex');
  if (content.length !== expected.bytes || sha256 !== expected.sha256) {
    throw new Error(`${path}: content does not match the manifest (sha256 ${sha256}; expected ${expected.sha256})`);
  }
  return content;
}

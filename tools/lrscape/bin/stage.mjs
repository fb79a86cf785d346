#!/usr/bin/env node
// Runs a pipeline stage (`node tools/lrscape/bin/stage.mjs <stage> args…`) from a one-file esbuild bundle of its
// TypeScript (tools/lrscape/src/stages/<stage>.ts and the libs it imports), kept in dist/stages/ and rebuilt
// when any file it was built from has changed (docs/architecture.md, "Stage start-up"). Under tsx every one of a
// stage's ~150 TypeScript modules goes through Node's loader hooks: ~1 s of a task's start-up, which over the
// analyze's ~160 tasks was minutes. node_modules stay external (loaded by Node as usual); only this workspace's
// own sources are bundled, with each file's `import.meta.url` rewritten to that file's own URL (relative to the
// bundle, so a bundle restored in another checkout still points at its own files), so that what a lib finds
// next to its source (the native addon, the shard worker) is found as under tsx.
//
// Freshness: the bundle's manifest lists the sha256 of every source file esbuild read; a stage starts from the
// bundle only when all of them still match (a few ms), else it rebuilds (~0.3 s). Two tasks rebuilding at once
// each write their own content-named files and rename the manifest last, so a reader never sees a torn pair.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const outDir = join(root, 'dist', 'stages');
const stage = process.argv[2];
const entry = stage ? join(root, 'tools', 'lrscape', 'src', 'stages', `${stage}.ts`) : '';
if (!stage || !existsSync(entry)) {
  console.error(`lrscape stage: no stage \`${stage ?? ''}\` (tools/lrscape/src/stages/<stage>.ts); usage: node tools/lrscape/bin/stage.mjs <stage> [args…]`);
  process.exit(2);
}
const manifestPath = join(outDir, `${stage}.json`);
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** The manifest's bundle when every source it lists is unchanged; else null. */
function freshBundle() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return null;
  }
  if (typeof manifest?.bundle !== 'string' || !manifest.bundle.endsWith('.mjs') || typeof manifest.inputs !== 'object' || manifest.inputs === null) return null;
  const bundle = join(outDir, manifest.bundle);
  if (!existsSync(bundle)) return null;
  for (const [file, digest] of Object.entries(manifest.inputs)) {
    let text;
    try {
      text = readFileSync(join(root, file));
    } catch {
      return null;
    }
    if (sha256(text) !== digest) return null;
  }
  return bundle;
}

async function rebuild() {
  const { build } = await import('esbuild');
  const inputs = {};
  const sourcePlugin = {
    name: 'lrscape-sources',
    setup(builder) {
      builder.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        const text = readFileSync(args.path, 'utf8');
        const file = relative(root, args.path).split(sep).join('/');
        inputs[file] = sha256(text);
        if (/import\.meta\.(dirname|filename)/.test(text)) {
          throw new Error(`${file}: import.meta.dirname/filename would name the bundle, not this file; use new URL(…, import.meta.url)`);
        }
        const own = relative(outDir, args.path).split(sep).join('/');
        const contents = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`);
        return { contents, loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js' };
      });
    },
  };
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    tsconfig: join(root, 'tsconfig.json'),
    absWorkingDir: root,
    sourcemap: 'linked',
    write: false,
    logLevel: 'silent',
    outfile: join(outDir, `${stage}.mjs`),
    plugins: [sourcePlugin],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  const name = `${stage}-${sha256(code.contents).slice(0, 16)}`;
  mkdirSync(outDir, { recursive: true });
  const tmp = `.${process.pid}-${Date.now()}`;
  // The sourcemap link names the content-named file, so stack traces (LRSCAPE_DEBUG) map back to the sources.
  const text = Buffer.from(code.text.replace(/\/\/# sourceMappingURL=.*\s*$/, `//# sourceMappingURL=${name}.mjs.map\n`));
  for (const [file, contents] of [[`${name}.mjs`, text], [`${name}.mjs.map`, map.contents]]) {
    writeFileSync(join(outDir, file + tmp), contents);
    renameSync(join(outDir, file + tmp), join(outDir, file));
  }
  writeFileSync(manifestPath + tmp, `${JSON.stringify({ bundle: `${name}.mjs`, inputs }, null, 1)}\n`);
  renameSync(manifestPath + tmp, manifestPath);
  // Older bundles of this stage go (best effort: another task may be starting from one right now, which is
  // harmless on POSIX, where an open file outlives its name).
  for (const file of readdirSync(outDir)) {
    if (file.startsWith(`${stage}-`) && !file.startsWith(name) && /^[a-z]+-[0-9a-f]{16}\.mjs(\.map)?$/.test(file)) rmSync(join(outDir, file), { force: true });
  }
  return join(outDir, `${name}.mjs`);
}

const bundle = freshBundle() ?? (await rebuild());
if (process.env.LRSCAPE_DEBUG) process.setSourceMapsEnabled(true);
// The stage reads its arguments from process.argv.slice(2), as when run by tsx directly.
process.argv.splice(2, 1);
await import(pathToFileURL(bundle).href);

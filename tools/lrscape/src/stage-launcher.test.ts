/**
 * The stage launcher (tools/lrscape/bin/stage.mjs; docs/architecture.md, "Stage start-up") in a scratch
 * workspace of its own: a stage that imports a lib through the tsconfig paths runs from a bundle, with the
 * lib's `import.meta.url` naming the lib's own file; an unchanged workspace starts from the same bundle; an edited
 * lib is rebuilt, never run stale, and so is a missing bundle or a corrupt manifest; a stage that does not exist
 * is refused by name.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(__dirname, '../../..');
const root = mkdtempSync(join(tmpdir(), 'lrscape-launcher-'));

function write(file: string, text: string): void {
  mkdirSync(join(root, file, '..'), { recursive: true });
  writeFileSync(join(root, file), text);
}

write('tools/lrscape/bin/stage.mjs', readFileSync(join(repo, 'tools/lrscape/bin/stage.mjs'), 'utf8'));
symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'esnext', moduleResolution: 'bundler', baseUrl: '.', paths: { '@probe/lib': ['libs/probe/src/index.ts'] } } }));
write('libs/probe/src/index.ts', "export const here: string = import.meta.url;\nexport const value = 1;\n");
write('tools/lrscape/src/stages/probe.ts', "import { here, value } from '@probe/lib';\nconsole.log(JSON.stringify({ here, value, args: process.argv.slice(2) }));\n");

function launch(stage: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(root, 'tools/lrscape/bin/stage.mjs'), stage, ...args], { cwd: root, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
const bundles = () => readdirSync(join(root, 'dist/stages')).filter((f) => f.endsWith('.mjs')).sort();

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stage launcher', () => {
  it('runs the stage from a bundle, with the arguments after the stage name and each file’s own import.meta.url', () => {
    const run = launch('probe', 'demo', 'eta-0.1');
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.args).toEqual(['demo', 'eta-0.1']);
    expect(out.value).toBe(1);
    expect(out.here).toBe(pathToFileURL(join(root, 'libs/probe/src/index.ts')).href);
    expect(bundles()).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(join(root, 'dist/stages/probe.json'), 'utf8'));
    expect(Object.keys(manifest.inputs).sort()).toEqual(['libs/probe/src/index.ts', 'tools/lrscape/src/stages/probe.ts']);
  });

  it('starts an unchanged workspace from the same bundle, and rebuilds after a lib is edited', () => {
    const before = bundles();
    expect(launch('probe').status).toBe(0);
    expect(bundles()).toEqual(before);
    write('libs/probe/src/index.ts', "export const here: string = import.meta.url;\nexport const value = 2;\n");
    const run = launch('probe');
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).value).toBe(2);
    expect(bundles()).toHaveLength(1);
    expect(bundles()).not.toEqual(before);
  });

  it('rebuilds when the bundle it names is gone', () => {
    rmSync(join(root, 'dist/stages', bundles()[0]));
    const run = launch('probe');
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).value).toBe(2);
  });

  it.each(['{"bundle": "", "inputs": {}}', '{"inputs": null}', '{"bund'])('rebuilds when its manifest is corrupt (%s)', (manifest) => {
    writeFileSync(join(root, 'dist/stages/probe.json'), manifest);
    const run = launch('probe');
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).value).toBe(2);
    expect(JSON.parse(readFileSync(join(root, 'dist/stages/probe.json'), 'utf8')).bundle).toBe(bundles()[0]);
  });

  it('a bundle restored in another checkout names that checkout’s files', () => {
    const other = mkdtempSync(join(tmpdir(), 'lrscape-launcher-copy-'));
    try {
      cpSync(root, other, { recursive: true, verbatimSymlinks: true });
      const result = spawnSync(process.execPath, [join(other, 'tools/lrscape/bin/stage.mjs'), 'probe'], { cwd: other, encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).here).toBe(pathToFileURL(join(other, 'libs/probe/src/index.ts')).href);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a stage that does not exist, naming it', () => {
    const run = launch('nosuch');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no stage `nosuch`');
  });
});

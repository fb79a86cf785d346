import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDropTask, parseExperiment, sliceHash, stageProvenance, type Experiment } from './experiment-config';
import {
  CONFIG_LIB_FILES,
  codeInputs,
  dropFamilyProjects,
  experimentProject,
  runProject,
  selectExperiments,
  siteProject,
  STAGES,
  stageLibs,
  tierSelection,
  workspaceProjects,
} from './targets';

const demo = {
  title: 'Demo',
  dataset: { kind: 'wreg', n: 32, noise: 0.1, seed: 1 },
  model: { hidden: [16], activation: 'tanh', loss: 'mse' },
  training: { steps: 10, checkpointEvery: 5 },
  grid: { etas: [0.01, 0.1] },
};
const parseAs = (name: string, overrides: Record<string, unknown> = {}) =>
  parseExperiment(`pipelines/${name}/experiment.json`, JSON.stringify({ ...demo, ...overrides }));
const parseDemo = (overrides: Record<string, unknown> = {}) => parseAs('demo', overrides);
const experiment = parseDemo();
const root = join(import.meta.dirname, '../../..');

describe('inferred projects', () => {
  it('makes one project per experiment and one per run, plus the site', () => {
    const projects = workspaceProjects([experiment]);
    expect(projects.map((p) => p.name)).toEqual(['demo', 'demo-eta-0.01', 'demo-eta-0.1', 'reports']);
    expect(new Set(projects.map((p) => p.root)).size).toBe(projects.length);
  });

  it('chains prepare → train → hessian → aggregate → verify → report → analyze', () => {
    const exp = experimentProject(experiment);
    const run = runProject(experiment, experiment.runs[0]);
    expect(run.targets.train.dependsOn).toEqual([{ projects: ['demo'], target: 'prepare' }]);
    expect(run.targets.hessian.dependsOn).toEqual(['train']);
    // …and on the cooling project, by its tag (cooling-config.test.ts).
    expect(exp.targets.aggregate.dependsOn).toEqual([
      { projects: ['demo-eta-0.01', 'demo-eta-0.1'], target: 'hessian' },
      { projects: ['tag:lrscape:cooling:demo'], target: 'cooling' },
      { projects: ['tag:lrscape:drop:demo'], target: 'continue' },
    ]);
    expect(exp.targets.verify.dependsOn).toEqual(['aggregate']);
    expect(exp.targets.report.dependsOn).toEqual(['aggregate', 'verify']);
    expect(exp.targets.analyze.dependsOn).toEqual(['report', 'verify']);
    expect(siteProject(['demo']).targets.index.dependsOn).toEqual([{ projects: ['demo'], target: 'report' }]);
    for (const target of [...Object.values(exp.targets), ...Object.values(run.targets)]) expect(target.cache).toBe(true);
  });

  it('keeps settings out of commands, so one stage’s settings never enter another task’s hash', () => {
    const other = parseDemo({ hessian: { topK: 3 } });
    const a = runProject(experiment, experiment.runs[0]);
    const b = runProject(other, other.runs[0]);
    expect(a.targets.train).toEqual(b.targets.train);
    expect(a.targets.hessian.command).toBe(b.targets.hessian.command);
    expect(a.targets.hessian.inputs![0]).not.toEqual(b.targets.hessian.inputs![0]);
    expect(a.targets.train.command).toBe('node tools/lrscape/bin/stage.mjs train demo eta-0.01');
  });

  it('puts into each task’s hash the slice hash its tables’ provenance records', () => {
    const run = experiment.runs[1];
    const exp = experimentProject(experiment);
    const runTargets = runProject(experiment, run).targets;
    const sliceOf = (inputs: unknown[] | undefined) => /^echo lrscape-\w+-slice ([0-9a-f]{16})$/.exec((inputs![0] as { runtime: string }).runtime)![1];
    expect(sliceOf(exp.targets.prepare.inputs)).toBe(stageProvenance(experiment, 'prepare')['slice.prepare']);
    expect(sliceOf(runTargets.train.inputs)).toBe(stageProvenance(experiment, 'train', run)['slice.train.eta-0.1']);
    expect(sliceOf(runTargets.hessian.inputs)).toBe(stageProvenance(experiment, 'hessian', run)['slice.hessian.eta-0.1']);
    for (const stage of ['aggregate', 'verify', 'report'] as const) {
      expect(sliceOf(exp.targets[stage].inputs)).toBe(stageProvenance(experiment, stage)[`slice.${stage}`]);
    }
    expect(sliceOf(exp.targets.verify.inputs)).toBe(sliceOf(exp.targets.aggregate.inputs));
    expect(sliceOf(exp.targets.report.inputs)).not.toBe(sliceHash({}));
  });

  it('declares each task’s outputs under artifacts/ or reports/', () => {
    const run = runProject(experiment, experiment.runs[1]);
    expect(run.targets.train.outputs).toEqual(['{workspaceRoot}/artifacts/demo/runs/eta-0.1']);
    expect(run.targets.hessian.outputs).toEqual(['{workspaceRoot}/artifacts/demo/hessian/eta-0.1']);
    expect(experimentProject(experiment).targets.report.outputs).toEqual(['{workspaceRoot}/reports/demo']);
    expect(siteProject(['demo']).targets.index.outputs).toEqual(['{workspaceRoot}/reports/index.html']);
  });
});

describe('drop families', () => {
  const family = { name: 'main', parentEta: 0.1, controlEta: 0.01, etaLow: 0.005, matchedLoss: 0.05, maxSteps: 100, minSwitchStep: 2, seeds: [0, 1] };
  const withDrops = parseDemo({ grid: { etas: [0.01, 0.1], seeds: [0, 1] }, dropFamilies: [family] });

  it('makes one project per family and seed whose continue task follows the seed’s parent and control train tasks', () => {
    const projects = dropFamilyProjects(withDrops);
    expect(projects.map((p) => [p.name, p.root])).toEqual([
      ['demo-drop-main-s0', 'pipelines/demo/drop/main/s0'],
      ['demo-drop-main-s1', 'pipelines/demo/drop/main/s1'],
    ]);
    const task = projects[1].targets.continue;
    expect(task.command).toBe('node tools/lrscape/bin/stage.mjs continue demo main 1');
    expect(task.dependsOn).toEqual([{ projects: ['demo-eta-0.1-s1', 'demo-eta-0.01-s1'], target: 'train' }]);
    expect(task.outputs).toEqual(['{workspaceRoot}/artifacts/demo/continuations/main/s1']);
    expect(task.cache).toBe(true);
    const slice = /^echo lrscape-continue-slice ([0-9a-f]{16})$/.exec((task.inputs![0] as { runtime: string }).runtime)![1];
    expect(slice).toBe(stageProvenance(withDrops, 'continue', findDropTask(withDrops, 'main', 1))['slice.continue.main.s1']);
    expect(workspaceProjects([withDrops]).map((p) => p.name)).toEqual(expect.arrayContaining(['demo-drop-main-s0', 'demo-drop-main-s1']));
    expect(dropFamilyProjects(experiment)).toEqual([]);
  });

  it('has aggregate wait for every continue task by the experiment’s tag, so one more family changes no existing project', () => {
    const aggregate = experimentProject(withDrops).targets.aggregate;
    expect(aggregate.dependsOn).toContainEqual({ projects: ['tag:lrscape:drop:demo'], target: 'continue' });
    for (const p of dropFamilyProjects(withDrops)) expect(p.tags).toContain('lrscape:drop:demo');
    const more = parseDemo({ grid: { etas: [0.01, 0.1], seeds: [0, 1] }, dropFamilies: [family, { ...family, name: 'second', etaLow: 0.002 }] });
    expect(dropFamilyProjects(more).slice(0, 2)).toEqual(dropFamilyProjects(withDrops));
    expect(experimentProject(more).targets.aggregate.dependsOn).toEqual(aggregate.dependsOn);
    expect(experimentProject(more).targets.prepare).toEqual(experimentProject(withDrops).targets.prepare);
    expect(experimentProject(more).targets.aggregate.inputs![0]).not.toEqual(aggregate.inputs![0]);
  });
});

/** Relative paths of a lib's .ts files, split into production code and tests or test helpers (`testing/` folders). */
function libFiles(lib: string): { production: string[]; testOnly: string[] } {
  const files = readdirSync(join(root, 'libs', lib, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const testOnly = (f: string) => f.endsWith('.test.ts') || f.split(sep).slice(0, -1).includes('testing');
  return { production: files.filter((f) => !testOnly(f)), testOnly: files.filter(testOnly) };
}
const LIBS = readdirSync(join(root, 'libs')).filter((lib) => readdirSync(join(root, 'libs', lib)).includes('src'));

describe('code inputs', () => {
  // Runtime imports only: a type-only import loads nothing.
  const importsOf = (text: string) => [...text.matchAll(/^import (?!type )[^;]*?from '@lrscape\/([a-z]+)'/gms)].map((m) => m[1]);

  it('name every lib a stage imports, directly or through other libs (so a lib change reruns its stages)', () => {
    const libDeps = (lib: string): string[] => libFiles(lib).production.flatMap((f) => importsOf(readFileSync(join(root, 'libs', lib, 'src', f), 'utf8')));
    const closure = (start: string[]) => {
      const seen = new Set<string>();
      const queue = [...start];
      while (queue.length) {
        const lib = queue.pop()!;
        if (seen.has(lib)) continue;
        seen.add(lib);
        queue.push(...libDeps(lib));
      }
      return seen;
    };
    const shared = importsOf(readFileSync(join(root, 'tools/lrscape/src/stages/common.ts'), 'utf8'));
    for (const stage of STAGES) {
      const direct = importsOf(readFileSync(join(root, 'tools/lrscape/src/stages', `${stage}.ts`), 'utf8'));
      const needed = [...closure([...direct, ...shared])].sort();
      expect({ stage, libs: [...stageLibs(stage)].sort() }).toEqual({ stage, libs: expect.arrayContaining(needed) });
    }
  });

  it('name, for every stage, the lib files that experiment-config imports (whole libs or CONFIG_LIB_FILES)', () => {
    const text = readFileSync(join(root, 'tools/lrscape/src/experiment-config.ts'), 'utf8');
    // The module each runtime name comes from: a lib's index re-exports (`export { a, b } from './file'`), or a deep import.
    const imported: { lib: string; file: string }[] = [];
    for (const [, names, lib] of text.matchAll(/^import \{([^}]*)\} from '@lrscape\/([a-z]+)'/gm)) {
      const index = readFileSync(join(root, 'libs', lib, 'src/index.ts'), 'utf8');
      for (const name of names.split(',').map((n) => n.trim()).filter((n) => n && !n.startsWith('type '))) {
        const from = [...index.matchAll(/export \{([^}]*)\} from '\.\/([\w-]+)(?:\.ts)?'/g)].find(([, list]) => list.split(',').some((n) => n.trim() === name));
        const star = [...index.matchAll(/export \* from '\.\/([\w-]+)(?:\.ts)?'/g)].find(([, file]) => readFileSync(join(root, 'libs', lib, 'src', `${file}.ts`), 'utf8').includes(`export function ${name}`));
        const file = from?.[2] ?? star?.[1];
        expect(file, `${name} from @lrscape/${lib}`).toBeDefined();
        imported.push({ lib, file: `${file}.ts` });
      }
    }
    // A lib's light subpath entry (`@lrscape/engine/layout`) is one file of that lib.
    for (const [, lib, file] of text.matchAll(/^import [^;]*? from '@lrscape\/([a-z]+)\/([\w-]+)'/gm)) imported.push({ lib, file: `${file}.ts` });
    expect(imported.map((i) => i.lib)).toEqual(expect.arrayContaining(['artifacts', 'train', 'engine']));
    for (const stage of STAGES) {
      const inputs = codeInputs(stage);
      for (const { lib, file } of imported) {
        const covered = stageLibs(stage).includes(lib) || inputs.includes(`{workspaceRoot}/libs/${lib}/src/${file}`);
        expect({ stage, lib, file, covered }).toEqual({ stage, lib, file, covered: true });
      }
    }
    expect(codeInputs('report')).toContain('{workspaceRoot}/libs/engine/src/layout.ts');
    expect(codeInputs('report')).not.toContain('{workspaceRoot}/libs/engine/src/**/*.ts');
    expect(codeInputs('train').filter((i) => typeof i === 'string' && i.startsWith('{workspaceRoot}/libs/train/src/schedule'))).toEqual([]);
    for (const [lib, files] of Object.entries(CONFIG_LIB_FILES)) for (const file of files) expect(libFiles(lib).production).toContain(file);
  });

  it('leave out tests and testing/ folders, which no production file imports', () => {
    for (const stage of STAGES) {
      for (const lib of stageLibs(stage)) {
        expect(codeInputs(stage)).toEqual(expect.arrayContaining([`!{workspaceRoot}/libs/${lib}/src/**/*.test.ts`, `!{workspaceRoot}/libs/${lib}/src/**/testing/**`]));
      }
    }
    const offenders = LIBS.flatMap((lib) =>
      libFiles(lib)
        .production.filter((f) => /from '(\.\.?\/)+(\w+\/)*testing(\/|\.ts'|')/.test(readFileSync(join(root, 'libs', lib, 'src', f), 'utf8')))
        .map((f) => `libs/${lib}/src/${f}`),
    );
    expect(offenders).toEqual([]);
    expect(libFiles('report').testOnly).toEqual(expect.arrayContaining([join('testing', 'sample.ts'), join('testing', 'dom.ts')]));
  });
});

describe('tiers', () => {
  const extended = parseAs('long', { tier: 'extended' });
  const optional = parseAs('absent', { optional: true });
  const dataStatus = (e: Experiment) => (e.name === 'absent' ? { available: false, reason: 'files missing: x.bin' } : { available: true });

  it('reads LRSCAPE_TIER: unset or default, extended, all; anything else is an error naming the variable', () => {
    expect(tierSelection(undefined)).toEqual({ setting: 'default', tiers: ['default'] });
    expect(tierSelection('')).toEqual({ setting: 'default', tiers: ['default'] });
    expect(tierSelection('default').tiers).toEqual(['default']);
    expect(tierSelection('extended').tiers).toEqual(['default', 'extended']);
    expect(tierSelection('all').tiers).toEqual(['default', 'extended']);
    expect(() => tierSelection('heavy')).toThrow('LRSCAPE_TIER=heavy: expected one of default, extended, all');
  });

  it('leaves an extended experiment out by default, with the reason and the command that builds it', () => {
    const { included, leftOut } = selectExperiments([experiment, extended, optional], { tier: undefined, dataStatus });
    expect(included.map((e) => e.name)).toEqual(['demo']);
    expect(leftOut.map(({ experiment: e, reason, command }) => [e.name, reason, command])).toEqual([
      ['long', 'in the extended tier, not selected (LRSCAPE_TIER=default)', 'LRSCAPE_TIER=extended npx nx run long:analyze'],
      ['absent', 'files missing: x.bin', undefined],
    ]);
  });

  it('takes an extended experiment in under LRSCAPE_TIER=extended or all, still leaving out an optional one without data', () => {
    for (const tier of ['extended', 'all']) {
      const { included, leftOut } = selectExperiments([experiment, extended, optional], { tier, dataStatus });
      expect(included.map((e) => e.name)).toEqual(['demo', 'long']);
      expect(leftOut.map((l) => l.experiment.name)).toEqual(['absent']);
    }
  });

  it('keys the site index on LRSCAPE_TIER, so a tier switch rebuilds it', () => {
    expect(siteProject([]).targets.index.inputs).toContainEqual({ env: 'LRSCAPE_TIER' });
  });

  describe('in a workspace with one default and one extended experiment', () => {
    let workspace: string;
    beforeAll(() => {
      workspace = mkdtempSync(join(tmpdir(), 'lrscape-tiers-'));
      const write = (name: string, config: unknown) => {
        mkdirSync(join(workspace, 'pipelines', name), { recursive: true });
        writeFileSync(join(workspace, 'pipelines', name, 'experiment.json'), JSON.stringify(config));
      };
      write('demo', demo);
      write('long', { ...demo, title: 'Long demo', tier: 'extended' });
      writeFileSync(join(workspace, 'package.json'), JSON.stringify({ version: '0.0.0-test' }));
    });
    afterAll(() => rmSync(workspace, { recursive: true, force: true }));
    const files = ['pipelines/demo/experiment.json', 'pipelines/long/experiment.json'];

    it('the plugin puts the extended one in the graph only under LRSCAPE_TIER=extended', async () => {
      const { createNodes } = await import('../plugin');
      const projectsUnder = async (tier: string | undefined) => {
        const saved = process.env.LRSCAPE_TIER;
        if (tier === undefined) delete process.env.LRSCAPE_TIER;
        else process.env.LRSCAPE_TIER = tier;
        try {
          const results = (await createNodes[1](files, undefined, { workspaceRoot: workspace, nxJsonConfiguration: {}, configFiles: files } as never)) as unknown as [
            string,
            { projects: Record<string, { name: string; targets: Record<string, { dependsOn?: unknown }> }> },
          ][];
          const projects = results.flatMap(([, r]) => Object.values(r.projects));
          return { names: projects.map((p) => p.name).sort(), site: projects.find((p) => p.name === 'reports')!.targets.index.dependsOn };
        } finally {
          if (saved === undefined) delete process.env.LRSCAPE_TIER;
          else process.env.LRSCAPE_TIER = saved;
        }
      };
      expect(await projectsUnder(undefined)).toEqual({ names: ['demo', 'demo-eta-0.01', 'demo-eta-0.1', 'reports'], site: [{ projects: ['demo'], target: 'report' }] });
      expect((await projectsUnder('extended')).names).toEqual(['demo', 'demo-eta-0.01', 'demo-eta-0.1', 'long', 'long-eta-0.01', 'long-eta-0.1', 'reports']);
      expect((await projectsUnder('extended')).site).toEqual([{ projects: ['demo', 'long'], target: 'report' }]);
    });

    const siteIndex = (tier: string | undefined) => {
      const env: NodeJS.ProcessEnv = { ...process.env, LRSCAPE_WORKSPACE: workspace };
      delete env.LRSCAPE_TIER;
      delete env.LRSCAPE_TASK_LOG;
      if (tier) env.LRSCAPE_TIER = tier;
      execFileSync(join(root, 'node_modules/.bin/tsx'), ['tools/lrscape/src/stages/site.ts'], { cwd: root, env, encoding: 'utf8' });
      return readFileSync(join(workspace, 'reports/index.html'), 'utf8');
    };

    it('the site stage lists the left-out one with the reason and the command, and lists it as built under the tier', async () => {
      const { JSDOM } = await import('jsdom');
      const byDefault = new JSDOM(siteIndex(undefined)).window.document;
      const long = byDefault.querySelector('#skipped li[data-experiment="long"]')!;
      expect(long.textContent).toContain('Long demo');
      expect(long.textContent).toContain('in the extended tier, not selected (LRSCAPE_TIER=default)');
      expect(long.querySelector('code.lrs-command')!.textContent).toBe('LRSCAPE_TIER=extended npx nx run long:analyze');
      expect(byDefault.querySelector('table.lrs-index tr[data-experiment="demo"]')).not.toBeNull();

      const extendedIndex = new JSDOM(siteIndex('extended')).window.document;
      expect(extendedIndex.querySelector('#skipped')).toBeNull();
      expect([...extendedIndex.querySelectorAll('table.lrs-index tbody tr')].map((tr) => tr.getAttribute('data-experiment'))).toEqual(['demo', 'long']);
    }, 60_000);
  });
});

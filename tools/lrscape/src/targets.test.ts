import { describe, expect, it } from 'vitest';
import { parseExperiment } from './experiment-config';
import { experimentProject, runProject, siteProject, workspaceProjects } from './targets';

const demo = {
  title: 'Demo',
  dataset: { kind: 'wreg', n: 32, noise: 0.1, seed: 1 },
  model: { hidden: [4], activation: 'tanh', loss: 'mse' },
  training: { steps: 10, checkpointEvery: 5 },
  grid: { etas: [0.01, 0.1] },
};
const parseDemo = (overrides: Record<string, unknown> = {}) => parseExperiment('pipelines/demo/experiment.json', JSON.stringify({ ...demo, ...overrides }));
const experiment = parseDemo();

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
    expect(exp.targets.aggregate.dependsOn).toEqual([{ projects: ['demo-eta-0.01', 'demo-eta-0.1'], target: 'hessian' }]);
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
    expect(a.targets.train.command).toBe('tsx tools/lrscape/src/stages/train.ts demo eta-0.01');
  });

  it('declares each task’s outputs under artifacts/ or reports/', () => {
    const run = runProject(experiment, experiment.runs[1]);
    expect(run.targets.train.outputs).toEqual(['{workspaceRoot}/artifacts/demo/runs/eta-0.1']);
    expect(run.targets.hessian.outputs).toEqual(['{workspaceRoot}/artifacts/demo/hessian/eta-0.1']);
    expect(experimentProject(experiment).targets.report.outputs).toEqual(['{workspaceRoot}/reports/demo']);
    expect(siteProject(['demo']).targets.index.outputs).toEqual(['{workspaceRoot}/reports/index.html']);
  });
});

describe('code inputs', () => {
  it('name every lib a stage imports, directly or through other libs (so a lib change reruns its stages)', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { STAGES, stageLibs } = await import('./targets');
    const root = join(import.meta.dirname, '../../..');
    // Runtime imports only: a type-only import loads nothing.
    const importsOf = (text: string) => [...text.matchAll(/^import (?!type )[^;]*?from '@lrscape\/([a-z]+)'/gms)].map((m) => m[1]);
    const libDeps = (lib: string): string[] => {
      const dir = join(root, 'libs', lib, 'src');
      return readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('testing'))
        .flatMap((f) => importsOf(readFileSync(join(dir, f), 'utf8')));
    };
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
    const shared = ['common.ts', '../experiment-config.ts'].flatMap((f) => importsOf(readFileSync(join(root, 'tools/lrscape/src/stages', f), 'utf8')));
    for (const stage of STAGES) {
      const direct = importsOf(readFileSync(join(root, 'tools/lrscape/src/stages', `${stage}.ts`), 'utf8'));
      const needed = [...closure([...direct, ...shared])].sort();
      expect({ stage, libs: [...stageLibs(stage)].sort() }).toEqual({ stage, libs: expect.arrayContaining(needed) });
    }
  });
});

/** The config's `cooling` section, its selection and slice, and the cooling project of the task graph. */
import { describe, expect, it } from 'vitest';
import { coolingSelection, ExperimentConfigError, parseExperiment, sliceHash, stageProvenance, taskSlice } from './experiment-config';
import { coolingProjectName, coolingProjects, experimentProject, runProject } from './targets';

const FILE = 'pipelines/demo/experiment.json';
const base = {
  title: 'Demo',
  dataset: { kind: 'wreg', n: 32, noise: 0.1, seed: 1 },
  model: { hidden: [16], activation: 'tanh', loss: 'mse' },
  training: { steps: 10, checkpointEvery: 5 },
  grid: { etas: [0.01, 0.1], seeds: [0, 1] },
};
const parse = (value: unknown) => parseExperiment(FILE, JSON.stringify(value));
const errorOf = (value: unknown): ExperimentConfigError => {
  try {
    parse(value);
  } catch (error) {
    return error as ExperimentConfigError;
  }
  throw new Error('expected a config error');
};

describe('the cooling section', () => {
  it('defaults to no runs, all instabilities, and the stated numerics', () => {
    expect(parse(base).config.cooling).toEqual({ runs: [], instabilities: 'all', maxSteps: 150, epsilon: 1e-3, gapRatio: 1.1, tolerance: 1e-5, maxIterations: 100 });
  });

  it('refuses malformed settings naming the field, but not a run or index that does not exist', () => {
    expect(errorOf({ ...base, cooling: { runs: ['eta-0.1', 'eta-0.1'] } }).message).toBe(`${FILE}: field \`cooling.runs.1\`: run \`eta-0.1\` is listed twice`);
    expect(errorOf({ ...base, cooling: { runs: ['eta-0.1'], instabilities: [2, 2] } }).message).toBe(`${FILE}: field \`cooling.instabilities.1\`: instability 2 is listed twice`);
    expect(errorOf({ ...base, cooling: { instabilities: [0] } }).message).toMatch(/field `cooling.instabilities.0`: Too small/);
    expect(errorOf({ ...base, cooling: { gapRatio: 1 } }).message).toMatch(/field `cooling.gapRatio`/);
    expect(errorOf({ ...base, cooling: { runs: [], extra: 1 } }).message).toMatch(/field `cooling`: unknown field\(s\) `extra`/);
    const lenient = parse({ ...base, cooling: { runs: ['eta-0.1-s1', 'eta-9'], instabilities: [1, 40] } });
    expect(coolingSelection(lenient)).toEqual({ runs: [lenient.runs.find((r) => r.slug === 'eta-0.1-s1')], missing: [{ position: 1, slug: 'eta-9' }] });
  });
});

describe('the cooling slice and provenance', () => {
  const selected = parse({ ...base, cooling: { runs: ['eta-0.1'], instabilities: [1, 2] } });

  it('holds the cooling section, the training chunk size and which selected slugs exist, not the whole run list', () => {
    expect(taskSlice(selected, 'cooling')).toEqual({ cooling: selected.config.cooling, chunkSize: 8192, present: [true] });
    const moreEtas = parse({ ...base, grid: { ...base.grid, etas: [0.01, 0.1, 0.2] }, cooling: selected.config.cooling });
    expect(sliceHash(taskSlice(moreEtas, 'cooling'))).toBe(sliceHash(taskSlice(selected, 'cooling')));
  });

  it('sits upstream of aggregate, after the selected runs’ training only', () => {
    expect(Object.keys(stageProvenance(selected, 'cooling'))).toEqual(['slice.prepare', 'slice.train.eta-0.1', 'slice.cooling']);
    expect(Object.keys(stageProvenance(selected, 'aggregate'))).toContain('slice.cooling');
    expect(Object.keys(stageProvenance(parse(base), 'aggregate'))).not.toContain('slice.cooling');
  });

  it('changing the selection changes no train, hessian or aggregate slice', () => {
    const other = parse({ ...base, cooling: { runs: ['eta-0.1-s1'], instabilities: 'all', maxSteps: 40 } });
    for (const run of selected.runs) {
      expect(sliceHash(taskSlice(other, 'train', run))).toBe(sliceHash(taskSlice(selected, 'train', run)));
      expect(sliceHash(taskSlice(other, 'hessian', run))).toBe(sliceHash(taskSlice(selected, 'hessian', run)));
    }
    expect(sliceHash(taskSlice(other, 'aggregate'))).toBe(sliceHash(taskSlice(selected, 'aggregate')));
    expect(sliceHash(taskSlice(other, 'cooling'))).not.toBe(sliceHash(taskSlice(selected, 'cooling')));
  });
});

describe('the cooling project', () => {
  it('exists only with a selection, runs after the selected runs’ training, and is found by aggregate through a tag', () => {
    const selected = parse({ ...base, cooling: { runs: ['eta-0.1', 'eta-9'] } });
    expect(coolingProjects(parse(base))).toEqual([]);
    const [project] = coolingProjects(selected);
    expect(project.name).toBe(coolingProjectName('demo'));
    expect(project.tags).toContain('lrscape:cooling:demo');
    expect(project.targets.cooling.command).toBe('node tools/lrscape/bin/stage.mjs cooling demo');
    expect(project.targets.cooling.dependsOn).toEqual([{ projects: ['demo-eta-0.1'], target: 'train' }]);
    expect(project.targets.cooling.outputs).toEqual(['{workspaceRoot}/artifacts/demo/cooling']);
    expect(project.targets.cooling.inputs).toContainEqual({ runtime: `echo lrscape-cooling-slice ${sliceHash(taskSlice(selected, 'cooling'))}` });
    const aggregate = experimentProject(selected).targets.aggregate;
    expect(aggregate.dependsOn).toContainEqual({ projects: ['tag:lrscape:cooling:demo'], target: 'cooling' });
    // The same aggregate target (and run projects) with or without a selection: selecting runs reruns no other task.
    expect(experimentProject(parse(base)).targets.aggregate).toEqual(aggregate);
    expect(runProject(parse(base), parse(base).runs[0])).toEqual(runProject(selected, selected.runs[0]));
  });
});

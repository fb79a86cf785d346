import { describe, expect, it } from 'vitest';
import { ExperimentConfigError, parseExperiment, stageSlices, sliceHash } from './experiment-config';

const FILE = 'pipelines/demo/experiment.json';
const valid = {
  title: 'Demo',
  dataset: { kind: 'wreg', n: 32, noise: 0.1, seed: 1 },
  model: { hidden: [4], activation: 'tanh', loss: 'mse' },
  training: { steps: 10, checkpointEvery: 5 },
  grid: { etas: [0.01, 0.1], seeds: [0, 2] },
  runs: [{ schedule: { kind: 'drop', etaHigh: 0.2, etaLow: 0.02, switchStep: 400 }, steps: 800, seeds: [0] }],
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

describe('parseExperiment', () => {
  it('expands the grid and the scheduled runs into slugs', () => {
    const experiment = parse(valid);
    expect(experiment.name).toBe('demo');
    expect(experiment.runs.map((r) => r.slug)).toEqual(['eta-0.01', 'eta-0.01-s2', 'eta-0.1', 'eta-0.1-s2', 'drop-0.2-0.02-t400']);
    expect(experiment.runs[4]).toMatchObject({ steps: 800, eta: 0.2, seed: 0 });
    expect(experiment.config.hessian.topK).toBe(10); // defaults filled in
  });

  it.each([
    ['η ≤ 0', { ...valid, grid: { etas: [0.1, 0] } }, 'grid.etas.1'],
    ['a missing field', { ...valid, model: { hidden: [4], loss: 'mse' } }, 'model.activation'],
    ['an unknown activation', { ...valid, model: { ...valid.model, activation: 'swish' } }, 'model.activation'],
    ['an unknown field', { ...valid, training: { ...valid.training, stpes: 3 } }, 'training'],
    ['a k beyond the depth', { ...valid, hessian: { kLayers: [3] } }, 'hessian.kLayers'],
    ['a duplicated run', { ...valid, grid: { etas: [0.1, 0.1] } }, 'runs'],
  ])('rejects %s, naming the file and the field', (_what, value, field) => {
    const error = errorOf(value);
    expect(error).toBeInstanceOf(ExperimentConfigError);
    expect(error.field).toBe(field);
    expect(error.message).toContain(FILE);
    expect(error.message).toContain(`\`${field}\``);
  });

  it('rejects malformed JSON naming the file', () => {
    expect(() => parseExperiment(FILE, '{"title": ')).toThrow(/pipelines\/demo\/experiment\.json: .*not valid JSON/);
  });
});

describe('stageSlices', () => {
  it('keeps a Hessian setting out of the training slice and one η out of another η', () => {
    const a = parse(valid);
    const b = parse({ ...valid, hessian: { topK: 4 } });
    const c = parse({ ...valid, grid: { ...valid.grid, etas: [0.01, 0.1, 0.3] } });
    const run = a.runs[0];
    expect(sliceHash(stageSlices(a, run).train)).toBe(sliceHash(stageSlices(b, b.runs[0]).train));
    expect(sliceHash(stageSlices(a, run).hessian)).not.toBe(sliceHash(stageSlices(b, b.runs[0]).hessian));
    expect(sliceHash(stageSlices(a, run).train)).toBe(sliceHash(stageSlices(c, c.runs[0]).train));
    expect(sliceHash(stageSlices(a).prepare)).toBe(sliceHash(stageSlices(c).prepare));
    expect(sliceHash(stageSlices(a).aggregate)).not.toBe(sliceHash(stageSlices(c).aggregate));
  });
});

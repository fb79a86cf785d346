import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset, CIFAR10_CHANNELS, CIFAR10_CLASSES, CIFAR10_PIXELS, CIFAR10_SIDE, FMNIST_CLASSES, FMNIST_PIXELS, FMNIST_SIDE, splitIndices, type DatasetSpec } from '@lrscape/data';
import { modelLayout } from '@lrscape/engine';
import {
  datasetShape,
  dropTasks,
  ExperimentConfigError,
  findDropTask,
  modelSpecFor,
  parseExperiment,
  sliceHash,
  stageProvenance,
  stageSlices,
  taskSlice,
} from './experiment-config';

const FILE = 'pipelines/demo/experiment.json';
const valid = {
  title: 'Demo',
  dataset: { kind: 'wreg', n: 32, noise: 0.1, seed: 1 },
  model: { hidden: [16], activation: 'tanh', loss: 'mse' },
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

const root = join(import.meta.dirname, '../../..');
const shipped = (name: string) => JSON.parse(readFileSync(join(root, 'pipelines', name, 'experiment.json'), 'utf8')) as Record<string, any>;
const wreg = shipped('wreg');

describe('parseExperiment', () => {
  it('expands the grid and the scheduled runs into slugs, η the schedule’s peak', () => {
    const experiment = parse({ ...valid, runs: [...valid.runs, { schedule: { kind: 'cyclic', etaLow: 0.01, etaHigh: 0.3, period: 4 } }] });
    expect(experiment.name).toBe('demo');
    expect(experiment.runs.map((r) => r.slug)).toEqual(['eta-0.01', 'eta-0.01-s2', 'eta-0.1', 'eta-0.1-s2', 'drop-0.2-0.02-t400', 'cyclic-0.01-0.3-p4', 'cyclic-0.01-0.3-p4-s2']);
    expect(experiment.runs[4]).toMatchObject({ steps: 800, eta: 0.2, seed: 0 });
    expect(experiment.runs[5]).toMatchObject({ steps: 10, eta: 0.3 });
    expect(experiment.runs[2].eta).toBe(0.1);
    expect(experiment.config.hessian.topK).toBe(10); // defaults filled in
    expect(experiment.config.tier).toBe('default');
  });

  it('accepts every shipped experiment', () => {
    const names = readdirSync(join(root, 'pipelines')).filter((n) => readdirSync(join(root, 'pipelines', n)).includes('experiment.json'));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) expect(parseExperiment(`pipelines/${name}/experiment.json`, JSON.stringify(shipped(name))).name).toBe(name);
  });

  it.each([
    ['η ≤ 0', { ...valid, grid: { etas: [0.1, 0] } }, 'grid.etas.1'],
    ['a missing field', { ...valid, model: { hidden: [4], loss: 'mse' } }, 'model.activation'],
    ['an unknown activation', { ...valid, model: { ...valid.model, activation: 'swish' } }, 'model.activation'],
    ['an unknown field', { ...valid, training: { ...valid.training, stpes: 3 } }, 'training'],
    ['a k beyond the depth', { ...valid, hessian: { kLayers: [3] } }, 'hessian.kLayers.0'],
    ['a k listed twice', { ...valid, hessian: { kLayers: [1, 1] } }, 'hessian.kLayers.1'],
    ['a duplicated run', { ...valid, grid: { etas: [0.1, 0.1] } }, 'runs'],
    ['an unknown tier', { ...valid, tier: 'heavy' }, 'tier'],
    ['a density grid of one point', { ...valid, hessian: { density: { gridSize: 1 } } }, 'hessian.density.gridSize'],
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

describe('settings the model or the data cannot honour', () => {
  // W-reg's 1-32-32-1 net: 1,153 parameters in all, 33 in its last layer, 1,089 in its last two.
  const refusal = (value: unknown, field: string, ...phrases: string[]) => {
    const error = errorOf(value);
    expect(error).toBeInstanceOf(ExperimentConfigError);
    expect(error.field).toBe(field);
    expect(error.message).toContain(`pipelines/demo/experiment.json: field \`${field}\`: `);
    for (const phrase of phrases) expect(error.message).toContain(phrase);
  };

  it('counts W-reg’s parameters as the engine lays them out', () => {
    const config = parse(wreg).config;
    const layout = modelLayout(modelSpecFor(config.model, { inputDim: 1, outputDim: 1 }));
    expect(layout.size).toBe(1153);
  });

  it('hessian.topK above the parameters of the smallest k-layer block', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, topK: 5000, maxIterations: 5000 } }, 'hessian.topK', '5000 exceeds the 33 parameters of the last 1 layer (dense2)');
    expect(parse({ ...wreg, hessian: { ...wreg.hessian, topK: 33, maxIterations: 60 } }).config.hessian.topK).toBe(33);
  });

  it('hessian.topK above the parameters of the full network', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, kLayers: [], topK: 1154, maxIterations: 2000 } }, 'hessian.topK', '1154 exceeds the 1153 parameters of the full network');
  });

  it('hessian.topK left at its default on a net too small for it, saying it is the default', () => {
    refusal({ ...valid, model: { ...valid.model, hidden: [4] } }, 'hessian.topK', '10 (the default) exceeds the 5 parameters of the last 1 layer (dense1)');
  });

  it('hessian.maxIterations below hessian.topK', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, topK: 30, maxIterations: 29 } }, 'hessian.maxIterations', '29 is below hessian.topK = 30');
  });

  it('hessian.bottomK above the parameters of a scope, or above maxIterations', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, bottomK: 40 } }, 'hessian.bottomK', '40 exceeds the 33 parameters of the last 1 layer');
    refusal({ ...wreg, hessian: { ...wreg.hessian, bottomK: 30, maxIterations: 20 } }, 'hessian.bottomK', '30 exceeds hessian.maxIterations = 20');
  });

  it('hessian.exactSpectrumRuns naming a run the experiment does not have', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, exactSpectrumRuns: ['eta-0.01', 'eta-9'] } }, 'hessian.exactSpectrumRuns.1', 'no run `eta-9`');
  });

  it('analysis.shift.m above the stored eigenvectors', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, storeVectors: 4 }, analysis: { ...(wreg.analysis ?? {}), shift: { m: 5 } } }, 'analysis.shift.m', '5 exceeds hessian.storeVectors = 4');
    // Stored vectors left out follow m (within topK).
    expect(parse({ ...wreg, analysis: { ...(wreg.analysis ?? {}), shift: { m: 5 } } }).config.hessian.storeVectors).toBe(5);
  });

  it('light checkpoints and matched time: topK below m, a cadence longer than the run, a τ listed twice or not positive', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, light: { topK: 1 } } }, 'hessian.light.topK', '1 is below analysis.shift.m = 2');
    refusal({ ...wreg, hessian: { ...wreg.hessian, light: { topK: 2000 } } }, 'hessian.light.topK', '2000 exceeds the 1153 parameters of the full network');
    refusal({ ...wreg, training: { ...wreg.training, lightCheckpointEvery: 2001 } }, 'training.lightCheckpointEvery', '2001 exceeds training.steps = 2000');
    refusal({ ...wreg, matchedTime: { baselineEta: 0.01, taus: [1, 2, 1] } }, 'matchedTime.taus.2', 'τ = 1 is listed twice');
    refusal({ ...wreg, matchedTime: { baselineEta: 0.01, taus: [0, 2] } }, 'matchedTime.taus.0');
    // Left out, the light topK is m + 1 (the gap λ_m/λ_{m+1} needs one more), at least 4.
    expect(parse(wreg).config.hessian.light.topK).toBe(4);
    expect(parse({ ...wreg, analysis: { shift: { m: 5 } }, hessian: { ...wreg.hessian, storeVectors: 5 } }).config.hessian.light.topK).toBe(6);
  });

  it('matchedTime extends each seed’s baseline run to the τ horizon (adding it where missing) and puts a light checkpoint at every grid τ', () => {
    const { runs } = parse(wreg);
    const horizon = Math.max(...wreg.matchedTime.taus);
    const baselines = runs.filter((r) => r.eta === wreg.matchedTime.baselineEta);
    expect(baselines.map((r) => [r.slug, r.steps])).toEqual([['eta-0.01', horizon / 0.01], ['eta-0.01-s1', horizon / 0.01], ['eta-0.01-s2', horizon / 0.01]]);
    expect(runs.filter((r) => r.eta !== wreg.matchedTime.baselineEta).every((r) => r.steps === wreg.training.steps)).toBe(true);
    const large = runs.find((r) => r.slug === 'eta-0.1')!;
    // Light cadence every 50 steps up to training.steps, and τ = 2, 5, 10, … at steps 20, 50, 100, …
    for (const tau of wreg.matchedTime.taus) expect(large.lightSteps).toContain(Math.round(tau / 0.1));
    expect(large.lightSteps.filter((t: number) => t % 50 === 0)).toHaveLength(40);
    // The extended baseline gets no light cadence beyond training.steps: only its τ-grid steps there.
    expect(baselines[0].lightSteps.filter((t) => t > wreg.training.steps)).toEqual(wreg.matchedTime.taus.map((tau: number) => Math.round(tau / 0.01)).filter((t: number) => t > wreg.training.steps));
  });

  it('hessian.storeVectors above hessian.topK', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, storeVectors: 9 } }, 'hessian.storeVectors', '9 exceeds hessian.topK = 8');
  });

  it('hessian.density.steps above the full network’s parameters', () => {
    refusal({ ...wreg, hessian: { ...wreg.hessian, density: { steps: 1154 } } }, 'hessian.density.steps', '1154 exceeds the 1153 parameters of the full network');
    // A block smaller than the steps gets an exact quadrature: not refused.
    expect(parse({ ...wreg, hessian: { ...wreg.hessian, density: { steps: 1153 } } }).config.hessian.density.steps).toBe(1153);
  });

  it('hessian.subset above the W-reg training set (n minus round(testFraction·n))', () => {
    // 200 examples, round(0.2·200) = 40 held out: 160 train.
    refusal({ ...wreg, hessian: { ...wreg.hessian, subset: 161 } }, 'hessian.subset', '161 exceeds the 160 training examples', 'round(0.2·200) = 40');
    expect(parse({ ...wreg, hessian: { ...wreg.hessian, subset: 160 } }).config.hessian.subset).toBe(160);
  });

  it('hessian.subset above the Fashion-MNIST training set (perClass·10 minus the held-out share)', () => {
    const fmnist = shipped('fmnist'); // 100 per class, testFraction 0.2: 800 train
    refusal({ ...fmnist, hessian: { ...fmnist.hessian, subset: 801 } }, 'hessian.subset', '801 exceeds the 800 training examples');
  });

  it('hessian.subset above CIFAR-10’s dataset.subset (an upper bound; without one the hessian stage checks)', () => {
    const cifar10 = shipped('cifar10');
    refusal({ ...cifar10, dataset: { ...cifar10.dataset, subset: 60 } }, 'hessian.subset', '2500 exceeds the training set, which holds at most dataset.subset = 60 examples');
    const { subset: _subset, ...noSubset } = cifar10.dataset;
    expect(parse({ ...cifar10, dataset: noSubset }).config.hessian.subset).toBe(2500);
  });

  it('training.checkpointEvery above training.steps', () => {
    refusal({ ...valid, training: { steps: 10, checkpointEvery: 11 } }, 'training.checkpointEvery', '11 exceeds training.steps = 10');
  });

  it('a run shorter than training.checkpointEvery', () => {
    refusal({ ...valid, runs: [{ ...valid.runs[0], schedule: { ...valid.runs[0].schedule, switchStep: 2 }, steps: 4 }] }, 'runs.0.steps', '4 is shorter than training.checkpointEvery = 5');
  });

  it('a drop that never happens within its run', () => {
    refusal({ ...valid, runs: [{ ...valid.runs[0], steps: 400 }] }, 'runs.0.schedule.switchStep', "400 is not before the run's last step (runs.0.steps = 400)");
  });

  it('a threshold listed twice in the instability sweep; a Lanczos check without the power estimate', () => {
    refusal({ ...valid, analysis: { instabilities: { sweep: { relative: [0.1, 0.2, 0.1], absolute: [] } } } }, 'analysis.instabilities.sweep.relative.2', 'threshold 0.1 is listed twice');
    refusal({ ...valid, training: { ...valid.training, sharpnessCheckEvery: 5 } }, 'training.sharpnessCheckEvery', 'training.sharpnessMethod is lanczos');
    refusal({ ...valid, training: { ...valid.training, eventDetector: { kind: 'prominence', threshold: 0.1 } } }, 'training.eventDetector.kind', '');
    // An empty list is accepted: the robustness claim is then not-run and names the field.
    expect(parse({ ...valid, analysis: { instabilities: { sweep: { relative: [], absolute: [0.1] } } } }).config.analysis.instabilities.sweep.relative).toEqual([]);
  });

  it('cross-entropy on a regression dataset', () => {
    refusal({ ...valid, model: { ...valid.model, loss: 'cross_entropy' } }, 'model.loss', 'wreg is a regression dataset');
  });

  it('a CNN input shape that does not hold the dataset’s inputs', () => {
    const fmnist = shipped('fmnist');
    const cnn = { kind: 'cnn', inputShape: [28, 27, 1], conv: [{ filters: 2, kernelSize: 3 }], dense: [], activation: 'tanh', loss: 'mse' };
    refusal({ ...fmnist, model: cnn }, 'model.inputShape', '[28, 27, 1] holds 756 values, the fmnist inputs have 784');
  });

  describe('a CNN (the shipped fmnist-cnn and variants of it)', () => {
    const cnnExperiment = shipped('fmnist-cnn');
    const withModel = (model: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({ ...cnnExperiment, ...rest, model: { ...cnnExperiment.model, ...model } });
    const cifar10 = shipped('cifar10');
    const cifarCnn = { kind: 'cnn', inputShape: [32, 32, 3], conv: [{ filters: 2, kernelSize: 3 }], dense: [], activation: 'tanh', loss: 'mse' };

    it('counts its layers’ parameters as the engine lays them out', () => {
      const { config } = parse(cnnExperiment);
      const layout = modelLayout(modelSpecFor(config.model, { inputDim: 784, outputDim: 10 }));
      // conv0 3·3·1·4 + 4, conv1 3·3·4·8 + 8, dense0 on the 7·7·8 pooled maps: 392·10 + 10.
      expect(layout.layers.map((l) => [l.name, l.size])).toEqual([['conv0', 40], ['conv1', 296], ['dense0', 3930]]);
    });

    it('an input shape other than the images’, even with as many values', () => {
      refusal(withModel({ inputShape: [14, 56, 1] }), 'model.inputShape', '[14, 56, 1], but the fmnist images are 28×28 with 1 channel: [28, 28, 1]');
    });

    it('a row layout other than the data’s: CIFAR-10’s rows are channel planes; one-channel images take either', () => {
      refusal({ ...cifar10, model: cifarCnn }, 'model.inputLayout', 'hwc (the default), but the cifar10 rows hold one plane per channel (CHW): set it to chw');
      refusal({ ...cifar10, model: { ...cifarCnn, inputLayout: 'hwc' } }, 'model.inputLayout', 'hwc, but the cifar10 rows');
      expect(parse({ ...cifar10, model: { ...cifarCnn, inputLayout: 'chw' } }).config.model).toMatchObject({ inputLayout: 'chw' });
      expect(parse(withModel({ inputLayout: 'chw' })).config.model).toMatchObject({ inputLayout: 'chw' });
    });

    it('a kernel that does not fit its input, or an output too small to pool, naming the layer', () => {
      // conv1 sees the 14×14 pooled maps of conv0.
      refusal(withModel({ conv: [{ filters: 4, kernelSize: 3 }, { filters: 8, kernelSize: 15, padding: 'valid' }] }), 'model.conv.1', "a 15×15 'valid' kernel does not fit its 14×14 input");
      // 28 − 27 + 1 = 2 pools to 1×1; the next layer's 1×1 output cannot be pooled.
      refusal(withModel({ conv: [{ filters: 2, kernelSize: 27, padding: 'valid' }, { filters: 2, kernelSize: 1 }] }), 'model.conv.1', 'its 1×1 output is too small for 2×2 pooling');
    });

    it('a 2×2 pool over an odd height or width (it would drop the last row and column), not with pool none', () => {
      const three = [{ filters: 4, kernelSize: 3 }, { filters: 4, kernelSize: 3 }, { filters: 4, kernelSize: 3 }];
      // 28 → 14 → 7: the third layer's 7×7 maps do not halve.
      refusal(withModel({ conv: three }), 'model.pool', 'avg: conv layer 2 (model.conv.2) puts out 7×7 maps, and a 2×2 pool with stride 2 would drop their last row and column');
      // A 'valid' 3×3 kernel makes 26×26, pooled to 13×13; the next 'same' layer keeps 13×13.
      refusal(withModel({ conv: [{ filters: 4, kernelSize: 3, padding: 'valid' }, { filters: 4, kernelSize: 3 }], pool: 'max' }), 'model.pool', 'max: conv layer 1 (model.conv.1) puts out 13×13 maps');
      expect(parse(withModel({ conv: three, pool: 'none' }, { hessian: { ...cnnExperiment.hessian, kLayers: [1] } })).config.model).toMatchObject({ pool: 'none' });
    });

    it('hessian.topK above the parameters of its last-layer block, and a k beyond its layers', () => {
      const hessian = (settings: Record<string, unknown>) => ({ ...cnnExperiment, hessian: { ...cnnExperiment.hessian, ...settings } });
      refusal(hessian({ topK: 3931, maxIterations: 4000 }), 'hessian.topK', '3931 exceeds the 3930 parameters of the last 1 layer (dense0)');
      refusal(hessian({ topK: 4267, maxIterations: 5000, kLayers: [3] }), 'hessian.topK', '4267 exceeds the 4266 parameters of the full network');
      refusal(hessian({ kLayers: [1, 4] }), 'hessian.kLayers.1', "k = 4 exceeds the model's 3 layers");
    });
  });

  it('leaves the scopes of an IDX net’s first layer (input width unknown) to the stage, and checks the rest', () => {
    const idx = { ...valid, dataset: { kind: 'idx', dir: 'data/mnist', classes: 10 }, model: { hidden: [3], activation: 'tanh', loss: 'mse' } };
    // The last layer holds 3·10 + 10 = 40 parameters; the full net's count depends on the image size.
    expect(parse({ ...idx, hessian: { topK: 40, kLayers: [1, 2] } }).config.hessian.topK).toBe(40);
    refusal({ ...idx, hessian: { topK: 41 } }, 'hessian.topK', '41 exceeds the 40 parameters of the last 1 layer');
  });
});

describe('defaults that depend on the model', () => {
  it('store min(4, topK) vectors and take min(40, P) density steps, and leave the shipped configs as they were', () => {
    const tiny = parse({ ...valid, model: { ...valid.model, hidden: [4] }, hessian: { topK: 3 } }).config.hessian; // P = 13
    expect([tiny.storeVectors, tiny.density.steps]).toEqual([3, 13]);
    const shippedWreg = parse(wreg).config.hessian;
    expect([shippedWreg.storeVectors, shippedWreg.density.steps]).toEqual([4, 40]);
  });
});

describe('datasetShape', () => {
  const config = (dataset: unknown) => parse({ ...valid, dataset }).config.dataset;

  it.each([
    [{ kind: 'wreg', n: 37, noise: 0.1, seed: 1, testFraction: 0.3 }],
    [{ kind: 'wreg', n: 200, noise: 0.1, seed: 1, testFraction: 0.2 }],
    [{ kind: 'src', n: 45, noise: 0.05, seed: 2, testFraction: 0.25 }],
    [{ kind: 'src', n: 11, noise: 0.05, seed: 2, testFraction: 0.5 }],
  ])('matches the train set libs/data builds for %j', async (dataset) => {
    const parsed = config(dataset);
    const { train } = await buildDataset(parsed as DatasetSpec);
    const shape = datasetShape(parsed);
    expect({ n: shape.train!.size, inputDim: shape.inputDim, outputDim: shape.outputDim, task: shape.task }).toEqual({
      n: train.n,
      inputDim: train.inputDim,
      outputDim: train.outputDim,
      task: train.task,
    });
  });

  it.each([
    [100, 0.2],
    [7, 0.15],
    [3, 0.5],
  ])('matches libs/data’s stratified Fashion-MNIST split for %i per class, testFraction %s', (perClass, testFraction) => {
    const shape = datasetShape(config({ kind: 'fmnist', perClass, seed: 3, testFraction }));
    const labels = Int32Array.from({ length: perClass * 10 }, (_, i) => i % 10);
    const { trainIndices } = splitIndices(labels.length, { labels, classes: 10 }, { testFraction, seed: 1 });
    expect(shape.train!.size).toBe(trainIndices.length);
    expect([shape.inputDim, shape.outputDim]).toEqual([FMNIST_PIXELS, FMNIST_CLASSES]);
  });

  it('knows the images’ shapes and row layouts as libs/data writes them', () => {
    expect(datasetShape(config({ kind: 'fmnist', perClass: 3, seed: 3 })).image).toEqual({ shape: [FMNIST_SIDE, FMNIST_SIDE, 1], layout: 'hwc' });
    expect(datasetShape(config({ kind: 'cifar10', subset: 50 })).image).toEqual({ shape: [CIFAR10_SIDE, CIFAR10_SIDE, CIFAR10_CHANNELS], layout: 'chw' });
    expect(datasetShape(config({ kind: 'wreg', n: 10, noise: 0.1, seed: 1 })).image).toBeUndefined();
  });

  it('knows CIFAR-10’s widths and bounds its training set only by a subset', () => {
    const shape = datasetShape(config({ kind: 'cifar10', subset: 5000 }));
    expect([shape.inputDim, shape.outputDim, shape.train]).toEqual([CIFAR10_PIXELS, CIFAR10_CLASSES, { size: 5000, exact: false, how: 'dataset.subset = 5000' }]);
    expect(datasetShape(config({ kind: 'cifar10' })).train).toBeUndefined();
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

  it('keeps the analysis detectors out of the training slice and the training detector out of the aggregate slice', () => {
    const a = parse(valid);
    const detectors = parse({ ...valid, analysis: { instabilities: { primary: { kind: 'absolute', threshold: 0.05 }, sweep: { relative: [0.1], absolute: [0.05] } }, longHorizon: { lateFraction: 0.25 } } });
    const events = parse({ ...valid, training: { ...valid.training, eventDetector: { kind: 'absolute', threshold: 0.05 } } });
    expect(sliceHash(taskSlice(detectors, 'train', detectors.runs[0]))).toBe(sliceHash(taskSlice(a, 'train', a.runs[0])));
    expect(sliceHash(taskSlice(detectors, 'aggregate'))).not.toBe(sliceHash(taskSlice(a, 'aggregate')));
    expect(sliceHash(taskSlice(events, 'aggregate'))).toBe(sliceHash(taskSlice(a, 'aggregate')));
    expect(sliceHash(taskSlice(events, 'train', events.runs[0]))).not.toBe(sliceHash(taskSlice(a, 'train', a.runs[0])));
    expect(a.config.analysis.instabilities).toEqual({ primary: { kind: 'relative', threshold: 0.1 }, sweep: { relative: [0.05, 0.1, 0.2, 0.5], absolute: [0.02, 0.05, 0.1, 0.2] }, peakFollowsSharpness: false });
    expect([a.config.analysis.longHorizon, a.config.training.eventDetector, a.config.training.sharpnessCheckEvery]).toEqual([null, { kind: 'relative', threshold: 0.1 }, 0]);
  });

  it('with matchedTime, one more η trains only that η; the τ grid retrains; the window settings rerun hessian and aggregate only', () => {
    const a = parse(wreg);
    const more = parse({ ...wreg, grid: { ...wreg.grid, etas: [...wreg.grid.etas, 0.15] } });
    for (const run of a.runs) expect(sliceHash(taskSlice(more, 'train', more.runs.find((r) => r.slug === run.slug)))).toBe(sliceHash(taskSlice(a, 'train', run)));
    const taus = parse({ ...wreg, matchedTime: { ...wreg.matchedTime, taus: [...wreg.matchedTime.taus, 3.33] } });
    expect(sliceHash(taskSlice(taus, 'train', taus.runs[0]))).not.toBe(sliceHash(taskSlice(a, 'train', a.runs[0])));
    expect(sliceHash(taskSlice(taus, 'aggregate'))).not.toBe(sliceHash(taskSlice(a, 'aggregate')));
    const windows = parse({ ...wreg, hessian: { ...wreg.hessian, light: { minQuietStep: 200 } } });
    expect(sliceHash(taskSlice(windows, 'train', windows.runs[0]))).toBe(sliceHash(taskSlice(a, 'train', a.runs[0])));
    expect(sliceHash(taskSlice(windows, 'hessian', windows.runs[0]))).not.toBe(sliceHash(taskSlice(a, 'hessian', a.runs[0])));
    expect(sliceHash(taskSlice(windows, 'aggregate'))).not.toBe(sliceHash(taskSlice(a, 'aggregate')));
    // m within the stored and light vectors: aggregate only.
    const m = parse({ ...wreg, analysis: { shift: { m: 3 } } });
    expect(sliceHash(taskSlice(m, 'hessian', m.runs[0]))).toBe(sliceHash(taskSlice(a, 'hessian', a.runs[0])));
  });

  it('leaves the tier out of every slice (it decides what enters the graph, not what a task computes)', () => {
    const a = parse(valid);
    const b = parse({ ...valid, tier: 'extended' });
    const stages = ['prepare', 'aggregate', 'verify', 'report'] as const;
    expect(stages.map((s) => sliceHash(taskSlice(b, s)))).toEqual(stages.map((s) => sliceHash(taskSlice(a, s))));
    expect(sliceHash(taskSlice(b, 'train', b.runs[0]))).toBe(sliceHash(taskSlice(a, 'train', a.runs[0])));
  });
});

describe('stageProvenance', () => {
  const experiment = parse(valid);
  const slugs = experiment.runs.map((r) => r.slug);

  it('lists a task’s own slice and every upstream one, with the hashes of the slices', () => {
    const run = experiment.runs[1];
    expect(stageProvenance(experiment, 'prepare')).toEqual({ 'slice.prepare': sliceHash(stageSlices(experiment).prepare) });
    expect(stageProvenance(experiment, 'hessian', run)).toEqual({
      'slice.prepare': sliceHash(stageSlices(experiment).prepare),
      'slice.train.eta-0.01-s2': sliceHash(stageSlices(experiment, run).train),
      'slice.hessian.eta-0.01-s2': sliceHash(stageSlices(experiment, run).hessian),
    });
  });

  it('lists every run’s train and hessian slices from aggregate on, and verify and report after it', () => {
    const aggregate = stageProvenance(experiment, 'aggregate');
    expect(Object.keys(aggregate).sort()).toEqual(['slice.aggregate', 'slice.prepare', ...slugs.flatMap((s) => [`slice.train.${s}`, `slice.hessian.${s}`])].sort());
    expect(stageProvenance(experiment, 'verify')).toEqual({ ...aggregate, 'slice.verify': aggregate['slice.aggregate'] });
    const report = stageProvenance(experiment, 'report');
    expect(Object.keys(report)).toHaveLength(Object.keys(aggregate).length + 2);
    expect(report['slice.report']).toBe(sliceHash(stageSlices(experiment).report));
  });

  it('changes only the hessian slices after a Hessian-setting change', () => {
    const before = stageProvenance(experiment, 'report');
    const after = stageProvenance(parse({ ...valid, hessian: { topK: 6 } }), 'report');
    const changed = Object.keys(before).filter((key) => before[key] !== after[key]);
    expect(changed.sort()).toEqual(slugs.map((s) => `slice.hessian.${s}`).sort());
    expect(Object.keys(after)).toEqual(Object.keys(before));
  });

  it('needs the run for a run’s task', () => {
    expect(() => stageProvenance(experiment, 'train')).toThrow(/the train slice belongs to a run/);
  });
});

describe('dropFamilies', () => {
  // The grid has η 0.01 and 0.1 for seeds 0 and 2; a drop family continues from 0.1 with the control 0.01.
  const family = { name: 'main', parentEta: 0.1, controlEta: 0.01, etaLow: 0.005, matchedLoss: 0.05, maxSteps: 500, minSwitchStep: 2 };
  const withFamily = (overrides: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ ...valid, dropFamilies: [{ ...family, ...overrides }], ...extra });

  it('fills in the defaults and the grid’s seeds, one task per seed with its parent and control runs', () => {
    const experiment = parse(withFamily());
    const { minSwitchStep: _, ...leftOut } = family;
    const defaults = parse({ ...valid, training: { ...valid.training, steps: 200 }, dropFamilies: [leftOut] }).config.dropFamilies[0];
    expect(defaults).toMatchObject({ seeds: [0, 2], instabilities: 2, minSwitchStep: 100, sharpnessEvery: 100, pinnedRatio: 0.8, controlMargin: 0.05 });
    expect(dropTasks(experiment).map((t) => [t.family.name, t.index, t.seed, t.parent.slug, t.control.slug])).toEqual([
      ['main', 0, 0, 'eta-0.1', 'eta-0.01'],
      ['main', 0, 2, 'eta-0.1-s2', 'eta-0.01-s2'],
    ]);
    expect(findDropTask(experiment, 'main', 2).parent.slug).toBe('eta-0.1-s2');
    expect(() => findDropTask(experiment, 'main', 1)).toThrow(/no drop family `main` with seed 1 \(main s0, main s2\)/);
    expect(dropTasks(parse(valid))).toEqual([]);
  });

  it('takes a seed’s runs from `runs` too (a constant schedule with its seeds)', () => {
    const extra = { runs: [...valid.runs, { schedule: { kind: 'constant', eta: 0.1 }, seeds: [5] }, { schedule: { kind: 'constant', eta: 0.01 }, seeds: [5] }] };
    expect(dropTasks(parse(withFamily({ seeds: [0, 5] }, extra))).map((t) => t.parent.slug)).toEqual(['eta-0.1', 'eta-0.1-s5']);
  });

  it.each([
    [{ seeds: [0, 1] }, 'dropFamilies.0.parentEta', /no constant-η run at η = 0\.1 with seed 1 \(add η to grid\.etas, or to runs as/],
    [{ controlEta: 0.02 }, 'dropFamilies.0.controlEta', /no constant-η run at η = 0\.02 with seed 0/],
    [{ parentEta: 0.01, controlEta: 0.1 }, 'dropFamilies.0.controlEta', /0\.1 is not below parentEta = 0\.01/],
    [{ etaLow: 0.01 }, 'dropFamilies.0.etaLow', /0\.01 is not below controlEta = 0\.01: a continuation drops η/],
    [{ convergence: { loss: 0.1 } }, 'dropFamilies.0.convergence.loss', /0\.1 is above matchedLoss = 0\.05/],
    [{ minSwitchStep: 10 }, 'dropFamilies.0.minSwitchStep', /10 is not before training\.steps = 10/],
    [{ name: 'Main family' }, 'dropFamilies.0.name', /lower-case letters, digits and hyphens/],
    [{ pinnedRatio: 1.5 }, 'dropFamilies.0.pinnedRatio', /1/],
    [{ matchedLoss: 0 }, 'dropFamilies.0.matchedLoss', /0/],
    [{ etaHigh: 0.2 }, 'dropFamilies.0', /unknown field\(s\) `etaHigh`/],
  ])('refuses %j, naming the field', (overrides, field, detail) => {
    const error = errorOf(withFamily(overrides));
    expect(error).toBeInstanceOf(ExperimentConfigError);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(detail);
    expect(error.message.startsWith(`${FILE}: field \`${field}\``)).toBe(true);
  });

  it('refuses two families of one name', () => {
    const error = errorOf({ ...valid, dropFamilies: [family, { ...family, etaLow: 0.002 }] });
    expect(error.field).toBe('dropFamilies.1.name');
    expect(error.message).toMatch(/`main` names two drop families/);
  });

  it('keys each seed’s continue task on its family’s continuation settings and runs, not the analysis ones, the note or the other seeds', () => {
    const slice = (value: unknown, seed = 0) => {
      const experiment = parse(value);
      return sliceHash(taskSlice(experiment, 'continue', findDropTask(experiment, 'main', seed)));
    };
    const base = slice(withFamily());
    expect(slice(withFamily({ pinnedRatio: 0.7, controlMargin: 0.1, note: 'why' }))).toBe(base);
    expect(slice(withFamily({ seeds: [0] }))).toBe(base);
    expect(slice(withFamily({ matchedLoss: 0.04 }))).not.toBe(base);
    expect(slice(withFamily({}, { training: { ...valid.training, testEvery: 5 } }))).not.toBe(base);
    expect(slice(withFamily({}, { analysis: { alphaFraction: 0.3 } }))).toBe(base);
    expect(slice(withFamily(), 2)).not.toBe(base);
    // The analysis settings key aggregate (and verify) instead.
    const aggregate = (value: unknown) => sliceHash(taskSlice(parse(value), 'aggregate'));
    expect(aggregate(withFamily({ pinnedRatio: 0.7 }))).not.toBe(aggregate(withFamily()));
    expect(() => taskSlice(parse(withFamily()), 'continue')).toThrow(/the continue slice belongs to a drop family’s seed|the continue slice belongs to a drop family's seed/);
  });

  it('puts each seed’s continue slice, over its runs’ train slices, into aggregate’s provenance', () => {
    const experiment = parse(withFamily());
    const task = findDropTask(experiment, 'main', 2);
    expect(Object.keys(stageProvenance(experiment, 'continue', task))).toEqual(['slice.prepare', 'slice.train.eta-0.1-s2', 'slice.train.eta-0.01-s2', 'slice.continue.main.s2']);
    const aggregate = stageProvenance(experiment, 'aggregate');
    expect(aggregate['slice.continue.main.s0']).toBe(sliceHash(taskSlice(experiment, 'continue', findDropTask(experiment, 'main', 0))));
    expect(aggregate['slice.continue.main.s2']).toBe(stageProvenance(experiment, 'continue', task)['slice.continue.main.s2']);
  });
});

describe('analysis.cyclic (open question 3)', () => {
  // Periods spanning τ = 0.75: 0.05 → 0.1 (mean 0.075) in 10 steps, 0.025 → 0.1 (mean 0.0625) in 12; two cycles
  // each. The constant 0.1 (ratio 1) reaches τ = 1.5 at step 15.
  const r2 = { schedule: { kind: 'cyclic', etaLow: 0.05, etaHigh: 0.1, period: 10 }, steps: 20 };
  const r4 = { schedule: { kind: 'cyclic', etaLow: 0.025, etaHigh: 0.1, period: 12 }, steps: 24 };
  const study = { etaHigh: 0.1, ratios: [1, 2, 4], cycleTau: 0.75, cycles: 2, matchedLoss: 0.05 };
  const withStudy = (overrides: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
    ...valid, training: { ...valid.training, steps: 20 }, runs: [r2, r4], matchedTime: { baselineEta: 0.01, taus: [0.75, 1.5] }, analysis: { cyclic: { ...study, ...overrides } }, ...extra,
  });
  const refusal = (value: unknown, field: string, detail: RegExp) => {
    const error = errorOf(value);
    expect(error).toBeInstanceOf(ExperimentConfigError);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${FILE}: field \`${field}\`: `)).toBe(true);
    expect(error.message).toMatch(detail);
  };

  it('accepts a study whose periods span cycleTau, with fromCycle left out as 2; it keys aggregate, not training', () => {
    const experiment = parse(withStudy());
    expect(experiment.config.analysis.cyclic).toEqual({ ...study, fromCycle: 2 });
    expect(parse(valid).config.analysis.cyclic).toBeNull();
    const other = parse(withStudy({ matchedLoss: 0.04 }));
    expect(sliceHash(stageSlices(other).aggregate)).not.toBe(sliceHash(stageSlices(experiment).aggregate));
    for (const run of experiment.runs) expect(sliceHash(taskSlice(other, 'train', other.runs.find((r) => r.slug === run.slug)))).toBe(sliceHash(taskSlice(experiment, 'train', run)));
  });

  it.each([
    [withStudy({ ratios: [0.5, 2] }), 'analysis.cyclic.ratios.0', /below 1 inverts the cycle/],
    [withStudy({ ratios: [1, 2, 2] }), 'analysis.cyclic.ratios.2', /ratio 2 is listed twice/],
    [withStudy({ ratios: [1, 2, 8] }), 'analysis.cyclic.ratios.2', /no cyclic run with etaHigh = 0\.1 and etaLow = 0\.0125 \(ratio 8\)/],
    [withStudy({}, { grid: { etas: [0.01], seeds: [0, 2] } }), 'analysis.cyclic.ratios.0', /ratio 1 is the constant-η run at etaHigh = 0\.1, and there is none/],
    [withStudy({ fromCycle: 3 }), 'analysis.cyclic.fromCycle', /3 is after the last cycle \(analysis\.cyclic\.cycles = 2\)/],
    [withStudy({}, { runs: [r2, { ...r4, schedule: { ...r4.schedule, period: 14 }, steps: 28 }] }), 'runs.1.schedule.period', /14 steps span τ = 0\.875000 .*not analysis\.cyclic\.cycleTau = 0\.75 \(a period of 12 does\)/],
    [withStudy({}, { runs: [r2, { ...r4, schedule: { ...r4.schedule, period: 1 } }] }), 'runs.1.schedule.period', /a cyclic period shorter than 2 steps/],
    [withStudy({}, { runs: [r2, { ...r4, schedule: { ...r4.schedule, etaLow: 0.2 } }] }), 'runs.1.schedule.etaHigh', /the ratio etaHigh\/etaLow of a cyclic schedule is at least 1/],
    [withStudy({}, { runs: [{ ...r2, steps: 15 }, r4] }), 'runs.0.steps', /15 is shorter than analysis\.cyclic\.cycles × period = 2 × 10/],
    [withStudy({}, { training: { ...valid.training, steps: 14 } }), 'training.steps', /14 steps at η = 0\.1 end before τ = 2·analysis\.cyclic\.cycleTau \(step 15\)/],
    [withStudy({}, { matchedTime: null }), 'analysis.cyclic', /needs a matchedTime section/],
    [withStudy({}, { matchedTime: { baselineEta: 0.01, taus: [0.75, 2] } }), 'matchedTime.taus', /lacks τ = 1\.5, the end of cycle 2/],
  ])('refuses %#, naming the field', (value, field, detail) => refusal(value, field, detail));
});

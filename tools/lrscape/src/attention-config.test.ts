/** `model.kind: 'attention'` and `dataset.kind: 'sequence'` in an experiment file: defaults, the model they make, and the settings refused. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset, type DatasetSpec } from '@lrscape/data';
import { modelLayout } from '@lrscape/engine';
import { datasetShape, ExperimentConfigError, layerCount, modelSpecFor, parseExperiment } from './experiment-config';

const FILE = 'pipelines/demo/experiment.json';
const base = {
  title: 'Demo',
  dataset: { kind: 'sequence', n: 100, length: 8, vocabulary: 6, seed: 1 },
  model: { kind: 'attention', sequenceLength: 8, vocabulary: 6, width: 8, loss: 'cross_entropy' },
  training: { steps: 10, checkpointEvery: 5 },
  grid: { etas: [0.1] },
  hessian: { topK: 4, kLayers: [1, 2] },
};
const parse = (value: unknown) => parseExperiment(FILE, JSON.stringify(value));
const refusal = (value: unknown, field: string, detail: string) => {
  let error: unknown;
  try {
    parse(value);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ExperimentConfigError);
  expect((error as Error).message).toBe(`${FILE}: field \`${field}\`: ${detail}`);
};
const root = join(import.meta.dirname, '../../..');

describe('an attention model on token sequences', () => {
  it('defaults to one single-head block read out at the first position, no hidden layer, tanh', () => {
    const { config } = parse(base);
    expect(config.model).toEqual({ ...base.model, heads: 1, blocks: 1, readout: 'first', dense: [], activation: 'tanh', initSeed: 0 });
    expect(config.dataset).toEqual({ ...base.dataset, task: 'first-repeated', testFraction: 0.2 });
    expect(layerCount(config.model)).toBe(3);
  });

  it('makes the engine spec whose layout names the embedding, each block and the readout', () => {
    const { config } = parse({ ...base, model: { ...base.model, blocks: 2, heads: 2, dense: [4] } });
    const spec = modelSpecFor(config.model, { inputDim: 8, outputDim: 2 });
    expect(spec).toEqual({ kind: 'attention', sequenceLength: 8, vocabulary: 6, width: 8, heads: 2, blocks: 2, readout: 'first', dense: [4], outputDim: 2, activation: 'tanh', loss: 'cross_entropy' });
    const layout = modelLayout(spec);
    expect(layout.layers.map((l) => l.name)).toEqual(['embed', 'attn0', 'attn1', 'dense0', 'dense1']);
    expect(layout.layerCount).toBe(layerCount(config.model));
  });

  it('refuses what the data or the model cannot honour, naming the field', () => {
    refusal({ ...base, model: { ...base.model, sequenceLength: 12 } }, 'model.sequenceLength', "12, but the dataset's sequences have dataset.length = 8 tokens");
    refusal({ ...base, model: { ...base.model, vocabulary: 8 } }, 'model.vocabulary', "8, but the dataset's tokens have dataset.vocabulary = 6 ids");
    refusal({ ...base, model: { ...base.model, heads: 3 } }, 'model.heads', '3 heads do not split model.width = 8 (it must be a multiple of heads)');
    refusal(
      { ...base, dataset: { kind: 'src', n: 40, noise: 0.1, seed: 1 } },
      'model.kind',
      'attention reads token sequences, and src inputs are not tokens (use dataset.kind sequence)',
    );
    refusal({ ...base, hessian: { kLayers: [4] } }, 'hessian.kLayers.0', "k = 4 exceeds the model's 3 layers");
    // The last layer: 8·2 + 2 = 18 parameters.
    refusal({ ...base, hessian: { topK: 19 } }, 'hessian.topK', '19 exceeds the 18 parameters of the last 1 layer (dense0): at most 18 eigenpairs exist');
    refusal({ ...base, dataset: { ...base.dataset, length: 1 } }, 'dataset.length', 'Too small: expected number to be >=2');
    refusal({ ...base, model: { ...base.model, readout: 'last' } }, 'model.readout', 'Invalid option: expected one of "first"|"mean"');
  });

  it('knows the dataset libs/data builds (widths, training-set size)', async () => {
    const { config } = parse({ ...base, dataset: { ...base.dataset, n: 45, testFraction: 0.3 } });
    const shape = datasetShape(config.dataset);
    const { train } = await buildDataset(config.dataset as DatasetSpec);
    expect({ n: shape.train!.size, inputDim: shape.inputDim, outputDim: shape.outputDim, task: shape.task, tokens: shape.tokens }).toEqual({
      n: train.n,
      inputDim: train.inputDim,
      outputDim: train.outputDim,
      task: train.task,
      tokens: { length: 8, vocabulary: 6 },
    });
  });

  it('parses the shipped seq-attention experiment', () => {
    const file = join(root, 'pipelines/seq-attention/experiment.json');
    const experiment = parseExperiment(file, readFileSync(file, 'utf8'));
    expect(experiment.config.model.kind).toBe('attention');
    expect(experiment.config.dataset.kind).toBe('sequence');
    expect(new Set(experiment.runs.map((r) => r.seed)).size).toBeGreaterThanOrEqual(2);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRunSummary, RUN_SUMMARY_FILE, writeRunSummary, type RunSummary } from './run-summary';
import { denseLayout } from './testing/fixtures';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'lrscape-summary-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

const summary: RunSummary = {
  run: 'eta-0.1',
  eta: 0.1,
  schedule: { kind: 'constant', eta: 0.1 },
  seed: 0,
  steps: 50,
  stoppedBy: 'steps',
  diverged: false,
  divergedAt: null,
  finalLoss: 0.0123,
  finalSharpness: 19.5,
  seconds: 1.5,
  backend: 'cpu',
  parameters: 4,
  sharpnessHvps: 120,
  checkpoints: [
    { step: 0, reason: 'cadence', file: 'checkpoints/step-000000.safetensors' },
    { step: 50, reason: 'final', file: 'checkpoints/step-000050.safetensors' },
  ],
  layout: denseLayout(1, 2).slots,
  spec: { inputDim: 1, hidden: [], outputDim: 2, activation: 'linear', loss: 'mse' },
  configSlice: { training: { steps: 50 } },
};
const file = () => join(dir, RUN_SUMMARY_FILE);
const writeRaw = (value: unknown) => writeFile(file(), JSON.stringify(value));

describe('run.json', () => {
  it('round-trips through writeRunSummary and readRunSummary', async () => {
    await writeRunSummary(dir, summary);
    expect(await readRunSummary(dir)).toEqual(summary);
  });

  it('accepts a CNN spec', async () => {
    const spec: RunSummary['spec'] = { kind: 'cnn', inputShape: [8, 8, 1], conv: [{ filters: 4, kernelSize: 3, padding: 'same' }], pool: 'avg', dense: [16], outputDim: 10, activation: 'relu', loss: 'cross_entropy' };
    await writeRunSummary(dir, { ...summary, spec });
    expect((await readRunSummary(dir)).spec).toEqual(spec);
  });

  it('names the file and the missing field of an older file', async () => {
    const { stoppedBy: _, ...older } = summary;
    await writeRaw(older);
    await expect(readRunSummary(dir)).rejects.toThrow(new RegExp(`^${file()}: field \`stoppedBy\`: `));
  });

  it('names the nested field of a malformed file', async () => {
    await writeRaw({ ...summary, checkpoints: [{ step: 'zero', reason: 'cadence', file: 'x' }] });
    await expect(readRunSummary(dir)).rejects.toThrow(`${file()}: field \`checkpoints.0.step\`: Invalid input: expected number, received string`);
    await writeRaw({ ...summary, schedule: { kind: 'constant', eta: -1 } });
    await expect(readRunSummary(dir)).rejects.toThrow(`${file()}: field \`schedule.eta\``);
    await writeRaw({ ...summary, spec: { ...summary.spec, activation: 'swish' } });
    await expect(readRunSummary(dir)).rejects.toThrow(`${file()}: field \`spec.activation\``);
    await writeRaw({ ...summary, extra: 1 });
    await expect(readRunSummary(dir)).rejects.toThrow(`${file()}: unknown field(s) \`extra\``);
  });

  it('names the file when it is missing or not JSON', async () => {
    await expect(readRunSummary(dir)).rejects.toThrow(`${file()}: cannot read`);
    await writeFile(file(), '{"run": ');
    await expect(readRunSummary(dir)).rejects.toThrow(`${file()}: not valid JSON`);
  });

  it('refuses to write a summary its readers would reject', async () => {
    await expect(writeRunSummary(dir, { ...summary, seconds: -1 })).rejects.toThrow(`${file()}: field \`seconds\``);
    await expect(readFile(file())).rejects.toThrow(/ENOENT/);
  });
});

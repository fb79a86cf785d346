import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSafetensors } from '@lrscape/artifacts';
import { checkpointFileName, readCheckpoint, writeCheckpoint } from './checkpoint';
import { denseLayout } from './testing/fixtures';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'lrscape-checkpoint-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('checkpoints', () => {
  it('names files by the zero-padded step', () => {
    expect(checkpointFileName(42)).toBe('step-000042.safetensors');
  });

  it('round-trips θ bit for bit, tensor by layout slot, with its metadata', async () => {
    const layout = denseLayout(2, 3); // kernel [2, 3], bias [3]
    const theta = Float32Array.from({ length: 9 }, (_, i) => Math.fround(Math.PI * (i - 4)));
    const file = join(dir, checkpointFileName(7));
    await writeCheckpoint(file, layout, theta, { step: 7, eta: 0.05, loss: 0.25, reason: 'cadence' });
    const read = await readCheckpoint(file, layout);
    expect(Array.from(read.theta)).toEqual(Array.from(theta));
    expect(read.step).toBe(7);
    expect(read.metadata).toMatchObject({ eta: '0.05', loss: '0.25', reason: 'cadence' });
    expect(JSON.parse(read.metadata.layout)).toEqual([
      { name: 'dense0/kernel', shape: [2, 3], offset: 0 },
      { name: 'dense0/bias', shape: [3], offset: 6 },
    ]);
  });

  it('refuses a θ of the wrong length', async () => {
    await expect(writeCheckpoint(join(dir, 'x.safetensors'), denseLayout(2, 3), new Float32Array(8), { step: 0, eta: 1, loss: 1, reason: 'final' })).rejects.toThrow(
      /θ has 8 entries, layout wants 9/,
    );
  });

  it('names the tensor whose shape does not match the layout', async () => {
    const file = join(dir, 'a.safetensors');
    await writeCheckpoint(file, denseLayout(2, 3), new Float32Array(9), { step: 1, eta: 1, loss: 1, reason: 'final' });
    // Same size (8), other shapes: kernel [3, 2] is 6 as [2, 3] is, so the kernel passes by size but not by shape.
    const transposed = { ...denseLayout(2, 3), slots: denseLayout(2, 3).slots.map((s) => (s.role === 'kernel' ? { ...s, shape: [3, 2] } : s)) };
    await expect(readCheckpoint(file, transposed)).rejects.toThrow(`${file}: tensor \`dense0/kernel\` has shape [2,3], the model's layout wants [3,2]`);
    await expect(readCheckpoint(file, denseLayout(3, 3))).rejects.toThrow(`${file}: tensor \`dense0/kernel\` has shape [2,3], the model's layout wants [3,3]`);
  });

  it('names a tensor the layout wants but the file lacks, and one the layout does not know', async () => {
    const layout = denseLayout(1, 2);
    const missing = join(dir, 'missing.safetensors');
    await writeSafetensors(missing, { 'dense0/kernel': { shape: [1, 2], data: new Float32Array(2) } }, { step: '0' });
    await expect(readCheckpoint(missing, layout)).rejects.toThrow(`${missing}: no tensor \`dense0/bias\``);
    const extra = join(dir, 'extra.safetensors');
    await writeSafetensors(
      extra,
      { 'dense0/kernel': { shape: [1, 2], data: new Float32Array(2) }, 'dense0/bias': { shape: [2], data: new Float32Array(2) }, 'dense1/bias': { shape: [1], data: new Float32Array(1) } },
      { step: '0' },
    );
    await expect(readCheckpoint(extra, layout)).rejects.toThrow(`${extra}: tensor \`dense1/bias\` is not in the model's layout`);
  });

  it('names the metadata field when the step is missing or not an integer', async () => {
    const layout = denseLayout(1, 1);
    const tensors = { 'dense0/kernel': { shape: [1, 1], data: new Float32Array(1) }, 'dense0/bias': { shape: [1], data: new Float32Array(1) } };
    const file = join(dir, 'bad.safetensors');
    await writeSafetensors(file, tensors, { step: '1.5' });
    await expect(readCheckpoint(file, layout)).rejects.toThrow(`${file}: metadata field \`step\`: expected a non-negative integer`);
    await writeSafetensors(file, tensors, {});
    await expect(readCheckpoint(file, layout)).rejects.toThrow(`${file}: metadata field \`step\``);
  });
});

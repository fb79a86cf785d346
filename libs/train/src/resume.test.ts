import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeSafetensors, sha256Hex } from '@lrscape/artifacts';
import { checkpointFileName } from './checkpoint';
import type { ResumeState } from './gradient-descent';
import { loadResumePoint, RESUME_INDEX_FILE, RESUME_SHARPNESS_FILE, RESUME_STATE_FILE, writeResumePoint } from './resume';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lrscape-resume-'));
  await mkdir(join(dir, 'checkpoints'));
  for (const step of [0, 8]) await writeFile(join(dir, 'checkpoints', checkpointFileName(step)), 'θ');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const record = (step: number) => ({ step, lr: 0.1, loss: 1 / (step + 1), accuracy: null, testLoss: null, testAccuracy: null, gradNorm: 0.5, sharpness: step % 5 ? null : 3.25, sharpnessCheck: step % 10 ? null : 3.5 });
const state: ResumeState = {
  step: 10,
  theta: Float32Array.of(1.5, -2.25, Math.fround(Math.PI)),
  records: Array.from({ length: 10 }, (_, i) => record(i)),
  checkpoints: [
    { step: 0, reason: 'cadence' },
    { step: 8, reason: 'event-before' },
  ],
  // Not float32 values: the resume point must keep all 53 bits.
  sharpnessVector: Float64Array.of(Math.PI / 3, -Math.E / 7, 1 / 3),
  sharpnessHvps: 37,
  events: { minLoss: 0.2, minStep: 8, minTheta: Float32Array.of(0.5, 0.25, 0.125), inEvent: true, preRiseLevel: 0.2, count: 1 },
};
const expected = { sliceHash: 'abc123', size: 3 };

describe('resume points', () => {
  it('is absent where no resume.json was written', async () => {
    expect(await loadResumePoint(dir, expected)).toEqual({ status: 'absent' });
  });

  it('loads back exactly the state written, float64 warm start and +∞ running minimum included', async () => {
    await writeResumePoint(dir, state, { sliceHash: 'abc123', seconds: 12.5 });
    expect(await loadResumePoint(dir, expected)).toEqual({ status: 'accepted', state, seconds: 12.5 });
    const fresh = { ...state, sharpnessVector: null, events: { minLoss: Infinity, minStep: -1, minTheta: null, inEvent: false, preRiseLevel: Infinity, count: 0 } };
    await writeResumePoint(dir, fresh, { sliceHash: 'abc123', seconds: 0 });
    expect(await loadResumePoint(dir, expected)).toEqual({ status: 'accepted', state: fresh, seconds: 0 });
  });

  it('rejects a point written for other inputs', async () => {
    await writeResumePoint(dir, state, { sliceHash: 'old', seconds: 1 });
    expect(await loadResumePoint(dir, expected)).toEqual({
      status: 'rejected',
      rejection: { kind: 'hash-mismatch', message: `${join(dir, RESUME_INDEX_FILE)}: written for inputs old, these are abc123 (the config or data changed)` },
    });
  });

  it('rejects state files that are not the ones resume.json indexed', async () => {
    await writeResumePoint(dir, state, { sliceHash: 'abc123', seconds: 1 });
    const index = await readFile(join(dir, RESUME_INDEX_FILE));
    // A later point's state file with the index of an earlier one (a kill between the two writes).
    await writeResumePoint(dir, { ...state, theta: Float32Array.of(9, 9, 9) }, { sliceHash: 'abc123', seconds: 2 });
    await writeFile(join(dir, RESUME_INDEX_FILE), index);
    const lookup = await loadResumePoint(dir, expected);
    expect(lookup.status === 'rejected' && lookup.rejection.kind).toBe('sha-mismatch');
    expect(lookup.status === 'rejected' && lookup.rejection.message).toMatch(new RegExp(`^${join(dir, RESUME_STATE_FILE)}: sha256 [0-9a-f]{64}, .*resume.json expects`));

    await writeResumePoint(dir, state, { sliceHash: 'abc123', seconds: 1 });
    await writeFile(join(dir, RESUME_SHARPNESS_FILE), new Uint8Array(24));
    const torn = await loadResumePoint(dir, expected);
    expect(torn.status === 'rejected' && torn.rejection.kind).toBe('sha-mismatch');
    expect(torn.status === 'rejected' && torn.rejection.message).toContain(RESUME_SHARPNESS_FILE);
  });

  it('rejects a point whose listed checkpoint is gone, naming it', async () => {
    await writeResumePoint(dir, state, { sliceHash: 'abc123', seconds: 1 });
    await rm(join(dir, 'checkpoints', checkpointFileName(8)));
    expect(await loadResumePoint(dir, expected)).toEqual({
      status: 'rejected',
      rejection: { kind: 'missing-checkpoint', message: `${join(dir, 'checkpoints', 'step-000008.safetensors')}: listed by ${join(dir, RESUME_INDEX_FILE)} but missing` },
    });
  });

  it('rejects an unreadable index, a malformed field, or a θ of another size, saying which', async () => {
    const indexFile = join(dir, RESUME_INDEX_FILE);
    await writeFile(indexFile, '{"step": 4');
    let lookup = await loadResumePoint(dir, expected);
    expect(lookup).toMatchObject({ status: 'rejected', rejection: { kind: 'unreadable' } });
    expect(lookup.status === 'rejected' && lookup.rejection.message).toMatch(new RegExp(`^${indexFile}: not valid JSON`));

    await writeResumePoint(dir, state, { sliceHash: 'abc123', seconds: 1 });
    const index = JSON.parse(await readFile(indexFile, 'utf8'));
    await writeFile(indexFile, JSON.stringify({ ...index, records: [{ ...index.records[0], lr: 'fast' }] }));
    lookup = await loadResumePoint(dir, expected);
    expect(lookup.status === 'rejected' && lookup.rejection).toEqual({ kind: 'unreadable', message: `${indexFile}: field \`records.0.lr\`: Invalid input: expected number, received string` });

    await writeResumePoint(dir, state, { sliceHash: 'abc123', seconds: 1 });
    lookup = await loadResumePoint(dir, { ...expected, size: 4 });
    expect(lookup.status === 'rejected' && lookup.rejection).toEqual({ kind: 'unreadable', message: `${join(dir, RESUME_STATE_FILE)}: theta has 3 entries, the model has 4` });
  });

  it('rejects a state file without θ', async () => {
    await writeResumePoint(dir, state, { sliceHash: 'abc123', seconds: 1 });
    const bytes = encodeSafetensors({ other: { shape: [3], data: new Float32Array(3) } });
    await writeFile(join(dir, RESUME_STATE_FILE), bytes);
    const index = JSON.parse(await readFile(join(dir, RESUME_INDEX_FILE), 'utf8'));
    await writeFile(join(dir, RESUME_INDEX_FILE), JSON.stringify({ ...index, stateSha256: sha256Hex(bytes) }));
    const lookup = await loadResumePoint(dir, expected);
    expect(lookup.status === 'rejected' && lookup.rejection).toEqual({ kind: 'unreadable', message: `${join(dir, RESUME_STATE_FILE)}: no tensor \`theta\`` });
  });
});

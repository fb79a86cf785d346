/**
 * The resume point of an interrupted run (in its resume folder, beside checkpoints/): resume.json indexes
 * state.safetensors (θ and the event detector's θ, float32 as training holds them) and sharpness.f64 (the
 * warm-start vector, raw little-endian float64 so a resumed run's sharpness estimates match bit for bit).
 * resume.json is written last and atomically: it commits the point, and its sha256s catch state files that
 * were replaced or torn after it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, sha256Hex, writeFileAtomically, type TensorMap } from '@lrscape/artifacts';
import { z } from 'zod';
import { checkpointFileName } from './checkpoint';
import { CHECKPOINT_REASONS, type ResumeState } from './gradient-descent';
import { readJsonFile } from './json-file';

export const RESUME_INDEX_FILE = 'resume.json';
export const RESUME_STATE_FILE = 'state.safetensors';
export const RESUME_SHARPNESS_FILE = 'sharpness.f64';

const nonNegativeInt = z.number().int().nonnegative();
const finite = z.number().finite();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex');
/** JSON has no +∞: null stands for it (a running minimum before its first step). */
const finiteOrInfinity = finite.nullable().transform((x) => x ?? Infinity);

const stepRecordSchema = z
  .object({
    step: nonNegativeInt,
    lr: finite,
    loss: finite,
    accuracy: finite.nullable(),
    testLoss: finite.nullable(),
    testAccuracy: finite.nullable(),
    gradNorm: finite.nullable(),
    sharpness: finite.nullable(),
    sharpnessCheck: finite.nullable(),
  })
  .strict();

export const resumeIndexSchema = z
  .object({
    /** Identity of the inputs the run was trained under: a point written under others is not resumed. */
    sliceHash: z.string().min(1),
    step: nonNegativeInt,
    stateSha256: sha256,
    sharpnessSha256: sha256.nullable(),
    records: z.array(stepRecordSchema),
    checkpoints: z.array(z.object({ step: nonNegativeInt, reason: z.enum(CHECKPOINT_REASONS) }).strict()),
    sharpnessHvps: nonNegativeInt,
    events: z
      .object({ minLoss: finiteOrInfinity, minStep: z.number().int().min(-1), inEvent: z.boolean(), preRiseLevel: finiteOrInfinity, count: nonNegativeInt })
      .strict(),
    /** Training time spent before this point, over every earlier process. */
    seconds: finite.nonnegative(),
  })
  .strict();

const orNull = (x: number) => (Number.isFinite(x) ? x : null);

/** Writes the resume point of `state` into `dir` (which holds the run's checkpoints/). */
export async function writeResumePoint(dir: string, state: ResumeState, info: { sliceHash: string; seconds: number }): Promise<void> {
  const tensors: TensorMap = { theta: { shape: [state.theta.length], data: state.theta } };
  if (state.events.minTheta) tensors.event_min_theta = { shape: [state.events.minTheta.length], data: state.events.minTheta };
  const stateBytes = encodeSafetensors(tensors, { step: String(state.step) }, join(dir, RESUME_STATE_FILE));
  await writeFileAtomically(join(dir, RESUME_STATE_FILE), stateBytes);
  let sharpnessSha256: string | null = null;
  if (state.sharpnessVector) {
    const bytes = float64Bytes(state.sharpnessVector);
    await writeFileAtomically(join(dir, RESUME_SHARPNESS_FILE), bytes);
    sharpnessSha256 = sha256Hex(bytes);
  }
  const { minTheta: _, ...events } = state.events;
  const index: z.input<typeof resumeIndexSchema> = {
    sliceHash: info.sliceHash,
    step: state.step,
    stateSha256: sha256Hex(stateBytes),
    sharpnessSha256,
    records: state.records,
    checkpoints: state.checkpoints,
    sharpnessHvps: state.sharpnessHvps,
    events: { ...events, minLoss: orNull(events.minLoss), preRiseLevel: orNull(events.preRiseLevel) },
    seconds: info.seconds,
  };
  await writeFileAtomically(join(dir, RESUME_INDEX_FILE), JSON.stringify(index));
}

/** Why a resume point on disk is not used (the run then starts over). */
export interface ResumeRejection {
  kind: 'hash-mismatch' | 'sha-mismatch' | 'missing-checkpoint' | 'unreadable';
  message: string;
}

export type ResumeLookup =
  | { status: 'absent' }
  | { status: 'rejected'; rejection: ResumeRejection }
  | { status: 'accepted'; state: ResumeState; seconds: number };

/**
 * The resume point in `dir`, if it was written under `sliceHash`, its state files are the ones it indexed, every
 * checkpoint it lists is there, and θ has `size` entries; otherwise why not.
 */
export async function loadResumePoint(dir: string, expected: { sliceHash: string; size: number }): Promise<ResumeLookup> {
  const indexFile = join(dir, RESUME_INDEX_FILE);
  if (!existsSync(indexFile)) return { status: 'absent' };
  const reject = (kind: ResumeRejection['kind'], message: string): ResumeLookup => ({ status: 'rejected', rejection: { kind, message } });
  try {
    const index = await readJsonFile(indexFile, resumeIndexSchema);
    if (index.sliceHash !== expected.sliceHash) {
      return reject('hash-mismatch', `${indexFile}: written for inputs ${index.sliceHash}, these are ${expected.sliceHash} (the config or data changed)`);
    }
    const stateFile = join(dir, RESUME_STATE_FILE);
    const stateBytes = await readFile(stateFile);
    if (sha256Hex(stateBytes) !== index.stateSha256) return reject('sha-mismatch', `${stateFile}: sha256 ${sha256Hex(stateBytes)}, ${indexFile} expects ${index.stateSha256}`);
    let sharpnessVector: Float64Array | null = null;
    if (index.sharpnessSha256 !== null) {
      const sharpnessFile = join(dir, RESUME_SHARPNESS_FILE);
      const bytes = await readFile(sharpnessFile);
      if (sha256Hex(bytes) !== index.sharpnessSha256) return reject('sha-mismatch', `${sharpnessFile}: sha256 ${sha256Hex(bytes)}, ${indexFile} expects ${index.sharpnessSha256}`);
      sharpnessVector = fromFloat64Bytes(bytes);
    }
    for (const c of index.checkpoints) {
      const file = join(dir, 'checkpoints', checkpointFileName(c.step));
      if (!existsSync(file)) return reject('missing-checkpoint', `${file}: listed by ${indexFile} but missing`);
    }
    const { tensors } = decodeSafetensors(stateBytes, stateFile);
    const theta = tensors.theta?.data;
    const minTheta = tensors.event_min_theta?.data ?? null;
    if (!theta) return reject('unreadable', `${stateFile}: no tensor \`theta\``);
    const vectors = { theta, event_min_theta: minTheta, 'sharpness vector': sharpnessVector };
    for (const [name, vector] of Object.entries(vectors)) {
      if (vector && vector.length !== expected.size) return reject('unreadable', `${stateFile}: ${name} has ${vector.length} entries, the model has ${expected.size}`);
    }
    const state: ResumeState = {
      step: index.step,
      theta,
      records: index.records,
      checkpoints: index.checkpoints,
      sharpnessVector,
      sharpnessHvps: index.sharpnessHvps,
      events: { ...index.events, minTheta },
    };
    return { status: 'accepted', state, seconds: index.seconds };
  } catch (error) {
    return reject('unreadable', (error as Error).message);
  }
}

// Float64Array's own byte order is the platform's; DataView pins little-endian.
function float64Bytes(vector: Float64Array): Uint8Array {
  const bytes = new Uint8Array(vector.length * 8);
  const view = new DataView(bytes.buffer);
  vector.forEach((x, i) => view.setFloat64(8 * i, x, true));
  return bytes;
}

function fromFloat64Bytes(bytes: Uint8Array): Float64Array {
  if (bytes.length % 8 !== 0) throw new Error(`${RESUME_SHARPNESS_FILE}: ${bytes.length} bytes is not a whole number of float64s`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float64Array.from({ length: bytes.length / 8 }, (_, i) => view.getFloat64(8 * i, true));
}

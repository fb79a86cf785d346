/**
 * hessian.json: what a finished hessian task records about its run (settings, examples used, HVP counts and
 * convergence per checkpoint and scope). Written and read here, validated on read: a malformed or older file
 * gets an error naming the file and the field.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomically } from '@lrscape/artifacts';
import { readJsonFile } from '@lrscape/train';

export const HESSIAN_RECORD_FILE = 'hessian.json';

const count = z.number().int().nonnegative();
export const hessianRecordSchema = z
  .object({
    run: z.string().min(1),
    backend: z.string().min(1),
    /** The config's hessian section as the task ran it. */
    settings: z.record(z.string(), z.unknown()),
    examples: count,
    totalHvps: count,
    seconds: z.number().nonnegative(),
    /** Of `seconds`, the light analyses (light checkpoints and replayed quiet-window starts, with the replays). */
    lightSeconds: z.number().nonnegative(),
    checkpoints: z.array(
      z
        .object({
          step: count,
          /** run.json's reason, or quiet-start: a quiet-window start replayed for the shift test (not a checkpoint of the run). */
          reason: z.string(),
          scopes: z.array(z.object({ scope: z.string(), basisOperatorCalls: count, hvps: count, converged: z.boolean(), m: count }).strict()),
        })
        .strict(),
    ),
  })
  .strict();
export type HessianRecord = z.infer<typeof hessianRecordSchema>;

export async function writeHessianRecord(dir: string, record: HessianRecord): Promise<void> {
  await writeFileAtomically(join(dir, HESSIAN_RECORD_FILE), JSON.stringify(hessianRecordSchema.parse(record), null, 2));
}

export async function readHessianRecord(dir: string): Promise<HessianRecord> {
  return readJsonFile(join(dir, HESSIAN_RECORD_FILE), hessianRecordSchema);
}

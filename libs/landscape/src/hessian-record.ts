/**
 * hessian.json: what a finished hessian task records about its run (settings, examples used, HVP counts and
 * convergence per checkpoint and scope). Written and read here, validated on read: a malformed or older file
 * gets an error naming the file and the field.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomically } from '@lrscape/artifacts';

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
    checkpoints: z.array(
      z
        .object({
          step: count,
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
  const file = join(dir, HESSIAN_RECORD_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read it as JSON (${(error as Error).message})`);
  }
  const parsed = hessianRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: field \`${issue.path.map(String).join('.') || '(root)'}\`: ${issue.message}`);
  }
  return parsed.data;
}

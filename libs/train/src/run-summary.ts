/**
 * run.json: what a finished train task records about its run (written by trainRun, read by the hessian and
 * aggregate stages and by replayTo). The schema is the one definition of the file; readRunSummary checks a file
 * against it, so an older or hand-edited run.json fails with the file and the field named.
 */
import { join } from 'node:path';
import { writeFileAtomically } from '@lrscape/artifacts';
import type { Activation, AttentionReadout, LossKind, ModelSpec, ParameterSlot, Pooling } from '@lrscape/engine';
import { z } from 'zod';
import { CHECKPOINT_REASONS } from './gradient-descent';
import { parseWith, readJsonFile } from './json-file';
import { scheduleSchema } from './schedule';
import { STOP_REASONS } from './stop-rule';

export const RUN_SUMMARY_FILE = 'run.json';

const count = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
// Spelled out rather than imported: the engine's runtime pulls in tfjs, and this file is read by light tools.
const activation = z.enum(['tanh', 'relu', 'gelu', 'linear'] as const satisfies readonly Activation[]);
const loss = z.enum(['mse', 'cross_entropy'] as const satisfies readonly LossKind[]);
const pooling = z.enum(['avg', 'max', 'none'] as const satisfies readonly Pooling[]);
const readout = z.enum(['first', 'mean'] as const satisfies readonly AttentionReadout[]);

/** The engine's ModelSpec (MLP without or with kind 'mlp', CNN, or attention model). */
export const modelSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mlp').optional(), inputDim: count, hidden: z.array(count), outputDim: count, activation, loss }).strict(),
  z
    .object({
      kind: z.literal('cnn'),
      inputShape: z.tuple([count, count, count]),
      inputLayout: z.enum(['hwc', 'chw']).optional(),
      conv: z.array(z.object({ filters: count, kernelSize: count, stride: z.literal(1).optional(), padding: z.enum(['same', 'valid']).optional() }).strict()),
      pool: pooling,
      dense: z.array(count),
      outputDim: count,
      activation,
      loss,
    })
    .strict(),
  z
    .object({
      kind: z.literal('attention'),
      sequenceLength: count,
      vocabulary: count,
      width: count,
      heads: count,
      blocks: nonNegativeInt,
      readout,
      dense: z.array(count),
      outputDim: count,
      activation,
      loss,
    })
    .strict(),
]) satisfies z.ZodType<ModelSpec>;

export const parameterSlotSchema = z
  .object({ name: z.string().min(1), layer: nonNegativeInt, role: z.enum(['kernel', 'bias']), shape: z.array(nonNegativeInt), offset: nonNegativeInt, size: nonNegativeInt })
  .strict() satisfies z.ZodType<ParameterSlot>;

export const runSummarySchema = z
  .object({
    run: z.string().min(1),
    /** η for constant schedules, η_hi otherwise. */
    eta: z.number().finite().positive(),
    schedule: scheduleSchema,
    seed: nonNegativeInt,
    /** The last recorded step (the divergence step for a diverged run). */
    steps: nonNegativeInt,
    stoppedBy: z.enum(STOP_REASONS),
    diverged: z.boolean(),
    divergedAt: nonNegativeInt.nullable(),
    finalLoss: z.number().finite().nullable(),
    finalSharpness: z.number().finite().nullable(),
    seconds: z.number().finite().nonnegative(),
    backend: z.string().min(1),
    parameters: count,
    sharpnessHvps: nonNegativeInt,
    /** Sorted by step; file is relative to the run folder. */
    checkpoints: z.array(z.object({ step: nonNegativeInt, reason: z.enum(CHECKPOINT_REASONS), file: z.string().min(1) }).strict()),
    layout: z.array(parameterSlotSchema),
    spec: modelSpecSchema,
    /** The config slice the run was trained under (its hash keys the cache). */
    configSlice: z.unknown(),
  })
  .strict();

export type RunSummary = z.infer<typeof runSummarySchema>;

/** Writes run.json into `dir` (atomically), after checking it against the schema its readers use. */
export async function writeRunSummary(dir: string, summary: RunSummary): Promise<void> {
  const file = join(dir, RUN_SUMMARY_FILE);
  await writeFileAtomically(file, JSON.stringify(parseWith(file, runSummarySchema, summary), null, 2));
}

/** run.json of a run folder, validated; an error names the file and the field. */
export function readRunSummary(runDir: string): Promise<RunSummary> {
  return readJsonFile(join(runDir, RUN_SUMMARY_FILE), runSummarySchema);
}

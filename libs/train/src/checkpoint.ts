/**
 * Checkpoints as safetensors (docs/architecture.md, "Artifacts"): one float32 tensor per layer parameter, named by the layout
 * ('dense0/kernel', …), with step, η, loss and the layout in the metadata, so PyTorch and NumPy users can
 * read them without this project.
 */
import { readSafetensors, writeSafetensors } from '@lrscape/artifacts';
import type { ParameterLayout } from '@lrscape/engine';
import { z } from 'zod';
import { parseWith } from './json-file';

export interface CheckpointMetadata {
  step: number;
  eta: number;
  loss: number;
  reason: string;
}

/** safetensors metadata is string → string: the step must be a decimal integer. */
const checkpointMetadataSchema = z.looseObject({
  step: z.string().regex(/^(0|[1-9][0-9]*)$/, 'expected a non-negative integer').transform(Number),
});

export const checkpointFileName = (step: number) => `step-${String(step).padStart(6, '0')}.safetensors`;

export async function writeCheckpoint(path: string, layout: ParameterLayout, theta: Float32Array, meta: CheckpointMetadata): Promise<void> {
  if (theta.length !== layout.size) throw new Error(`${path}: θ has ${theta.length} entries, layout wants ${layout.size}`);
  const tensors = Object.fromEntries(
    layout.slots.map((slot) => [slot.name, { shape: slot.shape, data: theta.slice(slot.offset, slot.offset + slot.size) }]),
  );
  await writeSafetensors(path, tensors, {
    step: String(meta.step),
    eta: String(meta.eta),
    loss: String(meta.loss),
    reason: meta.reason,
    layout: JSON.stringify(layout.slots.map(({ name, shape, offset }) => ({ name, shape, offset }))),
  });
}

export async function readCheckpoint(path: string, layout: ParameterLayout): Promise<{ theta: Float32Array; step: number; metadata: Record<string, string> }> {
  const { tensors, metadata } = await readSafetensors(path);
  const theta = new Float32Array(layout.size);
  for (const slot of layout.slots) {
    const tensor = tensors[slot.name];
    if (!tensor) throw new Error(`${path}: no tensor \`${slot.name}\` (the model's layout wants it)`);
    if (tensor.data.length !== slot.size || tensor.shape.join('x') !== slot.shape.join('x')) {
      throw new Error(`${path}: tensor \`${slot.name}\` has shape [${tensor.shape}], the model's layout wants [${slot.shape}]`);
    }
    theta.set(tensor.data, slot.offset);
  }
  const extra = Object.keys(tensors).filter((name) => !layout.slots.some((slot) => slot.name === name));
  if (extra.length) throw new Error(`${path}: tensor \`${extra[0]}\` is not in the model's layout`);
  const { step } = parseWith(path, checkpointMetadataSchema, metadata, 'metadata field');
  return { theta, step, metadata };
}

/**
 * Checkpoints as safetensors (DESIGN §6): one float32 tensor per layer parameter, named by the layout
 * ('dense0/kernel', …), with step, η, loss and the layout in the metadata, so PyTorch and NumPy users can
 * read them without this project.
 */
import { readSafetensors, writeSafetensors } from '@lrscape/artifacts';
import type { ParameterLayout } from '@lrscape/engine';

export interface CheckpointMetadata {
  step: number;
  eta: number;
  loss: number;
  reason: string;
}

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
  const step = Number(metadata.step);
  if (!Number.isInteger(step)) throw new Error(`${path}: metadata field \`step\` is missing or not an integer`);
  return { theta, step, metadata };
}

/**
 * Checkpoint files in the safetensors format (docs/architecture.md, "Artifacts"), written by hand so that PyTorch and
 * NumPy users can read them without this project:
 *
 *   [8 bytes: N, little-endian u64] [N bytes: JSON header, space-padded to 8-byte alignment] [data]
 *
 * The header maps each tensor name to { dtype, shape, data_offsets: [begin, end] } (offsets into
 * the data section) and "__metadata__" to a string → string map. Only F32 (little-endian float32)
 * is written and read. The reader checks the layout (header inside the file, offsets inside the
 * data, sizes matching shapes, the data section covered exactly once) and names the file and the
 * tensor when something is off.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from './atomic';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}
export type TensorMap = Record<string, Tensor>;

const METADATA_KEY = '__metadata__';
const F32 = 'F32';
const F32_BYTES = 4;
const HEADER_ALIGNMENT = 8;

const isShape = (shape: unknown): shape is number[] =>
  Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
const elementCount = (shape: readonly number[]) => shape.reduce((count, d) => count * d, 1);

/** The bytes of a safetensors file holding `tensors` (in key order) and `metadata`. */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}, target = 'safetensors'): Uint8Array {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new Error(`${target}: metadata "${key}" must be a string`);
  }
  const header: Record<string, unknown> = { [METADATA_KEY]: metadata };
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === METADATA_KEY || name === '') throw new Error(`${target}: invalid tensor name "${name}"`);
    if (!isShape(tensor.shape)) throw new Error(`${target}: tensor "${name}" has an invalid shape`);
    if (!(tensor.data instanceof Float32Array)) throw new Error(`${target}: tensor "${name}" data must be a Float32Array`);
    const count = elementCount(tensor.shape);
    if (tensor.data.length !== count) {
      throw new Error(`${target}: tensor "${name}" has ${tensor.data.length} values, shape [${tensor.shape}] needs ${count}`);
    }
    header[name] = { dtype: F32, shape: [...tensor.shape], data_offsets: [offset, offset + count * F32_BYTES] };
    offset += count * F32_BYTES;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLength = Math.ceil(json.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8, 8 + headerLength);
  out.set(json, 8);
  let at = 8 + headerLength;
  for (const tensor of Object.values(tensors)) {
    for (let i = 0; i < tensor.data.length; i++, at += F32_BYTES) view.setFloat32(at, tensor.data[i], true);
  }
  return out;
}

/** Parses and checks the bytes of a safetensors file; `source` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): { tensors: TensorMap; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${source}: too short for a safetensors file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    throw new Error(`${source}: header length ${declared} runs past the end of the file (${bytes.length} bytes)`);
  }
  const headerLength = Number(declared);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new Error(`${source}: header is not valid UTF-8 JSON (${(error as Error).message})`, { cause: error });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error(`${source}: header is not a JSON object`);
  }

  const metadata: Record<string, string> = {};
  const rawMetadata = (header as Record<string, unknown>)[METADATA_KEY];
  if (rawMetadata !== undefined && rawMetadata !== null) {
    if (typeof rawMetadata !== 'object' || Array.isArray(rawMetadata)) throw new Error(`${source}: "${METADATA_KEY}" is not an object`);
    for (const [key, value] of Object.entries(rawMetadata)) {
      if (typeof value !== 'string') throw new Error(`${source}: metadata "${key}" is not a string`);
      metadata[key] = value;
    }
  }

  const dataStart = 8 + headerLength;
  const dataBytes = bytes.length - dataStart;
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) continue;
    const where = `${source}: tensor "${name}"`;
    if (raw === null || typeof raw !== 'object') throw new Error(`${where} has no header entry object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (dtype !== F32) throw new Error(`${where} has dtype ${String(dtype)}; only ${F32} is supported`);
    if (!isShape(shape)) throw new Error(`${where} has an invalid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o))) {
      throw new Error(`${where} has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin < 0 || end < begin || end > dataBytes) {
      throw new Error(`${where} data_offsets [${begin}, ${end}] lie outside the data section (${dataBytes} bytes)`);
    }
    const expected = elementCount(shape) * F32_BYTES;
    if (end - begin !== expected) {
      throw new Error(`${where} spans ${end - begin} bytes but shape [${shape}] of ${F32} needs ${expected}`);
    }
    entries.push({ name, shape, begin, end });
  }

  // The data section must be covered exactly once, in order, with no gap and no overlap.
  let covered = 0;
  for (const entry of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (entry.begin !== covered) {
      throw new Error(`${source}: tensor "${entry.name}" starts at byte ${entry.begin} of the data, expected ${covered} (${entry.begin < covered ? 'overlap' : 'gap'})`);
    }
    covered = entry.end;
  }
  if (covered !== dataBytes) throw new Error(`${source}: ${dataBytes - covered} bytes after the last tensor`);

  const tensors: TensorMap = {};
  for (const { name, shape, begin, end } of entries) {
    const data = new Float32Array((end - begin) / F32_BYTES);
    for (let i = 0, at = dataStart + begin; i < data.length; i++, at += F32_BYTES) data[i] = view.getFloat32(at, true);
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}

/** Writes a safetensors file (atomically). */
export async function writeSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomically(path, encodeSafetensors(tensors, metadata, path));
}

/** Reads and checks a safetensors file. */
export async function readSafetensors(path: string): Promise<{ tensors: TensorMap; metadata: Record<string, string> }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`${path}: cannot read safetensors file (${(error as Error).message})`, { cause: error });
  }
  return decodeSafetensors(bytes, path);
}

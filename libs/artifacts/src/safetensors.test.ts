import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from './index';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lrscape-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A safetensors file encoded independently of the library, straight from the format's spec:
 * u64 little-endian header length, the JSON header padded with spaces to 8 bytes, then the
 * tensors' little-endian float32 bytes at their data_offsets.
 */
function handEncoded(headerJson: string, floats: number[]): Buffer {
  const padded = headerJson.padEnd(Math.ceil(headerJson.length / 8) * 8, ' ');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  const data = Buffer.alloc(floats.length * 4);
  floats.forEach((value, i) => data.writeFloatLE(value, i * 4));
  return Buffer.concat([length, Buffer.from(padded, 'ascii'), data]);
}

const HEADER =
  '{"__metadata__":{"step":"400","eta":"0.05"},' +
  '"dense0.w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},' +
  '"dense0.b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}';
const VALUES = [1, -2, 0.5, 3.25, -0, 1e-8, 7, -8];

describe('safetensors', () => {
  it('reads a file laid out by hand', () => {
    const { tensors, metadata } = decodeSafetensors(handEncoded(HEADER, VALUES));
    expect(metadata).toEqual({ step: '400', eta: '0.05' });
    expect(Object.keys(tensors)).toEqual(['dense0.w', 'dense0.b']);
    expect(tensors['dense0.w'].shape).toEqual([2, 3]);
    expect(Array.from(tensors['dense0.w'].data)).toEqual(VALUES.slice(0, 6).map(Math.fround));
    expect(Array.from(tensors['dense0.b'].data)).toEqual([7, -8]);
  });

  it('writes exactly the bytes of the hand layout', () => {
    const bytes = encodeSafetensors(
      {
        'dense0.w': { shape: [2, 3], data: new Float32Array(VALUES.slice(0, 6)) },
        'dense0.b': { shape: [2], data: new Float32Array([7, -8]) },
      },
      { step: '400', eta: '0.05' },
    );
    expect(Buffer.from(bytes).equals(handEncoded(HEADER, VALUES))).toBe(true);
    // Header length is a multiple of 8, so the data starts 8-byte aligned.
    expect(Number(Buffer.from(bytes).readBigUInt64LE(0)) % 8).toBe(0);
  });

  it('round-trips through a file, bit for bit, including scalars and empty tensors', async () => {
    const path = join(dir, 'step-000400.safetensors');
    const odd = new Float32Array([Number.NaN, Infinity, -Infinity, -0, 1.1754943508222875e-38, 3.4028234663852886e38]);
    const tensors = {
      w: { shape: [3, 2], data: odd },
      scalar: { shape: [], data: new Float32Array([42]) },
      empty: { shape: [0, 5], data: new Float32Array(0) },
    };
    await writeSafetensors(path, tensors, { layout: '[{"name":"w"}]' });
    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ layout: '[{"name":"w"}]' });
    expect(Object.keys(back.tensors)).toEqual(['w', 'scalar', 'empty']);
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(back.tensors[name].shape).toEqual(tensor.shape);
      expect(new Uint8Array(back.tensors[name].data.buffer)).toEqual(new Uint8Array(tensor.data.buffer));
    }
  });

  it('refuses a header length beyond the file, naming the file', async () => {
    const bytes = handEncoded(HEADER, VALUES);
    bytes.writeBigUInt64LE(BigInt(bytes.length));
    const path = join(dir, 'long-header.safetensors');
    await writeFile(path, bytes);
    await expect(readSafetensors(path)).rejects.toThrow(new RegExp(`${path}: header length \\d+ runs past the end`));
    await writeFile(path, bytes.subarray(0, 5));
    await expect(readSafetensors(path)).rejects.toThrow(`${path}: too short`);
  });

  it('refuses offsets out of range and sizes that do not match the shape, naming the tensor', () => {
    const outOfRange = HEADER.replace('[24,32]', '[24,40]');
    expect(() => decodeSafetensors(handEncoded(outOfRange, VALUES), 'f.safetensors')).toThrow(
      'f.safetensors: tensor "dense0.b" data_offsets [24, 40] lie outside the data section (32 bytes)',
    );
    const wrongShape = HEADER.replace('"shape":[2,3]', '"shape":[2,2]');
    expect(() => decodeSafetensors(handEncoded(wrongShape, VALUES), 'f.safetensors')).toThrow(
      'f.safetensors: tensor "dense0.w" spans 24 bytes but shape [2,2] of F32 needs 16',
    );
    const truncatedData = handEncoded(HEADER, VALUES).subarray(0, -4);
    expect(() => decodeSafetensors(truncatedData, 'f.safetensors')).toThrow(/f\.safetensors: tensor "dense0\.b".*outside/);
    const overlapping = HEADER.replace('[24,32]', '[16,24]').replace('"shape":[2,3]', '"shape":[2,3]');
    expect(() => decodeSafetensors(handEncoded(overlapping, VALUES.slice(0, 6)), 'f.safetensors')).toThrow(/"dense0\.b".*overlap/);
    const float64 = HEADER.replace('"dtype":"F32","shape":[2]', '"dtype":"F64","shape":[1]');
    expect(() => decodeSafetensors(handEncoded(float64, VALUES), 'f.safetensors')).toThrow(/"dense0\.b" has dtype F64/);
    expect(() => decodeSafetensors(handEncoded('{"a":', []), 'f.safetensors')).toThrow(/f\.safetensors: header is not valid/);
  });

  it('refuses tensors whose data does not match their shape when writing', () => {
    expect(() => encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } }, {}, 'out.safetensors')).toThrow(
      'out.safetensors: tensor "w" has 3 values, shape [2,2] needs 4',
    );
    expect(() => encodeSafetensors({ __metadata__: { shape: [], data: new Float32Array(1) } })).toThrow(/invalid tensor name/);
  });
});

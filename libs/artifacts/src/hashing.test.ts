import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from './index';

describe('canonicalJson', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { eta: [0.1, 0.05], model: { width: 64, depth: 3 }, data: { seed: 1, n: 200 } };
    const b = { data: { n: 200, seed: 1 }, model: { depth: 3, width: 64 }, eta: [0.1, 0.05] };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"data":{"n":200,"seed":1},"eta":[0.1,0.05],"model":{"depth":3,"width":64}}');
  });

  it('keeps array order, drops undefined members, escapes strings, refuses non-JSON values', () => {
    expect(canonicalJson([3, 1, 2])).not.toBe(canonicalJson([1, 2, 3]));
    expect(canonicalJson({ a: undefined, b: null, c: 'x"y', d: true })).toBe('{"b":null,"c":"x\\"y","d":true}');
    expect(canonicalJson({ when: new Date(0) })).toBe('{"when":"1970-01-01T00:00:00.000Z"}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/non-finite number at \$\.x/);
    expect(() => canonicalJson([undefined])).toThrow(/\$\[0\]/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
  });
});

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vector for strings and bytes', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).toBe(abc);
    expect(sha256Hex(Buffer.from('abc'))).toBe(abc);
    expect(sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe(abc);
  });
});

/**
 * Content hashes and the canonical JSON they are taken of (config hashes, manifests).
 */
import { createHash } from 'node:crypto';

/** Hex sha256 of a string (as UTF-8) or of bytes. */
export function sha256Hex(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * JSON with object keys sorted (by UTF-16 code units, recursively), no whitespace, so that two
 * equal values give the same string whatever order their keys were built in.
 * Follows JSON.stringify otherwise (toJSON is honoured, undefined/function members are dropped
 * from objects), but refuses what JSON cannot hold faithfully: non-finite numbers, bigints,
 * undefined at the top level or in arrays, and cycles.
 */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const encode = (item: unknown, where: string): string | undefined => {
    if (item !== null && typeof item === 'object' && typeof (item as { toJSON?: unknown }).toJSON === 'function') {
      item = (item as { toJSON: () => unknown }).toJSON();
    }
    switch (typeof item) {
      case 'string':
      case 'boolean':
        return JSON.stringify(item);
      case 'number':
        if (!Number.isFinite(item)) throw new TypeError(`canonicalJson: non-finite number at ${where}`);
        return JSON.stringify(item);
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
      case 'bigint':
        throw new TypeError(`canonicalJson: bigint at ${where}`);
    }
    if (item === null) return 'null';
    const object = item as object;
    if (seen.has(object)) throw new TypeError(`canonicalJson: cycle at ${where}`);
    seen.add(object);
    let out: string;
    if (Array.isArray(object)) {
      out = `[${object
        .map((element, i) => {
          const encoded = encode(element, `${where}[${i}]`);
          if (encoded === undefined) throw new TypeError(`canonicalJson: unrepresentable value at ${where}[${i}]`);
          return encoded;
        })
        .join(',')}]`;
    } else {
      const record = object as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const encoded = encode(record[key], `${where}.${key}`);
        if (encoded !== undefined) members.push(`${JSON.stringify(key)}:${encoded}`);
      }
      out = `{${members.join(',')}}`;
    }
    seen.delete(object);
    return out;
  };
  const result = encode(value, '$');
  if (result === undefined) throw new TypeError('canonicalJson: value is not representable as JSON');
  return result;
}

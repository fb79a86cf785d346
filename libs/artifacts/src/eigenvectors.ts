/**
 * Eigenvector files of the hessian stage (docs/architecture.md, "Artifacts"): one safetensors file per
 * checkpoint, one float32 tensor per (scope, rank). The tensor key is private to this pair of functions;
 * callers pass and get typed scopes.
 */
import { decodeScope, encodeScope, type ScopeId } from './scope';
import { readSafetensors, writeSafetensors, type TensorMap } from './safetensors';

export interface StoredEigenvector {
  scope: ScopeId;
  /** 1 for the top eigenvector. */
  rank: number;
  vector: Float32Array | Float64Array;
}

const tensorKey = (scope: ScopeId, rank: number) => `${encodeScope(scope)}/${rank}`;

export async function writeEigenvectors(path: string, vectors: readonly StoredEigenvector[], metadata: Record<string, string> = {}): Promise<void> {
  const tensors: TensorMap = {};
  for (const { scope, rank, vector } of vectors) {
    if (!Number.isInteger(rank) || rank < 1) throw new RangeError(`${path}: eigenvector rank must be an integer ≥ 1, got ${rank}`);
    const key = tensorKey(scope, rank);
    if (key in tensors) throw new Error(`${path}: eigenvector ${key} given twice`);
    tensors[key] = { shape: [vector.length], data: Float32Array.from(vector) };
  }
  await writeSafetensors(path, tensors, metadata);
}

/** The eigenvectors of a file, by scope in file order and by rank within a scope (as float64). */
export async function readEigenvectors(path: string): Promise<{ scope: ScopeId; rank: number; vector: Float64Array }[]> {
  const { tensors } = await readSafetensors(path);
  const entries = Object.entries(tensors).map(([key, tensor]) => {
    const slash = key.lastIndexOf('/');
    const rank = Number(key.slice(slash + 1));
    if (slash < 0 || !Number.isInteger(rank) || rank < 1) throw new Error(`${path}: tensor \`${key}\` is not named <scope>/<rank>`);
    const scope = decodeScope(key.slice(0, slash), `${path}: tensor \`${key}\``);
    return { scope, scopeText: key.slice(0, slash), rank, vector: Float64Array.from(tensor.data) };
  });
  const scopeOrder = [...new Set(entries.map((e) => e.scopeText))];
  entries.sort((a, b) => scopeOrder.indexOf(a.scopeText) - scopeOrder.indexOf(b.scopeText) || a.rank - b.rank);
  return entries.map(({ scope, rank, vector }) => ({ scope, rank, vector }));
}

/**
 * The one text form of a Hessian scope (docs/architecture.md, "Scopes"): 'full' for the whole Hessian,
 * 'k1', 'k2', … for the block of the last k layers. Code works with typed scopes (the engine derives them,
 * with offsets and sizes, from the model's layout); the string exists only at the edges — a table column,
 * a file key — and is decoded here and nowhere else.
 */

/** What identifies a scope; the engine's `Scope` adds where its parameters lie. */
export type ScopeId = { readonly kind: 'full' } | { readonly kind: 'block'; readonly k: number };

export function encodeScope(scope: ScopeId): string {
  if (scope.kind === 'full') return 'full';
  if (!Number.isInteger(scope.k) || scope.k < 1) throw new RangeError(`a block scope needs an integer k ≥ 1, got ${scope.k}`);
  return `k${scope.k}`;
}

/** The scope a string names; `where` (a file and column, say) goes into the error. */
export function decodeScope(text: string, where = 'scope'): ScopeId {
  if (text === 'full') return { kind: 'full' };
  const match = /^k([1-9][0-9]*)$/.exec(text);
  if (!match) throw new Error(`${where}: \`${text}\` is not a scope (expected 'full' or 'k1', 'k2', …)`);
  return { kind: 'block', k: Number(match[1]) };
}

export const sameScope = (a: ScopeId, b: ScopeId): boolean => a.kind === b.kind && (a.kind === 'full' || a.k === (b as { k: number }).k);

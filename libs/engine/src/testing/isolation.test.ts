/**
 * testing/ holds test helpers kept out of the lib's production sources (and so out of the hash of the tasks
 * that run them): no production file may import from it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..');

describe('libs/engine/src/testing', () => {
  it('is imported by no production source', () => {
    const production = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(
      (f) => /\.(ts|mjs)$/.test(f) && !f.endsWith('.test.ts') && !f.split(/[\\/]/).includes('testing'),
    );
    expect(production).toContain('objective.ts'); // the walk sees the sources
    const offenders = production.filter((f) => /\bfrom\s+['"][^'"]*\/testing(\/[^'"]*)?['"]|import\(\s*['"][^'"]*\/testing\b/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

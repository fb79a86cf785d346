import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const libs = ['linalg', 'engine', 'data', 'train', 'landscape', 'artifacts', 'report'];
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      // The engine's model descriptions without tfjs (the config schema validates with them); before the
      // lib's own alias, which would otherwise match it as a prefix.
      '@lrscape/engine/layout': `${root}libs/engine/src/layout.ts`,
      ...Object.fromEntries(libs.map((lib) => [`@lrscape/${lib}`, `${root}libs/${lib}/src/index.ts`])),
    },
  },
  test: {
    include: ['libs/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});

// Entry of a shard worker thread (pool.ts). Plain JavaScript so that it starts under any parent (tsx, vitest,
// plain node): it registers tsx's loader, with the repository's tsconfig (for the @lrscape/* paths), for the
// engine's TypeScript, then runs shard-worker.ts.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)) });
await import('./shard-worker.ts');

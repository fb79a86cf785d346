// Builds the native addon (README.md here) with npm's own node-gyp against the installed Node headers, as the
// root package's `postinstall` (so `npm ci` builds it) and as `npm run build:native`. It never fails the
// install: without a BLAS (libopenblas-dev) or a compiler it says so, records why in build/status.json (the
// engine's fallback message quotes it) and exits 0, and the wasm kernels run.
//
//   LRSCAPE_NATIVE=skip   do not build (the wasm kernels run)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const statusFile = join(here, 'build', 'status.json');

function record(status) {
  mkdirSync(dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2)}\n`);
}

/** npm's node-gyp: the one npm points its scripts at, else the one beside this node's npm, else PATH's. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].filter(Boolean);
  const found = candidates.find((path) => existsSync(path));
  return found ? [process.execPath, found] : ['node-gyp'];
}

/** --nodedir for node-gyp: npm's setting, else this node's own prefix when its headers are there (no download, ever). */
function nodedirArgs() {
  const configured = process.env.npm_config_nodedir;
  if (configured) return [`--nodedir=${configured}`];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

if (process.env.LRSCAPE_NATIVE === 'skip') {
  record({ built: false, reason: 'LRSCAPE_NATIVE=skip' });
  console.log('lrscape native kernels: not built (LRSCAPE_NATIVE=skip); the wasm kernels will run');
  process.exit(0);
}

const [command, ...prefixArgs] = nodeGyp();
const args = [...prefixArgs, 'rebuild', ...nodedirArgs()];
const result = spawnSync(command, args, { cwd: here, encoding: 'utf8', env: { ...process.env } });
if (result.status === 0) {
  record({ built: true });
  console.log('lrscape native kernels: built libs/engine/native/build/Release/lrscape_blas.node (OpenBLAS matrix products for the wasm backend)');
} else {
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`;
  const missingBlas = /cannot find -lopenblas|openblas/i.test(output) && /(cannot find|No such file|not found)/i.test(output);
  const reason = missingBlas
    ? 'the build found no OpenBLAS (on Debian/Ubuntu: apt-get install libopenblas-dev)'
    : `node-gyp failed: ${output.trim().split('\n').filter((line) => /error|Error/.test(line)).slice(-3).join(' | ') || `exit ${result.status}`}`;
  record({ built: false, reason });
  console.log(`lrscape native kernels: not built (${reason}); the wasm kernels will run. After installing a BLAS: npm run build:native`);
}

/**
 * The reference Nx remote cache server (README, "Team scale"):
 *
 *   LRSCAPE_CACHE_TOKEN=<secret> npx tsx tools/cache-server/src/main.ts --dir /srv/nx-cache [--port 3000] [--host 127.0.0.1]
 *
 * Clients: NX_SELF_HOSTED_REMOTE_CACHE_SERVER=http://<host>:<port>, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<secret>.
 * LRSCAPE_CACHE_READ_TOKEN (optional) is a second token that may only read. `--port 0` binds a free port;
 * the "listening on" line names it. `--max-upload-mib` caps one artifact (default 2048). Plain HTTP: beyond
 * a trusted network, put it behind a TLS proxy (Nx accepts an https:// server).
 */
import { createCacheServer, DEFAULT_MAX_UPLOAD_BYTES } from './server';

const USAGE = 'usage: LRSCAPE_CACHE_TOKEN=<token> tsx tools/cache-server/src/main.ts --dir <directory> [--port <n>] [--host <address>] [--max-upload-mib <n>]';

function parseArgs(argv: string[]): Record<string, string> {
  const known = new Set(['--dir', '--port', '--host', '--max-upload-mib']);
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!known.has(flag)) throw new Error(`unknown option ${flag}\n${USAGE}`);
    if (value === undefined || value.startsWith('--')) throw new Error(`option ${flag} needs a value\n${USAGE}`);
    args[flag] = value;
  }
  return args;
}

function wholeNumber(flag: string, value: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) > max) throw new Error(`option ${flag}: ${JSON.stringify(value)} is not a whole number from 0 to ${max}`);
  return Number(value);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const directory = args['--dir'];
  if (!directory) throw new Error(`option --dir is required\n${USAGE}`);
  const token = process.env.LRSCAPE_CACHE_TOKEN;
  if (!token) throw new Error(`LRSCAPE_CACHE_TOKEN is not set (the token clients send as NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN)\n${USAGE}`);
  const readOnlyToken = process.env.LRSCAPE_CACHE_READ_TOKEN;
  if (readOnlyToken !== undefined && !readOnlyToken) throw new Error('LRSCAPE_CACHE_READ_TOKEN is set but empty');
  if (readOnlyToken === token) throw new Error('LRSCAPE_CACHE_READ_TOKEN equals LRSCAPE_CACHE_TOKEN: a read-only token must differ');
  const port = wholeNumber('--port', args['--port'] ?? '3000', 65535);
  const host = args['--host'] ?? '127.0.0.1';
  const maxUploadBytes = args['--max-upload-mib'] ? wholeNumber('--max-upload-mib', args['--max-upload-mib'], 1024 ** 2) * 1024 ** 2 : DEFAULT_MAX_UPLOAD_BYTES;

  const cache = createCacheServer({ directory, token, readOnlyToken, maxUploadBytes });
  const bound = await cache.listen(port, host);
  console.log(`lrscape cache server: listening on http://${host.includes(':') ? `[${host}]` : host}:${bound}, storing into ${cache.directory}`);
  const stop = () => void cache.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`lrscape cache server: ${error.message}`);
  process.exit(1);
});

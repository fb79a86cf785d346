/**
 * The reference cache server over real HTTP: what Nx's client needs of it (round trip, 404 for a miss, 409
 * for a second upload, text/plain 401s) and what it refuses (wrong tokens, names outside its directory,
 * truncated or unbounded uploads), with the store's directory read back after each case.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCacheServer, isPlainHash, tokenMatches, type CacheServerOptions } from './server';

const TOKEN = 'read-write-token';
const READ_TOKEN = 'read-only-token';

interface Running {
  port: number;
  directory: string;
  /** The folder holding the store (to check that nothing lands beside it). */
  parent: string;
  lines: string[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<CacheServerOptions> = {}): Promise<Running> {
  const parent = mkdtempSync(join(tmpdir(), 'lrscape-cache-server-'));
  const directory = join(parent, 'store');
  const lines: string[] = [];
  const cache = createCacheServer({ directory, token: TOKEN, readOnlyToken: READ_TOKEN, log: (line) => lines.push(line), ...options });
  const port = await cache.listen(0);
  cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
  cleanups.push(() => cache.close());
  return { port, directory, parent, lines };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request with the path sent exactly as given (no URL normalisation on the way). */
function send(port: number, method: string, path: string, options: { token?: string | null; body?: Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const token = options.token === undefined ? TOKEN : options.token;
  const headers: Record<string, string | number> = { ...options.headers };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (options.body) headers['Content-Length'] = options.body.length;
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(options.body);
  });
}

/** Everything under a folder, as relative paths. */
const listing = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
/** The store's entries (the folder of uploads in progress apart). */
const entries = (running: Running) => readdirSync(running.directory).filter((name) => name !== '.incoming').sort();
const uploadsInProgress = (running: Running) => readdirSync(join(running.directory, '.incoming'));

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('isPlainHash and tokenMatches', () => {
  it('accepts Nx hashes and plain names only', () => {
    for (const name of ['18373313610200679946', 'abc_DEF-123', 'a'.repeat(128)]) expect(isPlainHash(name), name).toBe(true);
    for (const name of ['', '..', '../x', 'a/b', 'a.b', '.incoming', '%2e%2e', 'a b', 'a\0b', 'a'.repeat(129), 'é']) expect(isPlainHash(name), name).toBe(false);
  });

  it('compares tokens exactly, whatever their lengths', () => {
    expect(tokenMatches('secret', 'secret')).toBe(true);
    for (const given of ['', 'secre', 'secret ', 'Secret', 'secretsecret']) expect(tokenMatches(given, 'secret'), given).toBe(false);
  });
});

describe('the cache protocol Nx speaks', () => {
  it('stores an upload and serves it back byte for byte as application/octet-stream', async () => {
    const running = await start();
    const artifact = randomBytes(300_000);
    const put = await send(running.port, 'PUT', '/v1/cache/18373313610200679946', { body: artifact, headers: { 'Content-Type': 'application/octet-stream' } });
    expect([put.status, put.headers['content-type']]).toEqual([200, 'text/plain']);
    expect(entries(running)).toEqual(['18373313610200679946']);
    expect(readFileSync(join(running.directory, '18373313610200679946')).equals(artifact)).toBe(true);
    expect(uploadsInProgress(running)).toEqual([]);

    const get = await send(running.port, 'GET', '/v1/cache/18373313610200679946', { headers: { Accept: 'application/octet-stream' } });
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('application/octet-stream');
    expect(Number(get.headers['content-length'])).toBe(artifact.length);
    expect(get.body.equals(artifact)).toBe(true);
  });

  it('answers 404 for a hash it does not hold, and for paths outside the API', async () => {
    const running = await start();
    expect((await send(running.port, 'GET', '/v1/cache/1234567890')).status).toBe(404);
    expect((await send(running.port, 'GET', '/v1/other/1234567890')).status).toBe(404);
    expect((await send(running.port, 'GET', '/')).status).toBe(404);
    expect((await send(running.port, 'DELETE', '/v1/cache/1234567890')).status).toBe(405);
  });

  it('refuses a second upload of a hash with 409 and keeps the first', async () => {
    const running = await start();
    const first = Buffer.from('first artifact');
    expect((await send(running.port, 'PUT', '/v1/cache/42', { body: first })).status).toBe(200);
    const again = await send(running.port, 'PUT', '/v1/cache/42', { body: Buffer.from('another artifact') });
    expect([again.status, again.body.toString()]).toEqual([409, 'Cannot override an existing record']);
    expect(readFileSync(join(running.directory, '42')).equals(first)).toBe(true);
  });

  it('logs one line per request, naming method, path and status, never the token', async () => {
    const running = await start();
    await send(running.port, 'PUT', '/v1/cache/7', { body: Buffer.from('x') });
    await send(running.port, 'GET', '/v1/cache/7');
    await send(running.port, 'GET', '/v1/cache/8');
    await send(running.port, 'GET', '/v1/cache/7', { token: 'wrong' });
    await until(() => running.lines.length === 4, 'four log lines');
    expect(running.lines.map((line) => line.split(' ').slice(2, 5).join(' '))).toEqual(['PUT /v1/cache/7 200', 'GET /v1/cache/7 200', 'GET /v1/cache/8 404', 'GET /v1/cache/7 401']);
    for (const line of running.lines) expect(line).not.toMatch(new RegExp(`${TOKEN}|wrong`));
  });
});

describe('refusals: nothing stored, nothing served', () => {
  it('refuses a missing or wrong token with a text/plain 401 (as Nx requires), storing and serving nothing', async () => {
    const running = await start();
    const artifact = Buffer.from('secret artifact');
    expect((await send(running.port, 'PUT', '/v1/cache/99', { body: artifact })).status).toBe(200);
    const attempts: { token?: string | null; headers?: Record<string, string> }[] = [
      { token: null },
      { token: 'wrong' },
      { token: '' },
      { token: `${TOKEN}x` },
      { token: null, headers: { Authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` } },
      { token: null, headers: { Authorization: TOKEN } },
    ];
    for (const attempt of attempts) {
      const get = await send(running.port, 'GET', '/v1/cache/99', attempt);
      expect([get.status, get.headers['content-type']], JSON.stringify(attempt)).toEqual([401, 'text/plain']);
      expect(get.body.includes(artifact)).toBe(false);
      const put = await send(running.port, 'PUT', '/v1/cache/100', { ...attempt, body: artifact });
      expect(put.status, JSON.stringify(attempt)).toBe(401);
    }
    expect(entries(running)).toEqual(['99']);
  });

  it('lets the read-only token read but not write (403, which Nx takes as "not stored")', async () => {
    const running = await start();
    expect((await send(running.port, 'PUT', '/v1/cache/5', { body: Buffer.from('five') })).status).toBe(200);
    const get = await send(running.port, 'GET', '/v1/cache/5', { token: READ_TOKEN });
    expect([get.status, get.body.toString()]).toEqual([200, 'five']);
    expect((await send(running.port, 'PUT', '/v1/cache/6', { token: READ_TOKEN, body: Buffer.from('six') })).status).toBe(403);
    expect(entries(running)).toEqual(['5']);
  });

  it('refuses any name that is not a plain hash — traversal, encodings, the uploads folder — and writes nothing anywhere', async () => {
    const running = await start();
    writeFileSync(join(running.parent, 'secret'), 'outside the store');
    const before = listing(running.parent);
    const names = ['../secret', '../../etc/passwd', '..%2Fsecret', '%2e%2e%2fsecret', '%2E%2E', '..', '.', 'a/b', 'a.b', '.incoming', '', 'a%00b', 'x'.repeat(129)];
    for (const name of names) {
      const put = await send(running.port, 'PUT', `/v1/cache/${name}`, { body: Buffer.from('payload') });
      expect(put.status, name).toBe(400);
      const get = await send(running.port, 'GET', `/v1/cache/${name}`);
      expect(get.status, name).toBe(400);
      expect(get.body.toString()).not.toContain('outside the store');
    }
    expect(listing(running.parent)).toEqual(before);
    expect(entries(running)).toEqual([]);
    expect(readFileSync(join(running.parent, 'secret'), 'utf8')).toBe('outside the store');
  });

  it.each([
    ['the client destroys the connection mid-body', 'destroy'],
    ['the client closes its side after part of the body', 'end'],
  ] as const)('stores nothing from a truncated upload (%s), and a later GET finds nothing', async (_, close) => {
    const running = await start();
    const socket = connect(running.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`PUT /v1/cache/777 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n`);
    socket.write(randomBytes(40_000));
    // The server has started writing the upload (to its temporary file) before the connection goes.
    await until(() => uploadsInProgress(running).length === 1, 'the upload to begin');
    if (close === 'destroy') socket.destroy();
    else socket.end();
    await until(() => running.lines.length === 1, 'the log line of the aborted upload');
    expect(running.lines[0]).toMatch(/PUT \/v1\/cache\/777 (aborted|400) .*truncated upload: 40000 of 100000 bytes/);
    await until(() => uploadsInProgress(running).length === 0, 'the temporary file to be removed');
    expect(entries(running)).toEqual([]);
    expect((await send(running.port, 'GET', '/v1/cache/777')).status).toBe(404);
    socket.destroy();
  });

  it('refuses an upload without Content-Length (411) or above the size limit (413)', async () => {
    const running = await start({ maxUploadBytes: 1000 });
    const chunked = await new Promise<number>((done, fail) => {
      const req = request({ host: '127.0.0.1', port: running.port, method: 'PUT', path: '/v1/cache/1', headers: { Authorization: `Bearer ${TOKEN}` }, agent: false }, (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      });
      req.on('error', fail);
      req.write('chunked body without a length');
      req.end();
    });
    expect(chunked).toBe(411);
    expect((await send(running.port, 'PUT', '/v1/cache/2', { body: Buffer.alloc(1001) })).status).toBe(413);
    expect((await send(running.port, 'PUT', '/v1/cache/3', { body: Buffer.alloc(1000) })).status).toBe(200);
    expect(entries(running)).toEqual(['3']);
  });

  it('never serves an upload in progress: 404 until its last byte, then the whole artifact', async () => {
    const running = await start();
    const artifact = randomBytes(200_000);
    let status = 0;
    const finished = new Promise<void>((done, fail) => {
      const req = request(
        { host: '127.0.0.1', port: running.port, method: 'PUT', path: '/v1/cache/555', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Length': artifact.length }, agent: false },
        (res) => {
          status = res.statusCode ?? 0;
          res.resume();
          res.on('end', done);
        },
      );
      req.on('error', fail);
      req.write(artifact.subarray(0, 150_000));
      void until(() => uploadsInProgress(running).length === 1, 'the upload to begin')
        .then(() => send(running.port, 'GET', '/v1/cache/555'))
        .then((during) => {
          expect(during.status).toBe(404);
          req.end(artifact.subarray(150_000));
        })
        .catch(fail);
    });
    await finished;
    expect(status).toBe(200);
    const after = await send(running.port, 'GET', '/v1/cache/555');
    expect(after.body.equals(artifact)).toBe(true);
  });

  it('stores exactly one of several concurrent uploads of one hash, whole: one 200, the rest 409', async () => {
    const running = await start();
    const uploads = Array.from({ length: 6 }, () => randomBytes(120_000));
    const requests = uploads.map((body) => {
      let write!: (rest: Buffer) => void;
      const response = new Promise<number>((done, fail) => {
        const req = request(
          { host: '127.0.0.1', port: running.port, method: 'PUT', path: '/v1/cache/31337', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Length': body.length }, agent: false },
          (res) => {
            res.resume();
            done(res.statusCode ?? 0);
          },
        );
        req.on('error', fail);
        req.write(body.subarray(0, 60_000));
        write = (rest) => req.end(rest);
      });
      return { body, response, finish: () => write(body.subarray(60_000)) };
    });
    // Every upload is past the existence check and writing its own temporary file before any completes.
    await until(() => uploadsInProgress(running).length === uploads.length, 'all uploads to begin');
    for (const upload of requests) upload.finish();
    const statuses = await Promise.all(requests.map((r) => r.response));
    expect([...statuses].sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const stored = readFileSync(join(running.directory, '31337'));
    expect(stored.equals(uploads[statuses.indexOf(200)])).toBe(true);
    expect(uploadsInProgress(running)).toEqual([]);
    expect((await send(running.port, 'GET', '/v1/cache/31337')).body.equals(stored)).toBe(true);
  });
});

describe('the command line', () => {
  const main = resolve(import.meta.dirname, 'main.ts');
  const tsx = resolve(import.meta.dirname, '../../../node_modules/.bin/tsx');

  it('with --port 0, prints the port it bound and serves the directory it was given', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'lrscape-cache-cli-'));
    cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
    const child = spawn(tsx, [main, '--dir', join(parent, 'store'), '--port', '0'], { env: { ...process.env, LRSCAPE_CACHE_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill());
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(stdout), 'the listening line', 30_000);
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
    expect(port).toBeGreaterThan(0);
    expect(stdout).toContain(`storing into ${join(parent, 'store')}`);
    expect((await send(port, 'PUT', '/v1/cache/11', { body: Buffer.from('eleven') })).status).toBe(200);
    expect(readFileSync(join(parent, 'store', '11'), 'utf8')).toBe('eleven');
    await until(() => /PUT \/v1\/cache\/11 200/.test(stdout), 'the request log line');
  }, 60_000);

  it.each([
    ['without a token', ['--dir', 'x'], {}, /LRSCAPE_CACHE_TOKEN is not set/],
    ['without --dir', ['--port', '0'], { LRSCAPE_CACHE_TOKEN: TOKEN }, /option --dir is required/],
    ['with a bad port', ['--dir', 'x', '--port', 'eighty'], { LRSCAPE_CACHE_TOKEN: TOKEN }, /option --port: "eighty" is not a whole number/],
  ])('refuses to start %s, saying why', async (_, args, env, message) => {
    const child = spawn(tsx, [main, ...args], { env: { ...process.env, LRSCAPE_CACHE_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  }, 60_000);
});

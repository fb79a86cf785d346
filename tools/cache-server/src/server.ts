/**
 * A reference server for Nx's self-hosted remote cache API, for tests and small labs: one directory of
 * artifacts, one read-write token (and optionally a read-only one), node:http only.
 *
 * The protocol, as Nx 23's own client speaks it (`HttpRemoteCache`, nrwl/nx
 * packages/nx/src/native/cache/http_remote_cache.rs and errors.rs; the OpenAPI spec at
 * nx.dev/docs/kb/self-hosted-caching):
 * - every request carries `Authorization: Bearer <NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN>`;
 * - `GET /v1/cache/{hash}` (Accept: application/octet-stream): 200 with the artifact (a gzipped tarball that
 *   Nx builds and unpacks; opaque here) or 404 for a miss; any other status fails the Nx command;
 * - `PUT /v1/cache/{hash}` (Content-Type: application/octet-stream, Content-Length set): 200 stored; 409
 *   (already there) and 403 (not allowed, e.g. a read-only token) are taken as "not stored" without failing
 *   the command; any other status fails it;
 * - a 401 must be `text/plain`, or Nx reports a misconfigured endpoint instead of the server's message.
 *
 * What this server guarantees on top: a hash names its content, so an entry is written once and never
 * overwritten (a second PUT, or the losers of concurrent PUTs, get 409); an upload is written to a temporary
 * file and linked into place only once every declared byte has arrived, so a truncated or aborted upload
 * stores nothing and a GET never sees a partial file; only plain names ([A-Za-z0-9_-]) that resolve inside
 * the directory are ever read or written.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, open, readdir, rm, stat, unlink, utimes } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface CacheServerOptions {
  /** Where the artifacts live: one file per hash. Created if missing. */
  directory: string;
  /** The read-write token (clients: NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN). */
  token: string;
  /** A token that may only read (a PUT with it gets 403, which Nx takes as "not stored"). */
  readOnlyToken?: string;
  /** Largest upload accepted, in bytes (413 above it). */
  maxUploadBytes?: number;
  /** One line per request; stdout by default. */
  log?: (line: string) => void;
}

export interface CacheServer {
  server: Server;
  directory: string;
  /** Starts listening; resolves to the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3;
const ROUTE = '/v1/cache/';
/** Uploads in progress; the leading dot keeps it out of the hash namespace. */
const INCOMING = '.incoming';
/** A temporary upload older than this belongs to a dead writer and is removed at start. */
const STALE_UPLOAD_MS = 60 * 60 * 1000;

/** A name Nx could have produced (its hashes are decimal digits): nothing that could leave the directory. */
export function isPlainHash(name: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(name);
}

/** Constant-time token comparison (digests first, so the length does not leak either). */
export function tokenMatches(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

type Access = 'read-write' | 'read-only' | 'none';

/** What a request came to: its status (null: the client went away first) and the body bytes moved. */
interface Outcome {
  status: number | null;
  bytes: number;
  note?: string;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createCacheServer(options: CacheServerOptions): CacheServer {
  if (!options.token) throw new Error('cache server: the read-write token is empty');
  if (options.readOnlyToken !== undefined && !options.readOnlyToken) throw new Error('cache server: the read-only token is empty');
  const directory = resolve(options.directory);
  const incoming = join(directory, INCOMING);
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const log = options.log ?? ((line: string) => console.log(line));

  const access = (req: IncomingMessage): Access => {
    const match = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return 'none';
    // Both comparisons always run, so the timing does not say which token matched.
    const readWrite = tokenMatches(match[1], options.token);
    const readOnly = options.readOnlyToken !== undefined && tokenMatches(match[1], options.readOnlyToken);
    return readWrite ? 'read-write' : readOnly ? 'read-only' : 'none';
  };

  /** The file of a hash, or a refusal: a plain name whose resolved path sits directly in the directory. */
  const entryPath = (hash: string): string => {
    const path = resolve(directory, hash);
    if (!isPlainHash(hash) || dirname(path) !== directory) throw new Refusal(400, `not a cache hash: ${JSON.stringify(hash.slice(0, 80))}`);
    return path;
  };

  async function retrieve(hash: string, res: ServerResponse): Promise<Outcome> {
    const path = entryPath(hash);
    let file;
    try {
      file = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Refusal(404, 'Not found');
      throw error;
    }
    let size: number;
    try {
      // The entry was linked into place complete and is never rewritten, so the open file is whole.
      const info = await file.stat();
      if (!info.isFile()) throw new Refusal(404, 'Not found');
      size = info.size;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
      await pipeline(file.createReadStream({ autoClose: false }), res);
    } finally {
      await file.close();
    }
    // Last use, for pruning by age (`find DIR -maxdepth 1 -type f -mtime +N -delete`).
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return { status: 200, bytes: size };
  }

  async function store(hash: string, req: IncomingMessage, res: ServerResponse): Promise<Outcome> {
    const path = entryPath(hash);
    const header = req.headers['content-length'];
    if (header === undefined) throw new Refusal(411, 'Content-Length is required');
    if (!/^\d+$/.test(header)) throw new Refusal(400, 'Invalid Content-Length');
    const declared = Number(header);
    if (declared > maxUploadBytes) throw new Refusal(413, `upload of ${declared} bytes exceeds the limit of ${maxUploadBytes}`);
    if (await exists(path)) throw new Refusal(409, 'Cannot override an existing record');

    const temporary = join(incoming, `${hash}.${process.pid}-${randomBytes(6).toString('hex')}`);
    let received = 0;
    try {
      const file = await open(temporary, 'wx');
      try {
        for await (const chunk of req as AsyncIterable<Buffer>) {
          received += chunk.length;
          if (received > declared) throw new Refusal(400, `body longer than its Content-Length (${declared})`);
          await file.write(chunk);
        }
        if (!req.complete || received !== declared) {
          throw new Refusal(400, `truncated upload: ${received} of ${declared} bytes`);
        }
        await file.sync();
      } finally {
        await file.close();
      }
      // link() never replaces an existing name: of concurrent uploads of one hash exactly one wins.
      try {
        await link(temporary, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Refusal(409, 'Cannot override an existing record');
        throw error;
      }
    } catch (error) {
      // An aborted request surfaces as a stream error; whatever it was, nothing half-written stays.
      if (!(error instanceof Refusal) && !req.complete) throw new Refusal(400, `truncated upload: ${received} of ${declared} bytes (${(error as Error).message})`);
      throw error;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    sendText(res, 200, 'Stored');
    return { status: 200, bytes: received };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<Outcome> {
    // The raw path, not a URL-normalised one: `..` or `%2e%2e` must be refused, not resolved.
    const path = (req.url ?? '').split('?')[0];
    if (!path.startsWith(ROUTE)) throw new Refusal(404, 'Not found');
    const granted = access(req);
    if (granted === 'none') throw new Refusal(401, 'Unauthorized: missing or wrong access token');
    const hash = path.slice(ROUTE.length);
    if (req.method === 'GET') return retrieve(hash, res);
    if (req.method === 'PUT') {
      if (granted !== 'read-write') throw new Refusal(403, 'Access forbidden: this token may only read');
      return store(hash, req, res);
    }
    res.setHeader('Allow', 'GET, PUT');
    throw new Refusal(405, 'Method not allowed');
  }

  const server = createServer({ requestTimeout: 30 * 60 * 1000 }, (req, res) => {
    const started = performance.now();
    const client = req.socket.remoteAddress ?? '-';
    handle(req, res)
      .catch((error: unknown): Outcome => {
        const status = error instanceof Refusal ? error.status : 500;
        const message = error instanceof Refusal ? error.message : `Internal error: ${(error as Error).message}`;
        if (res.headersSent || res.destroyed || req.socket.destroyed) {
          res.destroy();
          return { status: null, bytes: 0, note: message };
        }
        // A refused upload's unread body is not drained: close the connection after answering.
        if (req.method === 'PUT' && !req.complete) res.setHeader('Connection', 'close');
        sendText(res, status, message);
        return { status, bytes: 0, note: status >= 500 || status === 400 || status === 413 ? message : undefined };
      })
      .then((outcome) => {
        const ms = (performance.now() - started).toFixed(0);
        const status = outcome.status ?? 'aborted';
        const note = outcome.note ? ` (${outcome.note})` : '';
        log(`${new Date().toISOString()} ${client} ${req.method} ${(req.url ?? '').slice(0, 200)} ${status} ${outcome.bytes} B ${ms} ms${note}`);
      });
  });

  return {
    server,
    directory,
    async listen(port, host = '127.0.0.1') {
      await mkdir(incoming, { recursive: true });
      await removeStaleUploads(incoming);
      await new Promise<void>((done, fail) => {
        server.once('error', fail);
        server.listen(port, host, () => {
          server.off('error', fail);
          done();
        });
      });
      return (server.address() as AddressInfo).port;
    },
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((error) => (error ? fail(error) : done()));
        server.closeAllConnections();
      }),
  };
}

function sendText(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(message) });
  res.end(message);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

async function removeStaleUploads(incoming: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(incoming)) {
    const path = join(incoming, name);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_UPLOAD_MS) await rm(path, { force: true, recursive: true });
  }
}

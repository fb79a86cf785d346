/**
 * A cache shared across machines (README, "Team scale"): two fresh workspaces made from the same sources,
 * each with a local Nx cache of its own (NX_CACHE_DIRECTORY), and one reference cache server
 * (tools/cache-server) that both reach through Nx's self-hosted remote cache. The first analyze of a tiny
 * experiment computes every task and uploads each result; the second workspace's analyze runs nothing —
 * Nx restores every task from the server (`[remote cache]`) — and its tables are the first's byte for byte.
 * Then the README's warning: with a wrong token, or no server at the address, the command fails.
 *
 * The server runs as its own process, as a lab would run it (and because the workspaces' nx runs are
 * spawned synchronously: a server inside this process could not answer them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTable } from '@lrscape/artifacts';
import { createScratchWorkspace, type NxResult, type ScratchWorkspace } from './testing/scratch-workspace';

/** A reduced W-reg (1-8-1 tanh MLP), two η, a few hundred steps: seconds per task. */
const tiny = {
  title: 'Tiny, shared',
  description: 'A reduced W-reg for the shared-cache test.',
  dataset: { kind: 'wreg', n: 40, noise: 0.1, seed: 1 },
  model: { hidden: [8], activation: 'tanh', loss: 'mse' },
  training: { steps: 300, checkpointEvery: 100, sharpnessEvery: 10, testEvery: 50 },
  grid: { etas: [0.02, 0.1] },
  hessian: { topK: 3, maxIterations: 20, kLayers: [1] },
};

/** Every task of the graph, as Nx names them: the nine that compute and the two no-op `analyze` targets. */
const EVERY_TASK_ID = [
  'reports:analyze',
  'reports:index',
  'tiny-eta-0.02:hessian',
  'tiny-eta-0.02:train',
  'tiny-eta-0.1:hessian',
  'tiny-eta-0.1:train',
  'tiny:aggregate',
  'tiny:analyze',
  'tiny:prepare',
  'tiny:report',
  'tiny:verify',
];
const NO_OPS = ['reports:analyze', 'tiny:analyze'];
const TOKEN = 'lrscape-remote-cache-test-token';
const repo = resolve(import.meta.dirname, '../../..');

let server: ChildProcess;
let serverUrl: string;
let serverLog = '';
let storeDir: string;
const scratch: string[] = [];
/** The workspaces, all copies of one set of sources taken before anything ran in any of them. */
let first: ScratchWorkspace;
let second: ScratchWorkspace;
let wrongToken: ScratchWorkspace;
let unreachable: ScratchWorkspace;
let firstRun: NxResult;

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};

/** A workspace's nx talks to the shared server and keeps its own local cache (outside the workspace). */
function useSharedCache(workspace: ScratchWorkspace, label: string): ScratchWorkspace {
  workspace.env.NX_CACHE_DIRECTORY = tempDir(`lrscape-remote-${label}-cache-`);
  workspace.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER = serverUrl;
  workspace.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN = TOKEN;
  return workspace;
}

const analyze = (workspace: ScratchWorkspace, env: Record<string, string> = {}) => workspace.nxWith(env, 'run-many', '-t', 'analyze', '--output-style=static');
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');
/** The tasks Nx reports as it processes them (`> nx run <id>`, with `[local cache]` / `[remote cache]` on a hit). */
const reportedTasks = (result: NxResult) =>
  [...plain(result.stdout).matchAll(/^> nx run (\S+)(?:\s+\[(local cache|remote cache)\])?$/gm)].map((m) => ({ id: m[1], from: m[2] ?? 'ran' }));
const filesIn = (workspace: ScratchWorkspace, dir: string) => readdirSync(join(workspace.root, dir)).sort();
const storedEntries = () => readdirSync(storeDir).filter((name) => name !== '.incoming');

beforeAll(async () => {
  storeDir = join(tempDir('lrscape-remote-store-'), 'store');
  server = spawn(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'tools/cache-server/src/main.ts'), '--dir', storeDir, '--port', '0'], {
    env: { ...process.env, LRSCAPE_CACHE_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d) => (serverLog += d));
  server.stderr!.on('data', (d) => (serverLog += d));
  const deadline = Date.now() + 60_000;
  while (!/listening on (http:\/\/\S+),/.test(serverLog)) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`the cache server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  serverUrl = /listening on (http:\/\/\S+),/.exec(serverLog)![1];

  const sources = createScratchWorkspace('lrscape-remote-a-');
  sources.writeExperiment('tiny', tiny);
  // Copies taken now, before any run: the same sources in each, whatever else changes in the checkout.
  first = useSharedCache(sources, 'a');
  second = useSharedCache(sources.clone('lrscape-remote-b-'), 'b');
  wrongToken = useSharedCache(sources.clone('lrscape-remote-c-'), 'c');
  unreachable = useSharedCache(sources.clone('lrscape-remote-d-'), 'd');
  firstRun = analyze(first);
}, 300_000);

afterAll(() => {
  server?.kill();
  for (const workspace of [first, second, wrongToken, unreachable]) workspace?.dispose();
  if (!process.env.LRSCAPE_KEEP_E2E) for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('a cache shared through Nx’s self-hosted remote cache and the reference server', () => {
  it('computes every task in the first workspace and uploads each result to the server', async () => {
    expect(firstRun.status, plain(firstRun.stdout + firstRun.stderr)).toBe(0);
    expect(firstRun.tasks).toEqual(['aggregate tiny', 'hessian tiny eta-0.02', 'hessian tiny eta-0.1', 'prepare tiny', 'report tiny', 'site', 'train tiny eta-0.02', 'train tiny eta-0.1', 'verify tiny']);
    const ran = reportedTasks(firstRun);
    expect(ran.map((t) => t.id).sort()).toEqual(EVERY_TASK_ID.filter((id) => !NO_OPS.includes(id)));
    expect(ran.map((t) => t.from)).toEqual(ran.map(() => 'ran'));
    // One stored artifact per task of the graph (the no-op analyze targets are cached too), each uploaded
    // once and accepted: no refusal in the server's log.
    expect(storedEntries()).toHaveLength(EVERY_TASK_ID.length);
    // The server's log reaches this process once its event loop runs again (nx ran synchronously).
    const putLines = () => serverLog.match(/ PUT \S+ /g)?.length ?? 0;
    for (let waited = 0; putLines() < EVERY_TASK_ID.length && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(serverLog.match(/ PUT \/v1\/cache\/\d+ 200 /g)).toHaveLength(EVERY_TASK_ID.length);
    expect(serverLog).not.toMatch(/ PUT \S+ (4\d\d|5\d\d|aborted) /);
  });

  it('runs nothing in a second fresh workspace: every task is restored from the server, and the tables are the same bytes', async () => {
    const result = analyze(second);
    expect(result.status, plain(result.stdout + result.stderr)).toBe(0);
    expect(result.tasks).toEqual([]);
    const restored = reportedTasks(result);
    expect(restored.map((t) => t.id).sort()).toEqual(EVERY_TASK_ID);
    expect(restored.map((t) => t.from)).toEqual(restored.map(() => 'remote cache'));

    for (const dir of ['artifacts/tiny/tables', 'artifacts/tiny/claims']) {
      const files = filesIn(first, dir);
      expect(filesIn(second, dir), dir).toEqual(files);
      expect(files.filter((f) => f.endsWith('.arrow')).length, dir).toBeGreaterThan(0);
      for (const file of files) {
        const bytes = (workspace: ScratchWorkspace) => readFileSync(join(workspace.root, dir, file));
        expect(bytes(second).equals(bytes(first)), `${dir}/${file}`).toBe(true);
      }
    }
    expect(filesIn(first, 'artifacts/tiny/tables')).toEqual(expect.arrayContaining(['runs.arrow', 'spectra.arrow', 'steps.arrow']));
    const runs = (await readTable(join(second.root, 'artifacts/tiny/tables/runs.arrow'), 'runs')).rows;
    expect(runs.map((r) => [r.run, r.steps, r.diverged])).toEqual([
      ['eta-0.02', 300, false],
      ['eta-0.1', 300, false],
    ]);
    expect(readFileSync(join(second.root, 'reports/tiny/index.html'), 'utf8')).toContain('Tiny, shared');
  }, 300_000);

  it('fails the command when the token is wrong (a task missing locally asks the server, which refuses it)', () => {
    const before = storedEntries();
    const result = analyze(wrongToken, { NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: 'not-the-token' });
    expect(result.status).toBe(1);
    expect(plain(result.stdout + result.stderr)).toMatch(/Unauthorized: missing or wrong access token/);
    expect(result.tasks).toEqual([]);
    expect(storedEntries()).toEqual(before);
  }, 300_000);

  it('fails the command when no server answers at the address', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    const port = await new Promise<number>((done) => probe.listen(0, '127.0.0.1', () => done((probe.address() as { port: number }).port)));
    await new Promise((done) => probe.close(done));
    const result = analyze(unreachable, { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: `http://127.0.0.1:${port}` });
    expect(result.status).toBe(1);
    expect(plain(result.stdout + result.stderr)).toMatch(new RegExp(`error sending request for url \\(http://127\\.0\\.0\\.1:${port}/v1/cache/\\d+\\)`));
    expect(result.tasks).toEqual([]);
  }, 300_000);
});

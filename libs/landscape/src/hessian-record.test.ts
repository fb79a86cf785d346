import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHessianRecord, writeHessianRecord, type HessianRecord } from './hessian-record';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lrscape-hessian-record-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const record: HessianRecord = {
  run: 'eta-0.05',
  backend: 'wasm',
  settings: { topK: 10 },
  examples: 160,
  totalHvps: 42,
  seconds: 1, lightSeconds: 1.5,
  checkpoints: [{ step: 0, reason: 'cadence', scopes: [{ scope: 'full', basisOperatorCalls: 30, hvps: 40, converged: true, m: 2 }] }],
};

describe('hessian.json', () => {
  it('round-trips', async () => {
    await writeHessianRecord(dir, record);
    expect(await readHessianRecord(dir)).toEqual(record);
  });

  it('names the file and the field of a malformed or older record', async () => {
    const older = { ...record, checkpoints: [{ step: 0, reason: 'cadence', scopes: [{ scope: 'full', iterations: 30, hvps: 40, converged: true, m: 2 }] }] };
    await writeFile(join(dir, 'hessian.json'), JSON.stringify(older));
    await expect(readHessianRecord(dir)).rejects.toThrow(/hessian\.json: field `checkpoints\.0\.scopes\.0/);
    await writeFile(join(dir, 'hessian.json'), '{"run": "x"');
    await expect(readHessianRecord(dir)).rejects.toThrow(/hessian\.json: not valid JSON/);
    await expect(writeHessianRecord(dir, { ...record, totalHvps: -1 })).rejects.toThrow();
  });
});

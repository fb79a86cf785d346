/**
 * `reports:index` — reports/index.html across experiments; experiments left out of the graph (an optional
 * experiment without its data) are listed with the reason.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readTable } from '@lrscape/artifacts';
import { renderSiteIndex, type SiteIndexEntry } from '@lrscape/report';
import { experimentDataStatus } from '../data-status';
import { loadExperiment } from '../experiment-config';
import { codeVersion, experimentFile, experimentPaths, runStage, workspaceRoot } from './common';

runStage('site', async () => {
  const names = readdirSync(join(workspaceRoot, 'pipelines')).filter((n) => existsSync(experimentFile(n))).sort();
  const entries: SiteIndexEntry[] = [];
  for (const name of names) {
    const experiment = loadExperiment(experimentFile(name));
    const status = experimentDataStatus(experiment);
    const base = { experiment: name, title: experiment.config.title, href: `${name}/index.html`, summary: experiment.config.description };
    if (!status.available) {
      entries.push({ ...base, status: 'skipped', reason: status.reason ?? 'data absent' });
      continue;
    }
    const claimsFile = join(experimentPaths(name).claims, 'claims.arrow');
    const claims = existsSync(claimsFile) ? (await readTable(claimsFile, 'claims')).rows : [];
    entries.push({
      ...base,
      status: 'ok',
      claims: { pass: claims.filter((c) => c.verdict === 'pass').length, fail: claims.filter((c) => c.verdict === 'fail').length },
    });
  }
  const reports = join(workspaceRoot, 'reports');
  await mkdir(reports, { recursive: true });
  await writeFile(join(reports, 'index.html'), renderSiteIndex(entries, { generatedAt: new Date().toISOString(), codeVersion: codeVersion() }));
  console.log(`site index: ${entries.length} experiments → ${join(reports, 'index.html')}`);
});

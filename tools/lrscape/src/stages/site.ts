/**
 * `reports:index` — reports/index.html across experiments. The experiments the graph left out (an opt-in
 * tier not selected by LRSCAPE_TIER, an optional experiment without its data) are listed with the reason
 * and, where a switch is all it takes, the command that builds them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readTable } from '@lrscape/artifacts';
import { renderSiteIndex, type SiteIndexEntry } from '@lrscape/report';
import { experimentDataStatus } from '../data-status';
import { loadExperiment, type Experiment } from '../experiment-config';
import { selectExperiments, TIER_ENV } from '../targets';
import { codeVersion, experimentFile, experimentPaths, runStage, workspaceRoot } from './common';

runStage('site', async () => {
  const names = readdirSync(join(workspaceRoot, 'pipelines')).filter((n) => existsSync(experimentFile(n))).sort();
  const experiments = names.map((name) => loadExperiment(experimentFile(name)));
  // The same selection as the plugin's, so the index lists exactly what the graph built.
  const { included, leftOut } = selectExperiments(experiments, { tier: process.env[TIER_ENV], dataStatus: experimentDataStatus });
  const base = (experiment: Experiment) => ({
    experiment: experiment.name,
    title: experiment.config.title,
    href: `${experiment.name}/index.html`,
    summary: experiment.config.description,
  });
  const entries: SiteIndexEntry[] = [];
  for (const experiment of included) {
    const claimsFile = join(experimentPaths(experiment.name).claims, 'claims.arrow');
    const claims = existsSync(claimsFile) ? (await readTable(claimsFile, 'claims')).rows : [];
    entries.push({
      ...base(experiment),
      status: 'ok',
      claims: { pass: claims.filter((c) => c.verdict === 'pass').length, fail: claims.filter((c) => c.verdict === 'fail').length },
    });
  }
  for (const { experiment, reason, command } of leftOut) entries.push({ ...base(experiment), status: 'skipped', reason, ...(command ? { command } : {}) });
  entries.sort((a, b) => a.experiment.localeCompare(b.experiment));
  const reports = join(workspaceRoot, 'reports');
  await mkdir(reports, { recursive: true });
  await writeFile(join(reports, 'index.html'), renderSiteIndex(entries, { generatedAt: new Date().toISOString(), codeVersion: codeVersion() }));
  console.log(`site index: ${included.length} experiments, ${leftOut.length} left out → ${join(reports, 'index.html')}`);
});

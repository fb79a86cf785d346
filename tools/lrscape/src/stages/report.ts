/**
 * `<exp>:report` — the experiment's static page, figures rendered to inline SVG at build time, with the
 * Arrow tables copied beside it for download (reports/<exp>/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTable, verifyManifest, type TableName, type TableRow } from '@lrscape/artifacts';
import { readDataset } from '@lrscape/data';
import { writeExperimentReport } from '@lrscape/report';
import { codeVersion, experimentPaths, loadStageExperiment, runStage, workspaceRoot } from './common';

const versionOf = (pkg: string): string => {
  try {
    return (JSON.parse(readFileSync(join(workspaceRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'absent';
  }
};

runStage('report', async ([name]) => {
  const experiment = loadStageExperiment(name);
  const paths = experimentPaths(experiment.name);
  await verifyManifest(paths.tables);
  await verifyManifest(paths.claims);
  await verifyManifest(paths.data);
  const table = async <N extends TableName>(t: N): Promise<TableRow<N>[]> => (await readTable(join(paths.tables, `${t}.arrow`), t)).rows;
  const runs = await readTable(join(paths.tables, 'runs.arrow'), 'runs');
  const { dataset } = await readDataset(join(paths.data, 'test.arrow'));
  const files = [
    ...readdirSync(paths.tables).filter((f) => f.endsWith('.arrow')).map((f) => ({ name: f, sourcePath: join(paths.tables, f) })),
    { name: 'claims.arrow', sourcePath: join(paths.claims, 'claims.arrow') },
  ];
  await writeExperimentReport(
    paths.report,
    {
      experiment: experiment.name,
      title: experiment.config.title,
      description: experiment.config.description,
      runs: runs.rows,
      steps: await table('steps'),
      spectra: await table('spectra'),
      claims: (await readTable(join(paths.claims, 'claims.arrow'), 'claims')).rows,
      instabilities: await table('instabilities'),
      instabilitySensitivity: await table('instability_sensitivity'),
      powerCheck: await table('power_check'),
      longHorizon: await table('long_horizon'),
      highlightRun: typeof experiment.config.report.highlightRun === 'string' ? experiment.config.report.highlightRun : undefined,
      density: await table('density'),
      trace: await table('trace'),
      overlaps: await table('overlaps'),
      shiftWindows: await table('shift_windows'),
      matchedTime: await table('matched_time'),
      cyclic: await table('cyclic'),
      cyclicTrends: await table('cyclic_trends'),
      displacement: await table('displacement'),
      flattening: await table('flattening'),
      dropFamilies: await table('drop_families'),
      effective: await table('effective'),
      perturbations: await table('perturbations'),
      klayer: await table('klayer'),
      cooling: await table('cooling'),
      coolingInstabilities: await table('cooling_instabilities'),
      classes: dataset.task === 'classification' ? dataset.outputDim : undefined,
      config: experiment.config,
      provenance: {
        codeVersion: codeVersion(),
        backend: runs.metadata.backend,
        generatedAt: new Date().toISOString(),
        versions: Object.fromEntries(['@tensorflow/tfjs', 'apache-arrow', '@observablehq/plot', 'nx'].map((p) => [p, versionOf(p)])),
        timings: Object.fromEntries(runs.rows.map((r) => [`train ${r.run}`, r.seconds])),
      },
      downloads: files.map((f) => ({ label: f.name, href: `data/${f.name}` })),
    },
    files,
  );
  console.log(`${experiment.name}: report at ${join(paths.report, 'index.html')}`);
});

/**
 * `<exp>:report` — the experiment's static page, figures rendered to inline SVG at build time, with the
 * Arrow tables copied beside it for download (reports/<exp>/).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readTable, verifyManifest } from '@lrscape/artifacts';
import { writeExperimentReport } from '@lrscape/report';
import { codeVersion, experimentPaths, loadStageExperiment, runStage, workspaceRoot } from './common';
import { readFileSync } from 'node:fs';

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
  const table = <N extends 'runs' | 'steps' | 'spectra'>(t: N) => readTable(join(paths.tables, `${t}.arrow`), t);
  const [runs, steps, spectra, claims] = await Promise.all([
    table('runs'),
    table('steps'),
    table('spectra'),
    readTable(join(paths.claims, 'claims.arrow'), 'claims'),
  ]);
  const files = [
    ...readdirSync(paths.tables).filter((f) => f.endsWith('.arrow')).map((f) => ({ name: f, sourcePath: join(paths.tables, f) })),
    { name: 'claims.arrow', sourcePath: join(paths.claims, 'claims.arrow') },
  ];
  const timings = Object.fromEntries(runs.rows.map((r) => [`train ${r.run}`, r.seconds]));
  await writeExperimentReport(
    paths.report,
    {
      experiment: experiment.name,
      title: experiment.config.title,
      description: experiment.config.description,
      runs: runs.rows,
      steps: steps.rows,
      spectra: spectra.rows,
      claims: claims.rows,
      config: experiment.config,
      provenance: {
        codeVersion: codeVersion(),
        backend: runs.metadata.backend,
        generatedAt: new Date().toISOString(),
        versions: Object.fromEntries(['@tensorflow/tfjs', 'apache-arrow', '@observablehq/plot', 'nx'].map((p) => [p, versionOf(p)])),
        timings,
      },
      downloads: files.map((f) => ({ label: f.name, href: `data/${f.name}` })),
    },
    files,
  );
  console.log(`${experiment.name}: report at ${join(paths.report, 'index.html')}`);
});

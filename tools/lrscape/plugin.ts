/**
 * Nx local plugin: infers the lrscape task graph from `pipelines/<exp>/experiment.json` (DESIGN §3).
 * All the logic is in src/targets.ts (pure, tested); this file only wires it in.
 */
import { join } from 'node:path';
import type { CreateNodes, CreateNodesResult } from 'nx/src/project-graph/plugins/public-api';
import { loadExperiment, type Experiment } from './src/experiment-config';
import { experimentDataStatus } from './src/data-status';
import { experimentProject, runProject, siteProject } from './src/targets';

export const createNodes: CreateNodes = [
  'pipelines/*/experiment.json',
  (files, _options, context) => {
    const experiments: [string, Experiment][] = [];
    for (const file of files) {
      // An invalid file stops the graph with an error naming the file and the field.
      const experiment = loadExperiment(join(context.workspaceRoot, file));
      experiment.file = file;
      if (experimentDataStatus(experiment).available || !experiment.config.optional) {
        experiments.push([file, experiment]);
      }
    }
    const results: [string, CreateNodesResult][] = experiments.map(([file, experiment]) => {
      const projects = [experimentProject(experiment), ...experiment.runs.map((run) => runProject(experiment, run))];
      return [file, { projects: Object.fromEntries(projects.map((p) => [p.root, p])) }];
    });
    const site = siteProject(experiments.map(([, e]) => e.name));
    results.push(['nx.json', { projects: { [site.root]: site } }]);
    return results;
  },
];

export const createNodesV2 = createNodes;

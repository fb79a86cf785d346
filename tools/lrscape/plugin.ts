/**
 * Nx local plugin: infers the lrscape task graph from `pipelines/<exp>/experiment.json` (docs/architecture.md, "The task graph").
 * All the logic is in src/targets.ts (pure, tested); this file only wires it in.
 */
import { join } from 'node:path';
import type { CreateNodes, CreateNodesResult } from 'nx/src/project-graph/plugins/public-api';
import { loadExperiment, type Experiment } from './src/experiment-config';
import { experimentDataStatus } from './src/data-status';
import { coolingProjects, dropFamilyProjects, experimentProject, runProject, selectExperiments, siteProject, TIER_ENV } from './src/targets';

export const createNodes: CreateNodes = [
  'pipelines/*/experiment.json',
  (files, _options, context) => {
    const experiments: Experiment[] = files.map((file) => {
      // An invalid file stops the graph with an error naming the file and the field.
      const experiment = loadExperiment(join(context.workspaceRoot, file));
      experiment.file = file;
      return experiment;
    });
    // Opt-in tiers and optional experiments without their data stay out (the site index lists them).
    const { included } = selectExperiments(experiments, { tier: process.env[TIER_ENV], dataStatus: experimentDataStatus });
    const results: [string, CreateNodesResult][] = included.map((experiment) => {
      const projects = [experimentProject(experiment), ...experiment.runs.map((run) => runProject(experiment, run)), ...coolingProjects(experiment), ...dropFamilyProjects(experiment)];
      return [experiment.file, { projects: Object.fromEntries(projects.map((p) => [p.root, p])) }];
    });
    const site = siteProject(included.map((e) => e.name));
    results.push(['nx.json', { projects: { [site.root]: site } }]);
    return results;
  },
];

export const createNodesV2 = createNodes;

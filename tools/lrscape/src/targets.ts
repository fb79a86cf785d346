/**
 * experiment.json → Nx projects and targets, as a pure function (tested without running Nx; the plugin
 * only wires it in). One project per experiment (prepare, aggregate, verify, report, analyze) and one per
 * run (train, hessian), because Nx folds a project's whole configuration into the hash of each of its
 * tasks (DESIGN §3). Commands never carry settings: each task's config slice enters its hash as a
 * `runtime` input whose command names the slice's hash; inputs are not part of the project hash.
 */
import type { Experiment, RunSpec } from './experiment-config';
import { sliceHash, stageSlices } from './experiment-config';

type Input = string | { runtime: string } | { env: string } | { externalDependencies: string[] } | { dependentTasksOutputFiles: string; transitive?: boolean };
type DependsOn = string | { projects?: string[]; target: string };

export interface TargetConfig {
  command?: string;
  executor?: string;
  cache: boolean;
  inputs?: Input[];
  outputs?: string[];
  dependsOn?: DependsOn[];
  metadata?: { description: string };
  options?: Record<string, unknown>;
}

export interface ProjectConfig {
  name: string;
  root: string;
  tags: string[];
  targets: Record<string, TargetConfig>;
}

const STAGE_LIBS = {
  prepare: ['linalg', 'data', 'artifacts'],
  train: ['linalg', 'engine', 'data', 'train', 'artifacts'],
  hessian: ['linalg', 'engine', 'data', 'train', 'landscape', 'artifacts'],
  aggregate: ['linalg', 'engine', 'train', 'landscape', 'artifacts'],
  verify: ['linalg', 'data', 'landscape', 'artifacts'],
  report: ['linalg', 'data', 'report', 'artifacts'],
  site: ['linalg', 'data', 'report', 'artifacts'],
} as const;
export type Stage = keyof typeof STAGE_LIBS;
export const STAGES = Object.keys(STAGE_LIBS) as Stage[];
export const stageLibs = (stage: Stage): readonly string[] => STAGE_LIBS[stage];

/** Source of the libs and the stage script a stage runs, tests excluded (a new test reruns nothing). */
export function codeInputs(stage: Stage): Input[] {
  const libs = STAGE_LIBS[stage].flatMap((lib) => [
    `{workspaceRoot}/libs/${lib}/src/**/*.ts`,
    `!{workspaceRoot}/libs/${lib}/src/**/*.test.ts`,
  ]);
  return [
    ...libs,
    `{workspaceRoot}/tools/lrscape/src/stages/${stage}.ts`,
    '{workspaceRoot}/tools/lrscape/src/stages/common.ts',
    '{workspaceRoot}/tools/lrscape/src/experiment-config.ts',
    ...(stage === 'site' ? ['{workspaceRoot}/tools/lrscape/src/data-status.ts'] : []),
    { externalDependencies: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'apache-arrow', '@observablehq/plot', 'zod'] },
  ];
}

/** The engine that will run a compute task: a GPU result is never served to a CPU run, nor the reverse. */
const BACKEND_INPUTS: Input[] = [
  { env: 'LRSCAPE_BACKEND' },
  // Row sums split over worker threads change the last float32 bits: part of the result's identity too.
  { env: 'LRSCAPE_WORKERS' },
  { runtime: 'node tools/lrscape/bin/backend-fingerprint.mjs' },
];

const sliceInput = (stage: string, slice: unknown): Input => ({ runtime: `echo lrscape-${stage}-slice ${sliceHash(slice)}` });
const upstreamOutputs: Input = { dependentTasksOutputFiles: '**/*', transitive: true };
const stageCommand = (stage: Stage, ...args: string[]) => `tsx tools/lrscape/src/stages/${stage}.ts ${args.join(' ')}`;

export const runProjectName = (experiment: string, run: RunSpec) => `${experiment}-${run.slug}`;

export function runProject(experiment: Experiment, run: RunSpec): ProjectConfig {
  const slices = stageSlices(experiment, run);
  const name = experiment.name;
  return {
    name: runProjectName(name, run),
    root: `pipelines/${name}/runs/${run.slug}`,
    tags: [`lrscape:run`, `lrscape:experiment:${name}`],
    targets: {
      train: {
        command: stageCommand('train', name, run.slug),
        cache: true,
        dependsOn: [{ projects: [name], target: 'prepare' }],
        inputs: [sliceInput('train', slices.train), ...BACKEND_INPUTS, ...codeInputs('train'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/runs/${run.slug}`],
        metadata: { description: `Full-batch GD of ${name}, run ${run.slug}, with checkpoints and sharpness` },
      },
      hessian: {
        command: stageCommand('hessian', name, run.slug),
        cache: true,
        dependsOn: ['train'],
        inputs: [sliceInput('hessian', slices.hessian), ...BACKEND_INPUTS, ...codeInputs('hessian'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/hessian/${run.slug}`],
        metadata: { description: `Top eigenpairs of the full and k-layer Hessians at each checkpoint of ${run.slug}` },
      },
    },
  };
}

export function experimentProject(experiment: Experiment): ProjectConfig {
  const slices = stageSlices(experiment);
  const name = experiment.name;
  const runProjects = experiment.runs.map((run) => runProjectName(name, run));
  return {
    name,
    root: `pipelines/${name}`,
    tags: ['lrscape:experiment'],
    targets: {
      prepare: {
        command: stageCommand('prepare', name),
        cache: true,
        inputs: [
          sliceInput('prepare', slices.prepare),
          ...codeInputs('prepare'),
          // Where CIFAR-10's files are read from, when the config leaves it to the environment.
          ...(experiment.config.dataset.kind === 'cifar10' ? [{ env: 'LRSCAPE_CIFAR10_DIR' }] : []),
        ],
        outputs: [`{workspaceRoot}/artifacts/${name}/data`],
        metadata: { description: `Dataset of ${name}: train/test tables in Arrow` },
      },
      aggregate: {
        command: stageCommand('aggregate', name),
        cache: true,
        dependsOn: [{ projects: runProjects, target: 'hessian' }],
        inputs: [sliceInput('aggregate', slices.aggregate), ...codeInputs('aggregate'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/tables`],
        metadata: { description: `Tidy Arrow tables of ${name} (DESIGN §6)` },
      },
      verify: {
        command: stageCommand('verify', name),
        cache: true,
        dependsOn: ['aggregate'],
        inputs: [sliceInput('verify', slices.aggregate), ...codeInputs('verify'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/claims`],
        metadata: { description: `Reproduction checks of ${name} on its real outputs, recorded for the report` },
      },
      report: {
        command: stageCommand('report', name),
        cache: true,
        dependsOn: ['aggregate', 'verify'],
        inputs: [sliceInput('report', slices.report), ...codeInputs('report'), upstreamOutputs],
        outputs: [`{workspaceRoot}/reports/${name}`],
        metadata: { description: `Static report page of ${name}` },
      },
      analyze: {
        executor: 'nx:noop',
        cache: true,
        dependsOn: ['report', 'verify'],
        metadata: { description: `Everything of ${name}: data → runs → Hessians → tables → checks → report` },
      },
    },
  };
}

/** The site index; depends on every experiment's report but outputs only reports/index.html. */
export function siteProject(experiments: string[]): ProjectConfig {
  return {
    name: 'reports',
    root: 'tools/site',
    tags: ['lrscape:site'],
    targets: {
      index: {
        command: stageCommand('site'),
        cache: true,
        dependsOn: experiments.length ? [{ projects: experiments, target: 'report' }] : [],
        inputs: [
          '{workspaceRoot}/pipelines/*/experiment.json',
          ...codeInputs('site'),
          { dependentTasksOutputFiles: '**/index.html' },
        ],
        outputs: ['{workspaceRoot}/reports/index.html'],
        metadata: { description: 'reports/index.html across experiments' },
      },
      analyze: { executor: 'nx:noop', cache: true, dependsOn: ['index'] },
      publish: {
        command: 'tsx tools/lrscape/src/stages/publish.ts',
        cache: false,
        dependsOn: ['index'],
        metadata: { description: 'Copy the static site to --dest DIR, checking every link' },
      },
    },
  };
}

export function workspaceProjects(experiments: Experiment[]): ProjectConfig[] {
  return [
    ...experiments.flatMap((experiment) => [experimentProject(experiment), ...experiment.runs.map((run) => runProject(experiment, run))]),
    siteProject(experiments.map((e) => e.name)),
  ];
}

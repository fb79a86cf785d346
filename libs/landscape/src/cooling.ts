/**
 * Open question 2 of the paper, the cooling phase (docs/architecture.md, "Cooling"): each selected
 * instability of a run is replayed step by step from training's event-before checkpoint (the last loss
 * minimum before the rise) to its event-after checkpoint (the loss back under the pre-rise level), with the
 * training's own float32 update (the engine objective's gradient and gdStep, so the trajectory is the
 * trained one, checked against metrics.arrow step by step and against the event-after θ), and at every θ_t
 * the diagnostics are computed in float64 (Float64Mlp): the top four Hessian eigenvalues, the gap, u₁'s
 * alignment with ∇L, the displacement along u₁, its rotation, and the self-stabilisation terms with S = λ₁
 * (self-stabilisation.ts). Instabilities come from the run's event checkpoints, not from the analysis
 * thresholds, so changing those reruns no replay.
 */
import type { TableRow } from '@lrscape/artifacts';
import { dot, norm } from '@lrscape/linalg';
import { gdStep } from '@lrscape/train';
import { clusterGradient, topClusterSize, topEigenpairs } from './self-stabilisation';
import { formatInterval, signVerdict, tInterval } from './statistics';

export type CoolingRow = TableRow<'cooling'>;
export type CoolingInstabilityRow = TableRow<'cooling_instabilities'>;

/** How many top eigenvalues each step records (the table's lambda_1 … lambda_4). */
export const COOLING_EIGENVALUES = 4;

export interface CoolingSettings {
  /** Replay at most this many steps after the event-before checkpoint (longer instabilities are `truncated`). */
  maxSteps: number;
  /** Step ε of the second difference of gradients along u_i. */
  epsilon: number;
  /** λ_i with λ₁/λ_i below this join λ₁'s cluster (S becomes the cluster's trace). */
  gapRatio: number;
  /** Lanczos: relative residual estimate at which the top four have converged, and the cap on its HVPs. */
  tolerance: number;
  maxIterations: number;
}

/** The float64 model the diagnostics evaluate (Float64Mlp). */
export interface Float64Model {
  readonly size: number;
  lossAndGradient(theta: Float64Array): { loss: number; gradient: Float64Array };
  gradient(theta: Float64Array): Float64Array;
  hessianVector(theta: Float64Array, v: Float64Array): Float64Array;
}

/** The training objective the replay steps with (the engine's ModelObjective). */
export interface ReplayObjective {
  lossAndGradient(theta: Float32Array): Promise<{ loss: number; gradient: Float32Array }>;
}

/** An instability as training's event checkpoints mark it; index is 1-based in run order. */
export interface EventWindow {
  index: number;
  /** Step of the event-before checkpoint (null: it coincided with an earlier checkpoint and kept that reason). */
  before: number | null;
  /** Step of the event-after checkpoint (null: the run ended before the loss recovered). */
  after: number | null;
}

/**
 * The instabilities of a run from its checkpoint list (sorted by step): each event-before opens one, the next
 * event-after closes it. An event-after with none open is an instability whose event-before fell on a step
 * that already had a checkpoint (training keeps the first reason), so it has no start to replay from.
 */
export function eventWindows(checkpoints: readonly { step: number; reason: string }[]): EventWindow[] {
  const windows: EventWindow[] = [];
  let open: EventWindow | null = null;
  for (const c of [...checkpoints].sort((a, b) => a.step - b.step)) {
    if (c.reason === 'event-before') {
      open = { index: windows.length + 1, before: c.step, after: null };
      windows.push(open);
    } else if (c.reason === 'event-after') {
      if (open) open.after = c.step;
      else windows.push({ index: windows.length + 1, before: null, after: c.step });
      open = null;
    }
  }
  return windows;
}

const missingRow = (run: string, instability: number | null, status: CoolingInstabilityRow['status'], reason: string): CoolingInstabilityRow => ({
  run,
  instability,
  status,
  reason,
  start: null,
  peak: null,
  end: null,
  steps: 0,
  loss_error_max: null,
  theta_error_max: null,
  heating_positive: null,
  cooling_positive: null,
  heating_net: null,
  cooling_net: null,
  lambda_change_heating: null,
  lambda_change_cooling: null,
  first_order_agreement: null,
  cluster_steps: 0,
});

/**
 * The windows a selection asks for (`all`, or 1-based indices), and a row naming the config field for each
 * index the run does not have. `file` is the experiment file, for the messages.
 */
export function selectWindows(
  windows: readonly EventWindow[],
  selection: 'all' | readonly number[],
  context: { file: string; run: string },
): { chosen: EventWindow[]; problems: CoolingInstabilityRow[] } {
  if (selection === 'all') {
    const none = `${context.file}: field \`cooling.instabilities\`: \`all\` of run ${context.run}, which has no instability (no event checkpoints) to replay`;
    return { chosen: [...windows], problems: windows.length ? [] : [missingRow(context.run, null, 'missing-instability', none)] };
  }
  const chosen: EventWindow[] = [];
  const problems: CoolingInstabilityRow[] = [];
  selection.forEach((index, position) => {
    const window = windows.find((w) => w.index === index);
    if (window) chosen.push(window);
    else {
      const message = `${context.file}: field \`cooling.instabilities.${position}\`: run ${context.run} has ${windows.length} instabilit${windows.length === 1 ? 'y' : 'ies'} (event checkpoints), no instability ${index}`;
      problems.push(missingRow(context.run, index, 'missing-instability', message));
    }
  });
  return { chosen, problems };
}

/** A row for a selected run the experiment does not have (a slug of its grid or runs, e.g. eta-0.1-s1). */
export function missingRunRow(file: string, position: number, slug: string): CoolingInstabilityRow {
  return missingRow(slug, null, 'missing-run', `${file}: field \`cooling.runs.${position}\`: no run \`${slug}\` in this experiment (a slug of its grid or runs, e.g. eta-0.1-s1)`);
}

/** A row for a selected run whose model the float64 path cannot evaluate. */
export function unsupportedRunRow(run: string, reason: string): CoolingInstabilityRow {
  return missingRow(run, null, 'unsupported', reason);
}

/** θ_t and L(θ_t) for t = start … last by the training's update, from θ_start. */
export async function replayTrajectory(
  objective: ReplayObjective,
  theta: Float32Array,
  start: number,
  last: number,
  lrAt: (step: number) => number,
): Promise<{ thetas: Float32Array[]; losses: number[] }> {
  const thetas: Float32Array[] = [];
  const losses: number[] = [];
  let current = theta;
  for (let t = start; ; t++) {
    const { loss, gradient } = await objective.lossAndGradient(current);
    thetas.push(current);
    losses.push(loss);
    if (t === last) break;
    current = gdStep(current, gradient, lrAt(t));
  }
  return { thetas, losses };
}

/** Index of the first maximum of the losses (the replay's loss peak). */
export function peakIndex(losses: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < losses.length; i++) if (losses[i] > losses[best]) best = i;
  return best;
}

/**
 * The diagnostics at every replayed θ (rows of the `cooling` table, in step order). The last row is phase
 * `recovered` when the replay reached the event-after step, else `cooling` (a truncated replay).
 */
export async function instabilityTrace(input: {
  run: string;
  instability: number;
  start: number;
  thetas: readonly Float32Array[];
  losses: readonly number[];
  lrAt: (step: number) => number;
  logged: (step: number) => number | null;
  model: Float64Model;
  settings: CoolingSettings;
  recovered: boolean;
}): Promise<CoolingRow[]> {
  const { model, settings, thetas } = input;
  const peak = peakIndex(input.losses);
  const theta0 = Float64Array.from(thetas[0]);
  const count = Math.min(COOLING_EIGENVALUES, model.size);
  const rows: CoolingRow[] = [];
  const firstVectors: Float64Array[] = [];
  const values: number[][] = [];
  let warm: Float64Array[] | null = null;
  for (let i = 0; i < thetas.length; i++) {
    const step = input.start + i;
    const lr = input.lrAt(step);
    const theta = Float64Array.from(thetas[i]);
    const top = await topEigenpairs((v) => model.hessianVector(theta, v), model.size, { count, tolerance: settings.tolerance, maxIterations: settings.maxIterations, warm });
    warm = top.vectors;
    const { loss, gradient } = model.lossAndGradient(theta);
    // u₁'s sign is arbitrary: continue the previous step's, and start along ∇L.
    let u1 = top.vectors[0];
    const reference = i === 0 ? dot(u1, gradient) : dot(u1, firstVectors[i - 1]);
    if (reference < 0) u1 = u1.map((x) => -x);
    firstVectors.push(u1);
    values.push(top.values);
    const k = topClusterSize(top.values, settings.gapRatio);
    const { gradient: gradS, relativeError } = clusterGradient((t) => model.gradient(t), theta, top.vectors.slice(0, k), settings.epsilon, gradient);
    const gradNorm = norm(gradient);
    const gradSDotGrad = dot(gradS, gradient);
    let displacement = 0;
    for (let j = 0; j < theta.length; j++) displacement += (theta[j] - theta0[j]) * u1[j];
    const lambda = (r: number) => top.values[r] ?? null;
    rows.push({
      run: input.run,
      instability: input.instability,
      step,
      phase: i === thetas.length - 1 && input.recovered ? 'recovered' : i < peak ? 'heating' : 'cooling',
      lr,
      loss: input.losses[i],
      loss_logged: input.logged(step),
      loss_float64: loss,
      grad_norm: gradNorm,
      lambda_1: top.values[0],
      lambda_2: lambda(1),
      lambda_3: lambda(2),
      lambda_4: lambda(3),
      lanczos_residual: top.residual,
      gap_ratio: top.values.length > 1 && top.values[1] !== 0 ? top.values[0] / top.values[1] : null,
      cluster_size: k,
      formula: k === 1 ? 'single' : k === top.values.length ? 'cluster-incomplete' : 'cluster',
      s: top.values.slice(0, k).reduce((a, b) => a + b, 0),
      sharpness_ratio: top.values[0] / (2 / lr),
      cos_grad_u1: gradNorm > 0 ? dot(gradient, u1) / gradNorm : null,
      displacement_u1: displacement,
      rotation: null,
      grad_s_dot_grad: gradSDotGrad,
      grad_s_dot_u1: dot(gradS, u1),
      grad_s_norm: norm(gradS),
      grad_s_error: relativeError,
      delta_s: null,
      delta_s_first_order: -lr * gradSDotGrad,
    });
  }
  // What needs the next step: u₁'s rotation and the change of S (the same number of top eigenvalues).
  for (let i = 0; i + 1 < rows.length; i++) {
    rows[i].rotation = Math.abs(dot(firstVectors[i], firstVectors[i + 1]));
    const k = rows[i].cluster_size;
    rows[i].delta_s = values[i + 1].slice(0, k).reduce((a, b) => a + b, 0) - rows[i].s;
  }
  return rows;
}

/** Share of rows with ∇S·∇L > 0 (null for none). */
export function positiveShare(rows: readonly CoolingRow[]): number | null {
  return rows.length ? rows.filter((r) => r.grad_s_dot_grad > 0).length / rows.length : null;
}

/**
 * Σ ∇S·∇L / Σ |∇S·∇L| over the rows, in [−1, 1] (null for none, 0 where every term vanishes): the sign of
 * the first-order change of S over them, −η Σ ∇S·∇L, scaled so that instabilities of any size weigh alike.
 * The per-step sign is no use: ∇L ≈ λ₁x u₁ + …, and the period-two oscillation of x along u₁ flips the sign of
 * (∇S·u₁)(∇L·u₁) every step, which the sum cancels.
 */
export function netSign(rows: readonly CoolingRow[]): number | null {
  if (!rows.length) return null;
  let sum = 0;
  let total = 0;
  for (const r of rows) {
    sum += r.grad_s_dot_grad;
    total += Math.abs(r.grad_s_dot_grad);
  }
  return total > 0 ? sum / total : 0;
}

const inPhase = (rows: readonly CoolingRow[], phase: CoolingRow['phase']) => rows.filter((r) => r.phase === phase);

/** The per-phase figures of one instability's rows (heating and cooling; the recovered row is in neither). */
export function phaseSummary(rows: readonly CoolingRow[]): Pick<
  CoolingInstabilityRow,
  'heating_positive' | 'cooling_positive' | 'heating_net' | 'cooling_net' | 'lambda_change_heating' | 'lambda_change_cooling' | 'first_order_agreement' | 'cluster_steps'
> {
  const heating = inPhase(rows, 'heating');
  const cooling = inPhase(rows, 'cooling');
  const sorted = [...rows].sort((a, b) => a.step - b.step);
  const peak = cooling[0] ?? null;
  // λ₁ from the phase's first row to the next phase's first row (the peak; the last row for cooling).
  const change = (from: CoolingRow | undefined, to: CoolingRow | null | undefined) => (from && to ? to.lambda_1 - from.lambda_1 : null);
  const compared = sorted.filter((r) => r.delta_s !== null && r.delta_s !== 0 && r.delta_s_first_order !== 0);
  return {
    heating_positive: positiveShare(heating),
    cooling_positive: positiveShare(cooling),
    heating_net: netSign(heating),
    cooling_net: netSign(cooling),
    lambda_change_heating: change(heating[0], peak),
    lambda_change_cooling: cooling.length > 0 ? change(peak!, sorted.at(-1)) : null,
    first_order_agreement: compared.length ? compared.filter((r) => Math.sign(r.delta_s!) === Math.sign(r.delta_s_first_order)).length / compared.length : null,
    cluster_steps: rows.filter((r) => r.formula !== 'single').length,
  };
}

export interface CoolingRunInput {
  run: string;
  /** The experiment file, for messages that name a config field. */
  file: string;
  checkpoints: readonly { step: number; reason: string }[];
  /** The run's last recorded step. */
  lastStep: number;
  lrAt: (step: number) => number;
  /** The run's metrics.arrow rows. */
  logged: readonly TableRow<'steps'>[];
  /** θ of the checkpoint at a step. */
  readTheta: (step: number) => Promise<Float32Array>;
  objective: ReplayObjective;
  model: Float64Model;
  instabilities: 'all' | readonly number[];
  settings: CoolingSettings;
  onInstability?: (row: CoolingInstabilityRow) => void;
}

/** Every selected instability of one run: its step rows and its summary row (or why it has none). */
export async function coolingRun(input: CoolingRunInput): Promise<{ steps: CoolingRow[]; instabilities: CoolingInstabilityRow[] }> {
  const windows = eventWindows(input.checkpoints);
  const { chosen, problems } = selectWindows(windows, input.instabilities, { file: input.file, run: input.run });
  const loggedLoss = new Map(input.logged.map((r) => [r.step, r.loss]));
  const steps: CoolingRow[] = [];
  const instabilities: CoolingInstabilityRow[] = [...problems];
  for (const window of chosen) {
    if (window.before === null) {
      const reason = `instability ${window.index} of ${input.run} has no event-before checkpoint (its loss minimum fell on a step already checkpointed, which keeps its first reason): nothing to replay from`;
      instabilities.push({ ...missingRow(input.run, window.index, 'no-start-checkpoint', reason), end: window.after });
      continue;
    }
    const cap = window.before + input.settings.maxSteps;
    const recovered = window.after !== null && window.after <= cap;
    const last = recovered ? window.after! : Math.min(cap, input.lastStep);
    const replay = await replayTrajectory(input.objective, await input.readTheta(window.before), window.before, last, input.lrAt);
    const rows = await instabilityTrace({
      run: input.run,
      instability: window.index,
      start: window.before,
      ...replay,
      lrAt: input.lrAt,
      logged: (step) => loggedLoss.get(step) ?? null,
      model: input.model,
      settings: input.settings,
      recovered,
    });
    steps.push(...rows);
    let thetaError: number | null = null;
    if (recovered) {
      const stored = await input.readTheta(window.after!);
      const replayed = replay.thetas.at(-1)!;
      thetaError = stored.reduce((m, v, j) => Math.max(m, Math.abs(v - replayed[j])), 0);
    }
    const errors = rows.flatMap((r) => (r.loss_logged === null ? [] : [Math.abs(r.loss - r.loss_logged)]));
    const row: CoolingInstabilityRow = {
      run: input.run,
      instability: window.index,
      status: recovered ? 'computed' : 'truncated',
      reason: recovered
        ? ''
        : window.after === null
          ? `the run ended (step ${input.lastStep}) before the loss recovered; replayed ${last - window.before} steps`
          : `recovery at step ${window.after} is beyond cooling.maxSteps = ${input.settings.maxSteps} after the start (${window.before})`,
      start: window.before,
      peak: window.before + peakIndex(replay.losses),
      end: window.after,
      steps: rows.length,
      loss_error_max: errors.length ? Math.max(...errors) : null,
      theta_error_max: thetaError,
      ...phaseSummary(rows),
    };
    instabilities.push(row);
    input.onInstability?.(row);
  }
  instabilities.sort((a, b) => (a.instability ?? 0) - (b.instability ?? 0));
  return { steps, instabilities };
}

type Claim = TableRow<'claims'>;

/** Statuses that mean the selection asked for something that is not there (the claim is then not run). */
const SELECTION_PROBLEMS: readonly CoolingInstabilityRow['status'][] = ['missing-run', 'missing-instability', 'unsupported'];

const CLAIM_TEXT =
  'Self-stabilisation in the cooling phase (prediction, stated before the numbers): S = λ₁ falls along −∇L while the loss recovers, ∇S·∇L > 0 in cooling (loss peak → recovery), and not in heating (last minimum → loss peak)';

/**
 * The claim `cooling-self-stabilisation` from the cooling tables. Per complete instability (status
 * computed, with heating and cooling steps) d = D_cooling − D_heating, D = netSign of the phase's steps;
 * the unit is the instability (each a heating–cooling cycle replayed from its own checkpoint), so the
 * interval is a t-interval over instabilities; those of one run are not independent replicates, which the
 * detail shows by listing them by run. Comparing the two phases of the same instability (same run, η and
 * region of the landscape) rules out a drift of ∇S·∇L common to both, e.g. from the oscillation itself.
 */
export function coolingClaims(steps: readonly CoolingRow[], instabilities: readonly CoolingInstabilityRow[]): Claim[] {
  const base = {
    id: 'cooling-self-stabilisation',
    claim: CLAIM_TEXT,
    expected: 'mean over instabilities of D_cooling − D_heating > 0, its 95% t-interval above 0 (D = Σ∇S·∇L / Σ|∇S·∇L| over the phase’s steps)',
  };
  const notRun = (detail: string): Claim[] => [{ ...base, measured: null, verdict: 'not-run', detail }];
  if (!instabilities.length) return notRun('no instability selected: experiment.json `cooling.runs` is empty');
  const problems = instabilities.filter((r) => SELECTION_PROBLEMS.includes(r.status));
  if (problems.length) return notRun(problems.map((r) => r.reason).join('; '));
  const complete: { run: string; instability: number; heating: number; cooling: number }[] = [];
  for (const row of instabilities) {
    if (row.status !== 'computed') continue;
    const own = steps.filter((s) => s.run === row.run && s.instability === row.instability);
    const heating = netSign(inPhase(own, 'heating'));
    const cooling = netSign(inPhase(own, 'cooling'));
    if (heating !== null && cooling !== null) complete.push({ run: row.run, instability: row.instability!, heating, cooling });
  }
  const leftOut = instabilities.length - complete.length;
  const interval = tInterval(complete.map((c) => c.cooling - c.heating));
  const f = (x: number) => x.toFixed(2);
  const byRun = [...new Set(complete.map((c) => c.run))]
    .map((run) => `${run}: ${complete.filter((c) => c.run === run).map((c) => `#${c.instability} D_h ${f(c.heating)}, D_c ${f(c.cooling)}`).join('; ')}`)
    .join(' | ');
  const replay = instabilities.filter((r) => r.status === 'computed' || r.status === 'truncated');
  const worstLoss = Math.max(0, ...replay.map((r) => r.loss_error_max ?? 0));
  const worstTheta = Math.max(0, ...replay.map((r) => r.theta_error_max ?? 0));
  const detail = [
    `d = D_cooling − D_heating: ${formatInterval(interval)}`,
    `D_cooling alone: ${formatInterval(tInterval(complete.map((c) => c.cooling)))}`,
    `D_heating alone: ${formatInterval(tInterval(complete.map((c) => c.heating)))}`,
    `unit: the instability (${complete.length} complete; ${leftOut} left out: truncated or without a start checkpoint)`,
    byRun || 'none complete',
    `replay against training: max |loss − metrics.arrow| ${worstLoss.toExponential(1)}, max |θ − event-after θ| ${worstTheta.toExponential(1)}`,
  ].join('. ');
  if (!interval) return notRun(`needs ≥ 2 complete instabilities, has ${complete.length}. ${detail}`);
  return [{ ...base, measured: interval.estimate, verdict: signVerdict(interval, 'positive'), detail }];
}

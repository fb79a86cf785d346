/**
 * bench:xcheck — an independent cross-check of the shipped Hessian results (issue 10, item 11): PyTorch (float64)
 * and SciPy recompute, from the checkpoints alone, what the tables say at chosen checkpoints — λmax and λ_min of
 * the full Hessian, the full-spectrum N_eff = Σ|λ|/(|λ| + α) (α = analysis.alphaFraction·λmax) from the dense
 * spectrum, the distance of the stored top-m eigenvectors from PyTorch's, and the overlap s = ‖U_aᵀU_b‖²_F/m and
 * cos of the RMS principal angle of the `overlaps` rows — and prints each difference beside the tolerance it is
 * expected to meet, with the reason (tools/bench/README.md, "bench:xcheck").
 *
 * Reads the artifacts of `npx nx run-many -t analyze` (tables through libs/artifacts' readers, manifests checked);
 * the Python side (python/xcheck_torch.py) rebuilds the MLP from each checkpoint's layout metadata and the
 * experiment config, and reads the training set from raw files this script exports from the Arrow dataset (so
 * pyarrow is not needed). Where no Python has torch, scipy and numpy it says so and exits 0.
 *
 *   tsx tools/bench/src/xcheck.ts [--experiments wreg,src,fmnist] [--strict]
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTable, verifyManifest, type TableName, type TableRow } from '@lrscape/artifacts';
import { readDataset, takeExamples } from '@lrscape/data';
import { checkpointFileName, readRunSummary, type RunSummary } from '@lrscape/train';
import { loadExperiment, type Experiment } from '../../lrscape/src/experiment-config';
import { experimentFile, experimentPaths } from '../../lrscape/src/stages/common';
import { PYTHON_DIR, findPython, machineLine, makeWorkDir, round, runChild, table, writeArray } from './common';

/** The checkpoints checked by default: the final one of a few runs (stable to unstable), and what their overlap rows need. */
const DEFAULT_SELECTION: Record<string, string[]> = {
  wreg: ['eta-0.01', 'eta-0.05', 'eta-0.1'],
  src: ['eta-0.01', 'eta-0.1', 'eta-0.5'],
  fmnist: ['eta-0.07'],
};
/** Above this many parameters no dense Hessian (Fashion-MNIST's 55,050 would take 24 GB): eigsh only, no N_eff. */
const DENSE_LIMIT = 5000;
/** Overlap kinds checked: the latest row of each per selected run, except step×step (the same computation as consecutive). */
const SKIPPED_KINDS = new Set(['step×step']);
/**
 * Float32 floor, relative to ‖H‖₂: the pipeline's HVPs are float32 (products and sums over P parameters and N
 * examples, ε₃₂ ≈ 6e-8; bench:engine measures 1e-7–7e-7 relative agreement with PyTorch's float32 HVP), the
 * peer's float64. 1e-5 leaves an order of magnitude above what is measured.
 */
const F32_REL = 1e-5;
/** Rounding of a stored float32 unit vector, ‖Δu‖ ≤ 2⁻²⁴. */
const F32_VECTOR = 2 ** -24;
/** Top eigenvalues the peer returns (for λ_{m+1} and the gap). */
const TOP_COUNT = 12;
/** ARPACK tolerance of the eigsh path (relative accuracy of its Ritz values). */
const EIGSH_TOL = 1e-9;
/** Rademacher probes on which the peer measures the error of the SLQ's Gauss quadrature alone. */
const QUADRATURE_PROBES = 8;
/** SLQ: the estimate should lie within this many standard errors of the exact value. */
const SLQ_SIGMAS = 3;

interface Args {
  experiments: string[];
  strict: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { experiments: Object.keys(DEFAULT_SELECTION), strict: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--strict') args.strict = true;
    else if (argv[i] === '--experiments') args.experiments = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (argv[i].startsWith('--experiments=')) args.experiments = argv[i].slice('--experiments='.length).split(',').filter(Boolean); // as Nx forwards it
    else throw new Error(`unknown argument \`${argv[i]}\` (usage: xcheck.ts [--experiments wreg,src,fmnist] [--strict])`);
  }
  for (const name of args.experiments) {
    if (!(name in DEFAULT_SELECTION)) throw new Error(`--experiments: no selection for \`${name}\` (known: ${Object.keys(DEFAULT_SELECTION).join(', ')})`);
  }
  return args;
}

// ---------------------------------------------------------------- what is checked

interface CheckpointJob {
  id: string;
  experiment: string;
  run: string;
  step: number;
  checkpoint: string;
  vectors: string | null;
  m: number;
  method: 'dense' | 'eigsh';
  /** Lanczos steps of the pipeline's SLQ probes at this checkpoint (nodes per probe), for the quadrature-error measurement. */
  slq_steps: number | null;
}

interface Tables {
  spectra: CheckedRow<'spectra'>[];
  effective: CheckedRow<'effective'>[];
  overlaps: CheckedRow<'overlaps'>[];
  quadrature: CheckedRow<'quadrature'>[];
}

interface ExperimentJob {
  experiment: Experiment;
  m: number;
  alphaFraction: number;
  parameters: number;
  method: 'dense' | 'eigsh';
  tables: Tables;
  /** How each table that the reader refused was read, or that its checks are skipped. */
  notices: string[];
  overlapRows: CheckedRow<'overlaps'>[];
  checkpoints: CheckpointJob[];
  /** What the Python side needs of the experiment (job.json's `experiments` entry). */
  spec: Record<string, unknown>;
}

const checkpointId = (experiment: string, run: string, step: number) => `${experiment}/${run}@${step}`;

/** The columns each check reads: enough to read a table written under an older schema (see readChecked). */
const NEEDED_COLUMNS = {
  spectra: ['run', 'step', 'scope', 'end', 'rank', 'eigenvalue', 'residual'],
  effective: ['run', 'step', 'scope', 'n_eff_full', 'n_eff_exact'],
  overlaps: ['run_a', 'step_a', 'run_b', 'step_b', 'scope', 'm', 'overlap', 'cos_rms_angle', 'well_defined', 'kind'],
  quadrature: ['run', 'step', 'scope', 'dimension', 'probe', 'node', 'weight'],
} as const satisfies Partial<Record<TableName, readonly string[]>>;
type CheckedTable = keyof typeof NEEDED_COLUMNS;
type CheckedRow<N extends CheckedTable> = Pick<TableRow<N>, (typeof NEEDED_COLUMNS)[N][number] & keyof TableRow<N>>;

/**
 * A table through libs/artifacts' reader, which checks it against the schema the code declares; a table from
 * before a schema change is refused with the reason, and the cross-check says to rerun aggregate.
 */
async function readChecked<N extends CheckedTable>(dir: string, name: N): Promise<CheckedRow<N>[]> {
  const path = join(dir, `${name}.arrow`);
  try {
    return (await readTable(path, name)).rows as CheckedRow<N>[];
  } catch (error) {
    throw new Error(`${(error as Error).message} — rerun \`npx nx run-many -t analyze\` for tables of the current schema`, { cause: error });
  }
}

/** The experiment's selection: final checkpoints of the chosen runs and the checkpoints of their latest overlap row of each kind. */
async function planExperiment(name: string, workDir: string): Promise<ExperimentJob | { skipped: string }> {
  const paths = experimentPaths(name);
  if (!existsSync(experimentFile(name))) return { skipped: `no ${experimentFile(name)}` };
  if (!existsSync(paths.tables)) return { skipped: `no ${paths.tables} (run \`npx nx run ${name}:analyze\` first)` };
  const experiment = loadExperiment(experimentFile(name));
  const model = experiment.config.model;
  if (model.kind !== 'mlp') return { skipped: `${experiment.file}: field \`model.kind\` is ${model.kind}; the peer rebuilds MLPs only` };
  const m = experiment.config.analysis.shift.m;
  if (m === null) throw new Error(`${experiment.file}: field \`analysis.shift.m\`: not resolved by validation`);

  await verifyManifest(paths.data);
  await verifyManifest(paths.tables);
  const notices: string[] = [];
  const tables: Tables = {
    spectra: await readChecked(paths.tables, 'spectra'),
    effective: await readChecked(paths.tables, 'effective'),
    overlaps: await readChecked(paths.tables, 'overlaps'),
    quadrature: await readChecked(paths.tables, 'quadrature'),
  };

  const summaries = new Map<string, RunSummary>();
  const summaryOf = async (run: string) => {
    if (!summaries.has(run)) {
      await verifyManifest(paths.run(run));
      await verifyManifest(paths.hessian(run));
      summaries.set(run, await readRunSummary(paths.run(run)));
    }
    return summaries.get(run)!;
  };

  const wanted = new Map<string, { run: string; step: number }>();
  const want = (run: string, step: number) => wanted.set(checkpointId(name, run, step), { run, step });
  const overlapRows: CheckedRow<'overlaps'>[] = [];
  for (const run of DEFAULT_SELECTION[name]) {
    if (!experiment.runs.some((r) => r.slug === run)) return { skipped: `${experiment.file}: no run \`${run}\`` };
    const summary = await summaryOf(run);
    // The last checkpoint the tables have for the run (they can lag a run retrained since, until hessian and aggregate rerun).
    const lastTrained = summary.checkpoints[summary.checkpoints.length - 1].step;
    const tableSteps = tables.spectra.filter((r) => r.run === run && r.scope === 'full').map((r) => r.step);
    const final = tableSteps.length ? Math.max(...tableSteps) : lastTrained;
    if (final !== lastTrained) notices.push(`${run}: the run's last checkpoint is step ${lastTrained}, the tables' ${final} (the tables predate the run: rerun its hessian task and aggregate); step ${final} is checked`);
    if (!summary.checkpoints.some((c) => c.step === final)) return { skipped: `${paths.run(run)}: no checkpoint at step ${final}, which the tables describe (rerun its hessian task and aggregate)` };
    want(run, final);
    // The latest row of each kind that starts in this run (full Hessian, two distinct checkpoints).
    const latest = new Map<string, CheckedRow<'overlaps'>>();
    for (const row of tables.overlaps) {
      if (row.scope !== 'full' || row.run_a !== run || SKIPPED_KINDS.has(row.kind)) continue;
      if (row.run_a === row.run_b && row.step_a === row.step_b) continue;
      const held = latest.get(row.kind);
      if (!held || Math.max(row.step_a, row.step_b) > Math.max(held.step_a, held.step_b)) latest.set(row.kind, row);
    }
    for (const row of latest.values()) {
      if (row.m !== m) throw new Error(`${join(paths.tables, 'overlaps.arrow')}: row ${row.run_a}@${row.step_a} vs ${row.run_b}@${row.step_b} has m = ${row.m}, ${experiment.file} resolves analysis.shift.m = ${m} (rerun aggregate)`);
      await summaryOf(row.run_b);
      const missing = [[row.run_a, row.step_a], [row.run_b, row.step_b]].find(([r, step]) => !existsSync(join(paths.run(r as string), 'checkpoints', checkpointFileName(step as number))));
      if (missing) {
        notices.push(`overlaps row ${row.kind} ${row.run_a}@${row.step_a} · ${row.run_b}@${row.step_b} skipped: no checkpoint file for ${missing[0]}@${missing[1]}`);
        continue;
      }
      want(row.run_a, row.step_a);
      want(row.run_b, row.step_b);
      overlapRows.push(row);
    }
  }

  const parameters = (await summaryOf(DEFAULT_SELECTION[name][0])).parameters;
  const method = parameters <= DENSE_LIMIT ? 'dense' : 'eigsh';
  const checkpoints: CheckpointJob[] = [...wanted.entries()].map(([id, { run, step }]) => {
    const vectors = join(paths.hessian(run), 'vectors', checkpointFileName(step));
    const nodes = new Map<number, number>();
    for (const r of tables.quadrature) if (r.run === run && r.step === step && r.scope === 'full') nodes.set(r.probe, (nodes.get(r.probe) ?? 0) + 1);
    return {
      id, experiment: name, run, step, m, method,
      checkpoint: join(paths.run(run), 'checkpoints', checkpointFileName(step)),
      vectors: existsSync(vectors) ? vectors : null,
      slq_steps: nodes.size ? Math.max(...nodes.values()) : null,
    };
  });

  // The training set the hessian stage used (the whole set, or hessian.subset's first examples), as raw files.
  const { dataset: full } = await readDataset(join(paths.data, 'train.arrow'));
  const subset = experiment.config.hessian.subset;
  const train = subset ? takeExamples(full, subset) : full;
  writeArray(workDir, `${name}.x.f32`, train.x);
  writeArray(workDir, `${name}.y.f32`, train.y);
  if (train.labels) writeArray(workDir, `${name}.labels.i32`, train.labels);
  if (model.loss === 'cross_entropy' && !train.labels) throw new Error(`${experiment.file}: field \`model.loss\`: cross-entropy on a dataset without labels`);
  const alphaFraction = experiment.config.analysis.alphaFraction;
  const spec = {
    n: train.n, input_dim: train.inputDim, output_dim: train.outputDim,
    x: `${name}.x.f32`, y: `${name}.y.f32`, labels: train.labels ? `${name}.labels.i32` : null,
    activation: model.activation, loss: model.loss, alpha_fraction: alphaFraction,
  };
  return { experiment, m, alphaFraction, parameters, method, tables, notices, overlapRows, checkpoints, spec };
}

// ---------------------------------------------------------------- the peer's answer

interface PeerCheckpoint {
  method: 'dense' | 'eigsh';
  lambda_max: number;
  lambda_min: number;
  residual_max: number;
  residual_min: number;
  top_values: number[];
  top_residuals?: number[];
  gap_m: number | null;
  stored_sin_theta: number | null;
  parameters: number;
  total_seconds: number;
  n_eff?: number;
  alpha?: number;
  n_eff_alpha_sensitivity?: number;
  slq_probe_std?: number;
  arpack_lambda_max?: number;
  arpack_lambda_min?: number;
  quadrature_errors?: number[];
  hvps?: { top: number; bottom: number };
}

interface PeerResult {
  torch: string;
  scipy: string;
  numpy: string;
  threads: number;
  checkpoints: Record<string, PeerCheckpoint>;
  pairs: { a: string; b: string; m: number; overlap: number; cos_rms_angle: number }[];
}

// ---------------------------------------------------------------- comparisons

interface Check {
  experiment: string;
  quantity: string;
  at: string;
  ours: number | null;
  peer: number | null;
  diff: number | null;
  tolerance: number | null;
  /** null: not a test (no gap, or a value is missing), with `basis` saying why. */
  within: boolean | null;
  basis: string;
}

const g = (x: number | null | undefined, digits = 6) => (x == null || !Number.isFinite(x) ? '–' : Math.abs(x) !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5) ? x.toExponential(2) : x.toPrecision(digits));

function check(experiment: string, quantity: string, at: string, ours: number | null, peer: number | null, tolerance: number | null, basis: string): Check {
  const diff = ours !== null && peer !== null ? Math.abs(ours - peer) : null;
  const testable = diff !== null && tolerance !== null && Number.isFinite(tolerance);
  return { experiment, quantity, at, ours, peer, diff, tolerance, within: testable ? diff <= tolerance : null, basis };
}

function compareExperiment(job: ExperimentJob, peer: PeerResult): Check[] {
  const name = job.experiment.name;
  const { m, alphaFraction } = job;
  const checks: Check[] = [];
  const spectrum = (run: string, step: number, end: 'top' | 'bottom') =>
    job.tables.spectra.filter((r) => r.run === run && r.step === step && r.scope === 'full' && r.end === end).sort((a, b) => a.rank - b.rank);
  /** The float32 floor of an eigenvalue: F32_REL·‖H‖₂. */
  const floorOf = (p: PeerCheckpoint) => F32_REL * Math.max(Math.abs(p.lambda_max), Math.abs(p.lambda_min));
  const subspaceBounds = new Map<string, { bound: number | null; why: string }>();

  for (const cp of job.checkpoints) {
    const p = peer.checkpoints[cp.id];
    const at = `${cp.run}@${cp.step}`;
    const top = spectrum(cp.run, cp.step, 'top');
    const bottom = spectrum(cp.run, cp.step, 'bottom');
    const floor = floorOf(p);

    // Both ends: an eigenvalue lies within a Ritz value's residual of it; plus the peer's own residual and the float32 floor.
    const tolMax = top.length ? top[0].residual + p.residual_max + floor : null;
    checks.push(check(name, 'λmax', at, top[0]?.eigenvalue ?? null, p.lambda_max, tolMax, top.length ? `r ${g(top[0].residual, 2)} + peer r ${g(p.residual_max, 2)} + f32 ${g(floor, 2)}` : 'no spectra row'));
    const tolMin = bottom.length ? bottom[0].residual + p.residual_min + floor : null;
    checks.push(check(name, 'λ_min', at, bottom[0]?.eigenvalue ?? null, p.lambda_min, tolMin, bottom.length ? `r ${g(bottom[0].residual, 2)} + peer r ${g(p.residual_min, 2)} + f32 ${g(floor, 2)}` : 'no bottom-end row (hessian.bottomK = 0?)'));

    if (p.method === 'dense' && p.n_eff !== undefined && p.alpha !== undefined) {
      const effective = job.tables.effective.find((r) => r.run === cp.run && r.step === cp.step && r.scope === 'full');
      // Each |λ|/(|λ|+α) moves by ≤ |Δλ|/α: P eigenvalues each off by the float32 floor, and α by alphaFraction·Δλmax.
      const denseTol = (p.parameters * floor) / p.alpha + (p.n_eff_alpha_sensitivity ?? 0) * alphaFraction * (tolMax ?? 0);
      if (effective?.n_eff_exact != null) checks.push(check(name, 'N_eff exact', at, effective.n_eff_exact, p.n_eff, denseTol, `P·f32/α + |∂N/∂α|·Δα`));
      const quad = job.tables.quadrature.filter((r) => r.run === cp.run && r.step === cp.step && r.scope === 'full');
      const probeIds = [...new Set(quad.map((r) => r.probe))];
      if (effective?.n_eff_full != null && probeIds.length > 0 && p.slq_probe_std !== undefined) {
        const probes = probeIds.length;
        // The table's own per-probe estimates (α from its λmax, as the aggregate computes n_eff_full): their spread is the stated error.
        const alpha = alphaFraction * (top[0]?.eigenvalue ?? p.lambda_max);
        const perProbe = probeIds.map((id) => quad.filter((r) => r.probe === id).reduce((sum, r) => sum + r.weight * (Math.abs(r.node) / (Math.abs(r.node) + alpha)), 0) * quad[0].dimension);
        const mean = perProbe.reduce((a, b) => a + b, 0) / probes;
        const stated = probes > 1 ? Math.sqrt(perProbe.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (probes - 1) / probes) : null;
        const stderr = p.slq_probe_std / Math.sqrt(probes);
        const quadError = p.quadrature_errors?.length ? Math.max(...p.quadrature_errors.map(Math.abs)) : 0;
        const z = (effective.n_eff_full - p.n_eff) / stderr;
        checks.push(
          check(name, 'N_eff SLQ', at, effective.n_eff_full, p.n_eff, SLQ_SIGMAS * stderr + quadError + denseTol,
            `${SLQ_SIGMAS}σ/√p: σ/√p ${g(stderr, 2)} (p = ${probes}; stated ${stated === null ? '–' : g(stated, 2)}), z ${z.toFixed(2)}; quadrature ${g(quadError, 2)} (k = ${cp.slq_steps})`),
        );
      }
    }

    // Davis–Kahan: ‖sin Θ‖_F of lrscape's top-m Ritz space from the true one ≤ (‖R_m‖_F + peer's + float32)/δ, δ = θ_m − λ_{m+1}.
    let bound: number | null = null;
    let why: string;
    if (top.length < m || p.top_values.length <= m) why = `fewer than m + 1 = ${m + 1} eigenvalues`;
    else {
      const delta = top[m - 1].eigenvalue - p.top_values[m];
      const ratio = `λ_m/λ_{m+1} ${g(top[m - 1].eigenvalue / p.top_values[m], 3)}`;
      if (!(delta > 0)) why = `no gap: θ_m ${g(top[m - 1].eigenvalue, 4)} ≤ λ_{m+1} ${g(p.top_values[m], 4)}`;
      else {
        const residual = Math.hypot(...top.slice(0, m).map((r) => r.residual));
        const peerResidual = p.top_residuals ? Math.hypot(...p.top_residuals.slice(0, m)) : 0;
        bound = (residual + peerResidual + Math.sqrt(m) * floor) / delta + Math.sqrt(m) * F32_VECTOR;
        why = `‖R_m‖ ${g(residual, 2)}, δ ${g(delta, 3)}, ${ratio}`;
      }
    }
    subspaceBounds.set(cp.id, { bound, why });
    if (p.stored_sin_theta !== null) checks.push(check(name, `stored top-${m} ‖sinΘ‖_F`, at, p.stored_sin_theta, 0, bound, bound === null ? `not a test: ${why}` : `(‖R_m‖ + f32)/δ: ${why}`));
  }

  for (const row of job.overlapRows) {
    const idA = checkpointId(name, row.run_a, row.step_a);
    const idB = checkpointId(name, row.run_b, row.step_b);
    const pair = peer.pairs.find((x) => x.a === idA && x.b === idB);
    if (!pair) continue;
    const a = subspaceBounds.get(idA)!;
    const b = subspaceBounds.get(idB)!;
    const at = `${row.kind}: ${row.run_a}@${row.step_a} · ${row.run_b === row.run_a ? '' : row.run_b}@${row.step_b}`;
    const flag = row.well_defined ? '' : '; table: not well defined';
    const sum = a.bound !== null && b.bound !== null ? a.bound + b.bound : null;
    // |Δs| ≤ √(2/m)(ε_a + ε_b) (projector distance); |Δcos_rms| ≤ π/√(2m)·(ε_a + ε_b) (first order; README).
    for (const [quantity, ours, theirs, factor] of [
      [`overlap s (m=${m})`, row.overlap, pair.overlap, Math.sqrt(2 / m)],
      [`cos-RMS (m=${m})`, row.cos_rms_angle, pair.cos_rms_angle, Math.PI / Math.sqrt(2 * m)],
    ] as const) {
      const tol = sum === null ? null : factor * sum;
      const basis =
        sum === null ? `not a test: ${[a, b].filter((x) => x.bound === null).map((x) => x.why).join('; ')}`
        : tol! >= 1 ? `not a test: bound ${g(tol, 2)} ≥ 1${flag}`
        : `${g(factor, 3)}·(ε_a + ε_b ${g(sum, 2)})${flag}`;
      checks.push(check(name, quantity, at, ours, theirs, tol !== null && tol < 1 ? tol : null, basis));
    }
  }
  return checks;
}

/** Where each tolerance comes from (printed once under the tables; tools/bench/README.md has the derivations). */
const LEGEND = [
  `r: the table's Ritz residual ‖Hu − θu‖ (some eigenvalue lies within r of θ; a missed end, e.g. λ_min not found, shows as a miss); peer r: the same of PyTorch's pair.`,
  `f32: ${F32_REL}·‖H‖₂, the float32 floor (the pipeline's HVPs are float32, the peer's float64; both read the same float32 θ).`,
  `N_eff exact: P·f32/α (every eigenvalue off by f32, each term moves by ≤ |Δλ|/α) + |∂N/∂α|·alphaFraction·(λmax tolerance).`,
  `N_eff SLQ: ${SLQ_SIGMAS}·σ/√p with σ² = 2(‖f(H)‖²_F − Σ f(H)ᵢᵢ²), the exact variance of one Rademacher probe from PyTorch's eigendecomposition; stated: the table's own probes' spread; z = Δ/(σ/√p); quadrature: the largest error of the k-step Gauss quadrature on ${QUADRATURE_PROBES} probes of the peer's own; + the N_eff exact term.`,
  `stored ‖sinΘ‖_F: the stored float32 top-m vectors against PyTorch's; Davis–Kahan bound (‖R_m‖_F + peer's + √m·f32)/δ + √m·2⁻²⁴, δ = θ_m − λ_{m+1} (no gap: not a test).`,
  `overlap s, cos-RMS: with ε the Davis–Kahan bound at each end, |Δs| ≤ √(2/m)(ε_a + ε_b), |Δcos_rms| ≤ π/√(2m)(ε_a + ε_b) to first order; a bound ≥ 1 is not a test.`,
];

// ---------------------------------------------------------------- output

function printChecks(name: string, job: ExperimentJob, checks: Check[]): void {
  console.log(`\n${name}: P = ${job.parameters}, ${job.method === 'dense' ? 'dense Hessian + eigh (and eigsh for both ends)' : `eigsh (no dense spectrum above P = ${DENSE_LIMIT}: no N_eff check)`}, m = ${job.m}, α = ${job.alphaFraction}·λmax`);
  const rows = checks.map((c) => [
    c.quantity, c.at, g(c.ours), g(c.peer), g(c.diff, 2), g(c.tolerance, 2),
    c.within === null ? '–' : c.within ? 'yes' : 'NO', c.basis,
  ]);
  console.log(table(['quantity', 'at', 'lrscape', 'PyTorch', '|Δ|', 'tolerance', 'within', 'tolerance from (legend below)'], rows));
}

const benchRow = (c: Check) => ({
  quantity: c.quantity, at: c.at, lrscape: c.ours, pytorch: c.peer, diff: c.diff === null ? null : Number(c.diff.toPrecision(3)),
  tolerance: c.tolerance === null ? null : Number(c.tolerance.toPrecision(3)), within: c.within,
});

function summary(checks: Check[]) {
  const tested = checks.filter((c) => c.within !== null);
  const worst: Record<string, number> = {};
  for (const c of tested) worst[c.quantity] = Math.max(worst[c.quantity] ?? 0, Number((c.diff! / c.tolerance!).toPrecision(2)));
  return { checks: checks.length, tested: tested.length, within: tested.filter((c) => c.within).length, outside: tested.filter((c) => !c.within).length, worst_diff_over_tolerance: worst };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(`bench:xcheck — ${machineLine()}`);
  const probe = findPython(['torch', 'scipy', 'numpy']);
  if (probe.python === null) {
    console.log(`PyTorch + SciPy not available (${probe.reason}); the bench installs nothing (on Debian: apt-get install python3-torch python3-scipy) — nothing to cross-check.`);
    console.log(`\nBENCH ${JSON.stringify({ bench: 'xcheck', torch: null, scipy: null, experiments: {}, checks: 0, tested: 0, within: 0, outside: 0 })}`);
    return;
  }
  console.log(`${probe.python}: torch ${probe.versions.torch}, scipy ${probe.versions.scipy}, numpy ${probe.versions.numpy}`);
  const dir = makeWorkDir('xcheck');
  try {
    const jobs = new Map<string, ExperimentJob>();
    const skipped: Record<string, string> = {};
    for (const name of args.experiments) {
      const planned = await planExperiment(name, dir);
      if ('skipped' in planned) {
        skipped[name] = planned.skipped;
        console.log(`${name}: skipped — ${planned.skipped}`);
      } else {
        jobs.set(name, planned);
        for (const notice of planned.notices) console.log(`${name}: ${notice}`);
      }
    }
    if (jobs.size === 0) throw new Error(`nothing to check (${Object.entries(skipped).map(([k, v]) => `${k}: ${v}`).join('; ')})`);
    const job = {
      top_count: TOP_COUNT,
      eigsh_tol: EIGSH_TOL,
      quadrature_probes: QUADRATURE_PROBES,
      experiments: Object.fromEntries([...jobs].map(([name, j]) => [name, j.spec])),
      checkpoints: [...jobs.values()].flatMap((j) => j.checkpoints),
      pairs: [...jobs].flatMap(([name, j]) => j.overlapRows.map((row) => ({ a: checkpointId(name, row.run_a, row.step_a), b: checkpointId(name, row.run_b, row.step_b), m: row.m }))),
    };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job, null, 1));
    console.log(`\nPyTorch float64 on ${job.checkpoints.length} checkpoints (${[...jobs.values()].map((j) => `${j.experiment.name} ${j.checkpoints.length}`).join(', ')}), ${job.pairs.length} overlap rows`);
    const started = performance.now();
    const r = await runChild<PeerResult>(probe.python, [join(PYTHON_DIR, 'xcheck_torch.py'), dir], { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' });
    if (r.result === null) throw new Error(`the PyTorch side failed: ${r.error}`);
    const peer = r.result;
    const seconds = (performance.now() - started) / 1000;
    console.log(`PyTorch ${peer.torch}, SciPy ${peer.scipy}, NumPy ${peer.numpy}, ${peer.threads} thread; ${seconds.toFixed(1)} s`);

    const all: Check[] = [];
    const perExperiment: Record<string, unknown> = {};
    for (const [name, j] of jobs) {
      const checks = compareExperiment(j, peer);
      printChecks(name, j, checks);
      all.push(...checks);
      const internal = j.checkpoints
        .map((cp) => peer.checkpoints[cp.id])
        .filter((p) => p.arpack_lambda_max !== undefined)
        .map((p) => Math.max(Math.abs(p.arpack_lambda_max! - p.lambda_max), Math.abs(p.arpack_lambda_min! - p.lambda_min)) / Math.max(Math.abs(p.lambda_max), 1e-300));
      if (internal.length) console.log(`peer against itself (eigsh on HVPs vs eigh of the dense H, both ends): max relative difference ${g(Math.max(...internal), 2)}`);
      const result = { bench: 'xcheck', experiment: name, parameters: j.parameters, method: j.method, m: j.m, ...summary(checks), rows: checks.map(benchRow) };
      perExperiment[name] = summary(checks);
      console.log(`BENCH ${JSON.stringify(result)}`);
    }
    console.log(`\ntolerances:\n${LEGEND.map((line) => `  ${line}`).join('\n')}`);
    const outside = all.filter((c) => c.within === false);
    if (outside.length) console.log(`\n${outside.length} comparison(s) outside their tolerance: ${outside.map((c) => `${c.experiment} ${c.quantity} ${c.at}`).join('; ')}`);
    console.log(`\nBENCH ${JSON.stringify({ bench: 'xcheck', torch: peer.torch, scipy: peer.scipy, seconds: round(seconds, 1), experiments: perExperiment, skipped, ...summary(all) })}`);
    if (args.strict && outside.length) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:xcheck: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

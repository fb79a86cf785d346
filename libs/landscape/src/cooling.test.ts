import { describe, expect, it } from 'vitest';
import { dot, symmetricEigen } from '@lrscape/linalg';
import { gdStep } from '@lrscape/train';
import {
  coolingClaims,
  coolingRun,
  eventWindows,
  instabilityTrace,
  missingRunRow,
  netSign,
  peakIndex,
  phaseSummary,
  replayTrajectory,
  selectWindows,
  type CoolingInstabilityRow,
  type CoolingRow,
  type CoolingSettings,
  type Float64Model,
} from './cooling';
import { tInterval } from './statistics';

const SETTINGS: CoolingSettings = { maxSteps: 50, epsilon: 1e-3, gapRatio: 1.1, tolerance: 1e-10, maxIterations: 40 };

/**
 * L(θ) = ½θᵀAθ + c(bᵀθ)³/6, A diagonal: H = A + c(bᵀθ) bbᵀ and ∇³L[u, u] = c (bᵀu)² b exactly. With c = 0 a
 * quadratic, whose eigenpairs are A's and whose ∇S is 0.
 */
function cubicModel(diagonal: number[], b: number[], c: number): Float64Model & { hessian(theta: Float64Array): Float64Array } {
  const n = diagonal.length;
  const bv = Float64Array.from(b);
  const gradient = (theta: Float64Array) => {
    const bt = dot(bv, theta);
    return Float64Array.from(theta, (t, i) => diagonal[i] * t + 0.5 * c * bt * bt * bv[i]);
  };
  return {
    size: n,
    gradient,
    lossAndGradient: (theta) => {
      const bt = dot(bv, theta);
      return { loss: theta.reduce((s, t, i) => s + 0.5 * diagonal[i] * t * t, 0) + (c * bt ** 3) / 6, gradient: gradient(theta) };
    },
    hessianVector: (theta, v) => {
      const bt = dot(bv, theta);
      const bvv = dot(bv, v);
      return Float64Array.from(v, (x, i) => diagonal[i] * x + c * bt * bvv * bv[i]);
    },
    hessian: (theta) => {
      const bt = dot(bv, theta);
      const h = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        h[i * n + i] = diagonal[i];
        for (let j = 0; j < n; j++) h[i * n + j] += c * bt * bv[i] * bv[j];
      }
      return h;
    },
  };
}

/** The quadratic as training's float32 objective. */
const quadraticObjective = (diagonal: number[]) => ({
  lossAndGradient: async (theta: Float32Array) => ({
    loss: theta.reduce((s, t, i) => s + 0.5 * diagonal[i] * t * t, 0),
    gradient: Float32Array.from(theta, (t, i) => diagonal[i] * t),
  }),
});

describe('eventWindows', () => {
  it('pairs each event-before with the next event-after; an unpaired after has no start, an unpaired before no end', () => {
    const windows = eventWindows([
      { step: 0, reason: 'cadence' },
      { step: 8, reason: 'event-before' },
      { step: 16, reason: 'event-after' },
      { step: 500, reason: 'cadence' },
      { step: 530, reason: 'event-after' },
      { step: 600, reason: 'event-before' },
      { step: 640, reason: 'event-after' },
      { step: 700, reason: 'event-before' },
      { step: 750, reason: 'final' },
    ]);
    expect(windows).toEqual([
      { index: 1, before: 8, after: 16 },
      { index: 2, before: null, after: 530 },
      { index: 3, before: 600, after: 640 },
      { index: 4, before: 700, after: null },
    ]);
    expect(eventWindows([{ step: 0, reason: 'cadence' }])).toEqual([]);
  });
});

describe('selection', () => {
  const windows = [
    { index: 1, before: 8, after: 16 },
    { index: 2, before: 40, after: 60 },
  ];
  const context = { file: 'pipelines/x/experiment.json', run: 'eta-0.1' };

  it('takes all, or the listed indices; an index the run lacks is a row naming the field', () => {
    expect(selectWindows(windows, 'all', context)).toEqual({ chosen: windows, problems: [] });
    const { chosen, problems } = selectWindows(windows, [2, 5], context);
    expect(chosen).toEqual([windows[1]]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ run: 'eta-0.1', instability: 5, status: 'missing-instability' });
    expect(problems[0].reason).toBe('pipelines/x/experiment.json: field `cooling.instabilities.1`: run eta-0.1 has 2 instabilities (event checkpoints), no instability 5');
  });

  it('`all` of a run without instabilities and an unknown run are rows too', () => {
    expect(selectWindows([], 'all', context).problems[0]).toMatchObject({ status: 'missing-instability', instability: null });
    expect(selectWindows([], 'all', context).problems[0].reason).toMatch(/field `cooling.instabilities`: `all` of run eta-0.1, which has no instability/);
    const row = missingRunRow('pipelines/x/experiment.json', 1, 'eta-9');
    expect(row).toMatchObject({ run: 'eta-9', status: 'missing-run', steps: 0 });
    expect(row.reason).toBe('pipelines/x/experiment.json: field `cooling.runs.1`: no run `eta-9` in this experiment (a slug of its grid or runs, e.g. eta-0.1-s1)');
  });
});

describe('replayTrajectory and peakIndex', () => {
  it('steps with gdStep from θ_start to the last step inclusive, each θ with its loss', async () => {
    const diagonal = [3, 1];
    const { thetas, losses } = await replayTrajectory(quadraticObjective(diagonal), Float32Array.from([1, 1]), 10, 13, (t) => (t < 12 ? 0.5 : 0.1));
    expect(thetas).toHaveLength(4);
    let theta: Float32Array = Float32Array.from([1, 1]);
    for (let t = 10; t < 13; t++) theta = gdStep(theta, Float32Array.from(theta, (x, i) => diagonal[i] * x), t < 12 ? 0.5 : 0.1);
    expect(Array.from(thetas[3])).toEqual(Array.from(theta));
    expect(losses[0]).toBe(2);
    expect(peakIndex([1, 3, 2, 3, 0])).toBe(1);
  });
});

describe('instabilityTrace on constructed models', () => {
  it('on a quadratic: A’s eigenvalues, ∇S = 0, u₁ = ±e₁ with a continuous sign, rotation 1, and the phases from the losses', async () => {
    const diagonal = [4, 1, 0.5, 0.25, 0.1];
    const model = cubicModel(diagonal, [0, 0, 0, 0, 0], 0);
    const eta = 0.6; // ηλ₁ = 2.4 > 2: the e₁ component flips sign and grows by 1.4 every step
    const { thetas } = await replayTrajectory(quadraticObjective(diagonal), Float32Array.from([0.1, 1, 1, 1, 1]), 0, 4, () => eta);
    const rows = await instabilityTrace({ run: 'q', instability: 1, start: 0, thetas, losses: [1, 2, 3, 2, 1], lrAt: () => eta, logged: () => null, model, settings: SETTINGS, recovered: true });
    expect(rows.map((r) => r.phase)).toEqual(['heating', 'heating', 'cooling', 'cooling', 'recovered']);
    for (const [i, r] of rows.entries()) {
      expect(r.lambda_1).toBeCloseTo(4, 9);
      expect(r.lambda_2).toBeCloseTo(1, 9);
      expect(r.lambda_4).toBeCloseTo(0.25, 9);
      expect(r.gap_ratio).toBeCloseTo(4, 9);
      expect(r.formula).toBe('single');
      expect(r.s).toBeCloseTo(4, 9);
      expect(r.sharpness_ratio).toBeCloseTo(4 / (2 / eta), 9);
      expect(Math.abs(r.grad_s_dot_grad)).toBeLessThan(1e-6);
      expect(r.delta_s_first_order).toBeCloseTo(0, 6);
      const theta = Float64Array.from(thetas[i]);
      const g = theta.map((t, j) => diagonal[j] * t);
      // u₁ = ±e₁, oriented along ∇L at the start and continuously after: +e₁ throughout.
      expect(r.cos_grad_u1!).toBeCloseTo(g[0] / Math.sqrt(dot(g, g)), 8);
      expect(r.displacement_u1).toBeCloseTo(theta[0] - thetas[0][0], 8);
      if (i < rows.length - 1) {
        expect(r.rotation).toBeCloseTo(1, 9);
        expect(r.delta_s).toBeCloseTo(0, 8);
      } else expect(r.rotation).toBeNull();
    }
    // The oscillation along u₁: the e₁ component alternates in sign.
    expect(rows.map((r) => Math.sign(r.cos_grad_u1!))).toEqual([1, -1, 1, -1, 1]);
  });

  it('with a cubic term: ∇S·∇L = c(bᵀu₁)²(bᵀ∇L) at the dense top eigenvector, and a cluster where the gap closes', async () => {
    const b = [0.6, 0.3, -0.2, 0.1, 0.4];
    const c = 0.8;
    const separated = cubicModel([4, 1, 0.5, 0.25, 0.1], b, c);
    const theta = Float32Array.from([0.2, -0.4, 0.3, 0.5, -0.1]);
    const [row] = await instabilityTrace({ run: 'c', instability: 1, start: 7, thetas: [theta], losses: [1], lrAt: () => 0.1, logged: () => 0.5, model: separated, settings: SETTINGS, recovered: false });
    const t64 = Float64Array.from(theta);
    const { values, vectors } = symmetricEigen(separated.hessian(t64), 5);
    const g = separated.gradient(t64);
    const bu = dot(Float64Array.from(b), vectors[0]);
    const expected = c * bu * bu * dot(Float64Array.from(b), g);
    expect(row.grad_s_dot_grad).toBeCloseTo(expected, 8);
    expect(row.grad_s_norm).toBeCloseTo(c * bu * bu * Math.sqrt(dot(Float64Array.from(b), Float64Array.from(b))), 8);
    expect(row.delta_s_first_order).toBeCloseTo(-0.1 * expected, 9);
    expect(row.lambda_1).toBeCloseTo(values[0], 9);
    expect(row).toMatchObject({ step: 7, phase: 'cooling', loss_logged: 0.5, cluster_size: 1, formula: 'single' });
    expect(row.grad_s_error).toBeLessThan(1e-6);

    // λ₁ ≈ λ₂ (4 and 3.9): S is the trace of both, ∇S = c((bᵀu₁)² + (bᵀu₂)²) b.
    const close = cubicModel([4, 3.9, 0.5, 0.25, 0.1], b, c);
    const [clustered] = await instabilityTrace({ run: 'c', instability: 1, start: 0, thetas: [theta], losses: [1], lrAt: () => 0.1, logged: () => null, model: close, settings: SETTINGS, recovered: false });
    const dense = symmetricEigen(close.hessian(t64), 5);
    expect(clustered.cluster_size).toBe(2);
    expect(clustered.formula).toBe('cluster');
    expect(clustered.s).toBeCloseTo(dense.values[0] + dense.values[1], 9);
    const bb = dense.vectors.slice(0, 2).reduce((s, u) => s + dot(Float64Array.from(b), u) ** 2, 0);
    expect(clustered.grad_s_dot_grad).toBeCloseTo(c * bb * dot(Float64Array.from(b), close.gradient(t64)), 8);

    // All four within the ratio: the cluster may go on beyond them.
    const flat = cubicModel([4, 3.95, 3.9, 3.85, 0.1], [0, 0, 0, 0, 0], 0);
    const [incomplete] = await instabilityTrace({ run: 'c', instability: 1, start: 0, thetas: [theta], losses: [1], lrAt: () => 0.1, logged: () => null, model: flat, settings: SETTINGS, recovered: false });
    expect(incomplete.formula).toBe('cluster-incomplete');
  });
});

/** A cooling row with what the statistics read (the rest zero). */
function row(phase: CoolingRow['phase'], gradSDotGrad: number, extra: Partial<CoolingRow> = {}): CoolingRow {
  return {
    run: 'r', instability: 1, step: 0, phase, lr: 0.1, loss: 1, loss_logged: 1, loss_float64: 1, grad_norm: 1,
    lambda_1: 20, lambda_2: 5, lambda_3: 1, lambda_4: 0.5, lanczos_residual: 0, gap_ratio: 4, cluster_size: 1, formula: 'single', s: 20,
    sharpness_ratio: 1, cos_grad_u1: 1, displacement_u1: 0, rotation: 1, grad_s_dot_grad: gradSDotGrad, grad_s_dot_u1: 0, grad_s_norm: 1,
    grad_s_error: 0, delta_s: null, delta_s_first_order: -0.1 * gradSDotGrad, ...extra,
  };
}

describe('per-phase statistics', () => {
  it('netSign weighs by magnitude, so an alternating sign with a drift counts as the drift', () => {
    expect(netSign([row('cooling', 3), row('cooling', -1), row('cooling', 3), row('cooling', -1)])).toBeCloseTo(0.5, 12);
    expect(netSign([row('cooling', 0)])).toBe(0);
    expect(netSign([])).toBeNull();
  });

  it('phaseSummary: shares, net signs, λ₁ changes over each phase and the first-order agreement', () => {
    const rows = [
      row('heating', -2, { step: 0, lambda_1: 20, delta_s: 0.3 }),
      row('heating', 1, { step: 1, lambda_1: 21, delta_s: 0.1 }),
      row('cooling', 4, { step: 2, lambda_1: 22, delta_s: -0.5 }),
      row('cooling', 2, { step: 3, lambda_1: 18, delta_s: 0.2, formula: 'cluster', cluster_size: 2 }),
      row('recovered', 1, { step: 4, lambda_1: 17 }),
    ];
    expect(phaseSummary(rows)).toEqual({
      heating_positive: 0.5,
      cooling_positive: 1,
      heating_net: -1 / 3,
      cooling_net: 1,
      lambda_change_heating: 2,
      lambda_change_cooling: -5,
      // −η∇S·∇L: +0.2, −0.1, −0.4, −0.2 against ΔS +0.3, +0.1, −0.5, +0.2: two of four agree.
      first_order_agreement: 0.5,
      cluster_steps: 1,
    });
  });
});

describe('coolingRun on a quadratic run', () => {
  const diagonal = [4, 1, 0.5, 0.25, 0.1];
  const eta = 0.6;
  const theta0 = Float32Array.from([0.1, 1, 1, 1, 1]);
  const steps = async (n: number) => (await replayTrajectory(quadraticObjective(diagonal), theta0, 0, n, () => eta)).thetas;

  it('replays each window, checks it against the log and the event-after θ, and records what it cannot do', async () => {
    const thetas = await steps(30);
    const logged = thetas.map((t, step) => ({
      run: 'q', step, lr: eta, loss: t.reduce((s, x, i) => s + 0.5 * diagonal[i] * x * x, 0), accuracy: null, test_loss: null, test_accuracy: null, grad_norm: null, sharpness: null, sharpness_check: null,
    }));
    logged[12].loss! += 1e-3; // one logged value off: the replay check must see it
    const checkpoints = [
      { step: 0, reason: 'cadence' },
      { step: 10, reason: 'event-before' },
      { step: 14, reason: 'event-after' },
      { step: 20, reason: 'event-before' },
      { step: 30, reason: 'final' },
    ];
    const result = await coolingRun({
      run: 'q', file: 'exp.json', checkpoints, lastStep: 30, lrAt: () => eta, logged, readTheta: async (step) => thetas[step],
      objective: quadraticObjective(diagonal), model: cubicModel(diagonal, [0, 0, 0, 0, 0], 0), instabilities: [1, 2, 3], settings: { ...SETTINGS, maxSteps: 6 },
    });
    const [first, second, third] = result.instabilities;
    expect(first).toMatchObject({ instability: 1, status: 'computed', start: 10, end: 14, steps: 5, theta_error_max: 0 });
    expect(first.loss_error_max).toBeCloseTo(1e-3, 9);
    expect(second).toMatchObject({ instability: 2, status: 'truncated', start: 20, end: null, steps: 7, theta_error_max: null, loss_error_max: 0 });
    expect(second.reason).toMatch(/the run ended \(step 30\) before the loss recovered; replayed 6 steps/);
    expect(third).toMatchObject({ instability: 3, status: 'missing-instability' });
    expect(result.steps.filter((r) => r.instability === 1).map((r) => r.step)).toEqual([10, 11, 12, 13, 14]);
    expect(result.steps.filter((r) => r.instability === 2).at(-1)!.phase).toBe('cooling');
  });
});

function instabilityRow(instability: number, status: CoolingInstabilityRow['status'], reason = ''): CoolingInstabilityRow {
  return {
    run: 'r', instability, status, reason, start: 0, peak: 1, end: 2, steps: 3, loss_error_max: 0, theta_error_max: 0, heating_positive: null, cooling_positive: null,
    heating_net: null, cooling_net: null, lambda_change_heating: null, lambda_change_cooling: null, first_order_agreement: null, cluster_steps: 0,
  };
}

describe('coolingClaims', () => {
  /** One instability's rows with net signs D_heating = h and D_cooling = c (two steps each). */
  const instability = (index: number, h: number, c: number): CoolingRow[] => [
    row('heating', (1 + h) / 2, { instability: index }),
    row('heating', -(1 - h) / 2, { instability: index }),
    row('cooling', (1 + c) / 2, { instability: index }),
    row('cooling', -(1 - c) / 2, { instability: index }),
    row('recovered', 5, { instability: index }),
  ];

  it('pass, fail or inconclusive by the t-interval of D_cooling − D_heating over instabilities', () => {
    const cases: [number, number][][] = [
      [[-0.5, 0.5], [-0.4, 0.6], [-0.6, 0.3]],
      [[0.5, -0.5], [0.4, -0.6], [0.6, -0.3]],
      [[0, 0.5], [0.5, 0], [0.1, 0.2]],
    ];
    const verdicts = cases.map((pairs) => {
      const steps = pairs.flatMap(([h, c], i) => instability(i + 1, h, c));
      const claim = coolingClaims(steps, pairs.map((_, i) => instabilityRow(i + 1, 'computed')))[0];
      const expected = tInterval(pairs.map(([h, c]) => c - h))!;
      expect(claim.id).toBe('cooling-self-stabilisation');
      expect(claim.measured).toBeCloseTo(expected.estimate, 12);
      expect(claim.detail).toContain(`unit: the instability (${pairs.length} complete; 0 left out`);
      return claim.verdict;
    });
    expect(verdicts).toEqual(['pass', 'fail', 'inconclusive']);
  });

  it('leaves out truncated instabilities, and is not run on a selection problem or with fewer than two', () => {
    const steps = [...instability(1, -0.5, 0.5), ...instability(2, -0.4, 0.6), ...instability(3, 0.9, -0.9)];
    const rows = [instabilityRow(1, 'computed'), instabilityRow(2, 'computed'), instabilityRow(3, 'truncated')];
    const claim = coolingClaims(steps, rows)[0];
    expect(claim.measured).toBeCloseTo(1, 12);
    expect(claim.detail).toContain('2 complete; 1 left out');
    const missing = instabilityRow(4, 'missing-instability', 'exp.json: field `cooling.instabilities.3`: no instability 4');
    expect(coolingClaims(steps, [...rows, missing])[0]).toMatchObject({ verdict: 'not-run', measured: null, detail: missing.reason });
    expect(coolingClaims(steps, [rows[0]])[0]).toMatchObject({ verdict: 'not-run' });
    expect(coolingClaims(steps, [rows[0]])[0].detail).toMatch(/needs ≥ 2 complete instabilities, has 1/);
    expect(coolingClaims([], [])[0]).toMatchObject({ verdict: 'not-run', detail: 'no instability selected: experiment.json `cooling.runs` is empty' });
  });
});

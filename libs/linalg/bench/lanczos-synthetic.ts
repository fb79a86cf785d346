/**
 * Lanczos's own cost on a cheap operator shaped like the bench's Hessian (see synthetic.ts), side by side in one
 * process: for each solver, from the tolerance grid of tools/bench the loosest tolerance whose result has every
 * one of the top 20 pairs at true relative residual ≤ 1e-4 (as bench:lanczos chooses), its operator calls, and
 * the wall time of that run split into time inside the operator and Lanczos's own work. Repeated; medians.
 * Figures: tools/bench/README.md, "libs/linalg/bench".
 *
 *   npx tsx libs/linalg/bench/lanczos-synthetic.ts [n=199210] [repeats=3] [solvers=…]
 */
import { lanczosTopEigenpairs, type LanczosOptions, type LanczosResult } from '../src/lanczos';
import type { LinearOperator } from '../src/operator';
import { benchLikeSpectrum, median, syntheticOperator, worstRelativeResidual } from './synthetic';

type Solver = (op: LinearOperator, n: number, options: LanczosOptions) => Promise<LanczosResult>;

const n = Number(process.argv[2] ?? 199_210);
const repeats = Number(process.argv[3] ?? 3);
const only = process.argv[4]?.split(',');
const COUNT = 20;
const TARGET = 1e-4;
const GRID = [1e-3, 5e-4, 2e-4, 1e-4, 5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6];

const solvers: Record<string, { solve: Solver; extra?: Partial<LanczosOptions> }> = {
  unrestarted: { solve: lanczosTopEigenpairs },
  'thick 40': { solve: lanczosTopEigenpairs, extra: { maxBasis: 40 } },
  'thick 50': { solve: lanczosTopEigenpairs, extra: { maxBasis: 50 } },
  'thick 60': { solve: lanczosTopEigenpairs, extra: { maxBasis: 60 } },
  'thick 80': { solve: lanczosTopEigenpairs, extra: { maxBasis: 80 } },
};

async function measure(name: string, solve: Solver, extra: Partial<LanczosOptions>, op: ReturnType<typeof syntheticOperator>, warm?: Float64Array[]) {
  let chosen: { tolerance: number; calls: number; worst: number } | null = null;
  for (const tolerance of GRID) {
    op.reset();
    const r = await solve(op.op, n, { count: COUNT, tolerance, maxIterations: 400, trueResiduals: false, warmVectors: warm, ...extra });
    const calls = op.calls();
    const worst = await worstRelativeResidual(op.op, r.pairs);
    if (worst <= TARGET) {
      chosen = { tolerance, calls, worst };
      break;
    }
  }
  if (!chosen) return { name, calls: NaN, tolerance: NaN, worst: NaN, seconds: NaN, inOp: NaN, own: NaN, pairs: [] as LanczosResult['pairs'] };
  let inOp = 0;
  const timed: LinearOperator = async (v) => {
    const t = performance.now();
    const hv = await op.op(v);
    inOp += performance.now() - t;
    return hv;
  };
  const start = performance.now();
  const r = await solve(timed, n, { count: COUNT, tolerance: chosen.tolerance, maxIterations: 400, trueResiduals: false, warmVectors: warm, ...extra });
  const seconds = (performance.now() - start) / 1000;
  return { name, ...chosen, seconds, inOp: inOp / 1000, own: seconds - inOp / 1000, pairs: r.pairs };
}

async function main(): Promise<void> {
  const lambda = benchLikeSpectrum(n, 1);
  const sorted = Float64Array.from(lambda).sort().reverse();
  console.log(`n = ${n}; top 20: ${Array.from(sorted.slice(0, 20), (x) => x.toPrecision(5)).join(' ')}`);
  const h = syntheticOperator(lambda, { float32: true });
  const names = Object.keys(solvers).filter((s) => !only || only.includes(s));
  const rows: Record<string, { calls: number[]; seconds: number[]; own: number[]; worst: number[]; tol: number[]; err: number[] }> = {};
  for (let rep = 0; rep < repeats; rep++) {
    for (const name of names) {
      const { solve, extra = {} } = solvers[name];
      const m = await measure(name, solve, extra, h);
      const err = Math.max(...m.pairs.map((p, i) => Math.abs(p.value - sorted[i]) / sorted[i]));
      const row = (rows[name] ??= { calls: [], seconds: [], own: [], worst: [], tol: [], err: [] });
      row.calls.push(m.calls);
      row.seconds.push(m.seconds);
      row.own.push(m.own);
      row.worst.push(m.worst);
      row.tol.push(m.tolerance);
      row.err.push(err);
      console.log(`rep ${rep} ${name}: tol ${m.tolerance} calls ${m.calls} worst ${m.worst.toExponential(2)} eig err ${err.toExponential(1)} ${m.seconds.toFixed(2)} s (own ${m.own.toFixed(2)} s)`);
    }
  }
  console.log('\n| solver | tolerance | operator calls | seconds (median) | own work s (median) | worst rel. res. | max eig rel. err |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const name of names) {
    const r = rows[name];
    console.log(`| ${name} | ${median(r.tol).toExponential(0)} | ${median(r.calls)} | ${median(r.seconds).toFixed(2)} | ${median(r.own).toFixed(2)} | ${median(r.worst).toExponential(1)} | ${median(r.err).toExponential(1)} |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

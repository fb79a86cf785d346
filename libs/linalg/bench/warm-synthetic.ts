/**
 * Warm starts on a perturbed operator: H = the bench-like diagonal (synthetic.ts), its top 20 eigenvectors from a
 * cold run as the warm vectors, H' = H + a small symmetric perturbation of a few sizes. For each start, the
 * operator calls to reach true relative residual ≤ 1e-4 on all 20 pairs of H' (loosest tolerance of the grid that
 * meets it, as bench:lanczos chooses).
 *
 * Figures: tools/bench/README.md, "libs/linalg/bench".
 *
 *   npx tsx libs/linalg/bench/warm-synthetic.ts [n=199210] [maxBasis]
 */
import { lanczosTopEigenpairs, type LanczosOptions } from '../src/lanczos';
import { benchLikeSpectrum, perturbation, syntheticOperator, worstRelativeResidual } from './synthetic';

const n = Number(process.argv[2] ?? 199_210);
const maxBasis = process.argv[3] ? Number(process.argv[3]) : undefined;
const COUNT = 20;
const TARGET = 1e-4;
const GRID = [1e-3, 5e-4, 2e-4, 1e-4, 5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6];

async function callsToTarget(h: ReturnType<typeof syntheticOperator>, extra: Partial<LanczosOptions>): Promise<{ calls: number; tolerance: number; seconds: number }> {
  for (const tolerance of GRID) {
    h.reset();
    const start = performance.now();
    const r = await lanczosTopEigenpairs(h.op, n, { count: COUNT, tolerance, maxIterations: 400, trueResiduals: false, maxBasis, ...extra });
    const seconds = (performance.now() - start) / 1000;
    const calls = h.calls();
    if ((await worstRelativeResidual(h.op, r.pairs)) <= TARGET) return { calls, tolerance, seconds };
  }
  return { calls: NaN, tolerance: NaN, seconds: NaN };
}

async function main(): Promise<void> {
  const lambda = benchLikeSpectrum(n, 1);
  const h = syntheticOperator(lambda, { float32: true });
  const before = await lanczosTopEigenpairs(h.op, n, { count: COUNT, tolerance: 1e-6, maxIterations: 400, trueResiduals: false });
  const warmVectors = before.pairs.map((p) => p.vector);
  console.log(`n = ${n}, maxBasis ${maxBasis ?? '(unrestarted)'}; warm vectors: H's top ${COUNT} at tolerance 1e-6 (${before.basisOperatorCalls} steps)`);
  console.log("| perturbation (relative diag, rank-4 kick) | warm vectors' worst rel. res. on H' | cold | 'sum' | 'block' (RR, lock converged, Σ rest) | 'auto' |");
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [relative, kick] of [[1e-6, 1e-5], [1e-4, 1e-3], [1e-3, 1e-2], [1e-2, 1e-1]]) {
    const p = perturbation(lambda, 7, { relative, kick });
    const h2 = syntheticOperator(p.diagonal, { float32: true, lowRank: p.lowRank });
    const warmResidual = await worstRayleighResidual(h2, warmVectors);
    const cells: string[] = [];
    for (const extra of [{ seed: 1 }, { warmVectors, warmStart: 'sum' }, { warmVectors, warmStart: 'block' }, { warmVectors, warmStart: 'auto' }] as Partial<LanczosOptions>[]) {
      const r = await callsToTarget(h2, extra);
      cells.push(`${r.calls} (tol ${r.tolerance.toExponential(0)}, ${r.seconds.toFixed(1)} s)`);
    }
    console.log(`| ${relative.toExponential(0)}, ${kick.toExponential(0)} | ${warmResidual.toExponential(1)} | ${cells.join(' | ')} |`);
  }
}

/** max over the vectors of ‖H'v − ρv‖/|ρ| with ρ = vᵀH'v its Rayleigh quotient. */
async function worstRayleighResidual(h: ReturnType<typeof syntheticOperator>, vectors: Float64Array[]): Promise<number> {
  let worst = 0;
  for (const v of vectors) {
    const hv = await h.op(Float64Array.from(v));
    let rho = 0;
    for (let i = 0; i < n; i++) rho += v[i] * hv[i];
    let s = 0;
    for (let i = 0; i < n; i++) s += (hv[i] - rho * v[i]) ** 2;
    worst = Math.max(worst, Math.sqrt(s) / Math.abs(rho));
  }
  return worst;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

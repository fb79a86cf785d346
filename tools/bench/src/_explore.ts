import { selectBackend, MlpObjective, initMlpParameters } from '@lrscape/engine';
import { lanczosTopEigenpairs } from '@lrscape/linalg';
import { BATCH_ROWS, CASES, DATA_SEED, INIT_SEED, randomBatch, specOf } from './common';
await selectBackend();
const spec = specOf(CASES[0]);
const obj = new MlpObjective(spec, randomBatch(BATCH_ROWS, DATA_SEED));
const theta = initMlpParameters(spec, INIT_SEED);
const eta = Number(process.argv[2] ?? 0.1), steps = Number(process.argv[3] ?? 0);
for (let s = 0; s <= steps; s++) {
  if (s % 10 === 0 || s === steps) {
    const st = await obj.curvatureAt(theta);
    const t = performance.now();
    const r = await lanczosTopEigenpairs((v) => st.hvp(v), theta.length, { count: 20, maxIterations: Number(process.argv[4] ?? 120), tolerance: 1e-5, trueResiduals: true });
    console.log(s, r.iterations, r.converged, ((performance.now()-t)/1000).toFixed(1), r.pairs.map((p) => p.value.toPrecision(3)).join(' '));
    console.log('   rel res', r.pairs.map((p) => (p.residual / Math.abs(p.value)).toExponential(0)).join(' '));
    st.dispose();
  }
  if (s === steps) break;
  const g = await obj.lossAndGradient(theta);
  if (s % 10 === 0) console.log('loss', g.loss, g.accuracy);
  for (let i = 0; i < theta.length; i++) theta[i] -= eta * g.gradient[i];
}

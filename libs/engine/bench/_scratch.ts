import { selectBackend } from '../src/backend';
import { ACTIVATIONS, LOSSES, lastLayersBlock, modelLayout, type CnnSpec } from '../src/layout';
import { ModelObjective } from '../src/objective';
import { referenceModelGradient, referenceModelHessian } from '../src/reference';
import { matVec, randomTheta, randomVector, relError, subBlock, tinyBatch } from '../src/testing';
await selectBackend('wasm');
for (const pool of ['avg', 'max', 'none'] as const)
for (const activation of ACTIVATIONS) for (const loss of LOSSES) {
  const spec: CnnSpec = { kind: 'cnn', inputShape: [5, 5, 2], conv: [{ filters: 3, kernelSize: 3, padding: 'same' }], pool, dense: [4], outputDim: 3, activation, loss };
  const layout = modelLayout(spec);
  const P = layout.size;
  const batch = tinyBatch(spec, 4, 21);
  const theta = randomTheta(spec, 8);
  let t0 = performance.now();
  const H = referenceModelHessian(spec, theta.f64, batch);
  const tH = performance.now() - t0;
  const obj = new ModelObjective(spec, batch);
  const { gradient } = await obj.lossAndGradient(theta.f32);
  const ge = relError(gradient, referenceModelGradient(spec, theta.f64, batch));
  const c = await obj.curvatureAt(theta.f32);
  const errs = [];
  for (const seed of [1, 2]) { const v = randomVector(P, seed); errs.push(relError(await c.hvp(v), matVec(H, P, P, v))); }
  for (const k of [1, 2, 3]) { const { offset, size } = lastLayersBlock(layout, k); const v = randomVector(size, 4); errs.push(relError(await c.blockHvp(k)(v), matVec(subBlock(H, P, offset, size), size, size, v))); }
  console.log(pool, activation, loss, 'P', P, 'Hess ms', tH.toFixed(0), 'grad', ge.toExponential(1), 'hvp', errs.map((e) => e.toExponential(1)).join(' '));
  c.dispose(); obj.dispose();
}

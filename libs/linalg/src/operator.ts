/**
 * A symmetric linear operator H given only through its action v ↦ Hv (a Hessian–vector product, a dense
 * matvec in tests). Every solver in this lib sees H through this one door, so nothing here knows about
 * tfjs, models or batches.
 */
export type LinearOperator = (v: Float64Array) => Promise<Float64Array>;

/**
 * Applies `op` to a private copy of `v` and returns a private copy of the result: operators may reuse
 * buffers or keep a reference to their input, and the solvers mutate what they get back. The copy of the
 * result goes to `into` when given (a recycled vector of the right length).
 */
export async function applyOperator(op: LinearOperator, v: Float64Array, into?: Float64Array): Promise<Float64Array> {
  const hv = await op(Float64Array.from(v));
  if (hv.length !== v.length) {
    throw new RangeError(`operator returned a vector of length ${hv.length}, expected ${v.length}`);
  }
  if (into === undefined || into.length !== hv.length) return Float64Array.from(hv);
  into.set(hv);
  return into;
}

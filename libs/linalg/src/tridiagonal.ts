/**
 * Symmetric tridiagonal eigenproblem: implicit QL with Wilkinson shifts (EISPACK tql2, as in JAMA;
 * Golub & Van Loan §8.3). O(n²) for the eigenvalues, O(n²) per tracked row of the eigenvector matrix.
 *
 * Ordering convention of this lib: eigenvalues DESCENDING everywhere (tridiagonalEigen, symmetricEigen,
 * Lanczos pairs, SLQ nodes), eigenvectors returned as columns (vectors[j] is the eigenvector of values[j]).
 */

const EPS = 2 ** -52;
/** QL typically needs 2–3 sweeps per eigenvalue; this many means the input is not finite. */
const MAX_SWEEPS_PER_EIGENVALUE = 60;

/**
 * In place: d ← eigenvalues of T = tridiag(e, d, e) (unsorted), e is destroyed, and each tracked row
 * z ← zZ, where Z (orthogonal) holds the eigenvectors of T as columns.
 *
 * Tracking rows instead of the whole Z lets callers pay only for what they need: identity rows give Z,
 * rows Qᵀ… give QZ (eigenvectors of A = QTQᵀ after Householder), and the single row e_0ᵀ or e_{n−1}ᵀ gives the
 * first or last component of every eigenvector (Gauss quadrature weights, Lanczos residual estimates).
 *
 * e[i] couples i and i+1; e.length must be n (e[n−1] is ignored and set to 0).
 */
export function implicitQL(d: Float64Array, e: Float64Array, rows: readonly Float64Array[]): void {
  const n = d.length;
  if (n === 0) return;
  e[n - 1] = 0;
  let shiftSum = 0; // eigenvalues are found for T − shiftSum·I; added back on deflation
  let normT = 0; // running max |d_i| + |e_i|: the scale for "negligible" off-diagonals
  for (let l = 0; l < n; l++) {
    normT = Math.max(normT, Math.abs(d[l]) + Math.abs(e[l]));
    // Invariant: e[0..l−1] are negligible and d[0..l−1] are eigenvalues. Find the unreduced block l..m.
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * normT) m++;
    if (m > l) {
      let sweeps = 0;
      do {
        if (++sweeps > MAX_SWEEPS_PER_EIGENVALUE) throw new Error('implicitQL: no convergence (non-finite input?)');
        // Wilkinson shift: the eigenvalue of the leading 2×2 block [d_l e_l; e_l d_{l+1}] nearer to d_l.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        shiftSum += h;
        // One implicit QL sweep: Givens rotations from the bottom of the block (m) up to l.
        p = d[m];
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        let s = 0;
        let s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // Accumulate the rotation into columns i, i+1 of every tracked row.
          for (const z of rows) {
            const zi1 = z[i + 1];
            z[i + 1] = s * z[i] + c * zi1;
            z[i] = c * z[i] - s * zi1;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * normT);
    }
    d[l] += shiftSum;
    e[l] = 0;
  }
}

/** Indices that sort `values` descending (ties keep their index order). */
export function descendingOrder(values: Float64Array): Int32Array {
  const order = Int32Array.from(values, (_, i) => i);
  order.sort((i, j) => values[j] - values[i] || i - j);
  return order;
}

/** Identity as n rows of length n. */
export function identityRows(n: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    row[i] = 1;
    return row;
  });
}

/** Sorts the output of implicitQL descending and turns the rows of the eigenvector matrix into columns. */
export function sortedEigenpairs(
  d: Float64Array,
  rows: readonly Float64Array[],
): { values: Float64Array; vectors: Float64Array[] } {
  const order = descendingOrder(d);
  const values = Float64Array.from(order, (i) => d[i]);
  const vectors = Array.from(order, (col) => Float64Array.from(rows, (row) => row[col]));
  return { values, vectors };
}

/**
 * Eigen-decomposition of the symmetric tridiagonal matrix with the given diagonal (length n) and
 * off-diagonal (length n − 1). Values DESCENDING; vectors[j] is the unit eigenvector of values[j].
 */
export function tridiagonalEigen(
  diagonal: Float64Array,
  offDiagonal: Float64Array,
): { values: Float64Array; vectors: Float64Array[] } {
  const n = diagonal.length;
  if (offDiagonal.length !== Math.max(n - 1, 0)) {
    throw new RangeError(`off-diagonal must have length n − 1 = ${Math.max(n - 1, 0)}, got ${offDiagonal.length}`);
  }
  const d = Float64Array.from(diagonal);
  const e = new Float64Array(n);
  e.set(offDiagonal);
  const rows = identityRows(n);
  implicitQL(d, e, rows);
  return sortedEigenpairs(d, rows);
}

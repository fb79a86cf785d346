/**
 * The rows the report reads, as plain objects with the column names of DESIGN §6.
 * Declared here rather than imported from @lrscape/artifacts so that the report depends on
 * nothing but the shape of a row; a caller turns Arrow tables into these with `table.toArray()`.
 */

/** One training trajectory (`runs` table). */
export interface RunsRow {
  run: string;
  eta: number;
  schedule: string;
  seed: number;
  steps: number;
  diverged: boolean;
  final_loss: number | null;
  final_sharpness: number | null;
  seconds: number;
  backend: string;
}

/** One GD step of one run (`steps` table). `sharpness` is set only at the tracking cadence. */
export interface StepsRow {
  run: string;
  step: number;
  lr: number;
  loss: number | null;
  accuracy: number | null;
  test_loss: number | null;
  test_accuracy: number | null;
  grad_norm: number | null;
  sharpness: number | null;
}

/** One Ritz value at one checkpoint (`spectra` table); rank 1 is the largest eigenvalue. */
export interface SpectraRow {
  run: string;
  step: number;
  /** 'full' for the whole Hessian, 'k1', 'k2', … for the block of the last k layers. */
  scope: string;
  rank: number;
  eigenvalue: number;
  residual: number;
  is_outlier: boolean;
}

/** One reproduction claim with its verdict on the real outputs (`claims` table). */
export interface ClaimsRow {
  claim: string;
  measured: number | null;
  expected: string;
  verdict: 'pass' | 'fail' | 'not-run';
  detail: string;
}

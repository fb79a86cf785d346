export { effectiveParameters, splitOutliers, type OutlierOptions, type OutlierSplit } from './outliers';
export { decomposeHessian, scopeName, type CurvatureOperators, type DecompositionOptions, type ScopeSpectrum } from './decompose';
export { effectiveRows, instabilityRows, klayerComparison } from './summaries';
export { detectInstabilities, type Instability, type InstabilityOptions, type TracePoint } from './instabilities';
export {
  edgeOfStabilityClaims,
  edgeOfStabilityHoverClaims,
  flatteningClaims,
  outlierCountClaims,
  peakThresholdRatio,
  shiftClaims,
  type ClaimInputs,
} from './claims';
export {
  alongRunOverlaps,
  baselineOverlaps,
  displacementRows,
  eigenspaceOverlap,
  instabilityOverlaps,
  type CheckpointEigenspace,
  type EigenspaceOverlap,
} from './shift';
export { flatteningRows, spearman, type DropRun } from './flattening';
export { classPerturbationRows, directionalOutputChange, gridPerturbationRows } from './perturbations';

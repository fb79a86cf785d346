export { effectiveParameters, splitOutliers, type OutlierOptions, type OutlierSplit } from './outliers';
export { decomposeHessian, warmStartOf, type DecompositionOptions, type ScopeSpectrum, type WarmStart } from './decompose';
export {
  analyzeCheckpoint,
  evenGrid,
  type CheckpointAnalysis,
  type CheckpointAnalysisSettings,
  type CheckpointInput,
  type OutputResponse,
  type ScopeSummary,
} from './checkpoint-analysis';
export { hessianRecordSchema, readHessianRecord, writeHessianRecord, HESSIAN_RECORD_FILE, type HessianRecord } from './hessian-record';
export {
  aggregateExperiment,
  baselineOf,
  eigenspacesByScope,
  outlierCounts,
  type AnalysisSettings,
  type ExperimentTables,
  type HessianRows,
  type RunInput,
} from './aggregate';
export { effectiveRows, instabilityRows, klayerComparison } from './summaries';
export { detectInstabilities, type Instability, type InstabilityOptions, type TracePoint } from './instabilities';
export {
  CLAIM_IDS,
  edgeOfStabilityClaims,
  edgeOfStabilityHoverClaims,
  flatteningClaims,
  outlierCountClaims,
  peakThresholdRatio,
  shiftClaims,
  verifyExperiment,
  type ClaimId,
  type ClaimInputs,
  type VerifyInputs,
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
export {
  formatInterval,
  groupBootstrap,
  kendallTau,
  nullVerdict,
  partialKendallTau,
  signVerdict,
  tInterval,
  type Interval,
  type Verdict,
} from './statistics';

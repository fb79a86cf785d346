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
export { analysisSteps, analyzeRun, quietWindowPlan, type AnalysisStep, type RunAnalysis, type RunAnalysisInput, type RunAnalysisRows, type RunAnalysisSettings } from './run-analysis';
export { analyzeLightCheckpoint, type LightAnalysisSettings, type LightCheckpointAnalysis } from './light-analysis';
export { matchedSlopeClaims, shiftWindowClaims } from './shift-claims';
export { hessianRecordSchema, readHessianRecord, writeHessianRecord, HESSIAN_RECORD_FILE, type HessianRecord } from './hessian-record';
export {
  aggregateExperiment,
  baselineOf,
  eigenspacesByScope,
  topEigenvalues,
  type AnalysisSettings,
  type CoolingTables,
  type ExperimentTables,
  type HessianRows,
  type RunInput,
} from './aggregate';
export { effectiveRows, klayerComparison } from './summaries';
export { detectInstabilities, InstabilityScan, instabilityRows, localMaxima, peakProminences, traceOf, type Instability, type InstabilityOptions, type TracePoint } from './instabilities';
export { emptySweepFields, instabilityTables, type InstabilitySettings } from './sensitivity';
export { alongRunFlatteningClaim, alongRunRobustnessClaim, MIN_INSTABILITIES, partialTauByEta, runTrend, summarizeTrend, sweepVerdicts } from './along-run';
export { FLAT_SLOPE, longHorizonClaim, longHorizonRows, trendOf, type LongHorizonSettings } from './long-horizon';
export { powerCheckRows } from './power-check';
export { progressiveSharpeningClaim, sharpeningRise } from './sharpening';
export {
  CLAIM_IDS,
  edgeOfStabilityClaims,
  edgeOfStabilityHoverClaims,
  instabilityClaims,
  outlierCountClaims,
  peakThresholdRatio,
  verifyExperiment,
  type ClaimId,
  type ClaimInputs,
  type VerifyInputs,
} from './claims';
export {
  alongRunOverlaps,
  baselineOverlaps,
  displacementRows,
  eigengap,
  eigenspaceOverlap,
  instabilityOverlaps,
  matchedTimeComparisons,
  windowComparisons,
  type CheckpointEigenspace,
  type EigenspaceOverlap,
  type MatchedTimeRun,
  type ShiftRun,
  type ShiftSettings,
  type WindowRun,
} from './shift';
export { flatteningTables, type DropFamilyInput, type DropFamilySettings } from './flattening';
export {
  atMatchedLoss,
  cycleEnds,
  cyclicRatio,
  cyclicTables,
  cyclicTrends,
  CYCLIC_METRICS,
  MIN_TREND_RATIOS,
  periodMismatch,
  type CyclicInputs,
  type CyclicRunInput,
  type CyclicSettings,
  type CyclicTables,
} from './cyclic';
export { dropFlatteningClaims, matchedPairs, olsSlope, perSeedMeans, switchSlopes, type MatchedPair } from './drop-flattening';
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
export {
  coolingClaims,
  coolingRun,
  COOLING_EIGENVALUES,
  eventWindows,
  missingRunRow,
  netSign,
  unsupportedRunRow,
  type CoolingInstabilityRow,
  type CoolingRow,
  type CoolingRunInput,
  type CoolingSettings,
  type EventWindow,
} from './cooling';
export { Float64Mlp } from './float64-mlp';
export { clusterGradient, thirdDerivativeAlong, topClusterSize, topEigenpairs } from './self-stabilisation';

export { effectiveParameters, splitOutliers, type OutlierOptions, type OutlierSplit } from './outliers';
export { decomposeHessian, scopeName, type CurvatureOperators, type DecompositionOptions, type ScopeSpectrum } from './decompose';
export { effectiveRows, instabilityRows, klayerComparison } from './summaries';
export { detectInstabilities, type Instability, type InstabilityOptions, type TracePoint } from './instabilities';
export { edgeOfStabilityClaims, peakThresholdRatio, type ClaimInputs } from './claims';

/**
 * @lrscape/report: the static HTML report. Figures are Observable Plot marks rendered to inline SVG
 * at build time; pages assemble them with captions, tables, downloads and provenance; the site is
 * checked to hold only relative links that resolve.
 */
export type {
  ClaimsRow,
  CoolingInstabilityRow,
  CoolingRow,
  DensityRow,
  DisplacementRow,
  DropFamiliesRow,
  EffectiveRow,
  FlatteningRow,
  InstabilitiesRow,
  InstabilitySensitivityRow,
  KlayerRow,
  LongHorizonRow,
  OverlapsRow,
  PerturbationsRow,
  PowerCheckRow,
  RunsRow,
  SpectraRow,
  StepsRow,
  TraceRow,
} from './rows.ts';
export { lossFigure, sharpnessFigure, edgeOfStabilityFigure, spectrumFigure, klayerFigure } from './figures.ts';
export { bottomEigenvalueFigure, bottomRatioFigure, densityFigure, effectiveFigure, effectiveFullFigure, outlierCountFigure, traceFigure, klayerErrorFigure } from './spectral.ts';
export { overlapHeatmapFigure, baselineOverlapFigure, instabilityOverlapFigure, displacementFigure } from './shift.ts';
export { dropFamilyNames, flatteningFigure, flatteningSection, flatteningStatement } from './flattening.ts';
export { coolingFigure, coolingInstabilityTable, phaseSummaries, phaseSummaryTable } from './cooling.ts';
export { cyclicFigure, cyclicFinding, cyclicSection, cyclicTable, CYCLIC_METRIC_LABELS, type CyclicRow, type CyclicTrendsRow } from './cyclic.ts';
export { perturbationHeatmapFigure } from './perturbations.ts';
export { instabilityTable, powerCheckTable } from './instabilities.ts';
export { alongRunFigure, instabilityDetailFigure, longHorizonFigure, sensitivityFigure } from './instability-figures.ts';
export { renderExperimentPage, renderFigure, type ExperimentPageInput } from './page.ts';
export { renderSiteIndex, writeExperimentReport, publishSite, checkSiteLinks, type SiteIndexEntry } from './site.ts';
export { escapeHtml, formatNumber } from './html.ts';

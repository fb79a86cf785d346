/**
 * @lrscape/report: the static HTML report. Figures are Observable Plot marks rendered to inline SVG
 * at build time; pages assemble them with captions, tables, downloads and provenance; the site is
 * checked to hold only relative links that resolve.
 */
export type {
  ClaimsRow,
  DensityRow,
  DisplacementRow,
  EffectiveRow,
  FlatteningRow,
  InstabilitiesRow,
  KlayerRow,
  OverlapsRow,
  PerturbationsRow,
  RunsRow,
  SpectraRow,
  StepsRow,
  TraceRow,
} from './rows.ts';
export { lossFigure, sharpnessFigure, edgeOfStabilityFigure, spectrumFigure, klayerFigure } from './figures.ts';
export { densityFigure, effectiveFigure, outlierCountFigure, traceFigure, klayerErrorFigure } from './spectral.ts';
export { overlapHeatmapFigure, baselineOverlapFigure, instabilityOverlapFigure, displacementFigure } from './shift.ts';
export { flatteningFigure } from './flattening.ts';
export { perturbationHeatmapFigure } from './perturbations.ts';
export { instabilityTable } from './instabilities.ts';
export { renderExperimentPage, renderFigure, type ExperimentPageInput } from './page.ts';
export { renderSiteIndex, writeExperimentReport, publishSite, checkSiteLinks, type SiteIndexEntry } from './site.ts';
export { escapeHtml, formatNumber } from './html.ts';

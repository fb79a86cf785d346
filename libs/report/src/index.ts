/**
 * @lrscape/report: the static HTML report. Figures are Observable Plot marks rendered to inline SVG
 * at build time; pages assemble them with captions, tables, downloads and provenance; the site is
 * checked to hold only relative links that resolve.
 */
export type { ClaimsRow, RunsRow, SpectraRow, StepsRow } from './rows.ts';
export { lossFigure, sharpnessFigure, spectrumFigure, klayerFigure } from './figures.ts';
export { renderExperimentPage, renderFigure, type ExperimentPageInput } from './page.ts';
export { renderSiteIndex, writeExperimentReport, publishSite, checkSiteLinks, type SiteIndexEntry } from './site.ts';
export { escapeHtml, formatNumber } from './html.ts';

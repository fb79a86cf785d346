/** The document shell shared by every page: inline CSS, a strict CSP, nothing loaded from elsewhere. */
import { escapeHtml } from './html.ts';

/**
 * Nothing may be fetched: no scripts, styles, fonts or images from anywhere (the colour legends
 * are data: URLs). A page that tried would log a CSP error, which the browser test catches.
 */
const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

export const CSS = `
:root { color-scheme: light; --fg: #1d232a; --muted: #5b6670; --line: #dde2e7; --bg-soft: #f5f7f9; --accent: #1f5f8b;
  --pass: #1e7b34; --fail: #b3261e; --notrun: #7a6a00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1020px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; }
h1 { font-size: 1.7rem; margin: .3em 0 .2em; }
h2 { font-size: 1.25rem; margin: 0 0 .5em; padding-top: .6em; border-top: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1em 0 .3em; }
a { color: var(--accent); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
section { margin: 28px 0; scroll-margin-top: 56px; }
.lrs-meta, .lrs-hint, figcaption, footer, .lrs-note { color: var(--muted); }
.lrs-meta { margin: 0 0 .6em; font-size: .9rem; }
.lrs-crumbs { font-size: .9rem; }
.lrs-toc { font-size: .9rem; margin: .6em 0; }
.lrs-toc a { margin-right: .9em; white-space: nowrap; }
.lrs-control { position: sticky; top: 0; z-index: 2; background: rgba(255,255,255,.96); border-bottom: 1px solid var(--line);
  padding: 8px 20px; display: flex; gap: .7em; align-items: center; flex-wrap: wrap; justify-content: center; }
.lrs-control[hidden] { display: none; }
.lrs-control select { font: inherit; padding: 2px 6px; }
.lrs-hint { font-size: .85rem; }
figure.lrs-figure { margin: 0 0 18px; }
figure.lrs-figure > figure { margin: 0; }
figure.lrs-figure svg.lrs-plot { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; max-width: 75ch; margin-top: 6px; }
.lrs-panels { display: flex; flex-wrap: wrap; gap: 8px 20px; }
.lrs-panel { flex: 1 1 440px; min-width: 0; }
.lrs-panel-title { margin: 0 0 4px; font-size: .9rem; font-weight: 600; }
.lrs-stated { font-size: .95rem; }
.lrs-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 8px 24px; }
.lrs-nodata { padding: 18px; background: var(--bg-soft); border: 1px dashed var(--line); color: var(--muted); margin: 0; }
.lrs-dim { opacity: .12; }
.lrs-run-figure[hidden] { display: none; }
table { border-collapse: collapse; font-size: .88rem; margin: 6px 0; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; border-bottom-width: 2px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.lrs-table-wrap { overflow-x: auto; }
.lrs-nowrap { white-space: nowrap; }
tr.lrs-dim { opacity: .35; }
tr.lrs-selected { background: #eef5fb; }
.lrs-js tr[data-run] { cursor: pointer; }
.lrs-swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .4em; vertical-align: -1px; }
.lrs-pair { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.lrs-badge { display: inline-block; padding: 0 .5em; border-radius: 3px; font-size: .8rem; font-weight: 600; color: #fff; white-space: nowrap; }
.lrs-pass { background: var(--pass); } .lrs-fail { background: var(--fail); } .lrs-not-run, .lrs-skipped { background: var(--notrun); } .lrs-inconclusive { background: var(--inconclusive, #b7791f); }
.lrs-ok { background: var(--accent); }
pre { background: var(--bg-soft); padding: 10px 12px; overflow: auto; max-height: 32em; border: 1px solid var(--line); }
dl.lrs-facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 10px; }
dl.lrs-facts dt { color: var(--muted); } dl.lrs-facts dd { margin: 0; }
footer { font-size: .85rem; padding-bottom: 30px; border-top: 1px solid var(--line); padding-top: 10px; margin-top: 30px; }
`;

export function documentShell(options: { title: string; body: string; script?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>${escapeHtml(options.title)}</title>
<style>${CSS}</style>
</head>
<body>
${options.body}
${options.script ? `<script>${options.script}</script>` : ''}
</body>
</html>
`;
}

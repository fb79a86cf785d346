/** The site: the index across experiments, writing a page with its data files, publishing and link checks. */
import { copyFile, cp, mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { JSDOM } from 'jsdom';
import { html, raw } from './html.ts';
import { documentShell } from './layout.ts';
import { renderExperimentPage, type ExperimentPageInput } from './page.ts';

export interface SiteIndexEntry {
  experiment: string;
  title: string;
  /** Relative to the index, e.g. 'wreg/index.html'. */
  href: string;
  summary: string;
  status: 'ok' | 'skipped';
  /** Why a skipped experiment was left out (its data files are absent, its tier is not selected). */
  reason?: string;
  /** The command that builds a skipped experiment, where one is all it takes (e.g. `LRSCAPE_TIER=extended npx nx run x:analyze`). */
  command?: string;
  claims?: { pass: number; fail: number };
}

/** reports/index.html: every experiment with its reproduction-check tally; skipped ones with the reason and the command that builds them. */
export function renderSiteIndex(entries: SiteIndexEntry[], meta: { generatedAt: string; codeVersion: string }): string {
  const ok = entries.filter((e) => e.status === 'ok');
  const skipped = entries.filter((e) => e.status === 'skipped');
  const checks = (e: SiteIndexEntry) =>
    e.claims
      ? raw(html`<span class="lrs-badge ${e.claims.fail ? 'lrs-fail' : 'lrs-pass'}">${e.claims.pass} pass · ${e.claims.fail} fail</span>`)
      : raw('<span class="lrs-note">no checks</span>');
  const okTable = ok.length
    ? html`<div class="lrs-table-wrap"><table class="lrs-index"><thead><tr><th>experiment</th><th>summary</th><th>reproduction checks</th></tr></thead><tbody>
${ok.map((e) => raw(html`<tr data-experiment="${e.experiment}"><td><a href="${e.href}">${e.title}</a><br><code>${e.experiment}</code></td><td>${e.summary}</td><td>${checks(e)}</td></tr>\n`))}
</tbody></table></div>`
    : '<p class="lrs-nodata" role="note">No experiment has been reported yet: run <code>npx nx run-many -t analyze</code>.</p>';
  const skippedList = skipped.length
    ? html`<section id="skipped"><h2>Skipped experiments</h2><p class="lrs-note">Left out of this build; nothing was computed for them.</p><ul class="lrs-skipped-list">
${skipped.map((e) => raw(html`<li data-experiment="${e.experiment}"><strong>${e.title}</strong> (<code>${e.experiment}</code>) <span class="lrs-badge lrs-skipped">skipped</span> — ${e.reason ?? 'no reason given'}${e.command ? raw(html`<br>To build it: <code class="lrs-command">${e.command}</code>`) : ''}${e.summary ? raw(html`<br><span class="lrs-note">${e.summary}</span>`) : ''}</li>\n`))}
</ul></section>`
    : '';
  const body = html`<header>
<h1>lrscape reports</h1>
<p class="lrs-meta">Large-learning-rate training through the Hessian: gradient descent over a grid of learning rates, Lanczos spectra at checkpoints. Generated ${meta.generatedAt} · code ${meta.codeVersion}</p>
</header>
<main>
<section id="experiments"><h2>Experiments</h2>${raw(okTable)}</section>
${raw(skippedList)}
</main>
<footer>Static site: relative links only, works from file:// and any static host. Each experiment page links to its Arrow tables.</footer>`;
  return documentShell({ title: 'lrscape reports', body });
}

/**
 * Writes outDir/index.html and copies each data file into outDir/data/<name>; every copied file
 * gets a download link 'data/<name>' (beside the input's own downloads). The page is written to a
 * temporary name and renamed, so a reader never sees half a page.
 */
export async function writeExperimentReport(
  outDir: string,
  input: ExperimentPageInput,
  files: { name: string; sourcePath: string }[],
): Promise<void> {
  for (const f of files) {
    if (!f.name || f.name !== path.basename(f.name) || f.name === '.' || f.name === '..' || f.name.includes('\\')) {
      throw new Error(`writeExperimentReport: data file name must be a plain file name, got ${JSON.stringify(f.name)}`);
    }
  }
  const dataDir = path.join(outDir, 'data');
  await mkdir(dataDir, { recursive: true });
  for (const f of files) await copyFile(f.sourcePath, path.join(dataDir, f.name));
  const downloads = [...input.downloads];
  for (const f of files) {
    const href = `data/${encodeURIComponent(f.name)}`;
    if (!downloads.some((d) => d.href === href)) downloads.push({ label: f.name, href });
  }
  const page = renderExperimentPage({ ...input, downloads });
  const target = path.join(outDir, 'index.html');
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, page, 'utf8');
  await rename(temporary, target);
}

/**
 * Copies the whole site from reportsDir into destDir, then checks every page there; throws naming
 * each page and link that is absolute, external or broken.
 */
export async function publishSite(reportsDir: string, destDir: string): Promise<{ files: number }> {
  const files = (await listFiles(reportsDir)).length;
  await mkdir(destDir, { recursive: true });
  await cp(reportsDir, destDir, { recursive: true, force: true });
  const problems = await checkSiteLinks(destDir);
  if (problems.length) {
    const lines = problems.map((p) => `  ${p.page}: ${p.href} — ${p.problem}`);
    throw new Error(`publishSite: ${problems.length} bad link${problems.length === 1 ? '' : 's'} in ${destDir}:\n${lines.join('\n')}`);
  }
  return { files };
}

/** Attributes that make a browser load or navigate to a URL. */
const URL_ATTRIBUTES = ['href', 'src', 'xlink:href', 'action', 'poster', 'data', 'formaction'];

/**
 * Every link and resource URL of every .html page under siteDir that would not work on a static
 * host or from file://: absolute or external URLs (http:, https:, //, a leading /, any other
 * scheme but data:), relative links to missing files, to folders, or outside the site, and
 * in-page #fragments with no matching id. Pages are named relative to siteDir, with '/'.
 */
export async function checkSiteLinks(siteDir: string): Promise<{ page: string; href: string; problem: string }[]> {
  const root = path.resolve(siteDir);
  const pages = (await listFiles(root)).filter((f) => /\.html?$/i.test(f));
  const problems: { page: string; href: string; problem: string }[] = [];
  for (const page of pages) {
    const file = path.join(root, page);
    const dom = new JSDOM(await readFile(file, 'utf8'));
    const document = dom.window.document;
    const ids = new Set([...document.querySelectorAll('[id]')].map((e) => e.id));
    for (const a of document.querySelectorAll('a[name]')) ids.add(a.getAttribute('name')!);
    const urls: string[] = [];
    for (const element of document.querySelectorAll('*')) {
      for (const name of URL_ATTRIBUTES) {
        const value = element.getAttribute(name);
        if (value !== null && !(name === 'data' && element.tagName !== 'OBJECT')) urls.push(value.trim());
      }
      const srcset = element.getAttribute('srcset');
      if (srcset) urls.push(...srcset.split(',').map((s) => s.trim().split(/\s+/)[0]!).filter(Boolean));
    }
    dom.window.close();
    for (const href of urls) {
      const problem = await linkProblem(root, path.dirname(file), href, ids);
      if (problem) problems.push({ page: page.split(path.sep).join('/'), href, problem });
    }
  }
  return problems;
}

async function linkProblem(root: string, pageDir: string, href: string, ids: Set<string>): Promise<string | null> {
  if (href === '') return null;
  if (/^data:/i.test(href)) return null;
  if (/^(https?:)?\/\//i.test(href)) return 'external link (the site must be self-contained)';
  if (href.startsWith('/') || href.startsWith('\\')) return 'absolute path (breaks from file:// and under a sub-path)';
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return `not a relative link (${href.slice(0, href.indexOf(':') + 1)})`;
  const hashAt = href.indexOf('#');
  const fragment = hashAt >= 0 ? href.slice(hashAt + 1) : '';
  const pathPart = href.slice(0, hashAt >= 0 ? hashAt : undefined).split('?')[0]!;
  if (pathPart === '') {
    return fragment === '' || ids.has(decodeSafely(fragment)) ? null : `no element with id "${fragment}" on the page`;
  }
  const target = path.resolve(pageDir, decodeSafely(pathPart));
  if (target !== root && !target.startsWith(root + path.sep)) return 'points outside the site';
  let info;
  try {
    info = await stat(target);
  } catch {
    return 'broken link: no such file';
  }
  if (info.isDirectory()) return 'points to a folder (link its index.html: folders do not open from file://)';
  return null;
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Every file under dir, as paths relative to it, in a stable order. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

// HTML assembly of a run report (app/report): one self-contained page (inline CSS, inline SVG
// plots, no scripts, no network) from a title, notes and sections of tables and plots.

import type { Table } from './tables.ts';

/** Escapes text for HTML element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One section of the page: a heading, an optional paragraph, tables and plots. */
export interface ReportSection {
  id: string;
  heading: string;
  text?: string;
  tables?: Table[];
  /** Plots: the inline SVG document and the file name of its PNG copy. */
  plots?: { name: string; svg: string; png?: string }[];
}

/** The page: title, subtitle line, notes (e.g. what is missing) and sections. */
export interface ReportPage {
  title: string;
  subtitle?: string;
  notes: string[];
  sections: ReportSection[];
}

const CSS = `
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1.5em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.sub { color: #555; margin-top: 0; }
.notes { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 1em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.tnote { color: #555; font-size: 0.88em; margin-top: -0.4em; }
figure { margin: 1em 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.85em; }
`;

function isNumeric(s: string): boolean {
  return /^[-−]?[\d.]+( ± [\d.]+)?( %)?( \(\d+ seeds\))?$/.test(s) || s === 'n/a';
}

/** An HTML table (numbers right-aligned). */
export function tableHtml(t: Table): string {
  const head = `<tr>${t.headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r) => `<tr>${r.map((c, i) => (i > 0 && !t.leftAligned && isNumeric(c) ? `<td class="num">${esc(c)}</td>` : `<td>${esc(c)}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<table>\n${head}\n${body}\n</table>${t.note ? `\n<p class="tnote">${esc(t.note)}</p>` : ''}`;
}

/** Strips the XML prolog of an SVG document so it can be inlined. */
function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

/** The whole page. */
export function renderHtml(page: ReportPage): string {
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${esc(page.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${esc(page.title)}</h1>`,
  ];
  if (page.subtitle) parts.push(`<p class="sub">${esc(page.subtitle)}</p>`);
  if (page.notes.length) parts.push(`<div class="notes">${page.notes.map((n) => `<p>${esc(n)}</p>`).join('')}</div>`);
  for (const s of page.sections) {
    parts.push(`<section id="${esc(s.id)}">`, `<h2>${esc(s.heading)}</h2>`);
    if (s.text) parts.push(`<p>${esc(s.text)}</p>`);
    for (const t of s.tables ?? []) parts.push(tableHtml(t));
    for (const p of s.plots ?? [])
      parts.push(
        `<figure id="plot-${esc(p.name)}" class="plot">`,
        inlineSvg(p.svg),
        p.png ? `<figcaption>PNG copy: <a href="${esc(p.png)}">${esc(p.png)}</a></figcaption>` : '',
        '</figure>',
      );
    parts.push('</section>');
  }
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}

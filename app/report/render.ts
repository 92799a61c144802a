// Headless plot rendering for the run reports (app/report): a Vega-Lite spec is compiled to Vega and
// rendered to SVG in Node (renderer 'none', no canvas), and the SVG to PNG with resvg using the
// system fonts (DejaVu Sans first).

import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Font family of every plot (installed on Debian as fonts-dejavu; resvg falls back to any sans). */
export const PLOT_FONT = 'DejaVu Sans';

/** The shared look of the report plots (font, sizes, white background). */
export const PLOT_CONFIG = {
  font: PLOT_FONT,
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, anchor: 'start' as const },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

/** Renders a Vega-Lite spec to an SVG document string (headless, no browser, no canvas). */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders an SVG document to PNG bytes at `scale` times its size (2: print resolution for papers). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const r = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: PLOT_FONT, sansSerifFamily: PLOT_FONT },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  });
  return r.render().asPng();
}

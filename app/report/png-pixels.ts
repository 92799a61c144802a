// PNG pixel statistics for checking rendered plots (app/report, used by the tests): the PNG is
// decoded by resvg (as an image embedded in an SVG) and summarised as its size, the share of
// pixels that are not (near) white and the number of distinct colours.

import { Resvg } from '@resvg/resvg-js';

/** Size and content statistics of a PNG image. */
export interface PngStats {
  width: number;
  height: number;
  /** Share of pixels with any channel below 240 (ink on a white page). */
  inkFraction: number;
  /** Distinct RGB colours (quantised to 5 bits per channel). */
  colors: number;
}

/** Decodes `png` and returns its {@link PngStats}; throws when the bytes are not a decodable PNG. */
export function pngStats(png: Uint8Array): PngStats {
  const b = Buffer.from(png);
  if (b.length < 24 || b.toString('latin1', 1, 4) !== 'PNG') throw new Error('not a PNG file (bad signature)');
  const width = b.readUInt32BE(16),
    height = b.readUInt32BE(20);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><image href="data:image/png;base64,${b.toString('base64')}" width="${width}" height="${height}"/></svg>`;
  const img = new Resvg(svg, { background: 'white' }).render();
  const px = img.pixels;
  let ink = 0;
  const colors = new Set<number>();
  for (let i = 0; i < px.length; i += 4) {
    const r = px[i]!,
      g = px[i + 1]!,
      bl = px[i + 2]!;
    if (r < 240 || g < 240 || bl < 240) ink++;
    colors.add(((r >> 3) << 10) | ((g >> 3) << 5) | (bl >> 3));
  }
  const n = px.length / 4;
  if (n !== width * height) throw new Error(`decoded ${n} pixels for a ${width} x ${height} image`);
  return { width, height, inkFraction: ink / n, colors: colors.size };
}

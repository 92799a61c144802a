// Colour maps of the renderer (app/renderer): error (green -> yellow -> red), terrain (height /
// friction / stiffness: a perceptual blue -> green -> yellow ramp) and a diverging map for
// gradients (blue < 0 < red), plus the palette of trajectory layers.

/** RGB in [0, 1]. */
export type Rgb = [number, number, number];

function lerp3(stops: Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!,
    b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

const ERROR_STOPS: Rgb[] = [
  [0.1, 0.75, 0.3],
  [0.95, 0.85, 0.2],
  [0.95, 0.3, 0.15],
  [0.75, 0.05, 0.35],
];
/** Error colour: 0 (green) .. 1 (red/purple). */
export function errorColor(t: number): Rgb {
  return lerp3(ERROR_STOPS, t);
}

const TERRAIN_STOPS: Rgb[] = [
  [0.27, 0.0, 0.33],
  [0.23, 0.32, 0.55],
  [0.13, 0.57, 0.55],
  [0.37, 0.79, 0.38],
  [0.99, 0.91, 0.14],
];
/** Sequential colour for terrain maps (viridis-like). */
export function terrainColor(t: number): Rgb {
  return lerp3(TERRAIN_STOPS, t);
}

/** Diverging colour for signed values, t in [-1, 1]: blue, white at 0, red. */
export function divergingColor(t: number): Rgb {
  return lerp3(
    [
      [0.13, 0.3, 0.8],
      [0.95, 0.95, 0.95],
      [0.85, 0.15, 0.12],
    ],
    (t + 1) / 2,
  );
}

/** Colours of trajectory layers in load order (ground truth first). */
export const PALETTE: Rgb[] = [
  [0.92, 0.92, 0.92],
  [0.2, 0.6, 1.0],
  [1.0, 0.55, 0.1],
  [0.75, 0.4, 1.0],
  [0.3, 0.9, 0.8],
  [1.0, 0.4, 0.6],
];

/** CSS form of an RGB colour. */
export function css(c: Rgb): string {
  return `rgb(${Math.round(c[0] * 255)}, ${Math.round(c[1] * 255)}, ${Math.round(c[2] * 255)})`;
}

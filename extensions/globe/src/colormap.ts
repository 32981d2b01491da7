/**
 * Colour maps as a few sRGB stops interpolated linearly: enough to read values
 * on a globe, small enough to ship without a colour library.
 */

export type Rgba = [number, number, number, number];

/** Stops of matplotlib's viridis (perceptually uniform, colour-blind safe). */
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [181, 222, 43],
  [253, 231, 37]
];

/** Diverging blue-white-red, for anomalies. */
const RDBU: [number, number, number][] = [
  [5, 48, 97],
  [67, 147, 195],
  [247, 247, 247],
  [214, 96, 77],
  [103, 0, 31]
];

const MAPS: Record<string, [number, number, number][]> = {
  viridis: VIRIDIS,
  rdbu: RDBU
};

export type ColormapName = 'viridis' | 'rdbu';

export const COLORMAPS: readonly ColormapName[] = ['viridis', 'rdbu'];

/**
 * The colour of `value` in `[min, max]`; values outside are clamped, NaN and
 * infinities are fully transparent.
 */
export function colorFor(
  value: number,
  min: number,
  max: number,
  name: ColormapName = 'viridis'
): Rgba {
  if (!Number.isFinite(value)) {
    return [0, 0, 0, 0];
  }
  const stops = MAPS[name];
  if (!stops) {
    throw new Error(
      `Unknown colour map "${name}"; known: ${COLORMAPS.join(', ')}.`
    );
  }
  const span = max - min;
  const t = span > 0 ? Math.min(1, Math.max(0, (value - min) / span)) : 0.5;
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
    255
  ];
}

/** The smallest and largest finite values; `[NaN, NaN]` when there are none. */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      if (v < min) {
        min = v;
      }
      if (v > max) {
        max = v;
      }
    }
  }
  return min <= max ? [min, max] : [NaN, NaN];
}

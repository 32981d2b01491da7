/**
 * Perceptual colour maps as 256-entry lookup tables, robust colour limits and
 * value -> RGBA.
 */

/**
 * Anchor colours at equal steps, from matplotlib's definitions (viridis and
 * cividis sampled every eighth; RdBu_r is ColorBrewer's 11-class RdBu reversed);
 * the tables interpolate linearly between them.
 */
const ANCHORS: Record<string, string[]> = {
  viridis: [
    '440154',
    '472c7a',
    '3b528b',
    '2c728e',
    '21918c',
    '28ae80',
    '5ec962',
    'addc30',
    'fde725'
  ],
  cividis: [
    '00224e',
    '123570',
    '3b496c',
    '575d6d',
    '707173',
    '8a8678',
    'a59c74',
    'c3b369',
    'fee838'
  ],
  RdBu_r: [
    '053061',
    '2166ac',
    '4393c3',
    '92c5de',
    'd1e5f0',
    'f7f7f7',
    'fddbc7',
    'f4a582',
    'd6604d',
    'b2182b',
    '67001f'
  ]
};

/** The colour maps offered, by matplotlib name. */
export const COLORMAPS = Object.keys(ANCHORS);

const tables = new Map<string, Uint8Array>();

/** A colour map's table: 256 RGB triples. */
export function colormapTable(name: string): Uint8Array {
  let table = tables.get(name);
  if (table) {
    return table;
  }
  const anchors = ANCHORS[name];
  if (!anchors) {
    throw new Error(
      `Unknown colour map "${name}" (known: ${COLORMAPS.join(', ')}).`
    );
  }
  const rgb = anchors.map(h =>
    [0, 2, 4].map(i => parseInt(h.slice(i, i + 2), 16))
  );
  table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (rgb.length - 1);
    const k = Math.min(Math.floor(x), rgb.length - 2);
    const f = x - k;
    for (let c = 0; c < 3; c++) {
      table[i * 3 + c] = Math.round(rgb[k][c] * (1 - f) + rgb[k + 1][c] * f);
    }
  }
  tables.set(name, table);
  return table;
}

/** Slice statistics, NaN excluded; min/max/mean are NaN when every value is. */
export interface Stats {
  min: number;
  max: number;
  mean: number;
  nanCount: number;
  count: number;
}

export function statistics(values: ArrayLike<number>): Stats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      continue;
    }
    if (v < min) {
      min = v;
    }
    if (v > max) {
      max = v;
    }
    sum += v;
    n++;
  }
  return {
    min: n ? min : NaN,
    max: n ? max : NaN,
    mean: n ? sum / n : NaN,
    nanCount: values.length - n,
    count: n
  };
}

/**
 * The q-th percentile (0..100) of the non-NaN values, interpolated linearly
 * between order statistics as numpy's default `nanpercentile` does.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const finite = Float64Array.from(
    Array.prototype.filter.call(
      values,
      (v: number) => !Number.isNaN(v)
    ) as number[]
  ).sort();
  if (finite.length === 0) {
    return NaN;
  }
  const pos = (q / 100) * (finite.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, finite.length - 1);
  return finite[lo] + (finite[hi] - finite[lo]) * (pos - lo);
}

/** Colour limits that ignore outliers: the 2nd and 98th percentiles. */
export function robustLimits(values: ArrayLike<number>): [number, number] {
  const lo = percentile(values, 2);
  const hi = percentile(values, 98);
  if (lo === hi) {
    return [lo - 0.5, hi + 0.5];
  }
  return [lo, hi];
}

/** How values map to colours between the limits. */
export type Scale = 'linear' | 'log';

/**
 * Colour limits for a log scale: the 2nd and 98th percentiles of the positive values
 * (zero and negative values have no logarithm); null when no value is positive.
 */
export function robustLogLimits(
  values: ArrayLike<number>
): [number, number] | null {
  const positive = Array.prototype.filter.call(
    values,
    (v: number) => v > 0 && Number.isFinite(v)
  ) as number[];
  if (!positive.length) {
    return null;
  }
  const lo = percentile(positive, 2);
  const hi = percentile(positive, 98);
  return lo === hi ? [lo / 2, hi * 2] : [lo, hi];
}

/**
 * Why user-typed colour limits cannot be used, or null when they can: both finite,
 * the lower below the upper, and both positive on a log scale.
 */
export function limitsProblem(
  limits: readonly [number, number],
  scale: Scale
): string | null {
  const [lo, hi] = limits;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    return 'Both colour limits must be numbers.';
  }
  if (lo >= hi) {
    return `The lower colour limit (${lo}) must be below the upper one (${hi}).`;
  }
  if (scale === 'log' && lo <= 0) {
    return `A log scale needs positive colour limits (the lower one is ${lo}).`;
  }
  return null;
}

/**
 * Where a value falls between the limits, 0 to 1 (clipped), or NaN when it has no colour:
 * NaN, and zero or negative values on a log scale (as matplotlib's LogNorm masks them).
 */
export function normalise(
  value: number,
  limits: readonly [number, number],
  scale: Scale = 'linear'
): number {
  if (Number.isNaN(value) || (scale === 'log' && !(value > 0))) {
    return NaN;
  }
  let [lo, hi] = limits;
  let v = value;
  if (scale === 'log') {
    lo = Math.log10(lo);
    hi = Math.log10(hi);
    v = Math.log10(value);
  }
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return Math.max(0, Math.min(1, t));
}

/**
 * The colour of one value; NaN (and, on a log scale, values <= 0) is transparent, values
 * beyond the limits are clipped.
 */
export function colorOf(
  value: number,
  limits: readonly [number, number],
  table: Uint8Array,
  scale: Scale = 'linear'
): [number, number, number, number] {
  const t = normalise(value, limits, scale);
  if (Number.isNaN(t)) {
    return [0, 0, 0, 0];
  }
  const i = Math.round(t * 255);
  return [table[i * 3], table[i * 3 + 1], table[i * 3 + 2], 255];
}

/**
 * RGBA pixels of a 2-D field (row-major, `rows` x `cols`), with the first row at
 * the bottom when `flipRows` (latitude stored south to north).
 */
export function renderRGBA(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  limits: readonly [number, number],
  table: Uint8Array,
  flipRows: boolean,
  scale: Scale = 'linear'
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(rows * cols * 4);
  for (let r = 0; r < rows; r++) {
    const src = flipRows ? rows - 1 - r : r;
    for (let c = 0; c < cols; c++) {
      const rgba = colorOf(values[src * cols + c], limits, table, scale);
      out.set(rgba, (r * cols + c) * 4);
    }
  }
  return out;
}

/**
 * RGBA pixels of a picture whose pixel `p` shows the value `values[index[p]]` (-1: no
 * value, transparent): a curvilinear grid resampled onto a regular one.
 */
export function renderIndexed(
  values: ArrayLike<number>,
  index: Int32Array,
  limits: readonly [number, number],
  table: Uint8Array,
  scale: Scale = 'linear'
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(index.length * 4);
  for (let p = 0; p < index.length; p++) {
    const k = index[p];
    if (k >= 0) {
      out.set(colorOf(values[k], limits, table, scale), p * 4);
    }
  }
  return out;
}

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
  return percentiles(values, [q])[0];
}

/**
 * Several percentiles of the non-NaN values at once, as {@link percentile} gives
 * them. The order statistics are found by selection on one typed copy (linear time)
 * rather than by sorting: a map slice has a million values or more.
 */
export function percentiles(values: ArrayLike<number>, qs: number[]): number[] {
  const finite = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) {
      finite[n++] = v;
    }
  }
  if (n === 0) {
    return qs.map(() => NaN);
  }
  const data = finite.subarray(0, n);
  return qs.map(q => {
    const pos = (q / 100) * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    const a = select(data, lo);
    // After selecting `lo`, the next order statistic is the least value above it.
    let b = a;
    if (hi > lo) {
      b = Infinity;
      for (let i = hi; i < n; i++) {
        if (data[i] < b) {
          b = data[i];
        }
      }
    }
    return a + (b - a) * (pos - lo);
  });
}

/**
 * The k-th smallest value of `data` (no NaN), moving it to index k with the smaller
 * values before it and the others after it (Hoare's selection, median-of-three pivot).
 */
function select(data: Float64Array, k: number): number {
  let left = 0;
  let right = data.length - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    // Median of three as the pivot, so that sorted or constant runs stay linear.
    const x = data[left];
    const y = data[mid];
    const z = data[right];
    const pivot =
      x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while (data[i] < pivot) {
        i++;
      }
      while (data[j] > pivot) {
        j--;
      }
      if (i <= j) {
        const t = data[i];
        data[i] = data[j];
        data[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) {
      right = j;
    } else if (k >= i) {
      left = i;
    } else {
      return data[k];
    }
  }
  return data[k];
}

/** Colour limits that ignore outliers: the 2nd and 98th percentiles. */
export function robustLimits(values: ArrayLike<number>): [number, number] {
  const [lo, hi] = percentiles(values, [2, 98]);
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
  const [lo, hi] = percentiles(positive, [2, 98]);
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
  const pixels = new Uint32Array(out.buffer);
  const colours = palette(table);
  const index = colourIndex(limits, scale);
  for (let r = 0; r < rows; r++) {
    const src = (flipRows ? rows - 1 - r : r) * cols;
    const dst = r * cols;
    for (let c = 0; c < cols; c++) {
      const k = index(values[src + c]);
      if (k >= 0) {
        pixels[dst + c] = colours[k];
      }
    }
  }
  return out;
}

/** The 256 colours of a table as RGBA pixels (one 32-bit word each, opaque). */
function palette(table: Uint8Array): Uint32Array {
  const words = new Uint32Array(256);
  const bytes = new Uint8Array(words.buffer);
  for (let i = 0; i < 256; i++) {
    bytes[i * 4] = table[i * 3];
    bytes[i * 4 + 1] = table[i * 3 + 1];
    bytes[i * 4 + 2] = table[i * 3 + 2];
    bytes[i * 4 + 3] = 255;
  }
  return words;
}

/**
 * The colour table index (0..255) of a value as {@link colorOf} picks it, or -1 where
 * the pixel is transparent; no allocation per pixel (a map has a million of them).
 */
function colourIndex(
  limits: readonly [number, number],
  scale: Scale
): (value: number) => number {
  const log = scale === 'log';
  const lo = log ? Math.log10(limits[0]) : limits[0];
  const hi = log ? Math.log10(limits[1]) : limits[1];
  const span = hi - lo;
  const ordered = hi > lo;
  return value => {
    if (Number.isNaN(value) || (log && !(value > 0))) {
      return -1;
    }
    const v = log ? Math.log10(value) : value;
    const t = Math.max(0, Math.min(1, ordered ? (v - lo) / span : 0.5));
    return Number.isNaN(t) ? -1 : Math.round(t * 255);
  };
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
  const pixels = new Uint32Array(out.buffer);
  const colours = palette(table);
  const colour = colourIndex(limits, scale);
  for (let p = 0; p < index.length; p++) {
    const k = index[p];
    const c = k >= 0 ? colour(values[k]) : -1;
    if (c >= 0) {
      pixels[p] = colours[c];
    }
  }
  return out;
}

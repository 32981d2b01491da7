/**
 * A series along one dimension at one point of the map: what a click on the map plots
 * (a time series, or a profile along any other dimension).
 */

/**
 * The selection of the series: the series dimension whole, every other dimension at its
 * index in `at` (0 when not given).
 */
export function seriesSelection(
  dims: readonly string[],
  seriesDim: string,
  at: Readonly<Record<string, number>>
): (number | null)[] {
  if (!dims.includes(seriesDim)) {
    throw new Error(
      `${seriesDim} is not a dimension of this variable (${dims.join(', ')}).`
    );
  }
  return dims.map(d => (d === seriesDim ? null : (at[d] ?? 0)));
}

/** The lowest and highest finite values; null when there is none. */
export function finiteRange(
  values: ArrayLike<number>
): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * SVG polyline `points` for the series in a `width` x `height` box: one polyline per run
 * of finite values, so that missing values leave gaps rather than false lines.
 */
export function seriesPolylines(
  values: ArrayLike<number>,
  width: number,
  height: number
): string[] {
  const range = finiteRange(values);
  if (!range) {
    return [];
  }
  const [lo, hi] = range;
  const span = hi - lo || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const lines: string[] = [];
  let current: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      if (current.length) {
        lines.push(current.join(' '));
      }
      current = [];
      continue;
    }
    const x = values.length > 1 ? i * step : width / 2;
    const y = height - ((v - lo) / span) * height;
    current.push(`${round(x)},${round(y)}`);
  }
  if (current.length) {
    lines.push(current.join(' '));
  }
  return lines;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

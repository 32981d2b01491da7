/**
 * The colour bar's ticks: the two limits the colours span, always labelled as the
 * statistics line writes them, and round values between them (powers of ten on a
 * log scale) where they do not crowd the ends.
 */
import type { Scale } from './colormap';
import { formatNumber } from './format';

export interface IColourTick {
  value: number;
  /** Up the bar, 0 (the lower limit) to 1 (the upper limit). */
  position: number;
  label: string;
}

/** Intermediate ticks closer than this to an end (in bar heights) are left out. */
const CLEARANCE = 0.08;

/**
 * Round steps (1, 2 or 5 times a power of ten) giving about `count` intervals; written
 * by hand as it is this one line of d3-array's `ticks`, which we do not depend on.
 */
function roundStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  // d3-array's thresholds: the nearest of 1, 2, 5, 10 on a log scale.
  return (
    (m >= Math.sqrt(50)
      ? 10
      : m >= Math.sqrt(10)
        ? 5
        : m >= Math.SQRT2
          ? 2
          : 1) * power
  );
}

/** The ticks of a colour bar spanning `limits` on `scale`. */
export function colourBarTicks(
  limits: readonly [number, number],
  scale: Scale,
  count = 5
): IColourTick[] {
  const [lo, hi] = limits;
  const log = scale === 'log';
  const f = (v: number): number => (log ? Math.log10(v) : v);
  const span = f(hi) - f(lo);
  const position = (v: number): number =>
    span > 0 ? (f(v) - f(lo)) / span : 0.5;
  const inner: number[] = [];
  if (span > 0) {
    if (log) {
      for (let e = Math.ceil(f(lo)); e <= Math.floor(f(hi)); e++) {
        inner.push(10 ** e);
      }
    } else {
      const step = roundStep(span, count);
      for (let k = Math.ceil(lo / step); k * step <= hi; k++) {
        // Multiply, not accumulate, so that 0.1 * 3 stays a clean label.
        inner.push(+(k * step).toPrecision(12));
      }
    }
  }
  const ticks: IColourTick[] = [
    { value: lo, position: 0, label: formatNumber(lo) }
  ];
  for (const v of inner) {
    const p = position(v);
    if (p > CLEARANCE && p < 1 - CLEARANCE) {
      ticks.push({ value: v, position: p, label: formatNumber(v) });
    }
  }
  if (hi !== lo) {
    ticks.push({ value: hi, position: 1, label: formatNumber(hi) });
  }
  return ticks;
}

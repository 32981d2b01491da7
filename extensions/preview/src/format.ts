/**
 * Numbers and byte counts as the preview writes them.
 */

/** Six significant digits, or exponential notation for very large or small values. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) {
    return 'NaN';
  }
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3)
    ? v.toExponential(4)
    : String(+v.toPrecision(6));
}

export function formatBytes(n: number): string {
  if (n < 1024) {
    return `${n} B`;
  }
  if (n < 1024 * 1024) {
    return `${(n / 1024).toFixed(1)} KiB`;
  }
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

import { describe, expect, it } from 'vitest';
import {
  colorOf,
  colormapTable,
  COLORMAPS,
  limitsProblem,
  normalise,
  percentile,
  percentiles,
  renderIndexed,
  renderRGBA,
  robustLimits,
  robustLogLimits,
  statistics
} from '../src/colormap';
import { runPython } from './python';

describe('colour maps', () => {
  it('offers viridis, cividis and RdBu_r with matplotlib end colours', () => {
    expect(COLORMAPS).toEqual(['viridis', 'cividis', 'RdBu_r']);
    const v = colormapTable('viridis');
    expect(v.length).toBe(768);
    expect(Array.from(v.slice(0, 3))).toEqual([0x44, 0x01, 0x54]);
    expect(Array.from(v.slice(765))).toEqual([0xfd, 0xe7, 0x25]);
    expect(Array.from(colormapTable('RdBu_r').slice(765))).toEqual([
      0x67, 0x00, 0x1f
    ]);
    expect(() => colormapTable('jet')).toThrow(/Unknown colour map/);
  });

  it('clips beyond the limits and makes NaN transparent', () => {
    const t = colormapTable('cividis');
    expect(colorOf(-5, [0, 1], t)).toEqual([0x00, 0x22, 0x4e, 255]);
    expect(colorOf(5, [0, 1], t)).toEqual([0xfe, 0xe8, 0x38, 255]);
    expect(colorOf(NaN, [0, 1], t)).toEqual([0, 0, 0, 0]);
  });

  it('draws south-to-north rows with north at the top when asked', () => {
    const t = colormapTable('viridis');
    const px = renderRGBA([0, 1], 2, 1, [0, 1], t, true);
    expect(Array.from(px.slice(0, 4))).toEqual([0xfd, 0xe7, 0x25, 255]);
  });
});

describe('statistics and robust limits', () => {
  const values = Array.from({ length: 1001 }, (_, i) =>
    i % 7 === 0 ? NaN : Math.sin(i) * i
  );

  it('ignore NaN and agree with numpy', () => {
    const expected = runPython<number[]>(
      `
import json, sys, numpy as np
a = np.array(json.loads(sys.argv[1]), dtype=float)
print(json.dumps([float(np.nanmin(a)), float(np.nanmax(a)), float(np.nanmean(a)), int(np.isnan(a).sum()),
                  float(np.nanpercentile(a, 2)), float(np.nanpercentile(a, 98))]))
`,
      [JSON.stringify(values.map(v => (Number.isNaN(v) ? null : v)))]
    );
    const s = statistics(values);
    expect([s.min, s.max, s.nanCount]).toEqual([
      expected[0],
      expected[1],
      expected[3]
    ]);
    expect(s.mean).toBeCloseTo(expected[2], 9);
    const [lo, hi] = robustLimits(values);
    expect(lo).toBeCloseTo(expected[4], 9);
    expect(hi).toBeCloseTo(expected[5], 9);
  });

  it('gives NaN for an all-missing slice and a unit range for a constant one', () => {
    expect(statistics([NaN, NaN]).mean).toBeNaN();
    expect(percentile([NaN], 50)).toBeNaN();
    expect(robustLimits([3, 3, 3])).toEqual([2.5, 3.5]);
  });
});

describe('log scale and user-set limits', () => {
  it('places values by their logarithm, as numpy computes it, and masks values <= 0', () => {
    const values = [1e-6, 3.2e-5, 1e-4, 7e-4, 1e-3, 5e-2];
    const expected = runPython<number[]>(
      `
import json, sys, numpy as np
v = np.array(json.loads(sys.argv[1]))
t = (np.log10(v) - np.log10(1e-5)) / (np.log10(1e-2) - np.log10(1e-5))
print(json.dumps([float(x) for x in np.clip(t, 0, 1)]))
`,
      [JSON.stringify(values)]
    );
    values.forEach((v, i) =>
      expect(normalise(v, [1e-5, 1e-2], 'log')).toBeCloseTo(expected[i], 12)
    );
    const t = colormapTable('viridis');
    expect(colorOf(0, [1e-5, 1e-2], t, 'log')).toEqual([0, 0, 0, 0]);
    expect(colorOf(-1, [1e-5, 1e-2], t, 'log')).toEqual([0, 0, 0, 0]);
    // On a linear scale the same zero is the lowest colour.
    expect(colorOf(0, [0, 1], t)).toEqual([0x44, 0x01, 0x54, 255]);
    // 1e-3.5 is the middle of [1e-5, 1e-2] in log space: colour index 128.
    const mid = colorOf(10 ** -3.5, [1e-5, 1e-2], t, 'log');
    expect(mid.slice(0, 3)).toEqual(Array.from(t.slice(128 * 3, 128 * 3 + 3)));
  });

  it('takes the robust log limits from the positive values only', () => {
    const values = [
      0,
      -3,
      NaN,
      ...Array.from({ length: 101 }, (_, i) => 10 ** (i / 20))
    ];
    const [lo, hi] = robustLogLimits(values)!;
    expect(lo).toBeCloseTo(
      percentile(
        values.filter(v => v > 0),
        2
      ),
      12
    );
    expect(hi).toBeCloseTo(
      percentile(
        values.filter(v => v > 0),
        98
      ),
      12
    );
    expect(robustLogLimits([0, -1, NaN])).toBeNull();
    expect(robustLogLimits([4, 4])).toEqual([2, 8]);
  });

  it('finds percentiles by selection as sorting would', () => {
    // Ties, NaNs, infinities, sorted and reversed runs: the cases selection gets wrong.
    let seed = 7;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const cases = [
      Array.from({ length: 5000 }, () => Math.round(random() * 40) - 20),
      Array.from({ length: 3001 }, (_, i) => i),
      Array.from({ length: 3001 }, (_, i) => -i),
      [
        ...Array.from({ length: 999 }, () => random()),
        NaN,
        Infinity,
        -Infinity
      ],
      Array.from({ length: 200 }, () => 3),
      [NaN, 2],
      [5]
    ];
    const qs = [0, 2, 25, 50, 73.3, 98, 100];
    for (const values of cases) {
      const sorted = values.filter(v => !Number.isNaN(v)).sort((a, b) => a - b);
      const expected = qs.map(q => {
        const pos = (q / 100) * (sorted.length - 1);
        const lo = Math.floor(pos);
        const hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
      });
      expect(percentiles(values, qs)).toEqual(expected);
      expect(percentile(Float32Array.from(values), 50)).toEqual(
        percentiles(Float32Array.from(values), [50])[0]
      );
    }
  });

  it('paints every pixel as colorOf colours its value', () => {
    const t = colormapTable('RdBu_r');
    const values = [NaN, -1, 0, 1e-3, 0.5, 1, 2, 7, 1e9, Infinity, -Infinity];
    for (const scale of ['linear', 'log'] as const) {
      for (const limits of [
        [0.01, 5],
        [3, 3],
        [2, -2]
      ] as [number, number][]) {
        const px = renderRGBA(
          values,
          1,
          values.length,
          limits,
          t,
          false,
          scale
        );
        const expected = values.flatMap(v => colorOf(v, limits, t, scale));
        expect(Array.from(px)).toEqual(expected);
      }
    }
  });

  it('explains limits it cannot use', () => {
    expect(limitsProblem([0, 1], 'linear')).toBeNull();
    expect(limitsProblem([1, 1], 'linear')).toBe(
      'The lower colour limit (1) must be below the upper one (1).'
    );
    expect(limitsProblem([NaN, 1], 'linear')).toBe(
      'Both colour limits must be numbers.'
    );
    expect(limitsProblem([0, 10], 'log')).toBe(
      'A log scale needs positive colour limits (the lower one is 0).'
    );
  });

  it('renders a resampled picture through its index, -1 transparent', () => {
    const t = colormapTable('viridis');
    const px = renderIndexed([0, 1], Int32Array.from([1, -1, 0]), [0, 1], t);
    expect(Array.from(px)).toEqual([
      0xfd, 0xe7, 0x25, 255, 0, 0, 0, 0, 0x44, 0x01, 0x54, 255
    ]);
  });
});

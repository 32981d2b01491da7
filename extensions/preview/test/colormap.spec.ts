import { describe, expect, it } from 'vitest';
import {
  colorOf,
  colormapTable,
  COLORMAPS,
  percentile,
  renderRGBA,
  robustLimits,
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

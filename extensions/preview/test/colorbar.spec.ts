import { describe, expect, it } from 'vitest';
import { colourBarTicks } from '../src/colorbar';
import { robustLimits } from '../src/colormap';
import { formatNumber } from '../src/format';

describe('colourBarTicks', () => {
  it('labels its ends with the limits, as the statistics line writes them', () => {
    const values = Float64Array.from(
      { length: 1000 },
      (_, i) => 210 + i * 0.0937
    );
    const limits = robustLimits(values);
    const ticks = colourBarTicks(limits, 'linear');
    expect(ticks[0]).toEqual({
      value: limits[0],
      position: 0,
      label: formatNumber(limits[0])
    });
    expect(ticks[ticks.length - 1]).toEqual({
      value: limits[1],
      position: 1,
      label: formatNumber(limits[1])
    });
  });

  it('puts round values between the limits where they do not crowd the ends', () => {
    const ticks = colourBarTicks([201.3, 318.9], 'linear');
    expect(ticks.map(t => t.label)).toEqual([
      '201.3',
      '220',
      '240',
      '260',
      '280',
      '300',
      '318.9'
    ]);
    expect(ticks[3].position).toBeCloseTo((260 - 201.3) / (318.9 - 201.3), 12);
    // 0.1-steps stay clean numbers.
    expect(colourBarTicks([0, 0.5], 'linear').map(t => t.label)).toEqual([
      '0',
      '0.1',
      '0.2',
      '0.3',
      '0.4',
      '0.5'
    ]);
  });

  it('puts powers of ten on a log scale at their log position', () => {
    const ticks = colourBarTicks([0.02, 500], 'log');
    expect(ticks.map(t => t.label)).toEqual([
      '0.02',
      '0.1',
      '1',
      '10',
      '100',
      '500'
    ]);
    expect(ticks[2].position).toBeCloseTo(
      (0 - Math.log10(0.02)) / (Math.log10(500) - Math.log10(0.02)),
      12
    );
  });

  it('draws equal limits as one label in the middle of nothing', () => {
    expect(colourBarTicks([5, 5], 'linear')).toEqual([
      { value: 5, position: 0, label: '5' }
    ]);
  });
});

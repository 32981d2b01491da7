import { describe, expect, it } from 'vitest';
import { finiteRange, seriesPolylines, seriesSelection } from '../src/series';

describe('seriesSelection', () => {
  it('takes the series dimension whole and every other at its index', () => {
    expect(
      seriesSelection(['time', 'lev', 'lat', 'lon'], 'time', { lat: 3, lon: 7 })
    ).toEqual([null, 0, 3, 7]);
    expect(
      seriesSelection(['time', 'lev', 'y', 'x'], 'lev', { time: 5, y: 1, x: 2 })
    ).toEqual([5, null, 1, 2]);
  });
  it('refuses a dimension the variable does not have', () => {
    expect(() => seriesSelection(['lat', 'lon'], 'time', {})).toThrow(
      'time is not a dimension of this variable (lat, lon).'
    );
  });
});

describe('seriesPolylines', () => {
  it('maps the lowest value to the bottom and the highest to the top', () => {
    expect(seriesPolylines([280, 290, 300], 100, 50)).toEqual([
      '0,50 50,25 100,0'
    ]);
  });
  it('leaves gaps where values are missing', () => {
    expect(seriesPolylines([1, NaN, 3, 4, NaN], 40, 10)).toEqual([
      '0,10',
      '20,3.3 30,0'
    ]);
  });
  it('draws a flat series at the bottom and nothing when every value is missing', () => {
    expect(seriesPolylines([5, 5], 10, 10)).toEqual(['0,10 10,10']);
    expect(seriesPolylines([NaN, NaN], 10, 10)).toEqual([]);
    expect(finiteRange([NaN, Infinity])).toBeNull();
    expect(finiteRange([2, -1, NaN])).toEqual([-1, 2]);
  });
});

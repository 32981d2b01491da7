import { describe, expect, it } from 'vitest';
import { chunkKey, chunksForSlice, sliceSelection } from '../src/slice';

describe('chunksForSlice', () => {
  it('needs one chunk along the indexed dimension and all along the mapped ones', () => {
    expect(
      chunksForSlice([36, 90, 180], [12, 45, 100], [13, null, null])
    ).toEqual([
      [1, 0, 0],
      [1, 0, 1],
      [1, 1, 0],
      [1, 1, 1]
    ]);
  });

  it('needs a single chunk when the chunk holds the whole map', () => {
    expect(
      chunksForSlice([36, 90, 180], [12, 90, 180], [35, null, null])
    ).toEqual([[2, 0, 0]]);
  });

  it('refuses an index outside the array or a selection of the wrong rank', () => {
    expect(() => chunksForSlice([36, 90], [12, 90], [36, null])).toThrow(
      /outside 0..35/
    );
    expect(() => chunksForSlice([36, 90], [12, 90], [null])).toThrow(
      /1 dimensions/
    );
  });
});

describe('sliceSelection and chunkKey', () => {
  it('keeps the map dimensions whole and the others at their index', () => {
    expect(
      sliceSelection(['time', 'plev', 'lat', 'lon'], ['lat', 'lon'], {
        time: 4
      })
    ).toEqual([4, 0, null, null]);
    expect(chunkKey('tas', [1, 0, 0])).toBe('tas/1.0.0');
    expect(chunkKey('', [], '/')).toBe('0');
  });
});

import { describe, expect, it } from 'vitest';
import { colorFor } from '../src/colormap';
import {
  fieldValueAt,
  nearestPoint,
  normalizeLongitude,
  prepareMesh,
  validatePolygon,
  prepareField,
  preparePoints,
  prepareTrajectory,
  validateFootprint
} from '../src/layer-data';

describe('normalizeLongitude', () => {
  it('maps 0..360 to -180..180', () => {
    expect(normalizeLongitude(0)).toBe(0);
    expect(normalizeLongitude(190)).toBe(-170);
    expect(normalizeLongitude(359)).toBe(-1);
    expect(normalizeLongitude(-181)).toBe(179);
    expect(normalizeLongitude(180)).toBe(-180);
  });
});

describe('colorFor', () => {
  it('gives the ends of viridis at the limits and transparency for NaN', () => {
    expect(colorFor(0, 0, 1)).toEqual([68, 1, 84, 255]);
    expect(colorFor(1, 0, 1)).toEqual([253, 231, 37, 255]);
    expect(colorFor(5, 0, 1)).toEqual([253, 231, 37, 255]);
    expect(colorFor(NaN, 0, 1)[3]).toBe(0);
  });
});

describe('preparePoints', () => {
  it('colours points between the finite limits and normalises longitudes', () => {
    const p = preparePoints({
      lon: [350, 10, 20],
      lat: [0, 45, -45],
      values: [0, NaN, 10]
    });
    expect(p.count).toBe(3);
    expect(p.min).toBe(0);
    expect(p.max).toBe(10);
    expect(Array.from(p.lonLat)).toEqual([-10, 0, 10, 45, 20, -45]);
    expect(Array.from(p.rgba.slice(0, 4))).toEqual([68, 1, 84, 255]);
    expect(p.rgba[7]).toBe(0);
    expect(Array.from(p.rgba.slice(8, 12))).toEqual([253, 231, 37, 255]);
  });

  it('rejects mismatched lengths, empty arrays and latitudes beyond the poles', () => {
    expect(() =>
      preparePoints({ lon: [1, 2], lat: [1], values: [1, 2] })
    ).toThrow(
      'Points: the arrays differ in length (lon: 2, lat: 1, values: 2).'
    );
    expect(() => preparePoints({ lon: [], lat: [], values: [] })).toThrow(
      'Points: the arrays are empty.'
    );
    expect(() => preparePoints({ lon: [1], lat: [91], values: [1] })).toThrow(
      'Points: latitude 91 at index 0 is outside [-90, 90].'
    );
  });
});

describe('prepareTrajectory', () => {
  it('sorts samples by time and reports the interval', () => {
    const t = prepareTrajectory({
      lon: [2, 1],
      lat: [0, 0],
      time: ['2020-01-02T00:00:00Z', '2020-01-01T00:00:00Z']
    });
    expect(t.samples.map(s => s.lon)).toEqual([1, 2]);
    expect(t.start.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(t.stop.toISOString()).toBe('2020-01-02T00:00:00.000Z');
  });

  it('rejects a time that is not a date', () => {
    expect(() =>
      prepareTrajectory({ lon: [0], lat: [0], time: ['yesterday'] })
    ).toThrow('Trajectory: time "yesterday" at index 0 is not a date.');
  });
});

describe('prepareField', () => {
  it('draws a global 0..360 grid as one image from -180 to 180, north row first', () => {
    const lon = [45, 135, 225, 315];
    const lat = [-45, 45];
    // South row 0..3, north row 4..7; one NaN.
    const values = [0, 1, 2, 3, 4, 5, 6, NaN];
    const f = prepareField({ lon, lat, values });
    expect(f.tiles).toHaveLength(1);
    const [tile] = f.tiles;
    expect(tile.rectangle).toEqual({
      west: -180,
      east: 180,
      south: -90,
      north: 90
    });
    expect([tile.width, tile.height]).toEqual([4, 2]);
    // First pixel: north row, westernmost column (225 -> -135): value 6 = max.
    expect(Array.from(tile.rgba.slice(0, 4))).toEqual(colorFor(6, 0, 6));
    // Second pixel: north row, 315 -> -45: NaN, transparent.
    expect(tile.rgba[7]).toBe(0);
    // Last pixel: south row, 135: value 1.
    expect(Array.from(tile.rgba.slice(28, 32))).toEqual(colorFor(1, 0, 6));
  });

  it('splits a regional grid crossing the dateline into two images', () => {
    const f = prepareField({
      lon: [170, 180, 190],
      lat: [0],
      values: [1, 2, 3]
    });
    expect(f.tiles.map(t => t.rectangle)).toEqual([
      { west: 165, east: 180, south: -5, north: 5 },
      { west: -180, east: -165, south: -5, north: 5 }
    ]);
    expect(f.tiles.map(t => t.width)).toEqual([1, 2]);
  });

  it('rejects a wrong number of values and irregular axes', () => {
    expect(() =>
      prepareField({ lon: [0, 1], lat: [0, 1], values: [1, 2, 3] })
    ).toThrow('Field: 3 values for a 2 (lat) x 2 (lon) grid, expected 4.');
    expect(() =>
      prepareField({ lon: [0, 1, 3], lat: [0], values: [1, 2, 3] })
    ).toThrow('the lon axis is not regularly spaced');
    expect(() => prepareField({ lon: [], lat: [0], values: [] })).toThrow(
      'Field: the lon or lat axis is empty.'
    );
  });
});

describe('validateFootprint', () => {
  it('normalises longitudes and keeps boxes crossing the dateline', () => {
    expect(
      validateFootprint({ west: 170, south: -10, east: 190, north: 10 })
    ).toEqual({
      west: 170,
      south: -10,
      east: -170,
      north: 10
    });
    expect(
      validateFootprint({ west: 0, south: -90, east: 360, north: 90 })
    ).toEqual({
      west: -180,
      south: -90,
      east: 180,
      north: 90
    });
  });

  it('rejects boxes beyond the poles', () => {
    expect(() =>
      validateFootprint({ west: 0, south: 10, east: 1, north: 0 })
    ).toThrow('Footprint: south 10 and north 0');
  });
});

describe('nearestPoint', () => {
  it('finds the point within the tolerance, across the antimeridian too', () => {
    const lonLat = [10, 20, 179.9, 0, -50, -50];
    expect(nearestPoint(lonLat, 10.01, 20, 5000)).toBe(0);
    expect(nearestPoint(lonLat, -179.95, 0, 20000)).toBe(1);
    expect(nearestPoint(lonLat, 0, 0, 5000)).toBe(-1);
  });
});

describe('fieldValueAt', () => {
  it('gives the value of the cell under a place, null outside the grid', () => {
    const field = {
      lon: [0, 90, 180, 270],
      lat: [-45, 45],
      values: [1, 2, 3, 4, 5, 6, 7, 8]
    };
    expect(fieldValueAt(field, 95, 40)).toEqual({ value: 6, index: 5 });
    // 0..360 axis, asked at -90 (= 270)
    expect(fieldValueAt(field, -90, -50)).toEqual({ value: 4, index: 3 });
    const regional = { lon: [10, 11], lat: [0, 1], values: [1, 2, 3, 4] };
    expect(fieldValueAt(regional, 20, 0)).toBeNull();
  });
});

describe('prepareMesh', () => {
  it('draws cells across the antimeridian without spanning the globe', () => {
    const mesh = prepareMesh({
      lon: [178, -178, 178, -178],
      lat: [0, 0, 4, 4],
      values: [1, 2, 3, 4],
      shape: [2, 2]
    });
    expect(mesh.count).toBe(4);
    for (let k = 0; k < mesh.count; k++) {
      const lons = [0, 1, 2, 3].map(q => mesh.corners[8 * k + 2 * q]);
      expect(Math.max(...lons) - Math.min(...lons)).toBeLessThanOrEqual(
        4 + 1e-9
      );
    }
    // The first cell's corners are half a cell around its centre (178, 0).
    expect(Array.from(mesh.corners.slice(0, 8))).toEqual([
      176, -2, 180, -2, 180, 2, 176, 2
    ]);
  });

  it('refuses shapes that do not match the arrays', () => {
    expect(() =>
      prepareMesh({
        lon: [0, 1, 2],
        lat: [0, 1, 2],
        values: [1, 2, 3],
        shape: [2, 2]
      })
    ).toThrow(/Mesh: lon has 3 values for a 2 x 2 grid, expected 4/);
    expect(() =>
      prepareMesh({ lon: [0, 1], lat: [0, 1], values: [1, 2], shape: [1, 2] })
    ).toThrow(/at least 2 x 2 points/);
  });
});

describe('validatePolygon', () => {
  it('needs three vertices with valid latitudes', () => {
    expect(
      validatePolygon([
        [0, 0],
        [10, 0],
        [5, 5]
      ])
    ).toHaveLength(3);
    expect(() =>
      validatePolygon([
        [0, 0],
        [1, 1]
      ])
    ).toThrow(/at least 3 vertices, got 2/);
    expect(() =>
      validatePolygon([
        [0, 0],
        [1, 95],
        [2, 0]
      ])
    ).toThrow(/vertex 1 \(1, 95\)/);
  });
});

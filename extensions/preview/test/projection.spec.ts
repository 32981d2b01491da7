import { describe, expect, it } from 'vitest';
import {
  axisLabels,
  formatLat,
  formatLon,
  type IGeoExtent,
  lonLatToPixel,
  mapFrame,
  pixelToLonLat,
  PROJECTIONS
} from '../src/projection';

const GLOBE: IGeoExtent = { west: -180, east: 180, south: -90, north: 90 };

/** The same longitude, whatever its 360° turn. */
function sameLon(a: number, b: number): number {
  return ((((a - b) % 360) + 540) % 360) - 180;
}

describe('projections', () => {
  // Points spread over both hemispheres, the date line and the prime meridian.
  const points: [number, number][] = [];
  for (let lon = -175; lon < 180; lon += 25) {
    for (let lat = -85; lat <= 85; lat += 10) {
      points.push([lon, lat]);
    }
  }

  for (const kind of PROJECTIONS) {
    for (const convention of ['-180..180', '0..360'] as const) {
      it(`${kind} (${convention}): lon/lat -> pixel -> lon/lat comes back`, () => {
        const frame = mapFrame(kind, GLOBE, convention);
        const seam = convention === '0..360' ? 0 : 180;
        let shown = 0;
        for (const [lon, lat] of points) {
          if (kind === 'equal-earth' && sameLon(lon, seam) === 0) {
            // The seam is both edges of the map: either is right.
            continue;
          }
          const p = lonLatToPixel(frame, lon, lat);
          const visible =
            kind === 'north-polar'
              ? lat >= frame.rim!
              : kind === 'south-polar'
                ? lat <= frame.rim!
                : true;
          if (!visible) {
            expect(p).toBeNull();
            continue;
          }
          expect(p).not.toBeNull();
          const back = pixelToLonLat(frame, p![0], p![1])!;
          expect(Math.abs(sameLon(back[0], lon))).toBeLessThan(1e-6);
          expect(back[1]).toBeCloseTo(lat, 6);
          shown++;
        }
        expect(shown).toBeGreaterThan(kind.endsWith('polar') ? 80 : 200);
      });
    }
  }

  it('puts plate carrée longitudes left to right from the chosen edge', () => {
    const pm = mapFrame('latlon', GLOBE, '-180..180');
    expect(pm.box).toEqual([-180, -90, 360, 180]);
    expect(lonLatToPixel(pm, -180 + 1e-9, 90)![0]).toBeCloseTo(0, 6);
    expect(lonLatToPixel(pm, 0, 0)).toEqual([360, 180]);
    const dl = mapFrame('latlon', GLOBE, '0..360');
    // Centred on 180°: 0° on the left edge, Greenwich's antipode in the middle.
    expect(lonLatToPixel(dl, 180, 0)![0]).toBeCloseTo(360, 6);
    expect(lonLatToPixel(dl, -90, 45)![0]).toBeCloseTo(540, 6);
  });

  it('paints a uniform grid one pixel per cell, rolled to the chosen centre', () => {
    // 2° cells with edges at -180..180, seen centred on 180°.
    const frame = mapFrame('latlon', GLOBE, '0..360', {
      westEdge: -180,
      lonStep: 2,
      latStep: 2
    });
    expect(frame.pixels).toEqual([180, 90]);
    expect(frame.box).toEqual([-180, -90, 360, 180]);
    // Pixel 0 is the cell from 0° to 2°E; row 0 the one from 90°N to 88°N.
    const ll = pixelToLonLat(frame, 0.5, 0.5)!;
    expect(sameLon(ll[0], 1)).toBeCloseTo(0, 9);
    expect(ll[1]).toBeCloseTo(89, 9);
  });

  it('draws the north polar map with 0° down and 90°E to the right, the south one with 0° up', () => {
    const north = mapFrame('north-polar', GLOBE, '-180..180');
    const [w, h] = north.pixels;
    expect(w).toBe(h);
    expect(north.rim).toBe(30);
    const pole = lonLatToPixel(north, 0, 90)!;
    expect(pole[0]).toBeCloseTo(w / 2, 6);
    expect(pole[1]).toBeCloseTo(h / 2, 6);
    const down = lonLatToPixel(north, 0, 60)!;
    expect(down[0]).toBeCloseTo(w / 2, 6);
    expect(down[1]).toBeGreaterThan(h / 2);
    expect(lonLatToPixel(north, 90, 60)![0]).toBeGreaterThan(w / 2);
    // The rim touches the frame's edges.
    expect(lonLatToPixel(north, 0, 30)![1]).toBeCloseTo(h, 6);
    const south = mapFrame('south-polar', GLOBE, '-180..180');
    expect(south.rim).toBe(-30);
    expect(lonLatToPixel(south, 0, -60)![1]).toBeLessThan(h / 2);
    // A polar map of data north of 60°N stops at 60°N.
    const arctic = mapFrame('north-polar', { ...GLOBE, south: 60 }, '0..360');
    expect(arctic.rim).toBe(60);
    expect(lonLatToPixel(arctic, 0, 55)).toBeNull();
  });

  it('leaves the corners outside Equal Earth and polar maps off the globe', () => {
    for (const kind of ['equal-earth', 'north-polar', 'south-polar'] as const) {
      const frame = mapFrame(kind, GLOBE, '-180..180');
      expect(pixelToLonLat(frame, 0.5, 0.5)).toBeNull();
      expect(
        pixelToLonLat(frame, frame.pixels[0] / 2, frame.pixels[1] / 2)
      ).not.toBeNull();
    }
  });

  it('fits a regional grid: the box is its extent', () => {
    const europe = { west: -10, east: 30, south: 35, north: 70 };
    const frame = mapFrame('latlon', europe, '-180..180');
    expect(lonLatToPixel(frame, -10, 70)![0]).toBeCloseTo(0, 6);
    expect(lonLatToPixel(frame, -10, 70)![1]).toBeCloseTo(0, 6);
    expect(lonLatToPixel(frame, 31, 50)).toBeNull();
    const ee = mapFrame('equal-earth', europe, '-180..180');
    const centre = pixelToLonLat(ee, ee.pixels[0] / 2, ee.pixels[1] / 2)!;
    expect(centre[0]).toBeCloseTo(10, 0);
  });
});

describe('axis labels', () => {
  it('labels plate carrée meridians below and parallels on the left, once each', () => {
    const labels = axisLabels(mapFrame('latlon', GLOBE, '-180..180'));
    const lon = labels.filter(l => l.axis === 'lon');
    expect(lon.map(l => l.text)).toEqual([
      '180°',
      '150°W',
      '120°W',
      '90°W',
      '60°W',
      '30°W',
      '0°',
      '30°E',
      '60°E',
      '90°E',
      '120°E',
      '150°E'
    ]);
    expect(lon[6].fx).toBeCloseTo(0.5, 6);
    expect(lon.every(l => l.fy === 1 && l.anchor === 'top')).toBe(true);
    const lat = labels.filter(l => l.axis === 'lat');
    expect(lat.map(l => l.text)).toEqual([
      '90°S',
      '60°S',
      '30°S',
      '0°',
      '30°N',
      '60°N',
      '90°N'
    ]);
    expect(lat[4].fy).toBeCloseTo(1 / 3, 6);
    expect(lat[4].fx).toBeCloseTo(0, 6);
  });

  it('writes longitudes in the chosen convention', () => {
    const labels = axisLabels(mapFrame('latlon', GLOBE, '0..360'));
    expect(labels.filter(l => l.axis === 'lon')[0].text).toBe('0°');
    expect(labels.some(l => l.text === '270°E')).toBe(true);
    expect(formatLon(-90, '-180..180')).toBe('90°W');
    expect(formatLon(-90, '0..360')).toBe('270°E');
    expect(formatLon(360, '0..360')).toBe('0°');
    expect(formatLat(-45.5)).toBe('45.5°S');
  });

  it('labels a polar map around its rim and along one meridian', () => {
    const labels = axisLabels(mapFrame('north-polar', GLOBE, '-180..180'));
    const lon = labels.filter(l => l.axis === 'lon');
    expect(lon.length).toBe(12);
    // 0° below the pole, outside the rim.
    const zero = lon.find(l => l.value === 0)!;
    expect(zero.fx).toBeCloseTo(0.5, 6);
    expect(zero.fy).toBeGreaterThan(1);
    expect(labels.filter(l => l.axis === 'lat').map(l => l.text)).toEqual([
      '45°N',
      '60°N',
      '75°N'
    ]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import {
  curvilinearExtent,
  curvilinearLocator,
  pixelCells,
  regularLocator
} from '../src/grid-locator';
import { cellAtFraction } from '../src/map-canvas';
import type { IGeoView } from '../src/map-data';
import {
  lonLatToPixel,
  mapFrame,
  PROJECTIONS,
  type ProjectionKind
} from '../src/projection';
import { regridNearest } from '../src/regrid';
import { runPython } from './python';

/** Places to hover over, each in view of plate carrée and of one polar map. */
const PLACES: [string, number, number][] = [
  ['Gibraltar', -5.6, 36.0],
  ['Cape of Good Hope', 18.47, -34.36],
  ['Reykjavik', -21.9, 64.1],
  ['Wellington', 174.8, -41.3],
  ['Honolulu', -157.9, 21.3],
  ['McMurdo', 166.7, -77.8]
];

function geoView(
  locator: NonNullable<ReturnType<typeof regularLocator>>,
  kind: ProjectionKind
): IGeoView {
  const frame = mapFrame(
    kind,
    locator.extent,
    '-180..180',
    kind === 'latlon' ? locator.pixelGrid : null
  );
  return { frame, locator, cells: pixelCells(frame, locator), aligned: false };
}

describe('the value under the pointer on the demo field (xarray in this run)', () => {
  let demo: {
    lat: number[];
    lon: number[];
    tas: number[];
    at: number[];
  };

  beforeAll(() => {
    // The demo's tas as the preview's demo file holds it (2° cells, latitude south to
    // north), and xarray's nearest cell to each place.
    demo = runPython(
      `
import json, sys
from espri_vre.demo.fields import tas_monthly
t = tas_monthly().tas.isel(time=0)
places = json.loads(sys.argv[1])
print(json.dumps({
  "lat": t.lat.values.tolist(), "lon": t.lon.values.tolist(),
  "tas": t.values.ravel().tolist(),
  "at": [float(t.sel(lon=lo, lat=la, method="nearest")) for _, lo, la in places]}))
`,
      [JSON.stringify(PLACES)]
    );
  }, 60_000);

  for (const kind of PROJECTIONS) {
    it(`${kind}: the hover at a place reads xarray's value of its cell`, () => {
      const locator = regularLocator(demo.lat, demo.lon)!;
      expect(locator.pixelGrid).toEqual({
        westEdge: -180,
        lonStep: 2,
        latStep: 2
      });
      const view = geoView(locator, kind);
      const [width, height] = view.frame.pixels;
      let read = 0;
      PLACES.forEach(([name, lon, lat], i) => {
        const p = lonLatToPixel(view.frame, lon, lat);
        if (!p) {
          // Only the polar maps leave out the other hemisphere.
          expect(kind.endsWith('polar'), name).toBe(true);
          return;
        }
        const cell = cellAtFraction(
          p[0] / width,
          p[1] / height,
          locator,
          view,
          false
        )!;
        expect(demo.tas[cell.row * locator.cols + cell.col], name).toBe(
          demo.at[i]
        );
        // The marker goes to the cell's centre, within a cell of the place.
        const [clon, clat] = locator.centre(cell.row * locator.cols + cell.col);
        expect(Math.abs(clon - lon)).toBeLessThanOrEqual(1);
        expect(Math.abs(clat - lat)).toBeLessThanOrEqual(1);
        read++;
      });
      expect(read).toBeGreaterThanOrEqual(kind.endsWith('polar') ? 2 : 6);
    });
  }

  it('plate carrée on the grid own pixels: pixel (x, y) is the cell north-first', () => {
    const locator = regularLocator(demo.lat, demo.lon)!;
    const view = geoView(locator, 'latlon');
    expect(view.frame.pixels).toEqual([180, 90]);
    // Row 0 of the picture is the northernmost latitude, stored last.
    expect(view.cells[0]).toBe(89 * 180);
    expect(view.cells[30 * 180 + 123]).toBe((89 - 30) * 180 + 123);
    // Centred on 180°: the first column is the cell from 0° to 2°E.
    const rolled = mapFrame(
      'latlon',
      locator.extent,
      '0..360',
      locator.pixelGrid
    );
    const cells = pixelCells(rolled, locator);
    expect(cells[0] % 180).toBe(90);
    expect(demo.lon[cells[0] % 180]).toBe(1);
  });
});

describe('regularLocator', () => {
  it('finds cells on descending latitudes and longitudes in 0..360', () => {
    const loc = regularLocator([60, 30, 0], [0, 90, 180, 270])!;
    expect(loc.extent).toEqual({ west: -45, east: 315, south: -15, north: 75 });
    expect(loc.locate(-80, 29)).toBe(1 * 4 + 3);
    expect(loc.locate(100, 61)).toBe(0 * 4 + 1);
    // Beyond half a cell past the last latitude: no cell.
    expect(loc.locate(0, -20)).toBe(-1);
    expect(loc.centre(7)).toEqual([270, 30]);
  });

  it('unwraps a regional grid across the date line and leaves out the rest', () => {
    const loc = regularLocator([0, 1], [178, 179, 180, -179, -178])!;
    expect(loc.extent.west).toBe(177.5);
    expect(loc.extent.east).toBe(182.5);
    expect(loc.locate(-179.2, 0.2)).toBe(3);
    expect(loc.locate(0, 0)).toBe(-1);
  });

  it('refuses coordinates that do not increase or decrease', () => {
    expect(regularLocator([0, 10, 5], [0, 1])).toBeNull();
  });
});

describe('curvilinearLocator on the demo ocean grid', () => {
  it('finds the nearest cell centre to any point, in every projection', () => {
    const grid = runPython<{ lat: number[]; lon: number[] }>(`
import json
from espri_vre.demo.fields import orca_like_grid
lon, lat = orca_like_grid()
print(json.dumps({"lat": lat.ravel().tolist(), "lon": lon.ravel().tolist()}))
`);
    const [rows, cols] = [120, 180];
    const locator = curvilinearLocator(
      grid.lat,
      grid.lon,
      rows,
      cols,
      regridNearest(grid.lat, grid.lon, rows, cols)
    );
    expect(locator.extent).toEqual({
      west: -180,
      east: 180,
      south: -90,
      north: 90
    });
    // Great-circle distance (haversine), in radians.
    const rad = Math.PI / 180;
    const dist = (k: number, lon: number, lat: number): number => {
      const a =
        Math.sin(((grid.lat[k] - lat) * rad) / 2) ** 2 +
        Math.cos(grid.lat[k] * rad) *
          Math.cos(lat * rad) *
          Math.sin(((grid.lon[k] - lon) * rad) / 2) ** 2;
      return 2 * Math.asin(Math.sqrt(a));
    };
    let checked = 0;
    for (let lon = -170; lon < 180; lon += 37) {
      for (let lat = -70; lat < 80; lat += 23) {
        const k = locator.locate(lon, lat);
        expect(k).toBeGreaterThanOrEqual(0);
        let best = Infinity;
        for (let j = 0; j < rows * cols; j++) {
          best = Math.min(best, dist(j, lon, lat));
        }
        expect(dist(k, lon, lat)).toBeCloseTo(best, 9);
        checked++;
      }
    }
    expect(checked).toBe(70);
    // A global and a polar map paint it: most pixels on the globe show a cell.
    for (const kind of ['latlon', 'north-polar'] as const) {
      const frame = mapFrame(kind, locator.extent, '-180..180', null);
      const cells = pixelCells(frame, locator);
      const painted = cells.filter(c => c >= 0).length;
      expect(painted / cells.length).toBeGreaterThan(
        kind === 'latlon' ? 0.8 : 0.6
      );
    }
  });

  it('finds the extent of a regional grid across the date line', () => {
    expect(curvilinearExtent([10, 10, 20, 20], [170, -170, 170, -170])).toEqual(
      {
        west: 170,
        east: 190,
        south: 10,
        north: 20
      }
    );
  });
});

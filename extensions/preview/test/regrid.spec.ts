import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataVariables, findAxes, findCurvilinear, mapDims } from '../src/axes';
import { chunkRects } from '../src/chunk-grid';
import { openReferences, readSlice } from '../src/reader';
import {
  regriddedValues,
  regridNearest,
  regridSize,
  wrapLongitude
} from '../src/regrid';
import { buildDemo, DemoServer } from './demo-server';
import { runPython } from './python';

describe('regridNearest on a small grid', () => {
  it('paints each pixel with the nearest cell and leaves the rest empty', () => {
    // Two cells 10 degrees apart on the equator.
    const grid = regridNearest([0, 0], [0, 10], 1, 2, {
      width: 36,
      height: 18
    });
    expect(grid.lat[0]).toBe(85);
    expect(grid.lon[0]).toBe(-175);
    const at = (lat: number, lon: number): number =>
      grid.index[
        Math.floor((90 - lat) / 10) * 36 + Math.floor((lon + 180) / 10)
      ];
    expect(at(1, 1)).toBe(0);
    expect(at(1, 11)).toBe(1);
    expect(at(-60, 100)).toBe(-1);
    const values = regriddedValues([7, 8], grid);
    expect(values.filter(v => v === 7).length).toBeGreaterThan(0);
    expect(values.filter(v => Number.isNaN(v)).length).toBeGreaterThan(600);
  });

  it('wraps longitudes and refuses coordinates of the wrong size', () => {
    expect(wrapLongitude(190)).toBe(-170);
    expect(wrapLongitude(-180)).toBe(-180);
    expect(wrapLongitude(359.5)).toBe(-0.5);
    expect(regridSize(180)).toEqual({ width: 360, height: 180 });
    expect(regridSize(3000)).toEqual({ width: 1440, height: 720 });
    expect(() => regridNearest([0], [0, 1], 1, 2)).toThrow(
      'The 2-D latitude and longitude have 1 and 2 values for a 1 x 2 grid.'
    );
  });
});

describe('the demo curvilinear ocean file', () => {
  let server: DemoServer;
  let expected: {
    refs: { refs: Record<string, unknown> };
    lat: number[];
    lon: number[];
    tos: (number | null)[];
  };

  beforeAll(async () => {
    const dir = await buildDemo();
    server = new DemoServer(dir);
    await server.start();
    expected = runPython(
      `
import json, sys
import numpy as np, xarray as xr
from pathlib import Path
from espri_vre.data.references import references_for
path = Path(sys.argv[1])
ds = xr.open_dataset(path)
print(json.dumps({
  "refs": json.loads(references_for(path, "data/tos_demo_curvilinear.nc", cache=None).body),
  "lat": ds.latitude.values.ravel().tolist(), "lon": ds.longitude.values.ravel().tolist(),
  "tos": [None if np.isnan(v) else float(v) for v in ds.tos.isel(time=7).values.ravel()]}))
`,
      [join(dir, 'data', 'tos_demo_curvilinear.nc')]
    );
  }, 120_000);
  afterAll(() => server?.close());

  it('finds the 2-D latitude and longitude the tos variable names', () => {
    const dataset = openReferences(
      expected.refs,
      `${server.base}/data/tos_demo_curvilinear.nc`,
      r => fetch(r)
    );
    const tos = dataVariables(dataset.variables).find(v => v.name === 'tos')!;
    const axes = findAxes(tos, dataset.variables);
    expect([axes.lat, axes.lon, axes.time]).toEqual([null, null, 'time']);
    const curv = findCurvilinear(tos, dataset.variables)!;
    expect([curv.lat.name, curv.lon.name, curv.dims]).toEqual([
      'latitude',
      'longitude',
      ['y', 'x']
    ]);
    expect(mapDims(tos, axes, curv)).toEqual(['y', 'x']);
    // A regular grid has none.
    expect(findCurvilinear({ ...tos, attrs: {} }, [])).toBeNull();
  });

  it('draws every ocean pixel from the nearest model cell, with xarray values', async () => {
    const dataset = openReferences(
      expected.refs,
      `${server.base}/data/tos_demo_curvilinear.nc`,
      r => fetch(r)
    );
    const tos = dataset.variables.find(v => v.name === 'tos')!;
    const slice = await readSlice(dataset, tos, [7, null, null]);
    expect([slice.rows, slice.cols]).toEqual([120, 180]);
    const grid = regridNearest(expected.lat, expected.lon, 120, 180);
    expect([grid.width, grid.height]).toEqual([360, 180]);
    const values = regriddedValues(slice.values, grid);
    const cosd = (d: number): number => Math.cos((d * Math.PI) / 180);
    let checked = 0;
    for (let p = 0; p < grid.index.length; p += 53) {
      const k = grid.index[p];
      if (k < 0) {
        continue;
      }
      const y = Math.floor(p / grid.width);
      const x = p % grid.width;
      // The value is xarray's at the source cell.
      const want = expected.tos[k];
      if (want === null) {
        expect(values[p]).toBeNaN();
      } else {
        expect(values[p]).toBeCloseTo(want, 4);
      }
      // No cell of the whole grid is nearer to the pixel centre (same metric).
      const dist = (j: number): number => {
        const c = Math.max(cosd(expected.lat[j]), 0.05);
        const dx = wrapLongitude(grid.lon[x] - expected.lon[j]) * c;
        const dy = grid.lat[y] - expected.lat[j];
        return dx * dx + dy * dy;
      };
      let best = Infinity;
      for (let j = 0; j < expected.lat.length; j++) {
        best = Math.min(best, dist(j));
      }
      expect(dist(k)).toBeLessThanOrEqual(best * 1.5 + 1e-9);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
    // Between 60S and 60N the model grid is about 2 degrees: no pixel is left empty.
    let empty = 0;
    for (let y = 30; y < 150; y++) {
      for (let x = 0; x < grid.width; x++) {
        empty += grid.index[y * grid.width + x] < 0 ? 1 : 0;
      }
    }
    expect(empty).toBe(0);
  });
});

describe('chunkRects', () => {
  it('tiles the map with chunks and marks those read, north up when flipped', () => {
    const rects = chunkRects(
      [36, 90, 180],
      [12, 45, 100],
      [13, null, null],
      new Set(['1,0,0', '1,1,1']),
      true
    );
    expect(
      rects.map(r => [r.key, r.x, r.y, r.width, r.height, r.read])
    ).toEqual([
      ['1,0,0', 0, 45, 100, 45, true],
      ['1,0,1', 100, 45, 80, 45, false],
      ['1,1,0', 0, 0, 100, 45, false],
      ['1,1,1', 100, 0, 80, 45, true]
    ]);
    expect(() => chunkRects([4], [2], [0], new Set(), false)).toThrow(
      'A map has two whole dimensions; this selection has 0.'
    );
  });
});

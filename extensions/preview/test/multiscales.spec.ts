import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openedAs, xarrayCode } from '../src/code';
import {
  expandLevel,
  levelSpacing,
  parseMultiscales
} from '../src/multiscales';
import { openZarr, readSlice } from '../src/reader';
import { DemoServer, FILES_ROUTE } from './demo-server';
// Not execFileSync: a worker blocked for seconds races its server's keep-alive closes.
import { runPython } from './loopback';

/**
 * Multiscale Zarr stores written in the same run by xarray in the two writings of the
 * `multiscales` attribute (ndpyramid's pyramid_coarsen layout in Zarr v2, the
 * zarr-conventions layout in Zarr v3), from the demo's 0.5° temperature field: the level
 * chosen for a map size, its values against numpy's block means of the full field, and
 * only that level's chunks read for the first picture.
 */
const PYRAMIDS = `
import json, sys, warnings
from pathlib import Path
import numpy as np, xarray as xr
from espri_vre.demo import fields
warnings.simplefilter("ignore")
out = Path(sys.argv[1])
full = fields.tas_monthly(years=1, resolution=0.5)[["tas"]].isel(time=slice(0, 2))
full["tas"].encoding = {}
factors = [4, 2, 1]

def levels():
    # pyramid_coarsen's levels: group "i" coarsened by factors[i] on lat and lon.
    return {str(i): full.coarsen(lat=f, lon=f).mean() if f > 1 else full
            for i, f in enumerate(factors)}

ndpyramid = {"multiscales": [{
    "datasets": [{"path": str(i)} for i in range(len(factors))],
    "type": "reduce", "method": "pyramid_coarsen", "version": "0.4.0",
    "args": [], "kwargs": {"factors": factors, "dims": ["lat", "lon"]},
}]}
conventions = {
    "zarr_conventions": [{"uuid": "d35379db-88df-4056-af3a-620245f8e347", "name": "multiscales"}],
    "multiscales": {
        "layout": [{"asset": "2", "transform": {"scale": [1.0, 1.0]}}]
        + [{"asset": str(i), "derived_from": "2", "transform": {"scale": [float(f), float(f)]},
            "resampling_method": "mean"} for i, f in enumerate(factors[:-1])],
        "resampling_method": "mean",
    },
}
broken = {"multiscales": [{"datasets": [{"path": "9"}, {"path": "8"}]}]}
for name, attrs, fmt in [("ndpyramid.zarr", ndpyramid, 2), ("conventions.zarr", conventions, 3),
                         ("broken.zarr", broken, 2)]:
    tree = xr.DataTree.from_dict({**levels(), "/": xr.Dataset(attrs=attrs)})
    tree.to_zarr(out / name, mode="w", consolidated=True, zarr_format=fmt)
day = full.tas.isel(time=1).values.astype("float64")
block = day.reshape(180, 2, 360, 2).mean(axis=(1, 3))
print(json.dumps({"full": [float(v) for v in day.ravel()],
                  "block2": [float(v) for v in block.ravel()], "attrs": [ndpyramid, conventions]}))
`;

interface IExpected {
  full: number[];
  block2: number[];
  attrs: Record<string, unknown>[];
}

let dir: string;
let server: DemoServer;
let expected: IExpected;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'espri-vre-multiscales-'));
  expected = await runPython<IExpected>(PYRAMIDS, [dir]);
  server = new DemoServer(dir);
  await server.start();
}, 120_000);

afterAll(() => server?.close());

const open = (name: string) =>
  openZarr(`${server.base}${FILES_ROUTE}${name}`, r => fetch(r));

describe('the multiscales attribute', () => {
  it('gives the level groups of both writings, and nothing for other attributes', () => {
    expect(parseMultiscales(expected.attrs[0])).toEqual({
      paths: ['0', '1', '2'],
      method: 'pyramid_coarsen'
    });
    expect(parseMultiscales(expected.attrs[1])).toEqual({
      paths: ['2', '0', '1'],
      method: 'mean'
    });
    expect(parseMultiscales({})).toBeNull();
    expect(parseMultiscales({ multiscales: 'levels' })).toBeNull();
    expect(parseMultiscales({ multiscales: [{ datasets: [{}] }] })).toBeNull();
    expect(parseMultiscales({ multiscales: { layout: [] } })).toBeNull();
  });
});

describe('a level spread over the full grid', () => {
  it('gives each cell its level cell, the cells a trimmed level left out the last one', () => {
    // 5 x 7 cells coarsened by 2 with boundary="trim": 2 x 3 level cells.
    const level = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const full = expandLevel(level, 2, 3, 5, 7);
    expect(Array.from(full.subarray(0, 7))).toEqual([1, 1, 2, 2, 3, 3, 3]);
    expect(Array.from(full.subarray(14, 21))).toEqual([4, 4, 5, 5, 6, 6, 6]);
    expect(Array.from(full.subarray(28, 35))).toEqual([4, 4, 5, 5, 6, 6, 6]);
    expect(() => expandLevel(level, 3, 3, 5, 7)).toThrow(
      'The level holds 6 values, not 3 x 3.'
    );
  });
});

describe("a level's cell size", () => {
  it("is the full coordinate's extent shared among the level's cells", () => {
    // 0.5° cells from -89.75 to 89.75: 180° over 180 level cells, 360° over 360.
    const lat = Float64Array.from({ length: 360 }, (_, i) => -89.75 + 0.5 * i);
    expect(levelSpacing(lat, 180)).toBeCloseTo(1, 12);
    expect(levelSpacing(lat, 90)).toBeCloseTo(2, 12);
    expect(levelSpacing([5], 1)).toBeNull();
  });
});

describe.each(['ndpyramid.zarr', 'conventions.zarr'])(
  'a multiscale store (%s)',
  name => {
    it('lists the full-resolution variables under their own names', async () => {
      const dataset = await open(name);
      const tas = dataset.variables.find(v => v.name === 'tas')!;
      expect(tas.shape).toEqual([2, 360, 720]);
      expect(tas.path).toBe('2/tas');
      // height: the field's scalar coordinate (2 m), in every level.
      expect(dataset.variables.map(v => v.name)).toEqual([
        'height',
        'lat',
        'lon',
        'tas',
        'time'
      ]);
      expect(dataset.overview).toBeDefined();
    });

    it('draws first the coarsest level that fills the map, from its chunks alone', async () => {
      const dataset = await open(name);
      const tas = dataset.variables.find(v => v.name === 'tas')!;
      const at = [1, null, null];
      // The longer side of each level: 180, 360, 720 (the full resolution).
      const levelFor = async (side: number) =>
        (await dataset.overview!.slice(tas, at, side)).overview?.level?.path;
      expect(await levelFor(150)).toBe('0');
      expect(await levelFor(180)).toBe('0');
      expect(await levelFor(181)).toBe('1');

      server.reset();
      const fresh = await open(name);
      const slice = await fresh.overview!.slice(tas, at, 300);
      expect(slice.overview).toMatchObject({
        factor: 2,
        level: { path: '1', rows: 180, cols: 360, count: 3 }
      });
      expect([slice.rows, slice.cols]).toEqual([360, 720]);
      // Each cell shows its 2 x 2 block's mean (float32 in the store).
      for (let r = 0; r < 360; r += 7) {
        for (let c = 0; c < 720; c += 5) {
          const mean = expected.block2[(r >> 1) * 360 + (c >> 1)];
          expect(slice.values[r * 720 + c]).toBeCloseTo(mean, 3);
        }
      }
      const chunks = server.requested.filter(p => /\/tas\/(c\/)?\d/.test(p));
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.every(p => p.includes(`${name}/1/tas/`))).toBe(true);

      // A map larger than the middle level: the full resolution, read from its chunks.
      const full = await dataset.overview!.slice(tas, at, 500);
      expect(full.overview).toBeUndefined();
      expect(Array.from(full.values)).toEqual(
        expected.full.map(v => Math.fround(v))
      );
      const direct = await readSlice(dataset, tas, at);
      expect(direct.values).toEqual(full.values);
    });
  }
);

describe('Open in notebook of a multiscale store', () => {
  it("opens the full-resolution level's group, and its slice is the preview's", async () => {
    const dataset = await open('ndpyramid.zarr');
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    const code = xarrayCode({
      ...openedAs(
        { format: 'zarr', location: join(dir, 'ndpyramid.zarr') },
        tas
      ),
      isel: { time: 1 }
    });
    expect(code).toContain(', group="2")');
    const values = await runPython<number[]>(
      code.replace(
        'da.plot()',
        'import json; print(json.dumps(da.values.astype(float).ravel().tolist()))'
      ),
      []
    );
    expect(values).toEqual(expected.full);
  });
});

describe('a store whose multiscales attribute names no level it holds', () => {
  it('opens as plain groups: every array listed under its path, no overview', async () => {
    const dataset = await open('broken.zarr');
    const names = dataset.variables.map(v => v.name);
    expect(names).toContain('0/tas');
    expect(names).toContain('2/tas');
    expect(dataset.overview).toBeUndefined();
    const tas = dataset.variables.find(v => v.name === '2/tas')!;
    const slice = await readSlice(dataset, tas, [1, null, null]);
    expect(Array.from(slice.values)).toEqual(
      expected.full.map(v => Math.fround(v))
    );
  });
});

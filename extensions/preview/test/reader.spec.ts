import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinateOf, dataVariables, findAxes } from '../src/axes';
import { coordinateLabels } from '../src/cf';
import { chunksForSlice } from '../src/slice';
import {
  openReferences,
  openZarr,
  readDecoded,
  readSeries,
  readSlice
} from '../src/reader';
import { seriesSelection } from '../src/series';
import { dataFilesUrl } from '../src/connection';
import { runPython } from './python';
import { buildDemo, DemoServer, FILES_ROUTE } from './demo-server';

/**
 * The demo builder's files served as Jupyter's /files/ handler serves them (200,
 * or 206 for a Range request), checked against xarray in the same run.
 */
let server: DemoServer;
let base: string;
let ranges: string[];
let requested: string[];

const REFS_AND_XARRAY = `
import json, sys
from pathlib import Path
import numpy as np, xarray as xr
from espri_vre.data.references import references_for
path = Path(sys.argv[1]).resolve()
refs = json.loads(references_for(path, "data/tas_demo_monthly.nc", cache=None).body)
ds = xr.open_dataset(path, use_cftime=True)
out = {"refs": refs, "slices": {}, "labels": [t.isoformat(" ") for t in ds.time.values]}
for k in (0, 7, 35):
    out["slices"][k] = [None if np.isnan(v) else float(v) for v in ds.tas.isel(time=k).values.ravel()]
out["series"] = [float(v) for v in ds.tas.isel(lat=10, lon=123).values]
print(json.dumps(out))
`;

interface Expected {
  refs: { version: number; refs: Record<string, unknown> };
  slices: Record<string, (number | null)[]>;
  labels: string[];
  series: number[];
}
let expected: Expected;

beforeAll(async () => {
  const dir = await buildDemo();
  server = new DemoServer(dir, { demo: join(dir, 'data') });
  await server.start();
  base = server.base;
  ranges = server.ranges;
  requested = server.requested;
  expected = runPython<Expected>(REFS_AND_XARRAY, [
    join(dir, 'data', 'tas_demo_monthly.nc')
  ]);
}, 120_000);

afterAll(() => server?.close());

function expectClose(actual: Float64Array, wanted: (number | null)[]): void {
  expect(actual.length).toBe(wanted.length);
  let worst = 0;
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i];
    if (w === null) {
      expect(actual[i]).toBeNaN();
    } else {
      worst = Math.max(
        worst,
        Math.abs(actual[i] - w) / Math.max(1, Math.abs(w))
      );
    }
  }
  expect(worst).toBeLessThan(1e-6);
}

describe('reading the demo NetCDF-4 file through kerchunk references', () => {
  it('decodes the tas slices that xarray decodes, with Range requests on the file', async () => {
    ranges.length = 0;
    const dataset = openReferences(
      expected.refs,
      `${base}/data/tas_demo_monthly.nc`,
      request => fetch(request)
    );
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    expect(tas.dims).toEqual(['time', 'lat', 'lon']);
    for (const k of [0, 7, 35]) {
      const slice = await readSlice(dataset, tas, [k, null, null]);
      expect([slice.rows, slice.cols]).toEqual([90, 180]);
      expectClose(slice.values, expected.slices[k]);
    }
    expect(ranges.length).toBeGreaterThan(0);
    // Each slice needs one chunk of 12 time steps: no more travels.
    expect(chunksForSlice(tas.shape, tas.chunks, [35, null, null])).toEqual([
      [2, 0, 0]
    ]);
    expect(dataset.transfer.requests).toBe(ranges.length);
  });

  it("reads the time series at a point as xarray's isel, from the three time chunks only", async () => {
    const dataset = openReferences(
      expected.refs,
      `${base}/data/tas_demo_monthly.nc`,
      request => fetch(request)
    );
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    const selection = seriesSelection(tas.dims, 'time', { lat: 10, lon: 123 });
    expect(selection).toEqual([null, 10, 123]);
    const values = await readSeries(dataset, tas, selection);
    expectClose(values, expected.series);
    // 36 monthly steps in chunks of (12, 45, 90): the three chunks holding the point.
    expect(chunksForSlice(tas.shape, tas.chunks, [0, 10, 123]).length).toBe(1);
    expect(dataset.transfer.requests).toBe(3);
  });

  it('finds the axes and labels time as xarray with cftime does', async () => {
    const dataset = openReferences(
      expected.refs,
      `${base}/data/tas_demo_monthly.nc`,
      request => fetch(request)
    );
    const tas = dataVariables(dataset.variables).find(v => v.name === 'tas')!;
    expect(findAxes(tas, dataset.variables)).toEqual({
      lat: 'lat',
      lon: 'lon',
      time: 'time'
    });
    const time = coordinateOf('time', dataset.variables)!;
    const { values } = await readDecoded(dataset, time, null);
    expect(coordinateLabels(values, time.attrs)).toEqual(expected.labels);
  });

  it('reports a chunk the file cannot serve as an error, not as data', async () => {
    const dataset = openReferences(
      expected.refs,
      `${base}/data/missing.nc`,
      async () => new Response('nope', { status: 500 })
    );
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    await expect(readSlice(dataset, tas, [0, null, null])).rejects.toThrow();
  });
});

describe('reading the demo Zarr stores over HTTP', () => {
  it.each(['tas_demo_monthly.zarr', 'tas_demo_monthly.v3.zarr'])(
    'decodes %s like the NetCDF file, through the data/files route',
    async store => {
      requested.length = 0;
      // data/info's files_url, turned into the suite's route as the widget does.
      const url = `${base}/${dataFilesUrl(`files/data/${store}`)}`;
      expect(url).toBe(`${base}${FILES_ROUTE}data/${store}`);
      const dataset = await openZarr(url, request => fetch(request));
      const tas = dataset.variables.find(v => v.name === 'tas')!;
      expect(tas.dims).toEqual(['time', 'lat', 'lon']);
      const slice = await readSlice(dataset, tas, [7, null, null]);
      expectClose(slice.values, expected.slices[7]);
      expect(requested.length).toBeGreaterThan(0);
    }
  );

  it("cannot read a Zarr v2 store through Jupyter's /files/, which hides its keys", async () => {
    await expect(
      openZarr(`${base}/data/tas_demo_monthly.zarr`, request => fetch(request))
    ).rejects.toThrow('espri-vre/api/data/files/');
  });
});

describe('reading a file in a data root outside the server root', () => {
  it('reads the chunks from the X-Files-Url that data/references gives (@<root-id>)', async () => {
    requested.length = 0;
    const header = 'espri-vre/api/data/files/%40demo/tas_demo_monthly.nc';
    const target = new URL(dataFilesUrl(header), `${base}/`).href;
    const dataset = openReferences(expected.refs, target, request =>
      fetch(request)
    );
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    const slice = await readSlice(dataset, tas, [35, null, null]);
    expectClose(slice.values, expected.slices[35]);
    expect(requested).toContain(`${FILES_ROUTE}@demo/tas_demo_monthly.nc`);
  });
});

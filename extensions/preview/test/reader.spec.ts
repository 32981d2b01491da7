import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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
import { PYTHON, runPython } from './python';
import { execFileSync } from 'node:child_process';

/**
 * The demo builder's files served as Jupyter's /files/ handler serves them (200,
 * or 206 for a Range request), checked against xarray in the same run.
 */
let dir: string;
let server: Server;
let base: string;
const ranges: string[] = [];
const requested: string[] = [];
const FILES_ROUTE = '/espri-vre/api/data/files/';

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
  dir = mkdtempSync(join(tmpdir(), 'espri-vre-preview-'));
  execFileSync(PYTHON, ['-m', 'espri_vre.demo', 'build', dir], {
    stdio: 'ignore'
  });
  expected = runPython<Expected>(REFS_AND_XARRAY, [
    join(dir, 'data', 'tas_demo_monthly.nc')
  ]);
  server = createServer((req, res) => {
    const pathname = decodeURIComponent(
      new URL(req.url ?? '/', 'http://x').pathname
    );
    let path = join(dir, pathname);
    if (pathname.startsWith(FILES_ROUTE)) {
      // Mimics espri-vre/api/data/files/: a path in the server root (here `dir`)
      // or @demo/<path in the demo data root>; hidden names only inside *.zarr.
      requested.push(pathname);
      const rest = pathname.slice(FILES_ROUTE.length);
      const parts = rest.split('/');
      const hidden = parts.some(
        (part, i) =>
          part.startsWith('.') &&
          !parts.slice(0, i).some(p => p.endsWith('.zarr'))
      );
      if (hidden || parts.includes('..')) {
        res.writeHead(403, { 'Content-Type': 'application/json' }).end('{}');
        return;
      }
      path = rest.startsWith('@demo/')
        ? join(dir, 'data', rest.slice('@demo/'.length))
        : join(dir, rest);
    } else if (pathname.split('/').some(part => part.startsWith('.'))) {
      // Jupyter's /files/ refuses hidden names: every Zarr v2 key.
      res.writeHead(404).end();
      return;
    }
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) {
        throw new Error('not a file');
      }
      size = st.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range) {
      ranges.push(req.headers.range as string);
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), size - 1);
      res.writeHead(206, {
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${size}`
      });
      createReadStream(path, { start, end }).pipe(res);
    } else {
      res.writeHead(200, { 'Content-Length': size });
      createReadStream(path).pipe(res);
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(() => {
  server?.close();
  if (dir) {
    rmSync(dir, { recursive: true, force: true });
  }
});

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

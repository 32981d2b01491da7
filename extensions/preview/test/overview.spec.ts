import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dequantise,
  expandOverview,
  LEVELS,
  MISSING,
  overviewSlice,
  parseOverviewHeaders,
  screenSide,
  wantsOverview
} from '../src/overview';
import {
  offerFirstOverview,
  prefetch,
  takeFirstOverview,
  takePrefetched
} from '../src/map-data';
import { openReferences } from '../src/reader';
import { DemoServer } from './demo-server';
import { runPython } from './python';

/**
 * The server's overview (espri_vre.data.overview, on a NetCDF file xarray writes in
 * the same run) decoded in TypeScript equals numpy's block mean of xarray's values,
 * within half the 16-bit step, with the exact minimum and maximum.
 */
const OVERVIEW_AND_NUMPY = `
import base64, json, sys
from pathlib import Path
import numpy as np, xarray as xr
from espri_vre.data.overview import overview_of
path = Path(sys.argv[1]) / "field.nc"
rng = np.random.default_rng(17)
values = (250 + 40 * rng.random((3, 50, 77))).astype("float32")
values[1, 10:14, 30:41] = np.nan
values[1, 40:50, 72:77] = np.nan  # the whole bottom-right edge block
xr.Dataset({"tas": (("time", "lat", "lon"), values, {"units": "K"})}).to_netcdf(
    path, encoding={"tas": {"zlib": True, "_FillValue": 1e20, "chunksizes": (1, 50, 77)}}
)
from espri_vre.data.references import references_for
refs = json.loads(references_for(path.resolve(), "field.nc", cache=None).body)
found = overview_of(path, "field.nc", "tas", "[1, null, null]", 20, 20)
with xr.open_dataset(path) as ds:
    plane = ds.tas.isel(time=1).values.astype("float64")
f = found.factor
padded = np.pad(plane, ((0, -plane.shape[0] % f), (0, -plane.shape[1] % f)), constant_values=np.nan)
blocks = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
with np.errstate(all="ignore"):
    import warnings
    warnings.simplefilter("ignore")  # nanmean of an all-NaN block: NaN, as wanted
    mean = np.nanmean(blocks, axis=(1, 3))
print(json.dumps({
    "body": base64.b64encode(found.body).decode(),
    "headers": {
        "X-Overview-Shape": f"{found.rows},{found.cols}",
        "X-Overview-Source": f"{found.source_rows},{found.source_cols}",
        "X-Overview-Factor": str(found.factor),
        "X-Overview-Method": found.method,
        "X-Overview-Min": repr(found.minimum),
        "X-Overview-Max": repr(found.maximum),
    },
    "mean": [None if np.isnan(v) else float(v) for v in mean.ravel()],
    "refs": refs,
    "day2": [float(v) for v in values[2].ravel()],
}))
`;

interface Expected {
  body: string;
  headers: Record<string, string>;
  mean: (number | null)[];
  refs: { refs: Record<string, unknown> };
  day2: number[];
}

let dir: string;
let expected: Expected;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'espri-vre-overview-'));
  expected = runPython<Expected>(OVERVIEW_AND_NUMPY, [dir]);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading the next time step ahead', () => {
  it('reads it once, hands it over once, and only for the same selection', async () => {
    const server = new DemoServer(dir);
    await server.start();
    try {
      const dataset = openReferences(
        expected.refs,
        `${server.base}/field.nc`,
        request => fetch(request)
      );
      const tas = dataset.variables.find(v => v.name === 'tas')!;
      prefetch(dataset, tas, [2, null, null], 900);
      prefetch(dataset, tas, [2, null, null], 900);
      expect(
        takePrefetched(dataset, tas, [1, null, null], 900)
      ).toBeUndefined();
      const slice = await takePrefetched(dataset, tas, [2, null, null], 900)!;
      const reads = server.requested.length;
      expect(reads).toBeGreaterThan(0);
      expect(slice.overview).toBeUndefined();
      expect(Array.from(slice.values)).toEqual(
        expected.day2.map(v => Math.fround(v))
      );
      expect(
        takePrefetched(dataset, tas, [2, null, null], 900)
      ).toBeUndefined();
      expect(server.requested.length).toBe(reads);
    } finally {
      // The folder is removed after all (afterAll): the next test reads it too.
      server.close(false);
    }
  });
});

describe('the first overview, asked for before the metadata', () => {
  it("is the view's first slice when the server chose the same map, else the view reads its own", async () => {
    const server = new DemoServer(dir);
    await server.start();
    try {
      const dataset = openReferences(
        expected.refs,
        `${server.base}/field.nc`,
        request => fetch(request)
      );
      const tas = dataset.variables.find(v => v.name === 'tas')!;
      // The server's real answer for day 1, at most 20 x 20.
      const slice = await overviewSlice(
        new Uint8Array(Buffer.from(expected.body, 'base64')),
        new Headers(expected.headers)
      );
      const signal = new AbortController().signal;
      const served = { variable: 'tas', selection: [1, null, null], side: 20 };
      offerFirstOverview(dataset, Promise.resolve({ ...served, slice }));
      expect(
        await takeFirstOverview(dataset, tas, [1, null, null], 20, signal)
      ).toBe(slice);
      expect(server.requested.length).toBe(0);
      // Taken once: the next step is read as usual.
      expect(
        takeFirstOverview(dataset, tas, [2, null, null], 20, signal)
      ).toBeUndefined();

      // The view shows another day first (or the request failed): it reads that day itself.
      for (const first of [
        () => Promise.resolve({ ...served, slice }),
        () =>
          Promise.reject(new Error('The server could not make an overview.'))
      ]) {
        // A fresh dataset each time: an empty chunk cache.
        const fresh = openReferences(
          expected.refs,
          `${server.base}/field.nc`,
          request => fetch(request)
        );
        const before = server.requested.length;
        offerFirstOverview(fresh, first());
        const own = await takeFirstOverview(
          fresh,
          fresh.variables.find(v => v.name === 'tas')!,
          [2, null, null],
          20,
          signal
        )!;
        expect(own.overview).toBeUndefined();
        expect(Array.from(own.values)).toEqual(
          expected.day2.map(v => Math.fround(v))
        );
        expect(server.requested.length).toBeGreaterThan(before);
      }
    } finally {
      // The folder is removed after all (afterAll): the next test reads it too.
      server.close(false);
    }
  });
});

describe('the server overview decoded in the browser', () => {
  it('equals numpy block means spread over the grid, missing blocks NaN', async () => {
    const headers = new Headers(expected.headers);
    const slice = await overviewSlice(
      new Uint8Array(Buffer.from(expected.body, 'base64')),
      headers
    );
    expect([slice.rows, slice.cols]).toEqual([50, 77]);
    expect(slice.overview).toEqual({ factor: 4, method: 'block-mean' });
    const finite = expected.mean.filter((v): v is number => v !== null);
    const low = Math.min(...finite);
    const high = Math.max(...finite);
    const half = (high - low) / LEVELS / 2 + 1e-9;
    let missing = 0;
    for (let r = 0; r < 50; r++) {
      for (let c = 0; c < 77; c++) {
        const want = expected.mean[Math.floor(r / 4) * 20 + Math.floor(c / 4)];
        const got = slice.values[r * 77 + c];
        if (want === null) {
          expect(got).toBeNaN();
          missing++;
        } else {
          expect(Math.abs(got - want)).toBeLessThanOrEqual(half);
        }
      }
    }
    // The first NaN patch covers its blocks in part (they average the cells left); the
    // second (rows 40..49 x columns 72..76) is six whole blocks, edge ones included.
    expect(missing).toBe(10 * 5);
    expect(Math.min(...slice.values.filter(Number.isFinite))).toBe(low);
    expect(Math.max(...slice.values.filter(Number.isFinite))).toBe(high);
  });

  it('refuses an answer whose size is not its shape', async () => {
    const headers = new Headers({
      ...expected.headers,
      'X-Overview-Shape': '21,20'
    });
    await expect(
      overviewSlice(
        new Uint8Array(Buffer.from(expected.body, 'base64')),
        headers
      )
    ).rejects.toThrow('not 21 x 20 16-bit codes');
    expect(() =>
      parseOverviewHeaders(new Headers({ 'X-Overview-Shape': '3' }))
    ).toThrow(
      "The overview's X-Overview-Shape header is missing or malformed."
    );
  });
});

describe('overview arithmetic', () => {
  it('decodes the end codes to the exact limits and MISSING to NaN', () => {
    const values = dequantise(
      new Uint16Array([0, LEVELS, MISSING, LEVELS / 2]),
      0.1,
      0.7
    );
    expect(values[0]).toBe(0.1);
    expect(values[1]).toBe(0.7);
    expect(values[2]).toBeNaN();
    expect(values[3]).toBeCloseTo(0.4, 12);
    expect(
      Array.from(dequantise(new Uint16Array([MISSING]), null, null))
    ).toEqual([NaN]);
  });

  it('spreads each block over its cells, the edge blocks over the cells left', () => {
    const out = expandOverview(new Float64Array([1, 2, 3, 4]), {
      rows: 2,
      cols: 2,
      factor: 2,
      sourceRows: 3,
      sourceCols: 3,
      minimum: 1,
      maximum: 4,
      method: 'block-mean'
    });
    expect(Array.from(out)).toEqual([1, 1, 2, 1, 1, 2, 3, 3, 4]);
  });

  it('asks for an overview only when the slice has more cells than the screen', () => {
    expect(screenSide(1)).toBe(900);
    expect(screenSide(2)).toBe(1800);
    expect(wantsOverview(720, 1440, screenSide(1))).toBe(true);
    expect(wantsOverview(720, 1440, screenSide(2))).toBe(false);
    expect(wantsOverview(90, 180, screenSide(1))).toBe(false);
    expect(wantsOverview(720, 1440, Infinity)).toBe(false);
  });
});

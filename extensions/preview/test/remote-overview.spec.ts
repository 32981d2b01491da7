import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { takeFirstOverview } from '../src/map-data';
import { LEVELS, screenSide } from '../src/overview';
import { openPreparedSource } from '../src/sources';
import { type ILoopback, runPython, startLoopback } from './loopback';

/**
 * A remote NetCDF-4 file larger than the screen (issue 16): opened as the catalogue's
 * "Preview" opens it, its first picture is the server's overview, asked for with the URL
 * alone while the references are computed (data/remote/overview, the file read by the
 * server by Range requests on a real loopback data server), and equals numpy's block
 * mean of the values xarray reads from the same URL in the same run; a cell read while
 * the overview is shown is xarray's exact value.
 */
const WRITE_AND_READ = `
import json, math, sys
from pathlib import Path
import fsspec, numpy as np, xarray as xr
root, url, side = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(16)
values = (250 + 40 * rng.random((2, 950, 1000))).astype("float32")
values[0, 100:130, 200:260] = np.nan
xr.Dataset(
    {"tas": (("time", "lat", "lon"), values, {"units": "K"})},
    coords={"time": [0.0, 1.0], "lat": np.linspace(-89.9, 89.9, 950), "lon": np.arange(1000) * 0.36},
).to_netcdf(root / "field.nc", engine="h5netcdf", encoding={"tas": {"zlib": True, "chunksizes": (1, 950, 1000)}})
with fsspec.open(url, "rb") as f, xr.open_dataset(f, engine="h5netcdf") as ds:
    plane = ds.tas.isel(time=0).values.astype("f8")
    cell = float(ds.tas.isel(time=1, lat=10, lon=20).values)
factor = max(1, math.ceil(950 / side), math.ceil(1000 / side))
padded = np.pad(plane, ((0, -950 % factor), (0, -1000 % factor)), constant_values=np.nan)
blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
means = np.nanmean(blocks, axis=(1, 3))
print(json.dumps({
    "factor": factor,
    "cols": means.shape[1],
    "means": [None if np.isnan(v) else float(v) for v in means.ravel()],
    "cell": cell,
}))
`;

interface IExpected {
  factor: number;
  cols: number;
  means: (number | null)[];
  cell: number;
}

// Node's own Blob and DecompressionStream inflate the overview as a browser's do (jsdom's
// Blob has no stream()); the little of `window` the preview reads is given here.
vi.stubGlobal('window', {
  devicePixelRatio: 1,
  location: { href: 'http://127.0.0.1/' }
});

describe('the first picture of a remote file', () => {
  let loopback: ILoopback<{ range: number }>;
  let settings: ServerConnection.ISettings;
  let rootDir: string;
  let url: string;
  let expected: IExpected;
  const side = screenSide(window.devicePixelRatio);

  beforeAll(async () => {
    rootDir = mkdtempSync(join(tmpdir(), 'espri-vre-remote-overview-'));
    loopback = await startLoopback(
      'remote_servers.py',
      [rootDir, '--jupyter', rootDir],
      rootDir
    );
    settings = loopback.settings!;
    url = `http://127.0.0.1:${loopback.line.range}/files/field.nc`;
    expected = await runPython<IExpected>(WRITE_AND_READ, [
      rootDir,
      url,
      String(side)
    ]);
  }, 300_000);

  afterAll(() => {
    loopback?.stop();
    if (rootDir) {
      rmSync(rootDir, { recursive: true, force: true });
    }
  });

  it("is the server's block mean of xarray's values of the same URL", async () => {
    const { dataset } = await openPreparedSource(
      { kind: 'remote', url },
      settings,
      nullTranslator.load('jupyterlab'),
      () => undefined
    );
    expect(dataset.overview).toBeDefined();
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    const signal = new AbortController().signal;
    const slice = await takeFirstOverview(
      dataset,
      tas,
      [0, null, null],
      side,
      signal
    )!;
    expect(expected.factor).toBeGreaterThan(1);
    expect(slice.overview).toEqual({
      factor: expected.factor,
      method: 'block-mean'
    });
    expect([slice.rows, slice.cols]).toEqual([950, 1000]);
    const finite = expected.means.filter((v): v is number => v !== null);
    const step =
      (finite.reduce((a, b) => Math.max(a, b)) -
        finite.reduce((a, b) => Math.min(a, b))) /
      LEVELS;
    let compared = 0;
    for (let r = 0; r < 950; r++) {
      for (let c = 0; c < 1000; c++) {
        const got = slice.values[r * 1000 + c];
        const want =
          expected.means[
            Math.floor(r / expected.factor) * expected.cols +
              Math.floor(c / expected.factor)
          ];
        if (want === null) {
          expect(got, `${r},${c}`).toBeNaN();
        } else if (Math.abs(got - want) > step) {
          expect(got, `${r},${c}`).toBeCloseTo(want, 6);
        }
        compared++;
      }
    }
    expect(compared).toBe(950 * 1000);
    expect(await dataset.overview!.cell!(tas, [1, 10, 20], signal)).toBe(
      expected.cell
    );
  });
});

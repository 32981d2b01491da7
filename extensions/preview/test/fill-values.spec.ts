import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeZarrV3FillValue } from '../src/cf';
import { openReferences, openZarr, readDecoded } from '../src/reader';
import { DemoServer, FILES_ROUTE } from './demo-server';
import { expectLikeXarray } from './loopback';
import { runPython } from './python';

/**
 * Missing values as xarray masks them, on files written in the set-up by xarray (Zarr v2
 * and v3 stores) and by scipy's netCDF-3 writer (a packed int16 variable declaring
 * `_FillValue = NaN`, which kerchunk's own NetCDF-3 reader cannot cast), read in the
 * browser's way and compared with xarray's decoded values computed in the same run.
 */
const WRITE_AND_READ = `
import json, sys, warnings
from pathlib import Path
import numpy as np, xarray as xr
from scipy.io import netcdf_file
from espri_vre.data.references import references_for
warnings.simplefilter("ignore")
root = Path(sys.argv[1])
ds = xr.Dataset(
    {
        "count": (("y", "x"), np.array([[0, 1, 0], [2, 0, 7]], dtype="i4")),
        "temp": (("y", "x"), np.array([[np.nan, 1.5, 0.0], [2.5, 0.0, -3.25]], dtype="f4")),
        "packed": (("y", "x"), np.array([[np.nan, 1.5, 0.0], [2.5, 0.0, -3.0]])),
        "flags": (("y", "x"), np.array([[0, 1, -9], [2, 0, 3]], dtype="i2"), {"missing_value": np.int16(-9)}),
    },
    coords={"x": [0, 1, 2], "y": [10.0, 20.0]},
)
encoding = {
    "packed": {"dtype": "i2", "scale_factor": 0.5, "_FillValue": -1},
    "temp": {"_FillValue": np.float32(1e20)},
}
ds.to_zarr(root / "v3.zarr", zarr_format=3, encoding=encoding, consolidated=True)
ds.to_zarr(root / "v2.zarr", zarr_format=2, encoding=encoding, consolidated=True)
with netcdf_file(root / "packed3.nc", "w", version=2) as f:
    f.createDimension("time", None)
    f.createDimension("lat", 30)
    t = f.createVariable("t", "i2", ("time", "lat"))
    values = np.arange(1200, dtype="i2").reshape(40, 30) - 600
    values[3, 4] = -32767
    values[5, :] = 0
    t[:] = values
    t.scale_factor = np.float64(0.01)
    t.add_offset = np.float64(273.15)
    t._FillValue = np.float64("nan")
    t.missing_value = np.int16(-32767)
def plain(a):
    return [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype="f8").ravel()]
out = {"stores": {}}
for name in ("v3.zarr", "v2.zarr"):
    with xr.open_zarr(root / name) as z:
        out["stores"][name] = {k: plain(z[k].values) for k in ds.data_vars}
with xr.open_dataset(root / "packed3.nc") as nc:
    out["nc3"] = {"refs": json.loads(references_for(root / "packed3.nc", "packed3.nc", cache=None).body), "t": plain(nc.t.values)}
out["attr"] = json.loads((root / "v3.zarr" / "temp" / "zarr.json").read_text())["attributes"]["_FillValue"]
print(json.dumps(out))
`;

interface IExpected {
  stores: Record<string, Record<string, (number | null)[]>>;
  nc3: { refs: { refs: Record<string, unknown> }; t: (number | null)[] };
  attr: string;
}

let dir: string;
let server: DemoServer;
let expected: IExpected;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'espri-vre-fill-'));
  expected = runPython<IExpected>(WRITE_AND_READ, [dir]);
  server = new DemoServer(dir);
  await server.start();
}, 120_000);

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fill values as xarray reads them', () => {
  it.each(['v3.zarr', 'v2.zarr'])(
    'masks in %s exactly what xarray masks',
    async store => {
      // The suite's data/files route, which serves the hidden keys of v2 stores.
      const dataset = await openZarr(
        `${server.base}${FILES_ROUTE}${store}`,
        r => fetch(r)
      );
      const wanted = expected.stores[store];
      for (const [name, values] of Object.entries(wanted)) {
        const variable = dataset.variables.find(v => v.name === name)!;
        const { values: got } = await readDecoded(dataset, variable, null);
        expectLikeXarray(got, values, `${store}: ${name}`);
      }
      // The integer count's zeros are data, in both formats.
      expect(wanted.count).toEqual([0, 1, 0, 2, 0, 7]);
    }
  );

  it('decodes the base64 float fill value that xarray writes in v3 attributes', () => {
    expect(expected.attr).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // xarray encodes the float32 fill value as the float64 it equals.
    expect(decodeZarrV3FillValue(expected.attr, 'float32')).toBe(
      Math.fround(1e20)
    );
    expect(decodeZarrV3FillValue(expected.attr, 'int32')).toBe(expected.attr);
    expect(decodeZarrV3FillValue('NaN', 'float64')).toBe('NaN');
  });

  it('reads a packed NetCDF-3 variable that declares a NaN _FillValue', async () => {
    const dataset = openReferences(
      expected.nc3.refs,
      `${server.base}/packed3.nc`,
      r => fetch(r)
    );
    const t = dataset.variables.find(v => v.name === 't')!;
    const { values } = await readDecoded(dataset, t, null);
    expectLikeXarray(values, expected.nc3.t, 'packed3.nc: t');
    expect(values[3 * 30 + 4]).toBeNaN();
    expect(values[5 * 30]).toBeCloseTo(273.15, 10);
  });
});

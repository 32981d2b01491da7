import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IDatasetOrigin, xarrayCode } from '../src/code';
import { type ILoopback, runPython, SAMPLE, startLoopback } from './loopback';

/**
 * "Open in notebook" for previews of remote origins: the generated code, run by the
 * project's Python, opens the same data as the preview from real loopback servers (a
 * data server with Range requests, pydap's OPeNDAP server) and selects xarray's slice
 * of the local file.
 */
const FILE =
  'CMIP6/CMIP/MIROC/MIROC6/historical/r4i1p1f1/Amon/prsn/gn/v20190311/prsn/prsn_Amon_MIROC6_historical_r4i1p1f1_gn_195001-201412.nc';
const present = existsSync(join(SAMPLE, FILE));

describe('xarrayCode for remote origins', () => {
  const code = (origin: IDatasetOrigin): string =>
    xarrayCode({
      origin,
      variable: 'prsn',
      isel: { time: 3 },
      notebookPath: 'work/n.ipynb'
    });

  it('reads a remote file through fsspec, letting xarray pick the engine from its bytes', () => {
    expect(
      code({ format: 'remote', location: 'https://data.example/f/x.nc' })
    ).toBe(
      [
        'import fsspec',
        'import xarray as xr',
        '',
        '# Read by HTTP Range requests, as the preview reads it.',
        'ds = xr.open_dataset(fsspec.open("https://data.example/f/x.nc").open())',
        'da = ds["prsn"].isel(time=3)',
        'da.plot()',
        ''
      ].join('\n')
    );
  });

  it("opens an OPeNDAP URL with pydap, the server's client", () => {
    expect(
      code({ format: 'opendap', location: 'https://t.example/dodsC/x.nc' })
    ).toContain(
      'ds = xr.open_dataset("https://t.example/dodsC/x.nc", engine="pydap")\n'
    );
  });

  it('combines the files along time with open_mfdataset, paths from the notebook', () => {
    const local = code({
      format: 'files',
      location: 'data/a.nc',
      locations: ['data/a.nc', 'data/b.nc']
    });
    expect(local).toContain(
      'files = [\n    "../data/a.nc",\n    "../data/b.nc",\n]\n'
    );
    expect(local).not.toContain('fsspec');
    expect(local).toContain(
      'ds = xr.open_mfdataset(files, combine="by_coords")'
    );
    const loose = xarrayCode({
      origin: { format: 'files', location: 'a.nc', locations: ['a.nc'] },
      variable: 'v',
      isel: {}
    });
    expect(loose).toContain(
      'import xarray as xr\n\n# The path is relative to the Jupyter server root.\n'
    );
    const remote = code({
      format: 'files',
      location: 'https://d.example/a.nc',
      locations: ['https://d.example/a.nc', 'https://d.example/b.nc']
    });
    expect(remote).toContain('files = [fsspec.open(f).open() for f in files]');
  });
});

/** Split the file in two along time; print xarray's slice of the whole file. */
const PREPARE = `
import json, sys
import xarray as xr
src, out = sys.argv[1], sys.argv[2]
with xr.open_dataset(src) as ds:
    half = ds.sizes["time"] // 2
    ds.isel(time=slice(0, half)).to_netcdf(f"{out}/part0.nc")
    ds.isel(time=slice(half, None)).to_netcdf(f"{out}/part1.nc")
    ds.to_netcdf(f"{out}/whole.nc")
    print(json.dumps(ds.sizes["time"]))
`;

/** Run each code; its slice against xarray's slice of the local file. */
const RUN = `
import json, os, sys
import numpy as np, xarray as xr
os.chdir(sys.argv[1])
ref = xr.open_dataset("whole.nc")["prsn"].isel(time=int(sys.argv[3]))
got = []
for name, code in json.loads(sys.argv[2]).items():
    scope = {}
    exec(code, scope)
    da = scope["da"]
    got.append([name, list(da.dims), bool(np.array_equal(da.values, ref.values, equal_nan=True)),
                float(da.values.mean())])
print(json.dumps(got))
`;

describe.runIf(present)('the code opens remote origins in Python', () => {
  let dir: string;
  let data: ILoopback<{ range: number }>;
  let dap: ILoopback<{ dap: number }>;
  let times: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'espri-vre-code-'));
    times = await runPython<number>(PREPARE, [join(SAMPLE, FILE), dir]);
    [data, dap] = await Promise.all([
      startLoopback<{ range: number }>('remote_servers.py', [dir], dir),
      startLoopback<{ dap: number }>('opendap_server.py', [dir], dir)
    ]);
  }, 120_000);

  afterAll(() => {
    data?.stop();
    dap?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a remote file, an OPeNDAP URL, local and remote files combined: the same slice', async () => {
    const files = `http://127.0.0.1:${data.line.range}/files`;
    // A step in the second file: the combination's time axis runs over both.
    const step = times - 2;
    const origins: Record<string, IDatasetOrigin> = {
      remote: { format: 'remote', location: `${files}/whole.nc` },
      opendap: {
        format: 'opendap',
        location: `http://127.0.0.1:${dap.line.dap}/whole.nc`
      },
      local: {
        format: 'files',
        location: 'part0.nc',
        locations: ['part0.nc', 'part1.nc']
      },
      http: {
        format: 'files',
        location: `${files}/part0.nc`,
        locations: [`${files}/part0.nc`, `${files}/part1.nc`]
      }
    };
    const codes = Object.fromEntries(
      Object.entries(origins).map(([name, origin]) => [
        name,
        xarrayCode({
          origin,
          variable: 'prsn',
          isel: { time: step },
          notebookPath: 'n.ipynb'
        })
      ])
    );
    const got = await runPython<[string, string[], boolean, number][]>(RUN, [
      dir,
      JSON.stringify(codes),
      String(step)
    ]);
    expect(got.map(([name, dims, equal]) => [name, dims, equal])).toEqual([
      ['remote', ['lat', 'lon'], true],
      ['opendap', ['lat', 'lon'], true],
      ['local', ['lat', 'lon'], true],
      ['http', ['lat', 'lon'], true]
    ]);
    // A real field, not an empty one.
    expect(got[0][3]).toBeGreaterThan(0);
  }, 120_000);
});

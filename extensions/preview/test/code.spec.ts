import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyString, relativeTo, xarrayCode } from '../src/code';
import { buildDemo } from './demo-server';
import { PYTHON } from './python';

describe('relativeTo', () => {
  it('rewrites a server-root path for the notebook folder the kernel runs in', () => {
    expect(relativeTo('data/tas.nc', 'Untitled.ipynb')).toBe('data/tas.nc');
    expect(relativeTo('data/tas.nc', 'work/a/n.ipynb')).toBe(
      '../../data/tas.nc'
    );
    expect(relativeTo('data/tas.nc', 'data/n.ipynb')).toBe('tas.nc');
    expect(relativeTo('data/sub/x.zarr', 'data/other/n.ipynb')).toBe(
      '../sub/x.zarr'
    );
  });
});

describe('xarrayCode', () => {
  it('opens NetCDF with open_dataset and selects the slice shown', () => {
    expect(
      xarrayCode({
        origin: { format: 'netcdf', location: 'data/tas_demo_monthly.nc' },
        variable: 'tas',
        isel: { time: 13 },
        notebookPath: 'notebooks/demo.ipynb'
      })
    ).toBe(
      [
        'import xarray as xr',
        '',
        'ds = xr.open_dataset("../data/tas_demo_monthly.nc")',
        'da = ds["tas"].isel(time=13)',
        'da.plot()',
        ''
      ].join('\n')
    );
  });

  it('keeps absolute paths and URLs, says where relative paths start without a notebook', () => {
    const url = xarrayCode({
      origin: { format: 'zarr', location: 'https://s3.example/b/x.zarr' },
      variable: 'tos',
      isel: {},
      notebookPath: 'a/b.ipynb'
    });
    expect(url).toContain('ds = xr.open_zarr("https://s3.example/b/x.zarr")');
    expect(url).toContain('da = ds["tos"]\n');
    const loose = xarrayCode({
      origin: { format: 'netcdf', location: 'data/x.nc' },
      variable: 'v',
      isel: { 'my dim': 2, time: 0 }
    });
    expect(loose).toContain(
      '# The path is relative to the Jupyter server root.'
    );
    expect(loose).toContain('da = ds["v"].isel({"my dim": 2, "time": 0})');
    expect(pyString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

describe('the code runs in Python and selects what the preview shows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await buildDemo();
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['netcdf', 'data/tas_demo_monthly.nc'],
    ['zarr', 'data/tas_demo_monthly.zarr']
  ] as const)(
    '%s: the slice and the series equal xarray isel',
    (format, location) => {
      const code = xarrayCode({
        origin: { format, location },
        variable: 'tas',
        isel: { time: 13 },
        series: { dim: 'time', at: { lat: 10, lon: 123 } },
        notebookPath: 'notebooks/demo.ipynb'
      });
      // The kernel of notebooks/demo.ipynb runs in notebooks/.
      const out = execFileSync(
        PYTHON,
        [
          '-c',
          `${code}
import json
import numpy as np
ref = xr.open_dataset("../data/tas_demo_monthly.nc")
print(json.dumps([da.dims, list(da.shape), bool(np.allclose(da.values, ref.tas.isel(time=13).values)),
                  series.dims, bool(np.allclose(series.values, ref.tas.isel(lat=10, lon=123).values))]))`
        ],
        {
          cwd: `${dir}/notebooks`,
          encoding: 'utf-8',
          env: { ...process.env, MPLBACKEND: 'Agg' }
        }
      );
      const lines = out.trim().split('\n');
      expect(JSON.parse(lines[lines.length - 1])).toEqual([
        ['lat', 'lon'],
        [90, 180],
        true,
        ['time'],
        true
      ]);
    }
  );
});

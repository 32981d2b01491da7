import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runCommand } from './helpers/panels';

/**
 * A multiscale Zarr store (ndpyramid's pyramid_coarsen layout, written by xarray in this
 * test, under a name of its own in the demo's data folder) in a real JupyterLab: its
 * first picture is the coarsest level that fills the map, the badge naming it, the
 * statistics and the value under the pointer saying they are that level's (xarray's
 * values of the level); after Full resolution the badge goes and the value under the
 * pointer is xarray's value of the full-resolution cell.
 */

const DEMO_DIR = process.env.ESPRI_VRE_DEMO_DIR ?? '';
const PYTHON = path.resolve(__dirname, '..', '..', '.venv', 'bin', 'python');

/** Run Python in the project's venv; its printed JSON. */
function python<T>(code: string, ...args: string[]): T {
  return JSON.parse(
    execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf-8' })
  );
}

/**
 * A global field of 960 x 2000 cells and its levels coarsened by 2 (480 x 1000: the
 * coarsest that fills a 900-pixel map) and 4 (240 x 500: too small), as
 * ndpyramid.pyramid_coarsen lays them out; with xarray's minimum and maximum of level 1.
 */
const PYRAMID = `
import json, sys, warnings
import numpy as np, xarray as xr
warnings.simplefilter("ignore")
lat = np.linspace(-90 + 0.09375, 90 - 0.09375, 960)
lon = np.linspace(-180 + 0.09, 180 - 0.09, 2000)
rng = np.random.default_rng(17)
wave = 20 * np.cos(np.deg2rad(lat))[:, None] + 5 * np.sin(np.deg2rad(3 * lon))[None, :]
values = (270 + wave + rng.normal(0, 0.5, (960, 2000)))[None].astype("float32")
full = xr.Dataset(
    {"tas": (("time", "lat", "lon"), values, {"units": "K"})},
    coords={
        "time": ("time", [0.0], {"units": "days since 2000-01-01", "calendar": "noleap"}),
        "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
        "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
    },
)
factors = [4, 2, 1]
levels = {str(i): full.coarsen(lat=f, lon=f).mean() if f > 1 else full for i, f in enumerate(factors)}
levels["2"].tas.encoding = {"chunks": (1, 480, 500)}
attrs = {"multiscales": [{"datasets": [{"path": str(i)} for i in range(3)], "type": "reduce",
                          "method": "pyramid_coarsen", "version": "0.4.0", "args": [],
                          "kwargs": {"factors": factors, "dims": ["lat", "lon"]}}]}
xr.DataTree.from_dict({**levels, "/": xr.Dataset(attrs=attrs)}).to_zarr(
    sys.argv[1], mode="w", consolidated=True, zarr_format=2)
one = levels["1"].tas.isel(time=0)
print(json.dumps({"min": float(one.min()), "max": float(one.max())}))
`;

/** xarray's value of the cell nearest a place, in a level, as the preview writes numbers. */
const CELL = `
import json, sys, xarray as xr
ds = xr.open_zarr(sys.argv[1], group=sys.argv[2])
c = ds.tas.isel(time=0).sel(lat=float(sys.argv[3]), lon=float(sys.argv[4]), method="nearest")
print(json.dumps("%.6g" % float(c)))
`;

/** "lat 12.3 degrees_north, lon 45.6 degrees_east: ..." -> [lat, lon, value text]. */
function parseHover(text: string): [string, string, string] {
  const found = text.match(
    /^lat (\S+) degrees_north, lon (\S+) degrees_east: (?:≈ )?(\S+) K/
  );
  if (!found) {
    throw new Error(`Not a hover line of this field: ${text}`);
  }
  return [found[1], found[2], found[3]];
}

test.describe('a multiscale Zarr store in the previewer', () => {
  test('the level that fills the map first, then the full resolution on request', async ({
    page
  }) => {
    const name = `data/preview-map-multiscale-${test.info().workerIndex}-${process.pid}.zarr`;
    const store = path.join(DEMO_DIR, name);
    const level = python<{ min: number; max: number }>(PYRAMID, store);
    try {
      await runCommand(page, 'espri-vre:open-preview', { path: name });
      const root = page.locator('.jp-EspriVre-preview');
      const canvas = root.locator('canvas.jp-EspriVre-previewMap');
      const badge = root.locator('.jp-EspriVre-overviewBadge');
      const stats = root.locator('.jp-EspriVre-previewStats');
      const hover = root.locator('.jp-EspriVre-previewHover');

      // 2000 columns on a map at most 900 pixels wide: level 1 (1000) fills it, level 0
      // (500) does not.
      await expect(badge).toHaveAttribute('data-level', '1');
      // 180° of latitude over 480 cells, 360° of longitude over 1000.
      await expect(badge).toContainText(
        'Multiscale level 1 (480 × 1000 cells, 0.375° × 0.36°, 1:2'
      );
      await expect(canvas).toHaveAttribute('data-resolution', 'level 1 1:2');
      await expect(stats).toHaveAttribute('data-of', 'level 1');
      expect(Number(await stats.getAttribute('data-min'))).toBe(level.min);
      expect(Number(await stats.getAttribute('data-max'))).toBe(level.max);

      // Under the pointer: the level's value, said to be the level's.
      const box = (await canvas.boundingBox())!;
      const position = { x: box.width * 0.37, y: box.height * 0.41 };
      await canvas.hover({ position });
      await expect(hover).toContainText('of multiscale level 1');
      const [lat1, lon1, shown1] = parseHover(await hover.innerText());
      expect(shown1).toBe(python<string>(CELL, store, '1', lat1, lon1));

      await badge.getByRole('button', { name: 'Full resolution' }).click();
      await expect(canvas).toHaveAttribute('data-resolution', 'full');
      await expect(badge).toHaveCount(0);
      await expect(stats).toHaveAttribute('data-of', 'full');
      await page.mouse.move(0, 0);
      await canvas.hover({ position });
      // Exact now: no '≈', no word of a level.
      await expect(hover).toHaveText(
        /^lat \S+ degrees_north, lon \S+ degrees_east: [\d.]+ K$/
      );
      const [lat, lon, shown] = parseHover(await hover.innerText());
      expect(shown).toBe(python<string>(CELL, store, '2', lat, lon));
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});

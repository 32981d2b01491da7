import { expect, type Locator, type Page, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runCommand } from './helpers/panels';

/**
 * The geo-aware map against a real JupyterLab whose root is the demo directory
 * (ESPRI_VRE_DEMO_DIR): Natural Earth's coastline where the Strait of Gibraltar is, in
 * plate carrée and in the north polar stereographic projection (positions computed here
 * from the projections' formulas, not from the extension's code); the colour bar's
 * labels; the value under the pointer and at a click against xarray's. A field larger
 * than the screen first shows the server's overview (its badge, its statistics those of
 * numpy's block means), then the full resolution on request (xarray's exact minimum and
 * maximum). The curvilinear ocean grid's pixels: land (missing) and sea where the file
 * puts them.
 */

const DEMO_FILE = 'data/tas_demo_monthly.nc';
const DEMO_DIR = process.env.ESPRI_VRE_DEMO_DIR ?? '';
const PYTHON = path.resolve(__dirname, '..', '..', '.venv', 'bin', 'python');
const SHOTS = path.resolve(
  __dirname,
  '..',
  '..',
  '.test-runtime',
  'screenshots'
);
// The Rock of Gibraltar, on the Strait; and open Atlantic, far from any coast and from
// the 30° graticule lines.
const GIBRALTAR: [number, number] = [-5.35, 36.14];
const OPEN_SEA: [number, number] = [-40, 40];
// Vík, on Iceland's south coast, away from the point the test marks at Gibraltar.
const VIK: [number, number] = [-19.0, 63.42];

/** Where a longitude and latitude are, in fractions of the map's box. */
type Place = (lon: number, lat: number) => [number, number];

const plateCarree: Place = (lon, lat) => [(lon + 180) / 360, (90 - lat) / 180];

/** North polar stereographic down to 30°N (the map's rim), 0° straight down from the pole. */
const northPolar: Place = (lon, lat) => {
  const deg = Math.PI / 180;
  const r = Math.tan((45 - lat / 2) * deg) / Math.tan((45 - 30 / 2) * deg);
  return [
    0.5 + 0.5 * r * Math.sin(lon * deg),
    0.5 + 0.5 * r * Math.cos(lon * deg)
  ];
};

/** xarray's nearest cell of the demo at time 0: its value as the preview writes numbers. */
function xarrayCell(
  lon: number,
  lat: number
): { value: string; lat: number; lon: number; min: string; max: string } {
  return JSON.parse(
    execFileSync(
      PYTHON,
      [
        '-c',
        `
import json, sys, xarray as xr
s = xr.open_dataset(sys.argv[1]).tas.sel(lon=${lon}, lat=${lat}, method="nearest")
c = s.isel(time=0)
g = lambda v: "%.6g" % float(v)
print(json.dumps({"value": g(c), "lat": float(c.lat), "lon": float(c.lon), "min": g(s.min()), "max": g(s.max())}))
`,
        path.join(DEMO_DIR, DEMO_FILE)
      ],
      { encoding: 'utf-8' }
    )
  );
}

/**
 * Whether the overlay has a pixel of the coastlines' colour (dark in the light theme,
 * light in the dark one; not the graticule's grey) within `radius` pixels of a place.
 */
async function coastNear(
  overlay: Locator,
  at: [number, number],
  ink: 'dark' | 'light' = 'dark',
  radius = 3
): Promise<boolean> {
  return overlay.evaluate(
    (el: HTMLCanvasElement, [fx, fy, r, light]) => {
      const x = Math.round(fx * el.width);
      const y = Math.round(fy * el.height);
      const data = el
        .getContext('2d')!
        .getImageData(x - r, y - r, 2 * r + 1, 2 * r + 1).data;
      for (let i = 0; i < data.length; i += 4) {
        const rgb = [data[i], data[i + 1], data[i + 2]];
        // Alpha: a 1-pixel line between two pixel centres covers each about half.
        if (data[i + 3] > 60 && rgb.every(c => (light ? c > 180 : c < 80))) {
          return true;
        }
      }
      return false;
    },
    [at[0], at[1], radius, ink === 'light' ? 1 : 0]
  );
}

async function openMap(page: Page): Promise<Locator> {
  await page.evaluate(async p => {
    await window.jupyterapp.commands.execute('espri-vre:open-preview', {
      path: p
    });
  }, DEMO_FILE);
  const root = page.locator('.jp-EspriVre-preview');
  await expect(root.locator('.jp-EspriVre-previewStats')).toBeVisible();
  await expect(root.locator('canvas.jp-EspriVre-mapOverlay')).toHaveAttribute(
    'data-coastlines',
    'drawn'
  );
  return root;
}

/** Hover and click at a place; the hover line and the marked cell name its value. */
async function hoverAndClick(
  root: Locator,
  place: Place,
  want: ReturnType<typeof xarrayCell>
): Promise<void> {
  const canvas = root.locator('canvas.jp-EspriVre-previewMap');
  const box = (await canvas.boundingBox())!;
  const [fx, fy] = place(...GIBRALTAR);
  // Relative to the canvas: Playwright scrolls the point into view first.
  const position = { x: fx * box.width, y: fy * box.height };
  await canvas.hover({ position });
  await expect(root.locator('.jp-EspriVre-previewHover')).toHaveText(
    `lat ${want.lat} degrees_north, lon ${want.lon} degrees_east: ${want.value} K`
  );
  await canvas.click({ position });
  const picked = root.locator('.jp-EspriVre-previewPicked');
  await expect(picked).toContainText(`${want.value} K`);
  expect(Number(await picked.getAttribute('data-value'))).toBeCloseTo(
    Number(want.value),
    3
  );
}

/** Run Python in the project's venv; its printed JSON. */
function python<T>(code: string, ...args: string[]): T {
  return JSON.parse(
    execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf-8' })
  );
}

/**
 * A regular global field larger than the screen (480 x 1000 cells: the overview's blocks
 * are 2 x 2), written in the demo's data folder under a name of this test's own; with
 * xarray's exact minimum and maximum of its first step and numpy's of its 2 x 2 block
 * means (what the overview's statistics must say).
 */
const LARGE_FIELD = `
import json, sys
import numpy as np, xarray as xr
rng = np.random.default_rng(17)
lat = np.linspace(-90 + 0.1875, 90 - 0.1875, 480)
lon = np.linspace(-180 + 0.18, 180 - 0.18, 1000)
values = (280 + 20 * np.cos(np.deg2rad(lat))[None, :, None] + rng.normal(0, 3, (2, 480, 1000))).astype("float32")
xr.Dataset(
    {"tas": (("time", "lat", "lon"), values, {"units": "K"})},
    coords={
        "time": ("time", [0.0, 1.0], {"units": "days since 2000-01-01", "calendar": "noleap"}),
        "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
        "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
    },
).to_netcdf(sys.argv[1], encoding={"tas": {"zlib": True, "chunksizes": (1, 480, 1000)}})
day = values[0].astype("float64")
blocks = day.reshape(240, 2, 500, 2).mean(axis=(1, 3))
print(json.dumps({"min": float(day.min()), "max": float(day.max()),
                  "blockMin": float(blocks.min()), "blockMax": float(blocks.max())}))
`;

/**
 * Cells of the curvilinear demo grid at its first step, well inside the land its mask
 * makes (missing sea surface temperature, with land all around) and well inside the sea
 * next to it (sea all around), 2 to 8 cells apart: each side of a coast.
 */
const COAST = `
import json, sys
import numpy as np, xarray as xr
ds = xr.open_dataset(sys.argv[1])
land = np.isnan(ds.tos.isel(time=0).values)
lat, lon = ds.latitude.values, ds.longitude.values
ny, nx = land.shape
def all_around(mask, j, i, r=2):
    return mask[j - r:j + r + 1, i - r:i + r + 1].all()
for j in range(ny // 4, 3 * ny // 4):
    for i in range(10, nx - 10):
        if not all_around(land, j, i):
            continue
        for di in list(range(-8, -1)) + list(range(2, 9)):
            if all_around(~land, j, i + di):
                c = lambda jj, ii: [float(lon[jj, ii]), float(lat[jj, ii])]
                print(json.dumps({"land": c(j, i), "sea": c(j, i + di)}))
                sys.exit()
`;

/**
 * Where a longitude and latitude are on a plate carrée map, in fractions of its box, from
 * the positions of its axis labels (two of each axis: the map's own scale as it shows it).
 */
async function placeFromAxes(root: Locator): Promise<Place> {
  const read = async (axis: 'lat' | 'lon'): Promise<[number, number][]> =>
    root.locator(`.jp-EspriVre-mapAxisLabel[data-axis="${axis}"]`).evaluateAll(
      (els, a) =>
        els.map(el => {
          const style = (el as HTMLElement).style;
          return [
            Number(el.getAttribute('data-value')),
            parseFloat(a === 'lat' ? style.top : style.left) / 100
          ] as [number, number];
        }),
      axis
    );
  const line = (pairs: [number, number][]): ((v: number) => number) => {
    const [[v0, f0], [v1, f1]] = [pairs[0], pairs[pairs.length - 1]];
    return v => f0 + ((v - v0) * (f1 - f0)) / (v1 - v0);
  };
  const y = line(await read('lat'));
  const x = line(await read('lon'));
  return (lon, lat) => [x(lon), y(lat)];
}

/** The RGBA of the map's data canvas at a place (fractions of its box). */
async function dataPixel(
  root: Locator,
  at: [number, number]
): Promise<number[]> {
  return root
    .locator('canvas.jp-EspriVre-previewMap')
    .evaluate((el: HTMLCanvasElement, [fx, fy]) => {
      const px = el
        .getContext('2d')!
        .getImageData(
          Math.floor(fx * el.width),
          Math.floor(fy * el.height),
          1,
          1
        ).data;
      return Array.from(px);
    }, at);
}

/**
 * The colours a screenshot of the map shows in a 7 x 7 patch at a place (fractions of the
 * map's box), decoded in the page.
 */
async function shotPatch(
  page: Page,
  map: Locator,
  png: Buffer,
  at: [number, number]
): Promise<number[][]> {
  const box = (await map.boundingBox())!;
  return page.evaluate(
    async ([data, x, y]) => {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(
        Math.round(x) - 3,
        Math.round(y) - 3,
        7,
        7
      ).data;
      const out: number[][] = [];
      for (let i = 0; i < px.length; i += 4) {
        out.push([px[i], px[i + 1], px[i + 2]]);
      }
      return out;
    },
    [png.toString('base64'), at[0] * box.width, at[1] * box.height] as const
  );
}

test.describe('Geo-aware map', () => {
  test('coastlines, colour bar and values in plate carrée and north polar stereographic', async ({
    page
  }) => {
    const root = await openMap(page);
    const overlay = root.locator('canvas.jp-EspriVre-mapOverlay');
    await expect(root.locator('canvas.jp-EspriVre-previewMap')).toHaveAttribute(
      'data-projection',
      'latlon'
    );

    // The colour bar's ends are the colour limits the statistics give, with the units.
    const stats = root.locator('.jp-EspriVre-previewStats');
    const bar = root.locator('.jp-EspriVre-colourBar');
    const labels = bar.locator('.jp-EspriVre-colourBarLabel');
    const lo = Number(await stats.getAttribute('data-lo'));
    const hi = Number(await stats.getAttribute('data-hi'));
    expect(Number(await labels.first().textContent())).toBeCloseTo(lo, 3);
    expect(Number(await labels.last().textContent())).toBeCloseTo(hi, 3);
    expect(await labels.count()).toBeGreaterThan(2);
    await expect(bar.locator('.jp-EspriVre-colourBarUnits')).toHaveText('K');
    // Labelled axes: 30°N on the left, 0° below.
    await expect(
      root.locator(
        '.jp-EspriVre-mapAxisLabel[data-axis="lat"][data-value="30"]'
      )
    ).toHaveText('30°N');
    await expect(
      root.locator('.jp-EspriVre-mapAxisLabel[data-axis="lon"][data-value="0"]')
    ).toHaveText('0°');

    // The coastline of the Strait of Gibraltar is drawn where plate carrée puts it.
    expect(await coastNear(overlay, plateCarree(...GIBRALTAR))).toBe(true);
    expect(await coastNear(overlay, plateCarree(...OPEN_SEA))).toBe(false);

    const want = xarrayCell(...GIBRALTAR);
    expect([want.lon, want.lat]).toEqual([-5, 37]);
    await hoverAndClick(root, plateCarree, want);
    // The click plots the time series there: its y-axis spans its range, in kelvin.
    const series = root.locator('figure.jp-EspriVre-previewSeries');
    await expect(series.locator('.jp-EspriVre-previewSeriesUnits')).toHaveText(
      'K'
    );
    const ticks = series.locator('.jp-EspriVre-previewSeriesTick');
    await expect(ticks.first()).toHaveText(want.min);
    await expect(ticks.last()).toHaveText(want.max);
    await root
      .locator('figure.jp-EspriVre-mapFigure')
      .screenshot({ path: path.join(SHOTS, 'preview-map-global.png') });

    // Export PNG saves the figure at its displayed size.
    const figure = (await root
      .locator('figure.jp-EspriVre-mapFigure')
      .boundingBox())!;
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      root.getByRole('button', { name: 'Export PNG' }).click()
    ]);
    const png = fs.readFileSync((await download.path())!);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([
      Math.round(figure.width),
      Math.round(figure.height)
    ]);

    // North polar stereographic: the same coast, the same cell under the pointer.
    await root
      .locator('.jp-EspriVre-previewMapProjection select')
      .selectOption('north-polar');
    await expect(root.locator('canvas.jp-EspriVre-previewMap')).toHaveAttribute(
      'data-projection',
      'north-polar'
    );
    await expect
      .poll(() => coastNear(overlay, northPolar(...GIBRALTAR)))
      .toBe(true);
    expect(await coastNear(overlay, northPolar(...OPEN_SEA))).toBe(false);
    await hoverAndClick(root, northPolar, want);
    await root
      .locator('figure.jp-EspriVre-mapFigure')
      .screenshot({ path: path.join(SHOTS, 'preview-map-polar.png') });

    // In the dark theme the coastlines take the theme's light text colour.
    expect(await coastNear(overlay, northPolar(...VIK))).toBe(true);
    await page.theme.setDarkTheme();
    await expect
      .poll(() => coastNear(overlay, northPolar(...VIK), 'light'))
      .toBe(true);
    expect(await coastNear(overlay, northPolar(...VIK))).toBe(false);
    await root
      .locator('figure.jp-EspriVre-mapFigure')
      .screenshot({ path: path.join(SHOTS, 'preview-map-polar-dark.png') });
  });

  test('a field larger than the screen: the overview first, then the full resolution on request', async ({
    page
  }) => {
    const name = `data/preview-map-overview-${test.info().workerIndex}-${process.pid}.nc`;
    const file = path.join(DEMO_DIR, name);
    const want = python<{
      min: number;
      max: number;
      blockMin: number;
      blockMax: number;
    }>(LARGE_FIELD, file);
    try {
      await runCommand(page, 'espri-vre:open-preview', { path: name });
      const root = page.locator('.jp-EspriVre-preview');
      const canvas = root.locator('canvas.jp-EspriVre-previewMap');
      const badge = root.locator('.jp-EspriVre-overviewBadge');
      const stats = root.locator('.jp-EspriVre-previewStats');
      // 1000 columns on a map at most 900 pixels wide: blocks of 2 x 2 cells.
      await expect(badge).toHaveAttribute('data-factor', '2');
      await expect(badge).toContainText('Overview 1:2');
      await expect(canvas).toHaveAttribute('data-resolution', 'overview 1:2');
      // The statistics are the block means' (16-bit codes between their exact limits).
      expect(Number(await stats.getAttribute('data-min'))).toBeCloseTo(
        want.blockMin,
        9
      );
      expect(Number(await stats.getAttribute('data-max'))).toBeCloseTo(
        want.blockMax,
        9
      );
      expect(want.blockMin).toBeGreaterThan(want.min);

      await badge.getByRole('button', { name: 'Full resolution' }).click();
      await expect(canvas).toHaveAttribute('data-resolution', 'full');
      await expect(badge).toHaveCount(0);
      // Now xarray's exact values: float32 cells, read from the file's chunks.
      await expect
        .poll(async () => Number(await stats.getAttribute('data-min')))
        .toBe(want.min);
      expect(Number(await stats.getAttribute('data-max'))).toBe(want.max);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  test('the curvilinear ocean grid: land and sea pixels where the file puts them', async ({
    page
  }) => {
    const file = 'data/tos_demo_curvilinear.nc';
    const coast = python<{
      land: [number, number];
      sea: [number, number];
    }>(COAST, path.join(DEMO_DIR, file));
    await page.evaluate(async p => {
      await window.jupyterapp.commands.execute('espri-vre:open-preview', {
        path: p
      });
    }, file);
    const root = page.locator('.jp-EspriVre-preview');
    const map = root.locator('canvas.jp-EspriVre-previewMap');
    await expect(map).toHaveAttribute('data-projection', 'latlon');
    await expect(map).toHaveAttribute('data-rendered-selection', /.+/);
    await expect(root.locator('canvas.jp-EspriVre-mapOverlay')).toHaveAttribute(
      'data-coastlines',
      'drawn'
    );
    const place = await placeFromAxes(root);
    const land = place(...coast.land);
    const sea = place(...coast.sea);
    // The data's own pixels: nothing drawn on land (the value is missing), an opaque
    // colour on the sea.
    expect((await dataPixel(root, land))[3]).toBe(0);
    const seaPixel = await dataPixel(root, sea);
    expect(seaPixel[3]).toBe(255);
    // Under the pointer: a value on the sea, 'missing' on land.
    const box = (await map.boundingBox())!;
    const hover = root.locator('.jp-EspriVre-previewHover');
    await map.hover({
      position: { x: sea[0] * box.width, y: sea[1] * box.height }
    });
    await expect(hover).toHaveText(/: -?[\d.]+ degC$/);
    await map.hover({
      position: { x: land[0] * box.width, y: land[1] * box.height }
    });
    await expect(hover).toHaveText(/: missing$/);
    await page.mouse.move(0, 0);

    // What the screen shows (light theme): the land patch is the page's white where no
    // data are drawn, the sea patch is coloured and shows the data canvas's colour there.
    const figure = root.locator('figure.jp-EspriVre-mapFigure');
    await figure.screenshot({
      path: path.join(SHOTS, 'preview-map-curvilinear.png')
    });
    const png = await map.screenshot();
    const white = (p: number[]): boolean => p.every(v => v > 240);
    const seaShown = await shotPatch(page, map, png, sea);
    const landShown = await shotPatch(page, map, png, land);
    // 7 x 7 patches: a coastline or graticule line may cross one.
    expect(landShown.filter(white).length).toBeGreaterThan(30);
    expect(seaShown.filter(white).length).toBe(0);
    expect(
      seaShown.some(p => p.every((v, i) => Math.abs(v - seaPixel[i]) <= 6))
    ).toBe(true);
  });
});

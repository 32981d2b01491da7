import { expect, type Locator, type Page, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The geo-aware map against a real JupyterLab whose root is the demo directory
 * (ESPRI_VRE_DEMO_DIR): Natural Earth's coastline where the Strait of Gibraltar is, in
 * plate carrée and in the north polar stereographic projection (positions computed here
 * from the projections' formulas, not from the extension's code); the colour bar's
 * labels; the value under the pointer and at a click against xarray's.
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
});

import { type IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import * as path from 'path';
import { SCREENSHOTS } from './helpers/panels';

/**
 * The Python Globe widget in a real kernel, in Chromium with SwiftShader: a
 * notebook creates Globe(), adds points, the test clicks the canvas on a point
 * and a later cell prints what Python received; a curvilinear field from the
 * demo file draws as a mesh with its legend; `await g.screenshot()` returns the
 * browser's PNG; and nothing is requested off the Jupyter server.
 */

const DEMO =
  process.env.ESPRI_VRE_DEMO_DIR ??
  path.resolve(__dirname, '..', '..', '.test-runtime', 'demo');

const OUTPUT = '.jp-EspriVre-globeOutput .jp-EspriVre-globe';

/** Adds a code cell at the end, runs it and returns its text output. */
async function runNewCell(
  page: IJupyterLabPageFixture,
  source: string
): Promise<string[] | null> {
  await page.notebook.addCell('code', source);
  const index = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(index);
  return page.notebook.getCellTextOutput(index);
}

// On a loaded machine JupyterLab can take longer to show its Launcher than
// Galata's 15 s default: wait up to two minutes before the test starts.
test.use({
  waitForApplication: async ({ baseURL }, use) => {
    void baseURL;
    await use(async page => {
      await page
        .locator('#jupyterlab-splash')
        .waitFor({ state: 'detached', timeout: 120000 });
      await page
        .locator('.jp-Launcher')
        .first()
        .waitFor({ state: 'visible', timeout: 120000 });
    });
  }
});

test.describe('Globe widget', () => {
  test('a click on a point reaches the Python callback with its value', async ({
    page,
    baseURL
  }) => {
    test.setTimeout(300000);
    const origin = new URL(baseURL!).origin;
    const requests: string[] = [];
    page.on('request', request => {
      requests.push(request.url());
    });

    await page.notebook.createNew('globe-widget.ipynb');
    await page.notebook.setCell(
      0,
      'code',
      [
        'from espri_vre.globe import Globe',
        'g = Globe(height="420px")',
        'clicks = []',
        'g.on_click(clicks.append)',
        'g.camera = {"lon": 10.0, "lat": 20.0, "height": 4e6}',
        'layer = g.add_points([10.0, 40.0], [20.0, -10.0], [42.5, 7.0], title="Two stations", pixel_size=24)',
        'g'
      ].join('\n')
    );
    await page.notebook.runCell(0);
    const globe = page.locator(OUTPUT);
    await expect(globe).toHaveAttribute('data-state', 'ready', {
      timeout: 120000
    });
    const row = globe.locator('li.jp-EspriVre-globeLayer');
    await expect(row).toHaveAttribute('data-kind', 'points', {
      timeout: 60000
    });
    await expect(row.locator('.jp-EspriVre-globeLayerTitle')).toHaveText(
      'Two stations'
    );
    await expect(row.locator('.jp-EspriVre-globeLegendMin')).toHaveText('7');
    await expect(row.locator('.jp-EspriVre-globeLegendMax')).toHaveText('42.5');

    // The camera looks straight down at (10, 20): the canvas centre is on the
    // first point.
    const canvas = globe.locator('.jp-EspriVre-globeViewer canvas').first();
    await expect(globe).toHaveAttribute('data-tiles-loaded', 'true', {
      timeout: 90000
    });
    const box = (await canvas.boundingBox())!;
    await canvas.click({
      position: { x: box.width / 2, y: box.height / 2 }
    });

    // The browser shows what it picked; the kernel got it too.
    await expect(globe).toHaveAttribute('data-last-click', /"value":42.5/);
    expect(
      await runNewCell(
        page,
        [
          'c = clicks[-1]',
          'print(len(clicks), c["value"], c["index"], c["title"], round(c["lon"]), round(c["lat"]), c["layer_id"] == layer)'
        ].join('\n')
      )
    ).toEqual(['1 42.5 0 Two stations 10 20 True\n']);

    // The camera as the browser reports it once the view stopped moving.
    expect(
      await runNewCell(
        page,
        'print(round(g.camera["lon"]), round(g.camera["lat"]), round(g.camera["height"] / 1e6))'
      )
    ).toEqual(['10 20 4\n']);

    // The browser renders the PNG for Python.
    expect(
      await runNewCell(
        page,
        [
          'png = await g.screenshot()',
          'print(png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", len(png) > 10000)'
        ].join('\n')
      )
    ).toEqual(['True True\n']);

    expect(await globe.getAttribute('data-context-lost')).toBeNull();
    const offsite = requests.filter(
      url =>
        !url.startsWith('data:') &&
        !url.startsWith('blob:') &&
        new URL(url).origin !== origin
    );
    expect(offsite).toEqual([]);
  });

  test('a curvilinear field from the demo file is drawn as a mesh with its legend', async ({
    page
  }) => {
    test.setTimeout(300000);
    await page.notebook.createNew('globe-mesh.ipynb');
    await page.notebook.setCell(
      0,
      'code',
      [
        'import xarray as xr',
        'from espri_vre.globe import Globe',
        `tos = xr.open_dataset(${JSON.stringify(path.join(DEMO, 'data', 'tos_demo_curvilinear.nc'))})["tos"].isel(time=0)`,
        'g = Globe(height="420px")',
        'g.camera = {"lon": -30.0, "lat": 0.0, "height": 1.5e7}',
        'mesh = g.add_field(tos, colormap="viridis", vmin=-2, vmax=30)',
        'g'
      ].join('\n')
    );
    await page.notebook.runCell(0);
    const globe = page.locator(OUTPUT);
    const row = globe.locator('li.jp-EspriVre-globeLayer');
    await expect(row).toHaveAttribute('data-kind', 'mesh', { timeout: 120000 });
    await expect(row.locator('.jp-EspriVre-globeLayerTitle')).toHaveText(
      'Sea Surface Temperature'
    );
    await expect(row.locator('.jp-EspriVre-globeLegendMin')).toHaveText('-2');
    await expect(row.locator('.jp-EspriVre-globeLegendMax')).toHaveText('30');
    await expect(globe).toHaveAttribute('data-tiles-loaded', 'true', {
      timeout: 90000
    });

    // The Atlantic at the equator is warm: the pixel at the centre has a
    // viridis colour near the top of the scale, not the imagery's.
    const [printed] = (await runNewCell(
      page,
      [
        'import numpy as np',
        'd = np.hypot(tos.longitude + 30, tos.latitude)',
        'j, i = np.unravel_index(int(d.argmin()), d.shape)',
        'print(round(float(tos.values[j, i]), 1))'
      ].join('\n')
    ))!;
    const value = Number(printed);
    expect(value).toBeGreaterThan(20);
    const expected = await page.evaluate(
      ({ v }) => {
        // viridis stops as in src/colormap.ts
        const stops = [
          [68, 1, 84],
          [72, 40, 120],
          [62, 74, 137],
          [49, 104, 142],
          [38, 130, 142],
          [31, 158, 137],
          [53, 183, 121],
          [110, 206, 88],
          [181, 222, 43],
          [253, 231, 37]
        ];
        const t = Math.min(1, Math.max(0, (v + 2) / 32));
        const x = t * (stops.length - 1);
        const i = Math.min(stops.length - 2, Math.floor(x));
        const f = x - i;
        return stops[i].map((a, k) => a + (stops[i + 1][k] - a) * f);
      },
      { v: value }
    );
    const centre = async () =>
      page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>(
          '.jp-EspriVre-globeOutput .jp-EspriVre-globeViewer canvas'
        )!;
        const copy = document.createElement('canvas');
        copy.width = canvas.width;
        copy.height = canvas.height;
        const context = copy.getContext('2d')!;
        context.drawImage(canvas, 0, 0);
        return Array.from(
          context
            .getImageData(
              Math.floor(copy.width / 2),
              Math.floor(copy.height / 2),
              1,
              1
            )
            .data.slice(0, 3)
        );
      });
    await expect
      .poll(
        async () => {
          const rgb = await centre();
          return Math.max(...rgb.map((c, k) => Math.abs(c - expected[k])));
        },
        { timeout: 60000, intervals: [500, 1000, 2000] }
      )
      .toBeLessThanOrEqual(40);

    // Hidden, the mesh no longer colours the centre.
    await row.locator('.jp-EspriVre-globeLayerVisible').uncheck();
    await expect
      .poll(
        async () => {
          const rgb = await centre();
          return Math.max(...rgb.map((c, k) => Math.abs(c - expected[k])));
        },
        { timeout: 30000 }
      )
      .toBeGreaterThan(40);
    await row.locator('.jp-EspriVre-globeLayerVisible').check();
    await globe.screenshot({
      path: path.join(SCREENSHOTS, 'globe-widget.png')
    });
  });
});

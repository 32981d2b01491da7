import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

/**
 * The data preview against a real JupyterLab server whose root is the demo directory
 * (ESPRI_VRE_DEMO_DIR): the demo NetCDF-4 file is read through kerchunk references and
 * Range requests on the suite's data/files route, in Debian's Chromium.
 */

const DEMO_FILE = 'data/tas_demo_monthly.nc';

// The demo's time axis: monthly means from 2000-01 in the noleap calendar, each
// stamped at the middle of its month ("days since 2000-01-01").
const NOLEAP_MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function monthMiddleLabel(index: number): string {
  const year = 2000 + Math.floor(index / 12);
  const month = index % 12;
  const half = NOLEAP_MONTH_DAYS[month] / 2;
  const day = 1 + Math.floor(half);
  const hour = (half % 1) * 24;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${year}-${pad(month + 1)}-${pad(day)} ${pad(hour)}:00:00`;
}

test.describe('Data preview', () => {
  test('a click on the map plots the time series at that point', async ({
    page
  }) => {
    await page.evaluate(async path => {
      await window.jupyterapp.commands.execute('espri-vre:open-preview', {
        path
      });
    }, DEMO_FILE);
    const root = page.locator('.jp-EspriVre-preview');
    await expect(root.locator('.jp-EspriVre-previewStats')).toBeVisible();
    const canvas = root.locator('canvas.jp-EspriVre-previewMap');
    await canvas.click({ position: { x: 1, y: 1 } });

    const series = root.locator('figure.jp-EspriVre-previewSeries');
    await expect(series).toBeVisible();
    await expect(series).toHaveAttribute('data-count', '36');
    // The top-left corner of the map is the northernmost row, westernmost column.
    await expect(series.locator('figcaption')).toContainText(
      'tas along time at lat 89 degrees_north, lon -179 degrees_east'
    );
    const axis = series.locator('.jp-EspriVre-previewSeriesAxis span');
    await expect(axis.first()).toHaveText(monthMiddleLabel(0));
    await expect(axis.last()).toHaveText(monthMiddleLabel(35));
    await expect(series.locator('polyline')).toHaveCount(1);
    // Kelvin near the pole: a seasonal cycle, well below the tropics.
    const first = Number(await series.getAttribute('data-first'));
    expect(first).toBeGreaterThan(150);
    expect(first).toBeLessThan(300);
    await root.screenshot({
      path: path.resolve(
        __dirname,
        '..',
        '..',
        '.test-runtime',
        'screenshots',
        'preview-series.png'
      )
    });
  });

  test('maps the demo NetCDF file and relabels the map when the time slider moves', async ({
    page
  }) => {
    await page.evaluate(async path => {
      await window.jupyterapp.commands.execute('espri-vre:open-preview', {
        path
      });
    }, DEMO_FILE);

    const root = page.locator('.jp-EspriVre-preview');
    await expect(root).toBeVisible();
    const stats = root.locator('.jp-EspriVre-previewStats');
    await expect(stats).toBeVisible();
    // Near-surface air temperature in kelvin, with no missing value in the demo.
    expect(Number(await stats.getAttribute('data-min'))).toBeGreaterThan(150);
    expect(Number(await stats.getAttribute('data-max'))).toBeLessThan(350);
    expect(Number(await stats.getAttribute('data-nan'))).toBe(0);

    const canvas = root.locator('canvas.jp-EspriVre-previewMap');
    const drawn = await canvas.evaluate((el: HTMLCanvasElement) => {
      const data = el
        .getContext('2d')!
        .getImageData(0, 0, el.width, el.height).data;
      const colours = new Set<number>();
      let opaque = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) {
          opaque++;
          colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        }
      }
      return {
        width: el.width,
        height: el.height,
        opaque,
        colours: colours.size
      };
    });
    expect(drawn.width).toBe(180);
    expect(drawn.height).toBe(90);
    expect(drawn.opaque).toBe(180 * 90);
    expect(drawn.colours).toBeGreaterThan(50);

    const label = root.locator('.jp-EspriVre-timeLabel');
    await expect(label).toHaveText(monthMiddleLabel(0));
    const firstMean = await stats.getAttribute('data-mean');

    await root.locator('input.jp-EspriVre-timeSlider').fill('13');
    await expect(label).toHaveText(monthMiddleLabel(13));
    expect(monthMiddleLabel(13)).toBe('2001-02-15 00:00:00');
    await expect(stats).not.toHaveAttribute('data-mean', firstMean ?? '');
  });

  test('maps the Zarr v3 store read through data/files', async ({ page }) => {
    await page.evaluate(async path => {
      await window.jupyterapp.commands.execute('espri-vre:open-preview', {
        path
      });
    }, 'data/tas_demo_monthly.v3.zarr');
    const root = page.locator('.jp-EspriVre-preview');
    await expect(root.locator('.jp-EspriVre-previewStats')).toBeVisible();
    await expect(root.locator('.jp-EspriVre-timeLabel')).toHaveText(
      monthMiddleLabel(0)
    );
  });

  // Every Zarr v2 key starts with a dot (.zmetadata, .zarray), which Jupyter's /files/
  // refuses: the store is read through the suite's espri-vre/api/data/files/ route.
  test('maps the Zarr v2 store read through data/files', async ({ page }) => {
    const chunkUrls: string[] = [];
    page.on('request', request => {
      if (request.url().includes('tas_demo_monthly.zarr/')) {
        chunkUrls.push(request.url());
      }
    });
    await page.evaluate(async path => {
      await window.jupyterapp.commands.execute('espri-vre:open-preview', {
        path
      });
    }, 'data/tas_demo_monthly.zarr');
    const root = page.locator('.jp-EspriVre-preview');
    const stats = root.locator('.jp-EspriVre-previewStats');
    await expect(stats).toBeVisible();
    await expect(root.locator('.jp-EspriVre-timeLabel')).toHaveText(
      monthMiddleLabel(0)
    );
    expect(Number(await stats.getAttribute('data-min'))).toBeGreaterThan(150);
    expect(Number(await stats.getAttribute('data-max'))).toBeLessThan(350);
    const canvas = root.locator('canvas.jp-EspriVre-previewMap');
    const opaque = await canvas.evaluate((el: HTMLCanvasElement) => {
      const data = el
        .getContext('2d')!
        .getImageData(0, 0, el.width, el.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) {
        n += data[i] > 0 ? 1 : 0;
      }
      return n;
    });
    expect(opaque).toBe(180 * 90);
    expect(chunkUrls.some(u => u.endsWith('/.zmetadata'))).toBe(true);
    expect(chunkUrls.every(u => u.includes('/espri-vre/api/data/files/'))).toBe(
      true
    );
  });

  test('pages through the rows of the demo Parquet table', async ({ page }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:open-preview', {
        path: 'data/stations_demo.parquet'
      });
    });
    const root = page.locator('.jp-EspriVre-preview');
    const table = root.locator('.jp-EspriVre-previewTable');
    await expect(table.locator('tbody tr')).toHaveCount(100);
    await expect(table.locator('thead th').first()).toContainText('station_id');
    const range = root.locator('.jp-EspriVre-tableRange');
    await expect(range).toHaveText('Rows 1–100 of 18250');
    await root.getByRole('button', { name: 'Next' }).click();
    await expect(range).toHaveText('Rows 101–200 of 18250');
  });

  test('says what to do when the path does not exist', async ({ page }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:open-preview', {
        path: 'data/no-such-file.nc'
      });
    });
    await expect(
      page.locator('.jp-EspriVre-preview [role="alert"]')
    ).toContainText('Check the path in the file browser.');
  });
});

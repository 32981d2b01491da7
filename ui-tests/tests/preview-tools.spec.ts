import { expect, type Page, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { colorOf, colormapTable } from '../../extensions/preview/src/colormap';

/**
 * The preview's tools against a real JupyterLab whose root is the demo directory
 * (ESPRI_VRE_DEMO_DIR): colours checked against xarray's values, scale and limits,
 * the chunk grid, PNG export, the xarray code put in a notebook, "Show on globe",
 * curvilinear grids and the series along a chosen dimension.
 */

const DEMO_FILE = 'data/tas_demo_monthly.nc';
const DEMO_DIR = process.env.ESPRI_VRE_DEMO_DIR ?? '';
const PYTHON = path.resolve(__dirname, '..', '..', '.venv', 'bin', 'python');
const CO3 =
  '/CMIP6/CMIP/IPSL/IPSL-CM6A-LR/piControl/r1i1p1f1/Omon/co3/gn/v20180802/co3/co3_Omon_IPSL-CM6A-LR_piControl_r1i1p1f1_gn_225001-234912.nc';
const SHARED_SAMPLE = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'shared',
  'data',
  'cmip6-sample'
);

async function openPreview(page: Page, file: string): Promise<void> {
  await page.evaluate(async p => {
    await window.jupyterapp.commands.execute('espri-vre:open-preview', {
      path: p
    });
  }, file);
  await expect(
    page.locator('.jp-EspriVre-preview .jp-EspriVre-previewStats')
  ).toBeVisible();
}

/** The RGBA of a canvas pixel. */
function pixel(page: Page, x: number, y: number): Promise<number[]> {
  return page
    .locator('.jp-EspriVre-preview canvas.jp-EspriVre-previewMap')
    .evaluate(
      (el: HTMLCanvasElement, [px, py]) =>
        Array.from(el.getContext('2d')!.getImageData(px, py, 1, 1).data),
      [x, y]
    );
}

test.describe('Data preview tools', () => {
  test('a pixel has the colour-map colour of xarray value after the time slider moves', async ({
    page
  }) => {
    await openPreview(page, DEMO_FILE);
    const root = page.locator('.jp-EspriVre-preview');
    await root.locator('input.jp-EspriVre-timeSlider').fill('13');
    await expect(root.locator('.jp-EspriVre-timeLabel')).toHaveText(
      '2001-02-15 00:00:00'
    );
    const stats = root.locator('.jp-EspriVre-previewStats');
    const [x, y] = [123, 30];
    // xarray, in this run: the value drawn at (x, y) (north at the top) and the limits.
    const want = JSON.parse(
      execFileSync(
        PYTHON,
        [
          '-c',
          `
import json, sys, numpy as np, xarray as xr
ds = xr.open_dataset(sys.argv[1])
t = ds.tas.isel(time=13)
lat = ds.lat.values
row = ${y} if lat[0] > lat[-1] else len(lat) - 1 - ${y}
v = t.values
print(json.dumps([float(v[row, ${x}]), float(np.nanpercentile(v, 2)), float(np.nanpercentile(v, 98)), float(np.nanmean(v))]))
`,
          path.join(DEMO_DIR, DEMO_FILE)
        ],
        { encoding: 'utf-8' }
      )
    ) as number[];
    await expect
      .poll(async () => Number(await stats.getAttribute('data-mean')))
      .toBeCloseTo(want[3], 3);
    expect(Number(await stats.getAttribute('data-lo'))).toBeCloseTo(want[1], 3);
    expect(Number(await stats.getAttribute('data-hi'))).toBeCloseTo(want[2], 3);
    const expected = colorOf(
      want[0],
      [want[1], want[2]],
      colormapTable('viridis')
    );
    expect(await pixel(page, x, y)).toEqual(expected);

    // User-set limits recolour the same pixel; a log scale too.
    await root.locator('input.jp-EspriVre-limitMin').fill('200');
    await root.locator('input.jp-EspriVre-limitMax').fill('320');
    await expect(stats).toHaveAttribute('data-lo', '200');
    await expect(stats).toContainText('set by you');
    expect(await pixel(page, x, y)).toEqual(
      colorOf(want[0], [200, 320], colormapTable('viridis'))
    );
    await root.locator('.jp-EspriVre-previewScale select').selectOption('log');
    await expect(stats).toHaveAttribute('data-scale', 'log');
    expect(await pixel(page, x, y)).toEqual(
      colorOf(want[0], [200, 320], colormapTable('viridis'), 'log')
    );
    // Limits that cannot be used are named, and the automatic ones apply.
    await root.locator('input.jp-EspriVre-limitMin').fill('400');
    await expect(root.locator('.jp-EspriVre-limitsError')).toContainText(
      'The lower colour limit (400) must be below the upper one (320).'
    );
    await expect(stats).toContainText('2nd–98th percentile');
    await root.getByRole('button', { name: 'Auto limits' }).click();
    await expect(root.locator('.jp-EspriVre-limitsError')).toHaveCount(0);
  });

  test('the chunk grid shows the chunks read, and the map exports as a PNG', async ({
    page
  }) => {
    await openPreview(page, 'data/tas_demo_monthly.zarr');
    const root = page.locator('.jp-EspriVre-preview');
    await root.getByLabel('Chunk grid').check();
    const grid = root.locator('svg.jp-EspriVre-chunkGrid');
    // 90 x 180 in chunks of 45 x 90: four chunks, all read for the map.
    await expect(grid).toHaveAttribute('data-chunks', '4');
    await expect(grid).toHaveAttribute('data-read', '4');
    await expect(root.locator('.jp-EspriVre-chunkSummary')).toContainText(
      '4 of the 4 chunks of this map read'
    );
    await root.locator('input.jp-EspriVre-timeSlider').fill('20');
    await expect(grid.locator('rect[data-chunk="1,0,0"]')).toHaveClass(
      'jp-mod-read'
    );

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      root.getByRole('button', { name: 'Export PNG' }).click()
    ]);
    expect(download.suggestedFilename()).toBe(
      'tas_time-2001-09-16-00-00-00.png'
    );
    const png = fs.readFileSync((await download.path())!);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    // The figure as displayed (map, axes, colour bar, title), not the grid's 180 x 90.
    const figure = (await root
      .locator('figure.jp-EspriVre-mapFigure')
      .boundingBox())!;
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([
      Math.round(figure.width),
      Math.round(figure.height)
    ]);
    await root.screenshot({
      path: path.resolve(
        __dirname,
        '..',
        '..',
        '.test-runtime',
        'screenshots',
        'preview-chunks.png'
      )
    });
  });

  test('"Open in notebook" puts the xarray code in the current notebook', async ({
    page
  }) => {
    await openPreview(page, DEMO_FILE);
    const root = page.locator('.jp-EspriVre-preview');
    // No notebook open: the code goes to the clipboard.
    await root.getByRole('button', { name: 'Open in notebook' }).click();
    await expect(root.locator('.jp-EspriVre-previewNotice')).toHaveText(
      'No notebook is open: the xarray code was copied to the clipboard.'
    );
    const notebook = await page.evaluate(async () => {
      const panel = await window.jupyterapp.commands.execute(
        'notebook:create-new',
        { kernelName: 'python3', cwd: 'notebooks' }
      );
      await panel.context.ready;
      return panel.context.path as string;
    });
    expect(notebook).toMatch(/^notebooks\/Untitled\d*\.ipynb$/);
    await page.locator('.lm-TabBar-tab', { hasText: 'Preview: ' }).click();
    await root.locator('input.jp-EspriVre-timeSlider').fill('13');
    await root.getByRole('button', { name: 'Open in notebook' }).click();
    await expect(root.locator('.jp-EspriVre-previewNotice')).toHaveText(
      `The xarray code is in a new cell of ${notebook}.`
    );
    const source = await page.evaluate(() => {
      const panel = window.jupyterapp.shell.currentWidget as unknown as {
        content: { activeCell: { model: { sharedModel: { source: string } } } };
      };
      return panel.content.activeCell.model.sharedModel.source;
    });
    expect(source).toContain(
      'ds = xr.open_dataset("../data/tas_demo_monthly.nc")'
    );
    expect(source).toContain('da = ds["tas"].isel(time=13)');
  });

  test('"Show on globe" adds the map as a field layer of the globe', async ({
    page
  }) => {
    await openPreview(page, DEMO_FILE);
    const root = page.locator('.jp-EspriVre-preview');
    const button = root.getByRole('button', { name: 'Show on globe' });
    await expect(button).toBeEnabled();
    await button.click();
    const layer = page.locator('li.jp-EspriVre-globeLayer', {
      hasText: 'tas 2000-01-16 12:00:00'
    });
    await expect(layer).toHaveAttribute('data-kind', 'grid', {
      timeout: 90000
    });
  });

  test('a curvilinear ocean grid is drawn on latitude/longitude', async ({
    page
  }) => {
    await openPreview(page, 'data/tos_demo_curvilinear.nc');
    const root = page.locator('.jp-EspriVre-preview');
    const canvas = root.locator('canvas.jp-EspriVre-previewMap');
    await expect(canvas).toHaveAttribute('data-projection', 'latlon');
    expect(
      await canvas.evaluate((el: HTMLCanvasElement) => [el.width, el.height])
    ).toEqual([360, 180]);
    // Mid-Pacific at the equator is ocean: coloured; the hover names lat and lon.
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(
      box.x + box.width * ((180 - 150 + 180) / 360),
      box.y + box.height * 0.5
    );
    await expect(root.locator('.jp-EspriVre-previewHover')).toContainText(
      /^lat -?\d/
    );
    expect((await pixel(page, 30, 90))[3]).toBe(255);
    await root
      .locator('.jp-EspriVre-previewProjection select')
      .selectOption('grid');
    await expect(canvas).toHaveAttribute('data-projection', 'grid');
    expect(
      await canvas.evaluate((el: HTMLCanvasElement) => [el.width, el.height])
    ).toEqual([180, 120]);
  });

  test('a click plots the series along the dimension chosen (depth of a CMIP6 ocean file)', async ({
    page
  }) => {
    test.skip(
      !fs.existsSync(SHARED_SAMPLE + CO3),
      `the shared CMIP6 sample (${SHARED_SAMPLE}) is absent`
    );
    await openPreview(page, SHARED_SAMPLE + CO3);
    const root = page.locator('.jp-EspriVre-preview');
    // The variable the file is about comes first, not its cell area or coordinates.
    await expect(
      root.locator('.jp-EspriVre-previewVariables tr.jp-mod-selected')
    ).toContainText('co3');
    await root
      .locator('.jp-EspriVre-previewProjection select')
      .selectOption('grid');
    await root
      .locator('.jp-EspriVre-previewSeriesDim select')
      .selectOption('deptht');
    await root
      .locator('canvas.jp-EspriVre-previewMap')
      .click({ position: { x: 5, y: 5 } });
    const series = root.locator('figure.jp-EspriVre-previewSeries');
    await expect(series).toHaveAttribute('data-count', '2');
    await expect(series.locator('figcaption')).toContainText(
      'co3 along deptht at lat'
    );
  });
});

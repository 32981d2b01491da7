import { type IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';
import { SCREENSHOTS } from './helpers/panels';

/**
 * `espri_vre.preview(obj)` in a real kernel: the previewer in a notebook output on
 * an xarray Dataset opened from the demo NetCDF file and on a DataArray computed
 * in memory, its chunks served through the widget's comm. The map renders, the
 * time slider changes the slice, the value under the cursor is xarray's, and no
 * file is written beside the notebook.
 */

const DEMO =
  process.env.ESPRI_VRE_DEMO_DIR ??
  path.resolve(__dirname, '..', '..', '.test-runtime', 'demo');
const NOTEBOOK = 'preview-kernel.ipynb';

// The demo's time axis: monthly means from 2000-01 in the noleap calendar.
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

/**
 * Every file under the demo folder with its size and mtime; notebooks, their
 * checkpoints, the kernel's IPython history, the suite's provenance record
 * (which any cell writes), the job launcher's logs (a Slurm job of another
 * test may still be writing them) and the folders of the tests that run at the
 * same time in the other Galata worker (`tests-*` other than `own`) aside.
 */
function listing(dir: string, own: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (
        (d === dir && entry.name.startsWith('tests-') && entry.name !== own) ||
        entry.name === '.ipynb_checkpoints' ||
        entry.name === 'history.sqlite' ||
        entry.name === '.espri-vre-jobs' ||
        entry.name.endsWith('.provenance') ||
        entry.name === '.espri-vre-provenance' ||
        entry.name.endsWith('.ipynb')
      ) {
        continue;
      }
      if (entry.isDirectory()) {
        walk(full);
      } else {
        const stat = fs.statSync(full);
        out.push(`${path.relative(dir, full)} ${stat.size} ${stat.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** Adds a code cell at the end, runs it and returns its text output. */
async function runNewCell(
  page: IJupyterLabPageFixture,
  source: string
): Promise<string> {
  await page.notebook.addCell('code', source);
  const index = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(index);
  return ((await page.notebook.getCellTextOutput(index)) ?? []).join('');
}

/** Hover over a map pixel; returns the cell's coordinates and the value shown. */
async function hoverValue(
  page: IJupyterLabPageFixture,
  output: ReturnType<IJupyterLabPageFixture['locator']>,
  x: number,
  y: number
): Promise<{ lat: number; lon: number; value: number }> {
  const canvas = output.locator('canvas.jp-EspriVre-previewMap');
  const box = (await canvas.boundingBox())!;
  const size = await canvas.evaluate((el: HTMLCanvasElement) => [
    el.width,
    el.height
  ]);
  await page.mouse.move(
    box.x + ((x + 0.5) * box.width) / size[0],
    box.y + ((y + 0.5) * box.height) / size[1]
  );
  const hover = output.locator('.jp-EspriVre-previewHover');
  await expect(hover).toContainText(/^lat /);
  const text = (await hover.textContent()) ?? '';
  const match = /^lat (-?[\d.]+) \S+, lon (-?[\d.]+) \S+: (-?[\d.e+-]+)/.exec(
    text
  );
  expect(match, text).not.toBeNull();
  return {
    lat: Number(match![1]),
    lon: Number(match![2]),
    value: Number(match![3])
  };
}

/** Opaque pixels of the output's map. */
function opaquePixels(
  output: ReturnType<IJupyterLabPageFixture['locator']>
): Promise<number> {
  return output
    .locator('canvas.jp-EspriVre-previewMap')
    .evaluate((el: HTMLCanvasElement) => {
      const data = el
        .getContext('2d')!
        .getImageData(0, 0, el.width, el.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) {
        n += data[i] > 0 ? 1 : 0;
      }
      return n;
    });
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

test.describe('Preview from a notebook', () => {
  test('espri_vre.preview(ds) maps the kernel’s dataset through the comm', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(300000);
    const before = listing(DEMO, tmpPath);
    const files: string[] = [];
    page.on('request', request => {
      if (request.url().includes('/espri-vre/api/data/')) {
        files.push(request.url());
      }
    });

    await page.notebook.createNew(NOTEBOOK);
    await page.notebook.setCell(
      0,
      'code',
      [
        'import xarray as xr, espri_vre',
        `ds = xr.open_dataset(${JSON.stringify(path.join(DEMO, 'data', 'tas_demo_monthly.nc'))})`,
        'p = espri_vre.preview(ds, height="620px")',
        'p'
      ].join('\n')
    );
    await page.notebook.runCell(0);
    const output = page.locator('.jp-EspriVre-previewOutput').first();
    const stats = output.locator('.jp-EspriVre-previewStats');
    await expect(stats).toBeVisible({ timeout: 120000 });
    await expect(output.locator('.jp-EspriVre-previewKernelTitle')).toHaveText(
      /\(in the kernel\)$/
    );
    expect(await opaquePixels(output)).toBe(180 * 90);
    const label = output.locator('.jp-EspriVre-timeLabel');
    await expect(label).toHaveText(monthMiddleLabel(0));
    const firstMean = await stats.getAttribute('data-mean');

    await output.locator('input.jp-EspriVre-timeSlider').fill('13');
    await expect(label).toHaveText(monthMiddleLabel(13));
    await expect(stats).not.toHaveAttribute('data-mean', firstMean ?? '');

    const { lat, lon, value } = await hoverValue(page, output, 40, 20);
    const expected = Number(
      await runNewCell(
        page,
        `print(float(ds.tas.isel(time=13).sel(lat=${lat}, lon=${lon})))`
      )
    );
    expect(Number.isFinite(expected)).toBe(true);
    expect(Math.abs(value - expected)).toBeLessThan(
      Math.abs(expected) * 1e-5 + 1e-9
    );
    // The kernel served the chunks: the browser read no file.
    expect(files).toEqual([]);
    const served = await runNewCell(
      page,
      'print(sorted({k.split("/")[0] for k, s in p.requests if s == "ok"}))'
    );
    expect(served).toContain("'tas'");

    await output.locator('.jp-EspriVre-previewKernelHeader').hover();
    await output.screenshot({
      path: path.join(SCREENSHOTS, 'preview-kernel.png')
    });

    // A DataArray computed in memory: the anomaly to the mean of each point.
    await runNewCell(
      page,
      [
        'anomaly = ds.tas - ds.tas.mean("time")',
        'espri_vre.preview(anomaly, colormap="RdBu_r")'
      ].join('\n')
    );
    const second = page.locator('.jp-EspriVre-previewOutput').nth(1);
    await expect(second.locator('.jp-EspriVre-previewStats')).toBeVisible({
      timeout: 120000
    });
    expect(await opaquePixels(second)).toBe(180 * 90);
    const point = await hoverValue(page, second, 100, 60);
    const anomaly = Number(
      await runNewCell(
        page,
        `print(float(anomaly.isel(time=0).sel(lat=${point.lat}, lon=${point.lon})))`
      )
    );
    expect(Math.abs(point.value - anomaly)).toBeLessThan(
      Math.abs(anomaly) * 1e-5 + 1e-4
    );

    // "Open in a tab": the same dataset in the main area.
    await second.getByRole('button', { name: 'Open in a tab' }).click();
    const tab = page.locator('.jp-EspriVre-previewKernelTab');
    await expect(tab.locator('.jp-EspriVre-previewStats')).toBeVisible();

    expect(listing(DEMO, tmpPath)).toEqual(before);
  });

  test('a bad chunk is said in the area, the rest renders', async ({
    page
  }) => {
    test.setTimeout(300000);
    await page.notebook.createNew('preview-kernel-text.ipynb');
    await page.notebook.setCell(
      0,
      'code',
      [
        'import numpy as np, xarray as xr, espri_vre',
        'ds = xr.Dataset({"name": (("lat", "lon"), np.full((3, 4), "x")),',
        '                 "v": (("lat", "lon"), np.arange(12.0).reshape(3, 4))},',
        '                coords={"lat": [-10.0, 0.0, 10.0], "lon": [0.0, 90.0, 180.0, 270.0]})',
        'espri_vre.preview(ds, variable="name")'
      ].join('\n')
    );
    await page.notebook.runCell(0);
    const output = page.locator('.jp-EspriVre-previewOutput').first();
    await expect(output.locator('[role="alert"]')).toContainText(
      'name holds text (strings), which the preview does not serve',
      { timeout: 120000 }
    );
    await output
      .locator('.jp-EspriVre-previewVariables tr')
      .filter({ has: page.getByRole('cell', { name: 'v', exact: true }) })
      .click();
    await expect(output.locator('.jp-EspriVre-previewStats')).toHaveAttribute(
      'data-max',
      '11'
    );
  });
});

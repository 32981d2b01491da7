import { type IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import { type ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';

/**
 * An OPeNDAP dataset previewed in Chromium: a real OPeNDAP server (pydap's server,
 * kernels-bridge/tests/opendap_server.py) serves the demo's data on the port that the
 * test server's configuration allow-lists (the test port + 100); the preview opens the
 * demo's monthly tas over DAP2 as the server's virtual Zarr store, and a click plots
 * the same series as the file itself gives (preview.spec.ts); a closed port is said so.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const DEMO =
  process.env.ESPRI_VRE_DEMO_DIR || path.join(ROOT, '.test-runtime', 'demo');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const SERVER = path.join(ROOT, 'kernels-bridge', 'tests', 'opendap_server.py');
const DAP_PORT = Number(process.env.ESPRI_VRE_TEST_PORT || 8988) + 100;

let dap: ChildProcess;

test.beforeAll(async () => {
  dap = spawn(
    PYTHON,
    [SERVER, path.join(DEMO, 'data'), '--port', String(DAP_PORT)],
    { stdio: ['pipe', 'pipe', 'inherit'] }
  );
  await new Promise((done, fail) => {
    createInterface({ input: dap.stdout! }).once('line', done);
    dap.once('exit', code =>
      fail(new Error(`the DAP server exited (${code})`))
    );
  });
});

test.afterAll(() => {
  dap?.stdin?.end();
  dap?.kill();
});

const openOpendap = (page: IJupyterLabPageFixture, url: string) =>
  page.evaluate(async (url: string) => {
    await window.jupyterapp.commands.execute('espri-vre:open-preview', {
      source: { kind: 'opendap', url }
    });
  }, url);

test.describe('OPeNDAP preview', () => {
  test('the demo over DAP2 plots the series the file gives; a closed port is said so', async ({
    page
  }) => {
    // Port 9 is allow-listed (the test configuration's offline catalogue) and closed.
    await openOpendap(page, 'http://127.0.0.1:9/tas.nc');
    await expect(page.locator('.jp-EspriVre-previewError')).toContainText(
      'The OPeNDAP server cannot be reached: connection refused by 127.0.0.1:9'
    );

    await openOpendap(
      page,
      `http://127.0.0.1:${DAP_PORT}/tas_demo_monthly.nc.html`
    );
    const root = page.locator('.jp-EspriVre-preview').last();
    await expect(root.locator('.jp-EspriVre-previewStats')).toBeVisible();
    await root
      .locator('canvas.jp-EspriVre-previewMap')
      .click({ position: { x: 1, y: 1 } });
    const series = root.locator('figure.jp-EspriVre-previewSeries');
    await expect(series).toHaveAttribute('data-count', '36');
    await expect(series.locator('figcaption')).toContainText(
      'tas along time at lat 89 degrees_north, lon -179 degrees_east'
    );
    // The noleap calendar's mid-months, as for the file (preview.spec.ts).
    const axis = series.locator('.jp-EspriVre-previewSeriesAxis span');
    await expect(axis.first()).toHaveText('2000-01-16 12:00:00');
    await expect(axis.last()).toHaveText('2002-12-16 12:00:00');
    const first = Number(await series.getAttribute('data-first'));
    expect(first).toBeGreaterThan(150);
    expect(first).toBeLessThan(300);
  });
});

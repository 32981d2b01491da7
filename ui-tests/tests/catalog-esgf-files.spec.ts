import { expect, test } from '@jupyterlab/galata';
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';

/**
 * An ESGF dataset previewed from the Catalogue Browser as one dataset combined along
 * time: kernels-bridge/tests/esgf_index.py serves the recorded real esg-search answers
 * (a Dataset search, and a File search of two files split along time whose URLs point
 * to real CMIP6 files on the same loopback server, read by Range requests), on the port
 * the test server's configuration names the "esgf-recorded" catalogue at (test port +
 * 101). The detail lists the files, "Preview" hands both to the previewer, the server
 * combines them, and the time slider moves past the boundary between the files.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const SHARED = path.resolve(ROOT, '..', 'shared');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const SERVER = path.join(ROOT, 'kernels-bridge', 'tests', 'esgf_index.py');
const PORT = Number(process.env.ESPRI_VRE_TEST_PORT || 8988) + 101;

let index: ChildProcess | undefined;

test.beforeAll(async () => {
  if (!fs.existsSync(path.join(SHARED, 'fixtures', 'catalog'))) {
    return;
  }
  const started = spawn(PYTHON, [SERVER, SHARED, '--port', String(PORT)], {
    stdio: ['pipe', 'pipe', 'inherit']
  });
  index = started;
  await new Promise((done, fail) => {
    createInterface({ input: started.stdout! }).once('line', done);
    started.once('exit', code =>
      fail(new Error(`the ESGF index exited (${code})`))
    );
  });
});

test.afterAll(() => {
  index?.stdin?.end();
  index?.kill();
});

test('an ESGF dataset of two files previews as one, its slider past the file boundary', async ({
  page
}) => {
  test.skip(
    index === undefined,
    'The recorded ESGF answers are absent (../shared is absent).'
  );
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('espri-vre:browse-catalog', {
      id: 'esgf-recorded'
    });
  });
  const browser = page.locator(
    '.jp-EspriVre-catalogBrowser[data-catalog-id="esgf-recorded"]'
  );
  const count = browser.locator('.jp-EspriVre-resultCount');
  await expect(count).toHaveAttribute('aria-busy', 'false');
  await browser.locator('.jp-EspriVre-datasetOpen').first().click();
  const detail = browser.locator('.jp-EspriVre-recordDetail');
  const preview = detail.locator('.jp-EspriVre-previewDataset');
  await expect(preview).toHaveAttribute(
    'title',
    'Preview its 2 files as one dataset, combined along time, read by Range requests through this server'
  );
  await preview.click();

  const root = page.locator('.jp-EspriVre-preview').last();
  await expect(root.locator('.jp-EspriVre-previewStats')).toBeVisible({
    timeout: 60000
  });
  await expect(root.locator('.jp-EspriVre-previewError')).toHaveCount(0);
  // One month per file: the slider's two steps are the two files.
  const slider = root.locator('input.jp-EspriVre-timeSlider');
  await expect(slider).toHaveAttribute('max', '1');
  await expect(root.locator('.jp-EspriVre-timeLabel')).toHaveText(
    '1950-01-16 12:00:00'
  );
  await slider.fill('1');
  await expect(root.locator('.jp-EspriVre-timeLabel')).toHaveText(
    '1950-02-15 00:00:00'
  );
  await expect(root.locator('.jp-EspriVre-previewError')).toHaveCount(0);
});

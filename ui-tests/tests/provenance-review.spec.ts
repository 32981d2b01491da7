import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The reviewer's path: a crate received from an author (a real run, recorded by a real kernel
 * and exported by `python -m espri_vre.provenance.sample`, which then deletes the author's
 * folder: only the crate is left) is opened from the file browser, replayed in a fresh kernel
 * from the UI, and its reproducibility report read: per-cell verdicts, the files each cell
 * wrote compared (one identical, one declared to vary, one that differs undeclared), and the
 * input read from the crate's copy.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
// The server's root folder (jupyter_server_test_config.py): the demo's.
const SERVER_ROOT =
  process.env.ESPRI_VRE_DEMO_DIR ?? path.join(ROOT, '.test-runtime', 'demo');
// Its own folder: the other worker's specs never see it.
const FOLDER = `provenance-review-${process.pid}-${Date.now()}`;

test.describe('Provenance: a reviewer replays a received crate', () => {
  test.beforeAll(() => {
    execFileSync(
      PYTHON,
      ['-m', 'espri_vre.provenance.sample', path.join(SERVER_ROOT, FOLDER)],
      { stdio: 'pipe', timeout: 60000 }
    );
  });

  test.afterAll(() => {
    fs.rmSync(path.join(SERVER_ROOT, FOLDER), { recursive: true, force: true });
  });

  test('open the crate, replay it, read the report', async ({ page }) => {
    test.setTimeout(90000);
    await page.filebrowser.openDirectory(FOLDER);
    // The author's folder is gone: the crate is all the reviewer has.
    await expect(page.locator('.jp-DirListing-item')).toHaveCount(1);
    await page
      .locator('.jp-DirListing-item[data-isdir="true"]', { hasText: 'crate' })
      .click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Open as RO-Crate' }).click();

    const crate = page.locator('.jp-EspriVre-provCrate');
    await expect(crate.locator('dd').first()).toHaveText(
      `${FOLDER}/crate/stations.ipynb`
    );
    await expect(crate.locator('.jp-EspriVre-provCrateFiles')).toContainText(
      'stations.csv'
    );
    await crate.locator('.jp-EspriVre-provReplay').click();

    const report = page.locator('.jp-EspriVre-provReport');
    const summary = report.locator('.jp-EspriVre-provSummary');
    await expect(summary).toBeVisible({ timeout: 60000 });
    await expect(report).toHaveAttribute(
      'data-report-dir',
      `${FOLDER}/crate-replay`
    );
    await expect(summary.locator('[data-verdict="identical"]')).toHaveText(
      'identical: 2'
    );
    await expect(summary.locator('[data-verdict="differs"]')).toHaveText(
      'differs: 2'
    );

    const cells = report.locator('li.jp-EspriVre-provCell');
    await expect(cells).toHaveCount(4);
    // [2] wrote the mean: the replay wrote the same bytes, in its own folder.
    const mean = cells.nth(1).locator('.jp-EspriVre-provOutputs li');
    await expect(mean).toHaveAttribute('data-verdict', 'identical');
    await expect(mean).toHaveAttribute('data-original', /analysis\/mean\.txt$/);
    await expect(mean).toContainText('crate-replay/work/mean.txt');
    // [3] drew a random number, declared to vary: it differs, with the reason.
    await expect(cells.nth(2)).toHaveAttribute('data-verdict', 'differs');
    await expect(cells.nth(2)).toHaveAttribute('data-declared', 'true');
    await expect(cells.nth(2).locator('.jp-EspriVre-provDeclared')).toHaveText(
      'declared: varies: an unseeded random draw'
    );
    await expect(
      cells.nth(2).locator('.jp-EspriVre-provOutputs li')
    ).toHaveAttribute('data-verdict', 'differs');
    // [4] wrote the time, not declared: it differs, with the diff of the file.
    await expect(cells.nth(3)).toHaveAttribute('data-declared', 'false');
    const stamp = cells.nth(3).locator('.jp-EspriVre-provOutputs li');
    await expect(stamp).toHaveAttribute('data-verdict', 'differs');
    await expect(stamp).toHaveAttribute('data-original', /stamp\.txt$/);
    await expect(stamp.locator('.jp-EspriVre-provReason')).toContainText(
      'text differs:'
    );
    await expect(stamp.locator('pre.jp-EspriVre-provDiff')).toContainText(
      '--- recorded'
    );

    // The input was read from the crate's copy, by the first cell.
    const input = report.locator('.jp-EspriVre-provInputs li');
    await expect(input).toHaveCount(1);
    await expect(input).toHaveAttribute('data-status', 'ok');
    await expect(input).toHaveAttribute('data-source', 'crate');
    await expect(input).toContainText('stations.csv');
    await expect(input.locator('.jp-EspriVre-provReadBy')).toContainText(
      'read by [1]'
    );
  });
});

import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

/**
 * A dataset of several files previewed from the Catalogue Browser as one dataset: the
 * demo's cmip6-sample intake-esm catalogue (the real CMIP6 files of ../shared), the
 * IPSL-CM6A-LR abrupt-4xCO2 group of two files (members r2 and r9, each a different
 * period), combined by the server along time and members; the time slider covers both
 * files' periods and moves past the boundary between them.
 */

function demoCatalogIds(): string[] {
  const demo = process.env.ESPRI_VRE_DEMO_DIR;
  if (!demo) {
    return [];
  }
  const config = JSON.parse(
    fs.readFileSync(path.join(demo, 'jupyter_server_config.json'), 'utf-8')
  );
  return (config.EspriVreApp.catalogs as { id: string }[]).map(c => c.id);
}

test('a group of several files previews as one dataset, its time slider past a file boundary', async ({
  page
}) => {
  test.skip(
    !demoCatalogIds().includes('cmip6-sample'),
    'The demo has no cmip6-sample catalogue (../shared is absent).'
  );
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('espri-vre:browse-catalog', {
      id: 'cmip6-sample'
    });
  });
  const browser = page.locator(
    '.jp-EspriVre-catalogBrowser[data-catalog-id="cmip6-sample"]'
  );
  for (const [facet, value] of [
    ['experiment_id', 'abrupt-4xCO2'],
    ['source_id', 'IPSL-CM6A-LR']
  ]) {
    await browser
      .locator(
        `fieldset.jp-EspriVre-facet[data-facet="${facet}"] label.jp-EspriVre-facetValue`,
        { hasText: value }
      )
      .locator('input')
      .check();
  }
  await expect(browser.locator('.jp-EspriVre-resultCount')).toHaveAttribute(
    'data-count',
    '1'
  );
  await browser.locator('.jp-EspriVre-datasetOpen').first().click();
  const preview = browser.locator('.jp-EspriVre-previewDataset');
  await expect(preview).toHaveAttribute(
    'title',
    'Preview its 2 files as one dataset, combined along time'
  );
  await preview.click();

  const root = page.locator('.jp-EspriVre-preview');
  await expect(root.locator('.jp-EspriVre-previewStats')).toBeVisible();
  const slider = root.locator('input.jp-EspriVre-timeSlider');
  // Two steps from each file: 1850-02 and 1850-03 (r2), 1850-09 and 1850-10 (r9).
  await expect(slider).toHaveAttribute('max', '3');
  await slider.fill('1');
  await expect(root.locator('.jp-EspriVre-timeLabel')).toHaveText(
    '1850-03-16 12:00:00'
  );
  await slider.fill('2');
  await expect(root.locator('.jp-EspriVre-timeLabel')).toHaveText(
    '1850-09-16 00:00:00'
  );
  await expect(root.locator('.jp-EspriVre-previewError')).toHaveCount(0);
});

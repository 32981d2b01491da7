import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The Catalogue Browser against a real JupyterLab server configured by the demo
 * builder (ESPRI_VRE_DEMO_DIR): the demo's intake-esm catalogue, searched in the
 * browser, and the inserted code run in a real kernel.
 */

function demoCatalogIds(): string[] {
  const dir =
    process.env.ESPRI_VRE_DEMO_DIR ||
    path.resolve(__dirname, '..', '..', '.test-runtime', 'demo');
  const config = JSON.parse(
    fs.readFileSync(path.join(dir, 'jupyter_server_config.json'), 'utf-8')
  );
  return (config.EspriVreApp.catalogs as { id: string }[]).map(c => c.id);
}

const NETCDF_KEY = 'DEMO.ESPRI-VRE.SYNTH-1.demo.Amon.gr.netcdf4';

test.describe('Catalogue Browser', () => {
  test('a facet narrows the demo catalogue and the inserted code opens the dataset in the kernel', async ({
    page
  }) => {
    test.setTimeout(240000);
    await page.notebook.createNew('catalog-browser.ipynb');

    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:open-data-panel');
    });
    const panel = page.locator('#espri-vre-data-panel');
    await panel
      .locator('li.jp-EspriVre-catalogItem[data-catalog-id="demo-esm"]')
      .click();

    const browser = page.locator(
      '.jp-EspriVre-catalogBrowser[data-catalog-id="demo-esm"]'
    );
    const count = browser.locator('.jp-EspriVre-resultCount');
    await expect(count).toHaveAttribute('data-count', '4');

    const tas = browser.locator(
      'fieldset.jp-EspriVre-facet[data-facet="variable_id"] label.jp-EspriVre-facetValue[data-value="tas"]'
    );
    await expect(tas.locator('.jp-EspriVre-facetCount')).toHaveText('3');
    await tas.locator('input[type="checkbox"]').check();
    await expect(count).toHaveAttribute('data-count', '3');

    await browser
      .locator(
        'fieldset.jp-EspriVre-facet[data-facet="storage"] label.jp-EspriVre-facetValue[data-value="netcdf4"] input'
      )
      .check();
    await expect(count).toHaveAttribute('data-count', '1');

    await browser
      .locator(`li.jp-EspriVre-dataset[data-key="${NETCDF_KEY}"]`)
      .click();
    const detail = browser.locator('.jp-EspriVre-datasetDetail');
    await expect(detail.locator('.jp-EspriVre-datasetVariables')).toHaveText(
      'tas'
    );
    await detail.locator('.jp-EspriVre-insertCode').click();

    // The notebook is active again; its one empty cell gave way to the code.
    await expect(page.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(1);
    const source = await page.notebook.getCellTextInput(0);
    expect(source).toContain('intake.open_esm_datastore(');
    expect(source).toContain(`dsets["${NETCDF_KEY}"]`);

    await page.notebook.runCell(0);
    const output = page
      .locator('.jp-NotebookPanel .jp-Cell')
      .nth(0)
      .locator('.jp-OutputArea-output');
    await expect(output.last()).toContainText('xarray.Dataset', {
      timeout: 120000
    });
    await expect(output.last()).toContainText('tas');
  });

  test('the demo static STAC catalogue lists its items', async ({ page }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:open-data-panel');
    });
    await page
      .locator(
        '#espri-vre-data-panel li.jp-EspriVre-catalogItem[data-catalog-id="demo-stac"]'
      )
      .click();
    const browser = page.locator(
      '.jp-EspriVre-catalogBrowser[data-catalog-id="demo-stac"]'
    );
    const count = browser.locator('.jp-EspriVre-resultCount');
    await expect(count).toHaveAttribute('aria-busy', 'false');
    await expect(count).toHaveAttribute('data-count', '4');
    await browser.locator('li.jp-EspriVre-dataset').first().click();
    await expect(
      browser.locator('.jp-EspriVre-datasetAssets li').first()
    ).toContainText('espri-vre/api/data/files/');
  });

  test('the real CMIP6 sample opens when the shared data is there', async ({
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
    const count = browser.locator('.jp-EspriVre-resultCount');
    await expect(count).toHaveAttribute('data-count', /^[1-9]\d*$/);
    const before = Number(await count.getAttribute('data-count'));
    await browser
      .locator(
        'fieldset.jp-EspriVre-facet[data-facet="source_id"] label.jp-EspriVre-facetValue input'
      )
      .first()
      .check();
    await expect
      .poll(async () => Number(await count.getAttribute('data-count')))
      .toBeLessThan(before);
  });
});

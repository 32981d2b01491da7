import { expect, test } from '@jupyterlab/galata';

/**
 * The Catalogue Browser on a source other than intake-esm: the demo's static STAC
 * catalogue (walked through the server's files route), searched by text, a record
 * opened, its code inserted and run in a real kernel; and a shared search link that
 * opens the same search.
 */

const TAS_ITEM = 'tas-demo-monthly';

test.describe('Catalogue Browser on the static STAC catalogue', () => {
  test('a text search finds the item whose pystac and xarray code opens it in the kernel', async ({
    page
  }) => {
    test.setTimeout(240000);
    await page.notebook.createNew('catalog-remote.ipynb');
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:browse-catalog', {
        id: 'demo-stac'
      });
    });
    const browser = page.locator(
      '.jp-EspriVre-catalogBrowser[data-catalog-id="demo-stac"]'
    );
    const count = browser.locator('.jp-EspriVre-resultCount');
    await expect(count).toHaveAttribute('aria-busy', 'false');
    await expect(count).toHaveAttribute('data-count', '4');

    await browser.locator('.jp-EspriVre-searchText').fill('air temperature');
    await browser.locator('.jp-EspriVre-searchButton').click();
    await expect(count).toHaveAttribute('data-count', '1');

    await browser
      .locator(
        `li.jp-EspriVre-dataset[data-key="${TAS_ITEM}"] .jp-EspriVre-datasetOpen`
      )
      .click();
    const detail = browser.locator('.jp-EspriVre-recordDetail');
    await expect(detail.locator('h3')).toHaveText(
      'Monthly near-surface air temperature (demo)'
    );
    await expect(detail.locator('.jp-EspriVre-licence')).toContainText(
      'CC-BY-4.0'
    );
    const code = detail.locator('.jp-EspriVre-datasetCode');
    await expect(code).toContainText('pystac.Item.from_file(');
    await expect(code).toContainText('xr.open_dataset(');

    await detail.locator('.jp-EspriVre-copyCode').click();
    await expect(detail.locator('.jp-EspriVre-actionMessage')).toHaveText(
      'The code was copied to the clipboard.'
    );
    await detail.locator('.jp-EspriVre-insertCode').click();
    await expect(page.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(1);
    const source = await page.notebook.getCellTextInput(0);
    expect(source).toContain(
      'catalogs/stac/espri-vre-demo/tas-demo-monthly/tas-demo-monthly.json'
    );
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

  test('a shared link opens the catalogue with its search', async ({
    page,
    baseURL
  }) => {
    // A plain tab, as the receiver of the link opens it (Galata's own navigation
    // waits for the Launcher, which the opened browser covers).
    const tab = await page.context().newPage();
    await tab.goto(
      `${baseURL}/lab?espri-vre-catalog=demo-stac&espri-vre-q=balloon&espri-vre-start=2000-01-01`
    );
    const browser = tab.locator(
      '.jp-EspriVre-catalogBrowser[data-catalog-id="demo-stac"]'
    );
    await expect(browser.locator('.jp-EspriVre-searchText')).toHaveValue(
      'balloon'
    );
    await expect(browser.locator('.jp-EspriVre-time-start')).toHaveValue(
      '2000-01-01'
    );
    const count = browser.locator('.jp-EspriVre-resultCount');
    await expect(count).toHaveAttribute('aria-busy', 'false');
    await expect(count).toHaveAttribute('data-count', '1');
    await expect(
      browser.locator('li.jp-EspriVre-dataset .jp-EspriVre-recordTitle')
    ).toHaveText('Sounding balloon flight (demo)');
    await tab.close();
  });

  test('a pin is kept in the settings across a reload', async ({ page }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:browse-catalog', {
        id: 'demo-stac'
      });
    });
    const browser = page.locator(
      '.jp-EspriVre-catalogBrowser[data-catalog-id="demo-stac"]'
    );
    await expect(browser.locator('.jp-EspriVre-resultCount')).toHaveAttribute(
      'aria-busy',
      'false'
    );
    await browser
      .locator(
        'li.jp-EspriVre-dataset[data-key="stations-demo"] .jp-EspriVre-datasetOpen'
      )
      .click();
    const pin = browser.locator('.jp-EspriVre-recordDetail .jp-EspriVre-pin');
    await expect(pin).toHaveText('Pin');
    await pin.click();
    await expect(pin).toHaveText('Unpin');

    // A plain reload (Galata's own waits for a Launcher tab, which the restored
    // layout has not): the Catalogue Browser comes back by itself.
    await page.mainFrame().goto(page.url(), { waitUntil: 'domcontentloaded' });
    await expect(browser.locator('.jp-EspriVre-resultCount')).toHaveAttribute(
      'aria-busy',
      'false',
      { timeout: 120000 }
    );
    await browser
      .locator(
        'li.jp-EspriVre-dataset[data-key="stations-demo"] .jp-EspriVre-datasetOpen'
      )
      .click();
    await expect(pin).toHaveText('Unpin');
    await pin.click();
    await expect(pin).toHaveText('Pin');
  });

  test('an unreachable ESGF index says what failed and asks again on Retry', async ({
    page
  }) => {
    // jupyter_server_test_config.py configures "offline-esgf" on a closed port.
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:browse-catalog', {
        id: 'offline-esgf'
      });
    });
    const browser = page.locator(
      '.jp-EspriVre-catalogBrowser[data-catalog-id="offline-esgf"]'
    );
    const alert = browser.locator('[role="alert"].jp-EspriVre-error');
    await expect(alert.locator('.jp-EspriVre-errorTitle')).toHaveText(
      'The search in "ESGF index on a closed port" failed.'
    );
    await expect(alert.locator('.jp-EspriVre-errorDetail')).toContainText(
      '127.0.0.1:9'
    );
    await alert.locator('.jp-EspriVre-retry').click();
    await expect(alert.locator('.jp-EspriVre-errorDetail')).toContainText(
      '127.0.0.1:9'
    );
  });
});

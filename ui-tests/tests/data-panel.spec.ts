import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';
import { SCREENSHOTS } from './helpers/panels';

/**
 * The Data panel against a real JupyterLab server configured by the demo builder
 * (ESPRI_VRE_DEMO_DIR), in Debian's Chromium.
 */

interface ConfiguredCatalog {
  id: string;
  title: string;
  kind: string;
}

function demoCatalogs(): ConfiguredCatalog[] {
  const dir =
    process.env.ESPRI_VRE_DEMO_DIR ||
    path.resolve(__dirname, '..', '..', '.test-runtime', 'demo');
  const config = JSON.parse(
    fs.readFileSync(path.join(dir, 'jupyter_server_config.json'), 'utf-8')
  );
  return config.EspriVreApp.catalogs as ConfiguredCatalog[];
}

test.describe('Data panel', () => {
  test('lists every demo catalogue as reachable and a closed port as unreachable', async ({
    page
  }) => {
    const catalogs = demoCatalogs();
    expect(catalogs.length).toBeGreaterThanOrEqual(2);

    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('espri-vre:open-data-panel');
    });
    const panel = page.locator('#espri-vre-data-panel');
    await expect(panel).toBeVisible();

    for (const catalog of catalogs) {
      const row = panel.locator(
        `li.jp-EspriVre-catalogItem[data-catalog-id="${catalog.id}"]`
      );
      await expect(row).toHaveAttribute('data-reachable', 'true');
      await expect(row).toContainText(catalog.title);
      await expect(row).toContainText(/\breachable\b/);
    }

    const offline = panel.locator(
      'li.jp-EspriVre-catalogItem[data-catalog-id="offline-esgf"]'
    );
    await expect(offline).toHaveAttribute('data-reachable', 'false');
    await expect(offline).toContainText('unreachable');

    const local = panel.locator(
      'li.jp-EspriVre-clusterItem[data-cluster-id="local"]'
    );
    await expect(local).toHaveAttribute('data-reachable', 'true');

    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await panel.screenshot({ path: path.join(SCREENSHOTS, 'data-panel.png') });
  });

  test('opens from the command palette and refreshes', async ({ page }) => {
    await page.keyboard.press('Control+Shift+C');
    const palette = page.locator('#command-palette');
    await expect(palette).toBeVisible();
    await palette.locator('input').fill('Data Panel');
    await palette
      .locator('.lm-CommandPalette-item', { hasText: 'Data Panel' })
      .first()
      .click();
    const panel = page.locator('#espri-vre-data-panel');
    await expect(panel).toBeVisible();

    const requests: string[] = [];
    page.on('request', request => {
      if (request.url().includes('/espri-vre/api/status')) {
        requests.push(request.url());
      }
    });
    await panel.locator('.jp-EspriVre-refresh').click();
    await expect.poll(() => requests.length).toBeGreaterThan(0);
    await expect(
      panel.locator('li.jp-EspriVre-catalogItem').first()
    ).toBeVisible();
  });
});

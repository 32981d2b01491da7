import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import { openCatalogBrowser, openPanel, runCommand } from './helpers/panels';

/**
 * The suite as a JupyterLab user meets it, against a real server configured by the
 * demo builder (ESPRI_VRE_DEMO_DIR), in Debian's Chromium: a data root browsed in the
 * file browser, a reload that keeps the Catalogue Browser's search and the preview's
 * time step, code inserted with no notebook open, and the launcher's cards (Jobs
 * opening as a main-area tab).
 */

const DEMO_DIR =
  process.env.ESPRI_VRE_DEMO_DIR ||
  path.resolve(__dirname, '..', '..', '.test-runtime', 'demo');

function demoDataRoot(): string {
  const config = JSON.parse(
    fs.readFileSync(path.join(DEMO_DIR, 'jupyter_server_config.json'), 'utf-8')
  );
  const roots = config.EspriVreApp.data_roots as { id: string; path: string }[];
  return roots.find(root => root.id === 'demo-data')!.path;
}

const NETCDF_KEY = 'DEMO.ESPRI-VRE.SYNTH-1.demo.Amon.gr.netcdf4';

// The demo's time axis: monthly means from 2000-01 (noleap), stamped mid-month.
const FEBRUARY_2001 = '2001-02-15 00:00:00';

test.describe('Working in JupyterLab', () => {
  test('a data root opens in the file browser and its file previews from the context menu', async ({
    page
  }) => {
    const panel = await openPanel(page, 'data');
    await panel
      .locator('li.jp-EspriVre-dataRootItem[data-root-id="demo-data"]')
      .click();

    const listing = page.locator(
      '#espri-vre-data-roots .jp-DirListing-content'
    );
    const item = (name: string) =>
      listing.locator('.jp-DirListing-item', {
        has: page.locator('.jp-DirListing-itemText', {
          hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`)
        })
      });
    await expect(item('tas_demo_monthly.nc')).toBeVisible();
    await expect(item('tas_demo_monthly.zarr')).toBeVisible();
    // The file browser is in the data root's drive, not in the server root.
    await expect(item('notebooks')).toHaveCount(0);

    // A Zarr store is a folder that previews; the menu has one "Preview".
    await item('tas_demo_monthly.zarr').click({ button: 'right' });
    const entry = (name: string) =>
      page.getByRole('menuitem', { name, exact: true });
    await expect(entry('Preview')).toHaveCount(1);
    await expect(entry('Open in Notebook')).toHaveCount(1);
    await page.keyboard.press('Escape');

    await item('tas_demo_monthly.nc').click({ button: 'right' });
    await entry('Preview').click();
    const preview = page.locator('.jp-EspriVre-preview');
    await expect(preview.locator('.jp-EspriVre-previewStats')).toBeVisible();
    await expect(preview.locator('.jp-EspriVre-timeLabel')).toHaveText(
      '2000-01-16 12:00:00'
    );

    // "Show on Globe": the previewer reads the first slice and the globe draws it.
    await item('tas_demo_monthly.nc').click({ button: 'right' });
    await entry('Show on Globe').click();
    await expect(
      page.locator('.jp-EspriVre-globeLayerTitle', { hasText: 'tas' })
    ).toHaveCount(1, { timeout: 60000 });

    // With no notebook open, "Open in Notebook" opens one with the code in it.
    await item('tas_demo_monthly.nc').click({ button: 'right' });
    await entry('Open in Notebook').click();
    await expect(page.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(1);
    expect(await page.notebook.getCellTextInput(0)).toBe(
      `import xarray as xr\n\nds = xr.open_dataset("${demoDataRoot()}/tas_demo_monthly.nc")\nds`
    );
  });

  test('a reload restores the catalogue search, the preview at its time step, the globe with its layer and the Jobs tab', async ({
    page
  }) => {
    const saved: string[] = [];
    page.on('request', request => {
      if (
        request.method() === 'PUT' &&
        request.url().includes('/lab/api/workspaces')
      ) {
        saved.push(request.postData() ?? '');
      }
    });

    // The Jobs tab first, so that the tabs opened next stay in front.
    await runCommand(page, 'espri-vre:open-jobs-tab');
    const browser = await openCatalogBrowser(page, 'demo-esm');
    const jobsTab = page.locator('#jp-main-dock-panel .lm-TabBar-tab', {
      hasText: /^Jobs$/
    });
    await expect(jobsTab).toHaveCount(1);
    const count = browser.locator('.jp-EspriVre-resultCount');
    await expect(count).toHaveAttribute('data-count', '4');
    const tas = browser.locator(
      'fieldset.jp-EspriVre-facet[data-facet="variable_id"] label.jp-EspriVre-facetValue[data-value="tas"] input'
    );
    await tas.check();
    await expect(count).toHaveAttribute('data-count', '3');

    await runCommand(page, 'espri-vre:open-preview', {
      path: 'data/tas_demo_monthly.nc'
    });
    const preview = page.locator('.jp-EspriVre-preview');
    await preview.locator('input.jp-EspriVre-timeSlider').fill('13');
    await expect(preview.locator('.jp-EspriVre-timeLabel')).toHaveText(
      FEBRUARY_2001
    );

    // A footprint on the globe: its source (the box) is what a reload draws again.
    await runCommand(page, 'espri-vre:globe-add-footprint', {
      title: 'EUR-11 domain',
      west: -44,
      south: 22,
      east: 65,
      north: 72,
      fly: false
    });
    const layer = page.locator('.jp-EspriVre-globeLayerTitle', {
      hasText: 'EUR-11 domain'
    });
    await expect(layer).toHaveCount(1);

    // The workspace keeps the three states (saved by JupyterLab after a short delay).
    await expect
      .poll(() =>
        saved.some(
          body =>
            body.includes('"indices":{"time":13}') &&
            body.includes('variable_id%3Dtas') &&
            body.includes('"title":"EUR-11 domain"') &&
            body.includes('espri-vre-jobs:espri-vre-jobs')
        )
      )
      .toBe(true);
    // A plain reload: Galata's own waits for a Launcher tab (which the restored
    // layout has not) and for the app within a fixed delay.
    await page.mainFrame().goto(page.url(), { waitUntil: 'domcontentloaded' });

    await expect(count).toHaveAttribute('data-count', '3', { timeout: 120000 });
    await expect(tas).toBeChecked();
    await expect(preview.locator('.jp-EspriVre-timeLabel')).toHaveText(
      FEBRUARY_2001
    );
    await expect(preview.locator('input.jp-EspriVre-timeSlider')).toHaveValue(
      '13'
    );
    await expect(layer).toHaveCount(1);
    await expect(jobsTab).toHaveCount(1);
  });

  test('Insert code with no notebook open opens a new one; the launcher has the suite', async ({
    page
  }) => {
    const browser = await openCatalogBrowser(page, 'demo-esm');
    await browser
      .locator(`li.jp-EspriVre-dataset[data-key="${NETCDF_KEY}"]`)
      .click();
    await browser.locator('.jp-EspriVre-insertCode').click();

    const cells = page.locator('.jp-NotebookPanel .jp-Cell');
    await expect(cells).toHaveCount(1);
    const source = await page.notebook.getCellTextInput(0);
    expect(source).toContain('intake.open_esm_datastore(');
    expect(source).toContain(`dsets["${NETCDF_KEY}"]`);

    await page.activity.activateTab('Launcher');
    const section = page.locator('.jp-Launcher-section:visible', {
      has: page.locator('.jp-Launcher-sectionTitle', { hasText: 'ESPRI VRE' })
    });
    // Each extension adds its own card (ILauncher, optional), in rank order.
    await expect(section.locator('.jp-LauncherCard-label')).toContainText([
      'Catalogue',
      'Globe',
      'Jobs',
      'Submit a Job',
      'Dask'
    ]);
    await section.locator('.jp-LauncherCard', { hasText: 'Catalogue' }).click();
    await expect(browser).toBeVisible();

    // Jobs opens as a main-area tab (the sidebar's panel stays where it is); the card
    // took the first launcher's place.
    await runCommand(page, 'launcher:create');
    await section
      .locator('.jp-LauncherCard', {
        has: page.getByText('Jobs', { exact: true })
      })
      .click();
    const jobsTab = page.locator('#jp-main-dock-panel #espri-vre-jobs');
    await expect(jobsTab.locator('.jp-EspriVre-jobsPanel')).toBeVisible();
    await expect(
      page.locator('#jp-main-dock-panel .lm-TabBar-tab', { hasText: 'Jobs' })
    ).toHaveCount(1);
  });
});

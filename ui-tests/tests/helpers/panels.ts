import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { Locator, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The set-up the panel specs share: JupyterLab commands run in the page, panels opened
 * and waited for, and the docs' screenshots (taken here, never by hand: see
 * docs/development.md).
 */

/** Where the specs write the docs' screenshots. */
export const SCREENSHOTS = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  '.test-runtime',
  'screenshots'
);

/** Saves a screenshot of `target` (the page or one panel) for the docs as `name`. */
export async function screenshot(
  target: Page | Locator,
  name: string
): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await target.screenshot({ path: path.join(SCREENSHOTS, name) });
}

/** Runs a JupyterLab command in the page, as a menu entry or a button does. */
export async function runCommand(
  page: IJupyterLabPageFixture,
  id: string,
  args?: ReadonlyPartialJSONObject
): Promise<void> {
  await page.evaluate(
    async ({ id, args }) => {
      await window.jupyterapp.commands.execute(id, args);
    },
    { id, args }
  );
}

/** The suite's panels: the command that opens each, and its node once open. */
const PANELS = {
  jobs: {
    command: 'espri-vre:open-jobs-panel',
    selector: '#espri-vre-jobs-panel'
  },
  jobsTab: { command: 'espri-vre:open-jobs-tab', selector: '#espri-vre-jobs' },
  dask: {
    command: 'espri-vre:open-dask-panel',
    selector: '#espri-vre-dask-panel'
  },
  data: {
    command: 'espri-vre:open-data-panel',
    selector: '#espri-vre-data-panel'
  }
} as const;

/**
 * Opens (or brings to the front) one of the suite's panels by its command and waits for
 * it to show: the panel's locator.
 */
export async function openPanel(
  page: IJupyterLabPageFixture,
  name: keyof typeof PANELS
): Promise<Locator> {
  const { command, selector } = PANELS[name];
  await runCommand(page, command);
  const panel = page.locator(selector);
  await expect(panel).toBeVisible();
  return panel;
}

/** Opens the Catalogue Browser of the catalogue `id` in the main area: its locator. */
export async function openCatalogBrowser(
  page: IJupyterLabPageFixture,
  id: string
): Promise<Locator> {
  await runCommand(page, 'espri-vre:browse-catalog', { id });
  const browser = page.locator(
    `.jp-EspriVre-catalogBrowser[data-catalog-id="${id}"]`
  );
  await expect(browser).toBeVisible();
  return browser;
}

/**
 * Runs the command palette's entry `label`, found by typing `query`, as a user does
 * (Ctrl+Shift+C): checks that the entry is in the palette.
 */
export async function fromPalette(
  page: IJupyterLabPageFixture,
  query: string,
  label: string
): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await expect(palette).toBeVisible();
  await palette.locator('input').fill(query);
  await palette
    .locator('.lm-CommandPalette-item', { hasText: label })
    .first()
    .click();
}

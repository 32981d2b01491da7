import { expect, test } from '@jupyterlab/galata';
import type { Locator, TestInfo } from '@playwright/test';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { openCatalogBrowser, openPanel, runCommand } from './helpers/panels';
import { jobRow as jobRowOf } from './helpers/jobs';

/**
 * Every panel of the suite in JupyterLab's light and dark themes: each panel is opened
 * once (with a selected row where it has rows to select), then seen in each theme, and
 * the contrast of its texts on what they are drawn on (WCAG 2 formula, from the colours
 * the page computes) is at least 4.5 (AA). Galata mocks the settings in memory, so the
 * theme changes in this page only, never for the other worker's pages.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
// Build output, never a tracked file: `npm run docs:images` copies what the docs show
// (it runs the specs whose source names 'screenshots').
const SCREENSHOTS = path.join(ROOT, '.test-runtime', 'screenshots');
// The server's root folder (jupyter_server_test_config.py): the demo's.
const SERVER_ROOT =
  process.env.ESPRI_VRE_DEMO_DIR ?? path.join(ROOT, '.test-runtime', 'demo');
// The sample crate's own folder: the other worker's specs never see it.
const FOLDER = `themes-${process.pid}-${Date.now()}`;
const AA = 4.5;

type RGB = [number, number, number];

/** The colour a browser computes for `color` or `background-color`, with its alpha. */
function parseColor(css: string): [number, number, number, number] {
  const match =
    /rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)(?:[ ,/]+([\d.]+))?/.exec(css);
  if (!match) {
    throw new Error(`not an rgb() colour: ${css}`);
  }
  const alpha = match[4] === undefined ? 1 : Number(match[4]);
  return [Number(match[1]), Number(match[2]), Number(match[3]), alpha];
}

/**
 * The colour seen: `color` drawn over `background` (JupyterLab's text colours are
 * black or white with an alpha).
 */
function seen(color: string, background: RGB): RGB {
  const [r, g, b, a] = parseColor(color);
  const [br, bg, bb] = background;
  return [r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a)];
}

/** WCAG relative luminance, 0 (black) to 1 (white). */
function luminance([r, g, b]: RGB): number {
  const channel = (value: number) => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** WCAG contrast ratio of two colours, 1 to 21. */
function contrast(a: RGB, b: RGB): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

interface Painted {
  color: string;
  /** The backgrounds from the element up to the page, innermost first. */
  backgrounds: string[];
}

/** The background seen behind an element: its translucent layers composited. */
function backdrop(painted: Painted): RGB {
  let under: RGB = [255, 255, 255];
  for (const layer of [...painted.backgrounds].reverse()) {
    under = seen(layer, under);
  }
  return under;
}

/** The contrast of an element's text on the background it is drawn on. */
function textContrast(painted: Painted): number {
  const background = backdrop(painted);
  return contrast(seen(painted.color, background), background);
}

/**
 * An element's computed text colour and the non-transparent backgrounds of it and its
 * ancestors, up to the first opaque one.
 */
async function painted(locator: Locator): Promise<Painted> {
  return locator.evaluate(element => {
    const backgrounds: string[] = [];
    for (let node: Element | null = element; node; node = node.parentElement) {
      const value = getComputedStyle(node).backgroundColor;
      const alpha = /rgba\(.*,\s*([\d.]+)\)$/.exec(value);
      if (value === 'transparent' || (alpha && Number(alpha[1]) === 0)) {
        continue;
      }
      backgrounds.push(value);
      if (!alpha) {
        break;
      }
    }
    return { color: getComputedStyle(element).color, backgrounds };
  });
}

/** Brings the JupyterLab widget (main area or side bar) that holds `locator` to the front. */
async function activate(locator: Locator): Promise<void> {
  await locator.evaluate(node => {
    const shell = window.jupyterapp.shell;
    for (const area of ['main', 'left', 'right'] as const) {
      for (const widget of shell.widgets(area)) {
        if (widget.node.contains(node)) {
          shell.activateById(widget.id);
          return;
        }
      }
    }
    throw new Error('the element is in no widget of the shell');
  });
  await expect(locator).toBeVisible();
}

/** A panel of the suite: its root and the texts whose contrast is checked. */
interface Panel {
  name: string;
  root: Locator;
  texts: { what: string; locator: Locator; min?: number }[];
}

const THEMES = [
  { name: 'light', theme: 'JupyterLab Light', dark: false },
  { name: 'dark', theme: 'JupyterLab Dark', dark: true }
];

test.describe('Themes', () => {
  // A real recorded run, exported as the crate a reviewer receives: made while Galata
  // loads JupyterLab (both take seconds), awaited before the crate is opened.
  let sample: Promise<void>;

  test.beforeAll(() => {
    sample = new Promise((resolve, reject) => {
      execFile(
        PYTHON,
        ['-m', 'espri_vre.provenance.sample', path.join(SERVER_ROOT, FOLDER)],
        { timeout: 60000 },
        error => (error ? reject(error) : resolve())
      );
    });
    // Reported by the test that awaits it, not as an unhandled rejection.
    sample.catch(() => undefined);
  });

  test.afterAll(async () => {
    await sample.catch(() => undefined);
    fs.rmSync(path.join(SERVER_ROOT, FOLDER), { recursive: true, force: true });
  });

  test('every panel reads well in the light and the dark theme', async ({
    page,
    tmpPath
  }, testInfo: TestInfo) => {
    test.setTimeout(180000);
    const panels: Panel[] = [];

    // A job of this test on the local cluster (processes of the server): a row to select.
    const job = `themes-${Date.now()}`;
    const script = `${tmpPath}/${job}.sh`;
    expect(
      await page.contents.uploadContent('#!/bin/bash\ntrue\n', 'text', script)
    ).toBe(true);
    const xsrf =
      (await page.context().cookies()).find(c => c.name === '_xsrf')?.value ??
      '';
    const submitted = await page.request.post('/espri-vre/api/jobs', {
      headers: { 'X-XSRFToken': xsrf },
      data: { cluster: 'local', spec: { kind: 'script', path: script } }
    });
    expect(submitted.status()).toBe(201);

    // The slow ones first, waited for last: the replay of a reviewer's crate in a fresh
    // kernel, and the globe's start (CesiumJS in software WebGL).
    await sample;
    await runCommand(page, 'espri-vre:provenance-open-crate', {
      path: `${FOLDER}/crate`
    });
    const provenance = page.locator('.jp-EspriVre-provenancePanel', {
      has: page.locator('.jp-EspriVre-provCrate')
    });
    await provenance.locator('.jp-EspriVre-provReplay').click();
    await runCommand(page, 'espri-vre:open-globe');
    const globe = page.locator('.jp-EspriVre-globe');

    // The Catalogue Browser on the demo's intake-esm catalogue, a dataset opened.
    const catalog = await openCatalogBrowser(page, 'demo-esm');
    await expect(catalog.locator('.jp-EspriVre-resultCount')).toHaveAttribute(
      'data-count',
      '4'
    );
    const dataset = catalog.locator('.jp-EspriVre-datasetOpen').first();
    await dataset.click();
    await expect(dataset).toHaveAttribute('aria-expanded', 'true');
    const detail = catalog.locator('.jp-EspriVre-datasetDetail');
    await expect(detail.locator('.jp-EspriVre-datasetCode')).toContainText(
      'intake.open_esm_datastore('
    );
    const facet = catalog.locator('label.jp-EspriVre-facetValue').first();
    panels.push({
      name: 'catalog',
      root: catalog,
      texts: [
        { what: 'selected dataset', locator: dataset },
        {
          what: 'facet value',
          locator: facet.locator('.jp-EspriVre-facetLabel')
        },
        // A count beside its value: secondary text, WCAG's 3 for non-body text.
        {
          what: 'facet count',
          locator: facet.locator('.jp-EspriVre-facetCount'),
          min: 3
        },
        {
          what: 'detail title',
          locator: detail.locator('.jp-EspriVre-detailTitle')
        },
        {
          what: 'detail variables',
          locator: detail.locator('.jp-EspriVre-datasetVariables')
        },
        { what: 'code', locator: detail.locator('.jp-EspriVre-datasetCode') }
      ]
    });

    // The Data panel.
    const data = await openPanel(page, 'data');
    const catalogItem = data.locator(
      'li.jp-EspriVre-catalogItem[data-catalog-id="demo-esm"]'
    );
    await expect(catalogItem).toHaveAttribute('data-reachable', 'true');
    panels.push({
      name: 'data-panel',
      root: data,
      texts: [
        { what: 'catalogue', locator: catalogItem },
        {
          what: 'catalogue state',
          locator: catalogItem.locator('.jp-EspriVre-itemState')
        },
        {
          what: 'catalogue kind',
          locator: catalogItem.locator('.jp-EspriVre-itemKind')
        }
      ]
    });

    // The preview of the demo NetCDF file, its variable tas selected.
    await runCommand(page, 'espri-vre:open-preview', {
      path: 'data/tas_demo_monthly.nc'
    });
    const preview = page.locator('.jp-EspriVre-preview');
    await expect(preview.locator('.jp-EspriVre-previewStats')).toBeVisible();
    const variable = preview.locator('.jp-EspriVre-previewVariables tbody tr', {
      has: page.locator('td', { hasText: /^tas$/ })
    });
    await variable.click();
    await expect(variable).toHaveAttribute('aria-selected', 'true');
    panels.push({
      name: 'preview',
      root: preview,
      texts: [
        { what: 'selected variable', locator: variable.locator('td').first() },
        {
          what: 'time label',
          locator: preview.locator('.jp-EspriVre-timeLabel')
        }
      ]
    });

    // The globe with a layer.
    await activate(globe);
    await expect(globe).toHaveAttribute('data-state', 'ready', {
      timeout: 90000
    });
    const layerId = await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-add-demo-points', {
        count: 10
      })
    );
    const layer = globe.locator(
      `li.jp-EspriVre-globeLayer[data-layer-id="${layerId}"]`
    );
    await expect(layer).toBeVisible();
    panels.push({
      name: 'globe',
      root: globe.locator('.jp-EspriVre-globeLayers'),
      texts: [
        {
          what: 'layer title',
          locator: layer.locator('.jp-EspriVre-globeLayerTitle')
        }
      ]
    });

    // The Jobs tab, this test's job selected.
    const jobs = await openPanel(page, 'jobsTab');
    const jobRow = jobRowOf(page, jobs, 'local', job);
    await jobRow.locator('.jp-EspriVre-jobName').click();
    await expect(jobRow).toHaveAttribute('aria-selected', 'true');
    panels.push({
      name: 'jobs',
      root: jobs,
      texts: [
        {
          what: 'selected job',
          locator: jobRow.locator('.jp-EspriVre-jobName')
        },
        {
          what: 'job details',
          locator: jobs.locator('section.jp-EspriVre-jobDetails h3')
        }
      ]
    });

    // The Dask panel, a preset chosen.
    const dask = await openPanel(page, 'dask');
    const form = dask.locator('form.jp-EspriVre-daskStart');
    await form.getByLabel('Cluster').selectOption('local');
    await form.getByLabel('Preset').selectOption('small');
    const summary = form.locator('.jp-EspriVre-daskPresetSummary');
    await expect(summary).toContainText('2 workers');
    panels.push({
      name: 'dask',
      root: dask,
      texts: [
        { what: 'cluster label', locator: form.getByText('Cluster').first() },
        { what: 'preset summary', locator: summary }
      ]
    });

    // The reviewer's path: the crate's replay report.
    await activate(provenance);
    const report = provenance.locator('.jp-EspriVre-provReport');
    await expect(report.locator('.jp-EspriVre-provSummary')).toBeVisible({
      timeout: 60000
    });
    const differs = report.locator('li.jp-EspriVre-provCell', {
      has: page.locator('.jp-EspriVre-provVerdict.jp-mod-differs')
    });
    panels.push({
      name: 'provenance-report',
      root: provenance,
      texts: [
        {
          what: 'crate run',
          locator: provenance.locator('.jp-EspriVre-provCrate dd').nth(1)
        },
        {
          what: 'link',
          locator: provenance.locator('.jp-EspriVre-provLink')
        },
        ...['identical', 'differs'].map(verdict => ({
          what: `summary: ${verdict}`,
          locator: report.locator(
            `.jp-EspriVre-provSummary [data-verdict="${verdict}"]`
          )
        })),
        {
          what: 'differing cell verdict',
          locator: differs.first().locator('.jp-EspriVre-provVerdict')
        }
      ]
    });

    const measured: string[] = [];
    const failures: string[] = [];
    for (const { name, theme, dark } of THEMES) {
      await page.theme.setTheme(theme);
      expect(await page.theme.getTheme()).toBe(theme);
      for (const panel of panels) {
        await activate(panel.root);
        // The panel follows the theme: its background is light or dark with it.
        const root = await painted(panel.root);
        const shade = luminance(backdrop(root));
        if (dark ? shade > 0.2 : shade < 0.8) {
          failures.push(
            `${panel.name} (${name}): background ${root.backgrounds[0]} is not ${name}`
          );
        }
        for (const text of [
          { what: 'body text', locator: panel.root, min: AA },
          ...panel.texts
        ]) {
          const ratio = textContrast(await painted(text.locator.first()));
          measured.push(
            `${name}\t${panel.name}\t${text.what}\t${ratio.toFixed(2)}`
          );
          if (ratio < (text.min ?? AA)) {
            failures.push(
              `${panel.name} (${name}): ${text.what} contrast ${ratio.toFixed(2)} < ${text.min ?? AA}`
            );
          }
        }
        // The selected row (the first text) in the picture.
        await panel.texts[0].locator.first().scrollIntoViewIfNeeded();
        const shot = await panel.root.screenshot();
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        fs.writeFileSync(
          path.join(SCREENSHOTS, `themes-${panel.name}-${name}.png`),
          shot
        );
        await testInfo.attach(`${panel.name}-${name}`, {
          body: shot,
          contentType: 'image/png'
        });
      }
    }
    await testInfo.attach('contrast ratios', {
      body: measured.join('\n'),
      contentType: 'text/tab-separated-values'
    });
    // Every panel seen in both themes before failing: the list tells all that is wrong.
    expect(failures).toEqual([]);
  });
});

import { expect, test } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';
import * as path from 'path';

/**
 * The Catalogue Browser in JupyterLab's light and dark themes, on the demo's
 * intake-esm catalogue: its colours come from the theme's CSS variables, so the panel
 * follows the theme and every text stays readable on what is behind it.
 */

// Build output, never a tracked file: `npm run docs:images` copies what the docs show.
const SCREENSHOTS = path.resolve(
  __dirname,
  '..',
  '..',
  '.test-runtime',
  'screenshots'
);

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
function seen(color: string, background: string): RGB {
  const [r, g, b, a] = parseColor(color);
  const [br, bg, bb] = parseColor(background);
  return [r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a)];
}

/** The contrast of a text colour on its background, alpha composited. */
function textContrast(colors: { color: string; background: string }): number {
  const background = seen(colors.background, 'rgb(255, 255, 255)');
  const text = seen(
    colors.color,
    `rgb(${background[0]}, ${background[1]}, ${background[2]})`
  );
  return contrast(text, background);
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

/**
 * An element's text colour and the background it is drawn on: its own, or the first
 * ancestor's that is not transparent.
 */
async function textOnBackground(
  locator: Locator
): Promise<{ color: string; background: string }> {
  return locator.evaluate(element => {
    let node: Element | null = element;
    let background = 'rgba(0, 0, 0, 0)';
    while (node) {
      const value = getComputedStyle(node).backgroundColor;
      if (value !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(value)) {
        background = value;
        break;
      }
      node = node.parentElement;
    }
    return { color: getComputedStyle(element).color, background };
  });
}

/** What `--jp-layout-color1` resolves to in the current theme. */
async function themeLayoutColor(page: Page): Promise<string> {
  return page.evaluate(() => {
    const probe = document.createElement('div');
    probe.style.backgroundColor = 'var(--jp-layout-color1)';
    document.body.appendChild(probe);
    const value = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return value;
  });
}

const THEMES = [
  { name: 'light', theme: 'JupyterLab Light', dark: false },
  { name: 'dark', theme: 'JupyterLab Dark', dark: true }
];

test.describe('Catalogue Browser themes', () => {
  for (const { name, theme, dark } of THEMES) {
    test(`follows the ${name} theme with readable rows and details`, async ({
      page
    }) => {
      test.setTimeout(120000);
      await page.theme.setTheme(theme);
      expect(await page.theme.getTheme()).toBe(theme);

      await page.evaluate(async () => {
        await window.jupyterapp.commands.execute('espri-vre:browse-catalog', {
          id: 'demo-esm'
        });
      });
      const browser = page.locator(
        '.jp-EspriVre-catalogBrowser[data-catalog-id="demo-esm"]'
      );
      await expect(browser.locator('.jp-EspriVre-resultCount')).toHaveAttribute(
        'data-count',
        '4'
      );

      // The panel's background is the theme's, and it is light or dark with it.
      const panel = await textOnBackground(browser);
      expect(panel.background).toBe(await themeLayoutColor(page));
      const panelLuminance = luminance(
        seen(panel.background, 'rgb(255, 255, 255)')
      );
      if (dark) {
        expect(panelLuminance).toBeLessThan(0.2);
      } else {
        expect(panelLuminance).toBeGreaterThan(0.8);
      }
      expect(textContrast(panel)).toBeGreaterThanOrEqual(4.5);

      // A dataset row: its text differs from what it is drawn on, and reads well.
      const row = browser.locator('li.jp-EspriVre-dataset').first();
      const rowColors = await textOnBackground(
        row.locator('.jp-EspriVre-datasetOpen')
      );
      expect(rowColors.color).not.toBe(rowColors.background);
      expect(textContrast(rowColors)).toBeGreaterThanOrEqual(4.5);

      // A facet's value and its count.
      const value = browser.locator('label.jp-EspriVre-facetValue').first();
      const valueColors = await textOnBackground(
        value.locator('.jp-EspriVre-facetLabel')
      );
      expect(textContrast(valueColors)).toBeGreaterThanOrEqual(4.5);
      const countColors = await textOnBackground(
        value.locator('.jp-EspriVre-facetCount')
      );
      expect(textContrast(countColors)).toBeGreaterThanOrEqual(3);

      // The opened dataset's detail and its code.
      await row.locator('.jp-EspriVre-datasetOpen').click();
      const detail = browser.locator('.jp-EspriVre-datasetDetail');
      await expect(detail.locator('.jp-EspriVre-datasetCode')).toContainText(
        'intake.open_esm_datastore('
      );
      for (const part of [
        '.jp-EspriVre-detailTitle',
        '.jp-EspriVre-datasetVariables',
        '.jp-EspriVre-datasetCode'
      ]) {
        const colors = await textOnBackground(detail.locator(part));
        expect(
          textContrast(colors),
          `${part} in the ${name} theme`
        ).toBeGreaterThanOrEqual(4.5);
      }
      const detailLuminance = luminance(
        seen((await textOnBackground(detail)).background, 'rgb(255, 255, 255)')
      );
      if (dark) {
        expect(detailLuminance).toBeLessThan(0.2);
      } else {
        expect(detailLuminance).toBeGreaterThan(0.6);
      }

      await browser.screenshot({
        path: path.join(SCREENSHOTS, `catalog-browser-${name}.png`)
      });
    });
  }
});

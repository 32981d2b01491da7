import { expect, test } from '@jupyterlab/galata';

/**
 * The CesiumJS globe in Debian's Chromium with SwiftShader (software WebGL, a few
 * frames per second): it renders its bundled NaturalEarthII imagery, keeps its
 * WebGL context, takes layers through its commands, and never asks anything of a
 * host other than the Jupyter server (the offline proof).
 */

const GLOBE = '.jp-EspriVre-globe';

test.describe('Globe', () => {
  test('renders offline, requests only the Jupyter server and shows added points as a layer', async ({
    page,
    baseURL
  }) => {
    const origin = new URL(baseURL!).origin;
    const requests: string[] = [];
    page.on('request', request => {
      requests.push(request.url());
    });

    await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:open-globe')
    );
    const globe = page.locator(GLOBE);
    await expect(globe).toHaveAttribute('data-state', 'ready', {
      timeout: 90000
    });
    await expect(globe.locator('canvas').first()).toBeVisible();
    // The imagery tiles of the first view have arrived and been drawn.
    await expect(globe).toHaveAttribute('data-tiles-loaded', 'true', {
      timeout: 90000
    });

    // Render once more and read the frame back: the canvas keeps its drawing
    // buffer, so its pixels are those of the globe, not of a cleared buffer.
    const pixels = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>(
        '.jp-EspriVre-globeViewer canvas'
      )!;
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const context = copy.getContext('2d')!;
      context.drawImage(canvas, 0, 0);
      const data = context.getImageData(0, 0, copy.width, copy.height).data;
      const colours = new Set<number>();
      let lit = 0;
      for (let i = 0; i < data.length; i += 4 * 97) {
        colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        if (data[i] + data[i + 1] + data[i + 2] > 60) {
          lit++;
        }
      }
      return { colours: colours.size, lit, width: copy.width };
    });
    expect(pixels.width).toBeGreaterThan(100);
    // A blank canvas has one colour; the Earth's imagery has hundreds.
    expect(pixels.colours).toBeGreaterThan(50);
    expect(pixels.lit).toBeGreaterThan(100);

    const layerId = await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-add-demo-points', {
        count: 2000
      })
    );
    const row = globe.locator(
      `li.jp-EspriVre-globeLayer[data-layer-id="${layerId}"]`
    );
    await expect(row).toBeVisible();
    await expect(row).toHaveAttribute('data-kind', 'points');
    await expect(row.locator('.jp-EspriVre-globeLayerTitle')).toHaveText(
      'Demo stations'
    );

    // The view modes and the PNG export work on the live viewer.
    await globe.locator('.jp-EspriVre-globeMode[data-mode="2d"]').click();
    await expect(globe).toHaveAttribute('data-mode', '2d');
    const png = await page.evaluate(async () => {
      const canvas = document.querySelector<HTMLCanvasElement>(
        '.jp-EspriVre-globeViewer canvas'
      )!;
      return canvas.toDataURL('image/png').length;
    });
    expect(png).toBeGreaterThan(10000);

    await row.locator('.jp-EspriVre-globeLayerRemove').click();
    await expect(row).toHaveCount(0);

    expect(await globe.getAttribute('data-context-lost')).toBeNull();

    // data: and blob: URLs never leave the page; anything else must go to the
    // Jupyter server.
    const offsite = requests.filter(
      url =>
        !url.startsWith('data:') &&
        !url.startsWith('blob:') &&
        new URL(url).origin !== origin
    );
    expect(offsite).toEqual([]);
    expect(
      requests.some(url =>
        url.includes('/lab/extensions/@espri-vre/globe/static/cesium/Cesium.js')
      )
    ).toBe(true);
    expect(
      requests.some(url => url.includes('Assets/Textures/NaturalEarthII/'))
    ).toBe(true);
  });

  test('a field layer is drawn in its colour-map colour at a known place', async ({
    page
  }) => {
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:open-globe')
    );
    const globe = page.locator(GLOBE);
    await expect(globe).toHaveAttribute('data-state', 'ready', {
      timeout: 90000
    });
    await globe.locator('.jp-EspriVre-globeMode[data-mode="2d"]').click();
    // A 4 x 4 field of 1 with limits 0..2: viridis at its middle, rgb(35, 144, 140)
    // (colorFor(1, 0, 2), checked by the unit tests).
    const layerId = await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-add-field', {
        title: 'Constant',
        lon: [5, 15, 25, 35],
        lat: [5, 15, 25, 35],
        values: new Array(16).fill(1),
        min: 0,
        max: 2
      })
    );
    await expect(
      globe.locator(`li.jp-EspriVre-globeLayer[data-layer-id="${layerId}"]`)
    ).toHaveAttribute('data-kind', 'grid');
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-fly-to', {
        west: 10,
        south: 10,
        east: 30,
        north: 30
      })
    );
    await expect
      .poll(
        () =>
          page.evaluate(() => {
            const canvas = document.querySelector<HTMLCanvasElement>(
              '.jp-EspriVre-globeViewer canvas'
            )!;
            const copy = document.createElement('canvas');
            copy.width = canvas.width;
            copy.height = canvas.height;
            const context = copy.getContext('2d')!;
            context.drawImage(canvas, 0, 0);
            const [r, g, b] = context.getImageData(
              Math.floor(copy.width / 2),
              Math.floor(copy.height / 2),
              1,
              1
            ).data;
            return Math.max(
              Math.abs(r - 35),
              Math.abs(g - 144),
              Math.abs(b - 140)
            );
          }),
        { timeout: 60000, intervals: [500, 1000, 2000] }
      )
      .toBeLessThanOrEqual(8);
  });
});

import { type IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';

/**
 * The CesiumJS globe in Debian's Chromium with SwiftShader (software WebGL, a few
 * frames per second): it renders its bundled NaturalEarthII imagery, keeps its
 * WebGL context, takes layers through its commands, and never asks anything of a
 * host other than the Jupyter server (the offline proof).
 */

const GLOBE = '.jp-EspriVre-globe';

// On a loaded machine JupyterLab can take longer to show its Launcher (and its
// file browser to open Galata's folder) than Galata's 15 s: these tests use no
// files, so each opens JupyterLab itself and waits up to two minutes.
test.use({
  autoGoto: false,
  waitForApplication: async ({ baseURL }, use) => {
    void baseURL;
    await use(async page => {
      await page
        .locator('#jupyterlab-splash')
        .waitFor({ state: 'detached', timeout: 120000 });
      await page
        .locator('.jp-Launcher')
        .first()
        .waitFor({ state: 'visible', timeout: 120000 });
    });
  }
});

/**
 * Galata waits 15 s for JupyterLab's plugins to start; the first load on a loaded
 * machine can take longer, the next (cached) ones do not: try up to three times.
 */
async function openLab(page: IJupyterLabPageFixture): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto();
      return;
    } catch (reason) {
      if (attempt === 3) {
        throw reason;
      }
    }
  }
}

test.describe('Globe', () => {
  test('renders offline, requests only the Jupyter server and shows added points as a layer', async ({
    page,
    baseURL
  }) => {
    await openLab(page);
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
    await openLab(page);
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

test.describe('Globe layers', () => {
  test('the layers panel reorders, hides, fades and removes; footprints, a trajectory on the clock and PNG export', async ({
    page
  }) => {
    test.setTimeout(240000);
    await openLab(page);
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:open-globe')
    );
    const globe = page.locator(GLOBE);
    await expect(globe).toHaveAttribute('data-state', 'ready', {
      timeout: 90000
    });
    await globe.locator('.jp-EspriVre-globeMode[data-mode="2d"]').click();

    // A field of 1 with limits 0..2 under a footprint covering part of it.
    const fieldId = await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-add-field', {
        title: 'Constant',
        lon: [5, 15, 25, 35],
        lat: [5, 15, 25, 35],
        values: new Array(16).fill(1),
        min: 0,
        max: 2
      })
    );
    const footprintId = await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-add-footprint', {
        title: 'Dataset extent',
        west: 10,
        south: 10,
        east: 30,
        north: 30,
        polygons: [
          [
            [-20, -20],
            [-10, -20],
            [-15, -10]
          ]
        ]
      })
    );
    const titles = globe.locator('.jp-EspriVre-globeLayerTitle');
    // Top layer first.
    await expect(titles).toHaveText(['Dataset extent', 'Constant']);
    const field = globe.locator(
      `li.jp-EspriVre-globeLayer[data-layer-id="${fieldId}"]`
    );
    const footprint = globe.locator(
      `li.jp-EspriVre-globeLayer[data-layer-id="${footprintId}"]`
    );
    await expect(footprint).toHaveAttribute('data-kind', 'footprint');
    await expect(field.locator('.jp-EspriVre-globeLegendMin')).toHaveText('0');
    await expect(field.locator('.jp-EspriVre-globeLegendMax')).toHaveText('2');
    await expect(footprint.locator('.jp-EspriVre-globeLegend')).toHaveCount(0);

    await field.locator('.jp-EspriVre-globeLayerUp').click();
    await expect(titles).toHaveText(['Constant', 'Dataset extent']);
    await expect(field.locator('.jp-EspriVre-globeLayerUp')).toBeDisabled();
    await field.locator('.jp-EspriVre-globeLayerDown').click();
    await expect(titles).toHaveText(['Dataset extent', 'Constant']);

    // The centre of the view (20, 20) shows the field through the footprint's
    // translucent fill; hidden, the field's colour goes, and the opacity slider
    // fades it.
    const centre = () =>
      page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>(
          '.jp-EspriVre-globeViewer canvas'
        )!;
        const copy = document.createElement('canvas');
        copy.width = canvas.width;
        copy.height = canvas.height;
        const context = copy.getContext('2d')!;
        context.drawImage(canvas, 0, 0);
        return Array.from(
          context
            .getImageData(
              Math.floor(copy.width / 2),
              Math.floor(copy.height / 2),
              1,
              1
            )
            .data.slice(0, 3)
        );
      });
    await footprint.locator('.jp-EspriVre-globeLayerVisible').uncheck();
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-fly-to', {
        west: 15,
        south: 15,
        east: 25,
        north: 25
      })
    );
    const distance = (rgb: number[]) =>
      Math.max(
        Math.abs(rgb[0] - 35),
        Math.abs(rgb[1] - 144),
        Math.abs(rgb[2] - 140)
      );
    await expect
      .poll(async () => distance(await centre()), { timeout: 60000 })
      .toBeLessThanOrEqual(8);
    await field.locator('.jp-EspriVre-globeLayerOpacity').fill('0.5');
    await expect
      .poll(async () => distance(await centre()), { timeout: 30000 })
      .toBeGreaterThan(8);
    await field.locator('.jp-EspriVre-globeLayerVisible').uncheck();
    const hidden = await centre();
    await field.locator('.jp-EspriVre-globeLayerOpacity').fill('1');
    await field.locator('.jp-EspriVre-globeLayerVisible').check();
    await expect
      .poll(async () => distance(await centre()), { timeout: 30000 })
      .toBeLessThanOrEqual(8);
    expect(distance(hidden)).toBeGreaterThan(8);

    // A trajectory from (0, 0) to (10, 0) in one hour: half-way through the
    // hour, its point is half-way; the clock running moves it.
    const trackId = await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-add-trajectory', {
        title: 'Balloon',
        lon: [0, 10],
        lat: [0, 0],
        time: ['2000-01-01T00:00:00Z', '2000-01-01T01:00:00Z']
      })
    );
    await expect(
      globe.locator(`li.jp-EspriVre-globeLayer[data-layer-id="${trackId}"]`)
    ).toHaveAttribute('data-kind', 'trajectory');
    const where = (iso: string | null) =>
      page.evaluate(
        ({ id, iso }) =>
          window.jupyterapp.commands.execute('espri-vre:globe-trajectory-at', {
            layerId: id,
            time: iso
          }) as Promise<{ lon: number; lat: number; time: string }>,
        { id: trackId as string, iso }
      );
    const start = await where(null);
    expect(start.lon).toBeCloseTo(0, 3);
    expect(start.time).toBe('2000-01-01T00:00:00.000Z');
    const half = await where('2000-01-01T00:30:00Z');
    expect(half.lon).toBeCloseTo(5, 1);
    expect(half.lat).toBeCloseTo(0, 3);
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('espri-vre:globe-clock', {
        time: '2000-01-01T00:00:00Z',
        multiplier: 600,
        play: true
      })
    );
    await expect
      .poll(async () => (await where(null)).lon, { timeout: 30000 })
      .toBeGreaterThan(0.5);

    // PNG export downloads the current view.
    const download = page.waitForEvent('download');
    await globe.locator('.jp-EspriVre-globeExport').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('globe.png');
    const bytes = fs.readFileSync((await file.path())!);
    expect(bytes.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    );
    expect(bytes.length).toBeGreaterThan(1000);
    expect(await globe.getAttribute('data-context-lost')).toBeNull();
  });
});

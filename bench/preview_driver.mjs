/**
 * The browser side of bench/bench_preview.py: opens a dataset in JupyterLab with our
 * previewer or with jupyterlab-h5web, in Debian's Chromium driven by Playwright, and
 * times the first slice and the next time step; counts the bytes of the data requests
 * with the Chrome DevTools Protocol (Network.loadingFinished's encodedDataLength: what
 * came over the wire, headers included).
 *
 * Settings come from the environment variable ESPRI_PREVIEW_BENCH (JSON: chromium,
 * servers {ours, h5web: {base, token}}, tasks [{side, path | source, label}] (a
 * source: the preview command's `source` argument, e.g. a remote URL), variable,
 * timeoutMs). Every task runs in a fresh browser context (empty HTTP cache, a fresh
 * page and so a fresh chunk cache). Prints one line `BENCH_JSON {...}`.
 */
/* global window, document, Image, HTMLInputElement, KeyboardEvent */
import { chromium } from '@playwright/test';

const settings = JSON.parse(process.env.ESPRI_PREVIEW_BENCH ?? '{}');
const TIMEOUT = settings.timeoutMs ?? 120000;

/** The requests that carry data, per side (the static bundles and Jupyter's own API are not). */
const DATA = {
  ours: url => url.includes('/espri-vre/api/data/'),
  h5web: url => url.includes('/h5web/')
};

/**
 * In the page: run `start`, then poll every animation frame until `done()` holds, then
 * wait two more frames (the pixels are composited); the milliseconds from `start`.
 */
const PAGE_HELPERS = `
// JupyterLab loads hundreds of files: the default buffer (250 entries) would drop h5web's.
performance.setResourceTimingBufferSize(100000);
window.__bench = {
  frame: () => new Promise(resolve => requestAnimationFrame(() => resolve())),
  async timed(start, done, timeout) {
    const t0 = performance.now();
    start();
    for (;;) {
      if (done()) {
        break;
      }
      if (performance.now() - t0 > timeout) {
        throw new Error('timed out after ' + timeout + ' ms');
      }
      await window.__bench.frame();
    }
    const t = performance.now() - t0;
    await window.__bench.frame();
    await window.__bench.frame();
    return { ms: t, painted: performance.now() - t0, t0 };
  },
  /** The data requests since t0: [what, start, end] in ms from t0. */
  timeline: (t0, pattern) =>
    performance
      .getEntriesByType('resource')
      .filter(e => e.name.includes(pattern) && e.startTime >= t0)
      .map(e => [
        decodeURIComponent(new URL(e.name).pathname.split('/').slice(-2).join('/')),
        Math.round(e.startTime - t0),
        Math.round(e.responseEnd - t0)
      ]),
  /**
   * Data requests started since t0 that ended after t0 + ms (after the picture was seen),
   * or started after t0 + drawn (after the picture was put on the canvas: the read-ahead
   * of the next step, which can end before a slow frame shows the picture).
   */
  lateAfter: (t0, ms, pattern, drawn = ms) =>
    performance
      .getEntriesByType('resource')
      .filter(
        e =>
          e.name.includes(pattern) &&
          e.startTime >= t0 &&
          (e.responseEnd > t0 + ms || e.startTime > t0 + drawn)
      )
      .map(e => e.name),
  /** The time (performance.now()) a map canvas first got data-rendered-selection. */
  watchDrawn() {
    window.__bench.drawnAt = null;
    const observer = new MutationObserver(() => {
      if (document.querySelector('canvas[data-rendered-selection]')) {
        window.__bench.drawnAt = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, {
      subtree: true,
      attributes: true,
      attributeFilter: ['data-rendered-selection']
    });
  },
  dataEntries: () =>
    performance
      .getEntriesByType('resource')
      .filter(e => e.name.includes('/h5web/data?')),
  h5webLoading: () => {
    const root = document.querySelector('.h5web-root');
    return !root || /Loading/i.test(root.innerText);
  }
};
`;

async function openLab(context, server) {
  const page = await context.newPage();
  await page.addInitScript(PAGE_HELPERS);
  await page.goto(`${server.base}/lab?reset&token=${server.token}`, {
    timeout: TIMEOUT
  });
  await page.waitForFunction(() => !!window.jupyterapp, null, {
    timeout: TIMEOUT
  });
  await page.evaluate(async () => {
    await window.jupyterapp.started;
    await window.jupyterapp.restored;
  });
  // Let JupyterLab's own start-up requests settle.
  await page.waitForTimeout(1500);
  return page;
}

/** The pixels of an element as the screen shows them: how many distinct colours. */
async function distinctColours(page, cdp, selector) {
  const box = await page.locator(selector).first().boundingBox();
  if (!box || box.width < 2 || box.height < 2) {
    return 0;
  }
  const shot = await cdp.send('Page.captureScreenshot', {
    format: 'png',
    clip: { ...box, scale: 1 }
  });
  return page.evaluate(async data => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < px.length; i += 4 * 7) {
      seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    }
    return seen.size;
  }, shot.data);
}

async function ours(page, task, marks) {
  await page.evaluate(() => window.__bench.watchDrawn());
  const first = await page.evaluate(
    ({ path, source, timeout }) =>
      window.__bench.timed(
        () =>
          void window.jupyterapp.commands.execute(
            'espri-vre:open-preview',
            source ? { source } : { path }
          ),
        () =>
          !!document.querySelector(
            'canvas.jp-EspriVre-previewMap[data-rendered-selection]'
          ),
        timeout
      ),
    { path: task.path, source: task.source, timeout: TIMEOUT }
  );
  marks.first(
    await page.evaluate(
      ({ t0, ms }) =>
        window.__bench.lateAfter(
          t0,
          ms,
          '/espri-vre/api/data/',
          (window.__bench.drawnAt ?? t0 + ms) - t0
        ),
      first
    )
  );
  const { shown, resolution } = await page.evaluate(() => {
    const data = document.querySelector(
      'canvas.jp-EspriVre-previewMap'
    ).dataset;
    return { shown: data.renderedSelection, resolution: data.resolution };
  });
  first.timeline = await page.evaluate(
    t0 => window.__bench.timeline(t0, '/espri-vre/api/data/'),
    first.t0
  );
  await page.waitForTimeout(500);
  marks.between();
  const next = await page.evaluate(
    ({ shown, timeout }) => {
      const slider = document.querySelector('input.jp-EspriVre-timeSlider');
      const canvas = document.querySelector('canvas.jp-EspriVre-previewMap');
      return window.__bench.timed(
        () => {
          const setter = Object.getOwnPropertyDescriptor(
            HTMLInputElement.prototype,
            'value'
          ).set;
          setter.call(slider, String(Number(slider.value) + 1));
          slider.dispatchEvent(new Event('input', { bubbles: true }));
        },
        () =>
          !!canvas.dataset.renderedSelection &&
          canvas.dataset.renderedSelection !== shown,
        timeout
      );
    },
    { shown, timeout: TIMEOUT }
  );
  const after = await page.evaluate(
    () =>
      document.querySelector('canvas.jp-EspriVre-previewMap').dataset
        .renderedSelection
  );
  await page.waitForTimeout(500);
  marks.beforeFull();
  // The full resolution of the step shown, read from the chunks when asked for (issue 17);
  // null when the first picture was already at full resolution (no overview offered).
  const full = await page.evaluate(timeout => {
    const canvas = document.querySelector('canvas.jp-EspriVre-previewMap');
    const button = document.querySelector('button.jp-EspriVre-fullResolution');
    if (!button) {
      return null;
    }
    return window.__bench.timed(
      () => button.click(),
      () => canvas.dataset.resolution === 'full',
      timeout
    );
  }, TIMEOUT);
  return { first, next, full, shown: [shown, after], resolution };
}

async function h5web(page, task, marks) {
  // The file is selected in the file browser first: h5web's command opens the selection.
  await page.evaluate(
    async path =>
      window.jupyterapp.commands.execute('filebrowser:go-to-path', { path }),
    task.path
  );
  const name = task.path.split('/').pop();
  await page.waitForFunction(
    name =>
      [
        ...document.querySelectorAll('.jp-DirListing-item.jp-mod-selected')
      ].some(el => el.textContent.includes(name)),
    name,
    { timeout: TIMEOUT }
  );
  await page.waitForTimeout(500);
  const first = await page.evaluate(
    ({ variable, timeout }) => {
      let clicked = false;
      return window.__bench.timed(
        () => void window.jupyterapp.commands.execute('h5web-open'),
        () => {
          const root = document.querySelector('.h5web-root');
          if (!root) {
            return false;
          }
          if (!clicked) {
            // h5web opens on the root group: click the variable as soon as it is listed.
            const item = [
              ...root.querySelectorAll('[role="treeitem"], button')
            ].find(el => el.textContent.trim() === variable);
            if (item) {
              item.click();
              clicked = true;
            }
            return false;
          }
          const data = window.__bench.dataEntries();
          return (
            data.length > 0 &&
            data.every(e => e.responseEnd > 0) &&
            !!root.querySelector('canvas') &&
            !window.__bench.h5webLoading()
          );
        },
        timeout
      );
    },
    { variable: settings.variable, timeout: TIMEOUT }
  );
  marks.first(
    await page.evaluate(
      ({ t0, ms }) => window.__bench.lateAfter(t0, ms, '/h5web/'),
      first
    )
  );
  first.timeline = await page.evaluate(
    t0 => window.__bench.timeline(t0, '/h5web/'),
    first.t0
  );
  // Focused first, as a user's click would leave it; the clock starts at the key.
  await page
    .locator('.h5web-root [role="slider"][aria-orientation="vertical"]')
    .first()
    .focus();
  await page.waitForTimeout(500);
  marks.between();
  const next = await page.evaluate(timeout => {
    const before = window.__bench.dataEntries().length;
    // The slicing slider of the first dimension (not the colour limits' sliders).
    const thumb = document.querySelector(
      '.h5web-root [role="slider"][aria-orientation="vertical"]'
    );
    if (!thumb) {
      throw new Error('h5web shows no dimension slider');
    }
    return window.__bench.timed(
      () => {
        thumb.dispatchEvent(
          new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true })
        );
      },
      () => {
        const data = window.__bench.dataEntries();
        return (
          data.length > before &&
          data.every(e => e.responseEnd > 0) &&
          !window.__bench.h5webLoading()
        );
      },
      timeout
    );
  }, TIMEOUT);
  const slider = await page
    .locator('.h5web-root [role="slider"][aria-orientation="vertical"]')
    .first()
    .getAttribute('aria-valuenow');
  return { first, next, shown: [null, slider] };
}

/** The end of a URL, for the report: its last path segments and its query. */
function short(url) {
  const u = new URL(url);
  return decodeURIComponent(
    u.pathname.split('/').slice(-2).join('/') +
      u.search.replace(/token=\w+&?/, '')
  );
}

async function runTask(browser, task) {
  const server = settings.servers[task.side];
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 }
  });
  try {
    const page = await openLab(context, server);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const urls = new Map();
    const done = [];
    cdp.on('Network.requestWillBeSent', e =>
      urls.set(e.requestId, e.request.url)
    );
    cdp.on('Network.loadingFinished', e => {
      const url = urls.get(e.requestId);
      if (url && DATA[task.side](url)) {
        done.push({ url, bytes: e.encodedDataLength });
      }
    });
    let mark = -1;
    const run = task.side === 'ours' ? ours : h5web;
    let firstMark = -1;
    // Requests Chromium reported before the driver heard of the picture, but that ended
    // after it was drawn (the frames waited for are slow in software rendering).
    let firstLate = new Set();
    let nextMark = -1;
    const result = await run(page, task, {
      first: late => {
        firstMark = done.length;
        firstLate = new Set(late);
      },
      between: () => {
        mark = done.length;
      },
      beforeFull: () => {
        nextMark = done.length;
      }
    });
    await page.waitForTimeout(1000);
    const sum = list => list.reduce((s, r) => s + r.bytes, 0);
    // The data requests done when the first picture was drawn; those of the next 500 ms
    // (ours reads the next time step ahead then); the next step's; the full resolution's.
    const firstReqs = done
      .slice(0, firstMark)
      .filter(r => !firstLate.has(r.url));
    const aheadReqs = [
      ...done.slice(0, firstMark).filter(r => firstLate.has(r.url)),
      ...done.slice(firstMark, mark)
    ];
    const nextReqs = done.slice(mark, nextMark < 0 ? undefined : nextMark);
    const fullReqs = nextMark < 0 ? [] : done.slice(nextMark);
    const selector =
      task.side === 'ours'
        ? 'canvas.jp-EspriVre-previewMap'
        : '.h5web-root canvas';
    const colours = await distinctColours(page, cdp, selector);
    return {
      ...task,
      firstMs: result.first.ms,
      timeline: result.first.timeline,
      nextMs: result.next.ms,
      fullMs: result.full?.ms ?? null,
      resolution: result.resolution ?? 'full',
      firstBytes: sum(firstReqs),
      nextBytes: sum(nextReqs),
      aheadBytes: sum(aheadReqs),
      fullBytes: sum(fullReqs),
      firstRequests: firstReqs.map(r => [short(r.url), r.bytes]),
      aheadRequests: aheadReqs.map(r => [short(r.url), r.bytes]),
      nextRequests: nextReqs.map(r => [short(r.url), r.bytes]),
      shown: result.shown,
      colours
    };
  } catch (error) {
    return { ...task, error: String(error?.stack ?? error) };
  } finally {
    await context.close();
  }
}

const browser = await chromium.launch({
  executablePath: settings.chromium ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run'
  ]
});
const results = [];
try {
  for (const task of settings.tasks) {
    const result = await runTask(browser, task);
    results.push(result);
    console.error(
      `[preview-driver] ${task.side} ${task.label}: ${
        result.error
          ? result.error.split('\n')[0]
          : `${Math.round(result.firstMs)} ms, next ${Math.round(result.nextMs)} ms, ${result.firstBytes} B`
      }`
    );
  }
} finally {
  await browser.close();
}
console.log(`BENCH_JSON ${JSON.stringify({ results })}`);

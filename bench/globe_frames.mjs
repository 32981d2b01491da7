/**
 * The browser side of bench/bench_globe.py: Debian's Chromium (WebGL through
 * SwiftShader) driven by Playwright, on the real JupyterLab page of a running
 * jupyter server, one notebook per tool and round.
 *
 * Reads its settings from the environment variable ESPRI_GLOBE_BENCH (JSON:
 * baseUrl, token, runs: [{tool, notebook, points, threshold, timeoutMs, fps,
 * imagery}], fpsSeconds) and prints one line `BENCH_JSON [...]`, one result per run.
 * `imagery: false` takes our globe's imagery off once the empty globe is drawn (see
 * removeImagery), so that it is compared with maps drawn without a basemap.
 *
 * Every notebook has three cells: 0 makes the arrays in the kernel (not timed),
 * 1 displays the empty map or globe (not timed: the test waits until it drew a
 * frame), 2 adds the points (timed). The page is instrumented before any of its
 * scripts runs, the same way for every tool:
 *
 * - WebGL: `drawArrays` in POINTS mode counts `count` points (Cesium, our
 *   primitive), `drawArraysInstanced` / `drawElementsInstanced` count
 *   `instanceCount` (deck.gl's ScatterplotLayer draws one instance per point);
 * - Canvas 2D: `arc` counts one point (Leaflet's canvas renderer draws a
 *   CircleMarker with one arc).
 *
 * The draw calls of one task (one requestAnimationFrame callback renders a
 * frame in Cesium, deck.gl and Leaflet alike) make a frame; a microtask closes
 * it. The first frame that drew at least `threshold` points is forced to finish
 * (a one-pixel readPixels / getImageData waits for the GPU, here SwiftShader)
 * and its end time is the "first frame"; the time origin is taken in the page
 * just before JupyterLab's `notebook:run-cell` command runs cell 2.
 *
 * Frames per second while the camera turns: the mouse drags the map or globe
 * left and right for `fpsSeconds`; the frames that drew at least `threshold`
 * points in that window, divided by its length.
 */
/* global window, document, WebGLRenderingContext, WebGL2RenderingContext, CanvasRenderingContext2D -- the functions given to page.evaluate run in the page */
import { chromium } from 'playwright-core';
/** Runs in the page before its own scripts: counts the points drawn per frame. */
function instrument() {
  const bench = {
    frames: [],
    pending: -1,
    threshold: Infinity,
    t0: Infinity,
    first: null,
    max: 0,
    lastDraw: -Infinity,
    links: []
  };
  window.__bench = bench;
  let sync = null;
  const add = (n, finish) => {
    if (bench.pending < 0) {
      bench.pending = 0;
      queueMicrotask(() => {
        const points = bench.pending;
        bench.pending = -1;
        if (points >= bench.threshold && bench.first === null && sync) {
          const t = performance.now();
          if (t >= bench.t0) {
            sync();
            bench.first = performance.now();
          }
        }
        bench.max = Math.max(bench.max, points);
        bench.frames.push({ t: performance.now(), points });
        if (bench.frames.length > 100000) {
          bench.frames.splice(0, 50000);
        }
      });
    }
    bench.pending += n;
    sync = finish;
  };
  const pixel = new Uint8Array(4);
  for (const proto of [
    WebGLRenderingContext.prototype,
    WebGL2RenderingContext.prototype
  ]) {
    const gl = proto;
    const finishGl = ctx => () => {
      try {
        ctx.readPixels(0, 0, 1, 1, ctx.RGBA, ctx.UNSIGNED_BYTE, pixel);
      } catch {
        ctx.finish();
      }
    };
    const drawArrays = gl.drawArrays;
    gl.drawArrays = function (mode, first, count) {
      drawArrays.call(this, mode, first, count);
      bench.lastDraw = performance.now();
      if (mode === this.POINTS) {
        add(count, finishGl(this));
      }
    };
    // Shader programs linked (their cost shows at the first draw on
    // software WebGL): when and how long, for the report.
    const getProgramParameter = gl.getProgramParameter;
    gl.getProgramParameter = function (program, name) {
      const t = performance.now();
      const value = getProgramParameter.call(this, program, name);
      const ms = performance.now() - t;
      if (ms > 50) {
        const sources = (this.getAttachedShaders(program) ?? []).map(
          sh => this.getShaderSource(sh) ?? ''
        );
        bench.links.push({
          t,
          ms,
          lengths: sources.map(x => x.length),
          head: sources.map(x => x.slice(-300))
        });
      }
      return value;
    };
    const drawElements = gl.drawElements;
    gl.drawElements = function (mode, count, type, offset) {
      drawElements.call(this, mode, count, type, offset);
      bench.lastDraw = performance.now();
    };
    if ('drawArraysInstanced' in gl) {
      const drawArraysInstanced = gl.drawArraysInstanced;
      gl.drawArraysInstanced = function (mode, first, count, instances) {
        drawArraysInstanced.call(this, mode, first, count, instances);
        add(instances, finishGl(this));
      };
      const drawElementsInstanced = gl.drawElementsInstanced;
      gl.drawElementsInstanced = function (
        mode,
        count,
        type,
        offset,
        instances
      ) {
        drawElementsInstanced.call(this, mode, count, type, offset, instances);
        add(instances, finishGl(this));
      };
    }
  }
  // lonboard's parquet-wasm glue may be one release ahead of the WebAssembly the
  // driver can serve (see bench_globe.py): imports the glue does not provide
  // become functions that throw if ever called.
  const complete = (module, imports) => {
    for (const i of WebAssembly.Module.imports(module)) {
      const space = (imports[i.module] ??= {});
      if (i.kind === 'function' && !(i.name in space)) {
        space[i.name] = () => {
          throw new Error(`wasm import ${i.name} is not provided`);
        };
      }
    }
  };
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = async function (source, imports) {
    if (imports) {
      const module =
        source instanceof WebAssembly.Module
          ? source
          : await WebAssembly.compile(source);
      complete(module, imports);
      return instantiate.call(WebAssembly, module, imports).then(
        instance =>
          source instanceof WebAssembly.Module
            ? instance
            : { module, instance },
        error => {
          console.error(`wasm instantiate: ${error}`);
          throw error;
        }
      );
    }
    return instantiate.call(WebAssembly, source, imports);
  };
  WebAssembly.instantiateStreaming = async function (response, imports) {
    const bytes = await (await response).arrayBuffer();
    return WebAssembly.instantiate(bytes, imports);
  };
  // anywidget (lonboard) gives a model 2 s to load its module and bind, then
  // fails it: too short for lonboard's 4 MB module on this software-rendered,
  // shared machine. Time-outs made with AbortSignal.timeout are 30 times longer.
  const timeout = AbortSignal.timeout;
  AbortSignal.timeout = ms => timeout.call(AbortSignal, ms * 30);
  const c2d = CanvasRenderingContext2D.prototype;
  const arc = c2d.arc;
  c2d.arc = function (...args) {
    arc.apply(this, args);
    add(1, () => {
      this.getImageData(0, 0, 1, 1);
    });
  };
}
async function waitFor(page, fn, timeoutMs, what) {
  const handle = await page.waitForFunction(fn, undefined, {
    timeout: timeoutMs,
    polling: 250
  });
  const value = await handle.jsonValue();
  if (!value) {
    throw new Error(`timed out: ${what}`);
  }
  return value;
}
/** Runs one cell of the current notebook through JupyterLab's command. */
async function runCell(page, index) {
  return page.evaluate(async i => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    panel.content.activeCellIndex = i;
    const t0 = performance.now();
    window.__bench.t0 = i === 2 ? t0 : Infinity;
    void app.commands.execute('notebook:run-cell');
    return t0;
  }, index);
}
/** Waits until cell `index` has an execution count and the kernel is idle. */
async function cellDone(page, index, timeoutMs) {
  await page.waitForFunction(
    i => {
      const app = window.jupyterapp;
      const panel = app.shell.currentWidget;
      const cell = panel.content.widgets[i];
      const kernel = panel.sessionContext.session?.kernel;
      return (
        cell?.model.executionCount !== null &&
        !cell?.promptNode?.textContent?.includes('*') &&
        kernel?.status === 'idle'
      );
    },
    index,
    { timeout: timeoutMs, polling: 250 }
  );
}
async function cellErrors(page) {
  return page.evaluate(() =>
    [
      ...document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type*="error"], .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'
      )
    ]
      .map(e => e.textContent ?? '')
      .join('\n')
      .slice(0, 2000)
  );
}
/** The largest canvas in the output of cell 1: the map or the globe. */
async function viewCanvas(page) {
  const canvases = page.locator(
    '.jp-Notebook .jp-Cell:nth-child(2) .jp-OutputArea-output canvas'
  );
  const n = await canvases.count();
  let best = null;
  let area = 0;
  for (let i = 0; i < n; i++) {
    const box = await canvases.nth(i).boundingBox();
    if (box && box.width * box.height > area) {
      area = box.width * box.height;
      best = box;
    }
  }
  return best;
}
/** Waits until no WebGL draw call for 3 s, or at most two minutes. */
async function settle(page) {
  await page.evaluate(() => {
    const b = window.__bench;
    b.lastDraw = Math.max(b.lastDraw, performance.now());
  });
  await page
    .waitForFunction(
      () => performance.now() - window.__bench.lastDraw > 3000,
      undefined,
      { timeout: 120000, polling: 500 }
    )
    .catch(() => undefined);
}
/**
 * Takes the imagery off the globe of the page, for the rows that compare it with
 * maps drawn without a basemap: a bench-only switch, the product always shows its
 * imagery. Cesium's widget calls `Scene.prototype.render` on every animation frame
 * (its request-render mode decides inside whether to draw), so the next call names
 * the scene. Returns how many imagery layers were removed, or -1 when no scene
 * rendered within 10 s.
 */
async function removeImagery(page) {
  return page.evaluate(async () => {
    const Cs = window.Cesium;
    if (!Cs) {
      return -1;
    }
    const proto = Cs.Scene.prototype;
    const render = proto.render;
    const scene = await Promise.race([
      new Promise(resolve => {
        proto.render = function (...args) {
          proto.render = render;
          resolve(this);
          return render.apply(this, args);
        };
      }),
      new Promise(resolve => setTimeout(() => resolve(null), 10000))
    ]);
    proto.render = render;
    if (!scene) {
      return -1;
    }
    const n = scene.imageryLayers.length;
    scene.imageryLayers.removeAll();
    scene.requestRender();
    return n;
  });
}
async function one(settings, browser, run) {
  const result = {
    tool: run.tool,
    points: run.points,
    firstFrameMs: null,
    timedOut: false,
    error: null,
    framesInFps: null,
    fpsWindowMs: null,
    fps: null,
    maxPointsInAFrame: 0,
    shaderLinkMs: null,
    setupMs: 0,
    imagery: run.imagery !== false,
    imageryLayersRemoved: null
  };
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }
  });
  const page = await context.newPage();
  await page.addInitScript(instrument);
  if (settings.parquetWasm) {
    // lonboard fetches parquet-wasm's WebAssembly from a CDN at run time:
    // the same file from the npm registry, served locally.
    await page.route('**/parquet_wasm_bg.wasm', route =>
      route.fulfill({
        path: settings.parquetWasm,
        contentType: 'application/wasm'
      })
    );
  }
  const debug = process.env.ESPRI_GLOBE_DEBUG;
  if (debug) {
    page.on('console', async m => {
      const args = await Promise.all(
        m
          .args()
          .map(a =>
            a
              .evaluate(v =>
                v && v.stack
                  ? `${v.stack} cause: ${v.cause?.stack ?? v.cause}`
                  : String(v)
              )
              .catch(() => '?')
          )
      );
      console.error(
        `[page ${run.tool}] ${m.type()}: ${args.join(' ').slice(0, 1500)}`
      );
    });
    page.on('pageerror', e =>
      console.error(`[page ${run.tool}] error: ${String(e).slice(0, 300)}`)
    );
  }
  let cdp = null;
  let step = 'open';
  const start = Date.now();
  try {
    await page.goto(
      `${settings.baseUrl}/lab/tree/${run.notebook}?token=${settings.token}&reset`
    );
    await page.waitForFunction(
      () => {
        const app = window.jupyterapp;
        const panel = app?.shell?.currentWidget;
        return (
          panel?.content?.widgets?.length === 3 &&
          panel.sessionContext?.session?.kernel?.status === 'idle'
        );
      },
      undefined,
      { timeout: 180000, polling: 250 }
    );
    step = 'cell 0';
    await runCell(page, 0);
    await cellDone(page, 0, 180000);
    step = 'cell 1';
    await runCell(page, 1);
    await cellDone(page, 1, 180000);
    step = 'view';
    // The empty view is on the page (Leaflet makes its canvas with the first
    // vector layer).
    await page.waitForFunction(
      () =>
        document.querySelector(
          '.jp-Notebook .jp-Cell:nth-child(2) .jp-OutputArea-output :is(canvas, .leaflet-container)'
        ) !== null,
      undefined,
      { timeout: 180000, polling: 250 }
    );
    // ... and has settled: no WebGL draw call for 3 s (Cesium renders on
    // demand once its imagery is loaded and its shaders compiled; deck.gl
    // redraws only when something changed), or at most two minutes.
    await settle(page);
    if (run.imagery === false) {
      step = 'imagery off';
      result.imageryLayersRemoved = await removeImagery(page);
      await settle(page);
    }
    await page.evaluate(threshold => {
      const b = window.__bench;
      b.threshold = threshold;
      b.first = null;
      b.max = 0;
    }, run.threshold);
    result.setupMs = Date.now() - start;
    if (debug) {
      cdp = await context.newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    const t0 = await runCell(page, 2);
    try {
      const first = await waitFor(
        page,
        () => window.__bench.first,
        run.timeoutMs,
        'first frame'
      );
      result.firstFrameMs = first - t0;
    } catch (reason) {
      result.timedOut = /timeout|timed out/i.test(String(reason));
      result.error = String(reason).slice(0, 500);
      result.error += `\n${await cellErrors(page)}`;
      if (debug) {
        await page.screenshot({ path: `${debug}/${run.tool}-timeout.png` });
        const text = await page.evaluate(() =>
          document.querySelector('.jp-Notebook')?.textContent?.slice(-3000)
        );
        console.error(`[page ${run.tool}] notebook text: ${text}`);
      }
    }
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop');
      const fs = await import('node:fs');
      fs.writeFileSync(
        `${debug}/${run.tool}-${run.points}.cpuprofile`,
        JSON.stringify(profile)
      );
    }
    const links = await page.evaluate(t => {
      const b = window.__bench;
      return b.links.filter(
        l => l.t >= t && (b.first === null || l.t <= b.first)
      );
    }, t0);
    result.shaderLinkMs = links.reduce((sum, l) => sum + l.ms, 0);
    if (debug) {
      console.error(
        `[page ${run.tool}] programs linked: ${JSON.stringify(links).slice(0, 6000)}`
      );
    }
    result.maxPointsInAFrame = await page.evaluate(() => window.__bench.max);
    if (result.firstFrameMs !== null && run.fps) {
      await cellDone(page, 2, 120000);
      await page.waitForTimeout(2000);
      const box = await viewCanvas(page);
      if (!box) {
        throw new Error('no canvas to drag');
      }
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      const before = await page.evaluate(() => window.__bench.frames.length);
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      const tStart = await page.evaluate(() => performance.now());
      const wall = Date.now();
      let k = 0;
      while (Date.now() - wall < settings.fpsSeconds * 1000) {
        const dx = 120 * Math.sin(k / 10);
        await page.mouse.move(cx + dx, cy + 20 * Math.sin(k / 23), {
          steps: 1
        });
        k++;
      }
      const tEnd = await page.evaluate(() => performance.now());
      await page.mouse.up();
      const frames = await page.evaluate(
        ([from, t1, t2, threshold]) =>
          window.__bench.frames
            .slice(from)
            .filter(f => f.t >= t1 && f.t <= t2 && f.points >= threshold)
            .length,
        [before, tStart, tEnd, run.threshold]
      );
      result.framesInFps = frames;
      result.fpsWindowMs = tEnd - tStart;
      result.fps = frames / ((tEnd - tStart) / 1000);
    }
  } catch (reason) {
    result.error = `${result.error ?? ''}[${step}] ${String(reason).slice(0, 1000)}`;
    if (process.env.ESPRI_GLOBE_DEBUG) {
      await page
        .screenshot({
          path: `${process.env.ESPRI_GLOBE_DEBUG}/${run.tool}-failure.png`
        })
        .catch(() => undefined);
    }
  } finally {
    await context.close().catch(() => undefined);
  }
  return result;
}
async function main() {
  const settings = JSON.parse(process.env.ESPRI_GLOBE_BENCH ?? '{}');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-renderer-backgrounding',
      '--disable-background-timer-throttling'
    ]
  });
  const results = [];
  try {
    for (const run of settings.runs) {
      const r = await one(settings, browser, run);
      results.push(r);
      console.error(`[globe_frames] ${JSON.stringify(r)}`);
      // The kernel of this run is shut down before the next one starts.
      const headers = { Authorization: `token ${settings.token}` };
      const sessions = await (
        await fetch(`${settings.baseUrl}/api/sessions`, { headers })
      ).json();
      for (const s of sessions) {
        await fetch(`${settings.baseUrl}/api/sessions/${s.id}`, {
          method: 'DELETE',
          headers
        });
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`BENCH_JSON ${JSON.stringify(results)}`);
}
void main();

import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChunkCache } from '../src/chunk-cache';
import { openZarr, readSeries, readSlice } from '../src/reader';
import { buildDemo, DemoServer, FILES_ROUTE } from './demo-server';
import { runPython } from './python';

/**
 * The chunk cache on the demo's Zarr v2 store: tas is 36 x 90 x 180 in chunks of
 * 12 x 45 x 90, so a map needs 4 chunks (2 x 2) of ~30 KiB compressed each.
 */
let server: DemoServer;
let url: string;
let expected: { slice0: number[]; slice20: number[] };

beforeAll(async () => {
  const dir = await buildDemo();
  server = new DemoServer(dir);
  await server.start();
  url = `${server.base}${FILES_ROUTE}data/tas_demo_monthly.zarr`;
  expected = runPython(
    `
import json, sys, xarray as xr
ds = xr.open_zarr(sys.argv[1])
print(json.dumps({"slice0": [float(v) for v in ds.tas.isel(time=0).values.ravel()],
                  "slice20": [float(v) for v in ds.tas.isel(time=20).values.ravel()]}))
`,
    [join(dir, 'data', 'tas_demo_monthly.zarr')]
  );
}, 120_000);

afterAll(() => server?.close());

beforeEach(() => {
  server.release();
  server.reset();
});

/** The chunk requests the server saw (metadata excluded). */
function chunkRequests(): string[] {
  return server.requested.filter(p => /\/tas\/\d+\.\d+\.\d+$/.test(p));
}

function expectValues(actual: Float64Array, wanted: number[]): void {
  expect(actual.length).toBe(wanted.length);
  for (let i = 0; i < wanted.length; i += 97) {
    expect(actual[i]).toBeCloseTo(wanted[i], 4);
  }
}

describe('the chunk cache', () => {
  it('fetches a chunk once: showing a step again sends no request', async () => {
    const dataset = await openZarr(url, r => fetch(r));
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    const first = await readSlice(dataset, tas, [0, null, null]);
    expect(chunkRequests().length).toBe(4);
    // Steps 0..11 share their chunks: no new request for any of them.
    const again = await readSlice(dataset, tas, [0, null, null]);
    await readSlice(dataset, tas, [11, null, null]);
    expect(chunkRequests().length).toBe(4);
    expectValues(again.values, expected.slice0);
    expect(Array.from(again.values)).toEqual(Array.from(first.values));
    const stats = dataset.cache.stats;
    expect(stats.hits).toBeGreaterThanOrEqual(8);
    expect(stats.bytes).toBeGreaterThan(0);
    expect(dataset.readChunks.get('tas')).toEqual(
      new Set(['0,0,0', '0,0,1', '0,1,0', '0,1,1'])
    );
  });

  it('keeps within its byte budget, dropping the least recently used chunks', async () => {
    // A budget a little above one time chunk's four chunks.
    const probe = await openZarr(url, r => fetch(r));
    const tas = probe.variables.find(v => v.name === 'tas')!;
    await readSlice(probe, tas, [0, null, null]);
    const oneStep = probe.cache.stats.bytes;
    server.reset();

    const dataset = await openZarr(url, r => fetch(r), {
      cache: { maxBytes: Math.round(oneStep * 1.5) }
    });
    await readSlice(dataset, tas, [0, null, null]);
    await readSlice(dataset, tas, [20, null, null]);
    expect(chunkRequests().length).toBe(8);
    expect(dataset.cache.stats.bytes).toBeLessThanOrEqual(oneStep * 1.5);
    // The chunks of step 20 are the most recent: kept. Those of step 0 were dropped.
    const slice20 = await readSlice(dataset, tas, [20, null, null]);
    expect(chunkRequests().length).toBe(8);
    expectValues(slice20.values, expected.slice20);
    const slice0 = await readSlice(dataset, tas, [0, null, null]);
    expect(chunkRequests().length).toBeGreaterThan(8);
    expectValues(slice0.values, expected.slice0);
  });

  it('sends at most `concurrency` requests at once', async () => {
    const dataset = await openZarr(url, r => fetch(r), {
      cache: { concurrency: 2 }
    });
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    server.reset();
    server.hold();
    // The series at a point needs the 3 time chunks; the map 4 chunks, one shared.
    const series = readSeries(dataset, tas, [null, 10, 123]);
    const slice = readSlice(dataset, tas, [0, null, null]);
    await server.arrived(2);
    // Held: two on their way, the other four queued in the browser.
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(server.requested.length).toBe(2);
    expect(dataset.cache.stats.active).toBe(2);
    server.release();
    await Promise.all([series, slice]);
    expect(chunkRequests().length).toBe(6);
    expect(server.maxActive).toBeLessThanOrEqual(2);
    expect(dataset.cache.stats.maxActive).toBe(2);
    expectValues((await slice).values, expected.slice0);
  });

  it('cancels the requests of a step the user moved away from', async () => {
    const dataset = await openZarr(url, r => fetch(r), {
      cache: { concurrency: 2 }
    });
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    server.reset();
    server.hold();
    // The store's metadata (.zmetadata, and the probe for a v3 zarr.json) is kept already.
    const metadataEntries = dataset.cache.stats.entries;
    const controller = new AbortController();
    const moved = readSlice(dataset, tas, [0, null, null], controller.signal);
    await server.arrived(2);
    controller.abort();
    await expect(moved).rejects.toThrow(/abort/i);
    // The two on their way were cut, the two queued never sent.
    const stats = dataset.cache.stats;
    expect(stats.cancelled).toBe(4);
    expect(stats.entries).toBe(metadataEntries);
    server.release();
    // The next step reads normally.
    const next = await readSlice(dataset, tas, [20, null, null]);
    expectValues(next.values, expected.slice20);
    expect(
      server.requested.filter(
        p => p.endsWith('/tas/0.0.0') || p.endsWith('/tas/0.1.1')
      ).length
    ).toBeLessThanOrEqual(2);
    expect(chunkRequests().filter(p => /\/tas\/1\./.test(p)).length).toBe(4);
  });

  it('keeps a shared request alive while another reader still waits for it', async () => {
    const dataset = await openZarr(url, r => fetch(r));
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    server.reset();
    server.hold();
    const leaving = new AbortController();
    const a = readSlice(dataset, tas, [0, null, null], leaving.signal);
    const b = readSlice(dataset, tas, [1, null, null]);
    await server.arrived(4);
    leaving.abort();
    await expect(a).rejects.toThrow(/abort/i);
    server.release();
    const slice = await b;
    expect(chunkRequests().length).toBe(4);
    expect(dataset.cache.stats.cancelled).toBe(0);
    expect(slice.values.length).toBe(90 * 180);
  });

  it('refuses a budget or concurrency it cannot use', () => {
    const inner = { get: async () => undefined };
    expect(() => new ChunkCache(inner, { maxBytes: 0 })).toThrow(
      'The chunk cache needs a positive byte budget and concurrency (got 0 bytes, 6 requests).'
    );
    expect(() => new ChunkCache(inner, { concurrency: 0.5 })).toThrow(
      /0.5 requests/
    );
  });
});

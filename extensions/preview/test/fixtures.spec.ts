import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataVariables, findAxes } from '../src/axes';
import {
  openReferences,
  openZarr,
  readDecoded,
  readSlice
} from '../src/reader';
import { DemoServer, FILES_ROUTE } from './demo-server';
import { runPython } from './python';

/**
 * Every file of ../shared/fixtures/preview (real files from kerchunk's and zarrita's
 * repositories, see SOURCES.txt there) opens, or fails with a message that names why.
 */
const FIXTURES = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../../../shared/fixtures/preview'
);
const present = existsSync(FIXTURES);

/** What each fixture file is tested as; a new file without an entry fails the test. */
const HANDLED = new Set([
  'SOURCES.txt',
  'kerchunk_netcdf4_wrf_single_file.json',
  'kerchunk_test_hdf5_mini_blosc.h5',
  'kerchunk_test_hdf5_mini_shuffle_zstd.h5',
  'zarrita_fixture_v2_consolidated.zmetadata',
  'zarrita_fixture_v3_sharded_gzip.zarr.json'
]);

if (!present) {
  describe('the shared preview fixtures', () => {
    it.skip(`are absent (${FIXTURES}): these tests need ../shared beside the repository`, () => {
      // Skipped: nothing to read.
    });
  });
}

describe.runIf(present)('the shared preview fixtures', () => {
  let dir: string;
  let server: DemoServer;

  beforeAll(async () => {
    // Laid out as the stores they come from: data.zarr/.zmetadata, a v3 array folder.
    dir = mkdtempSync(join(tmpdir(), 'espri-vre-fixtures-'));
    mkdirSync(join(dir, 'v2.zarr'));
    copyFileSync(
      join(FIXTURES, 'zarrita_fixture_v2_consolidated.zmetadata'),
      join(dir, 'v2.zarr', '.zmetadata')
    );
    mkdirSync(join(dir, 'sharded.zarr'));
    copyFileSync(
      join(FIXTURES, 'zarrita_fixture_v3_sharded_gzip.zarr.json'),
      join(dir, 'sharded.zarr', 'zarr.json')
    );
    for (const name of readdirSync(FIXTURES)) {
      if (name.endsWith('.h5')) {
        copyFileSync(join(FIXTURES, name), join(dir, name));
      }
    }
    server = new DemoServer(dir);
    await server.start();
  });

  afterAll(() => server?.close());

  it('has a test for every file in the folder', () => {
    expect(readdirSync(FIXTURES).filter(n => !HANDLED.has(n))).toEqual([]);
  });

  it.each([
    'kerchunk_test_hdf5_mini_blosc.h5',
    'kerchunk_test_hdf5_mini_shuffle_zstd.h5'
  ])(
    '%s: the server references it, the browser decodes its codecs as h5py',
    async name => {
      const expected = runPython<{
        refs: { refs: Record<string, unknown> };
        data: number[];
        shape: number[];
      }>(
        `
import json, sys
from pathlib import Path
import h5py, hdf5plugin
from espri_vre.data.references import references_for
path = Path(sys.argv[1])
refs = references_for(path, sys.argv[2], cache=None)
with h5py.File(path) as f:
    data = f["data"][...]
print(json.dumps({"refs": json.loads(refs.body), "data": data.ravel().tolist(), "shape": list(data.shape)}))
`,
        [join(dir, name), name]
      );
      const dataset = openReferences(
        expected.refs,
        `${server.base}/${name}`,
        r => fetch(r)
      );
      const data = dataset.variables.find(v => v.name === 'data')!;
      expect(data.shape).toEqual(expected.shape);
      const { values } = await readDecoded(dataset, data, null);
      expect(Array.from(values)).toEqual(expected.data);
      expect(expected.data).toEqual([0, 1, 2, 3, 4, 5]);
    }
  );

  it('kerchunk_netcdf4_wrf_single_file.json: its WRF variables open; chunks are Range requests on the s3 object', async () => {
    const spec = JSON.parse(
      readFileSync(
        join(FIXTURES, 'kerchunk_netcdf4_wrf_single_file.json'),
        'utf-8'
      )
    );
    const asked: [string, string | null][] = [];
    // Offline: the object store answers that it has no such object.
    const dataset = openReferences(spec, 'unused', async request => {
      asked.push([request.url, request.headers.get('Range')]);
      return new Response(null, { status: 404 });
    });
    const names = dataVariables(dataset.variables).map(v => v.name);
    expect(names).toContain('ALBEDO');
    const albedo = dataset.variables.find(v => v.name === 'ALBEDO')!;
    expect(albedo.dims.length).toBe(3);
    expect(findAxes(albedo, dataset.variables).time).not.toBeNull();
    const slice = await readSlice(dataset, albedo, [0, null, null]);
    // A missing object is the fill value (zarrita's reading of a 404).
    expect(slice.values.every(v => Number.isNaN(v) || v === 0)).toBe(true);
    expect(asked[0][0]).toMatch(/WRFDS_2060-01-01\.nc$/);
    expect(asked[0][1]).toBe(`bytes=3646300-${3646300 + 126151 - 1}`);
  });

  it('zarrita_fixture_v2_consolidated.zmetadata: lists every array; each reads or names its problem', async () => {
    const dataset = await openZarr(`${server.base}${FILES_ROUTE}v2.zarr`, r =>
      fetch(r)
    );
    const meta = JSON.parse(
      readFileSync(
        join(FIXTURES, 'zarrita_fixture_v2_consolidated.zmetadata'),
        'utf-8'
      )
    ).metadata as Record<string, { dtype: string; shape: number[] }>;
    const arrays = Object.keys(meta)
      .filter(k => k.endsWith('/.zarray'))
      .map(k => k.slice(0, -'/.zarray'.length))
      .sort();
    expect(dataset.variables.map(v => v.name).sort()).toEqual(arrays);
    const outcomes: Record<string, string> = {};
    for (const variable of dataset.variables) {
      expect(variable.shape).toEqual(meta[`${variable.name}/.zarray`].shape);
      try {
        // No chunk was copied: every chunk is missing, so the fill value.
        const { values } = await readDecoded(dataset, variable, null);
        outcomes[variable.name] = `${values.length} values`;
      } catch (reason) {
        outcomes[variable.name] = (reason as Error).message;
      }
    }
    for (const [name, outcome] of Object.entries(outcomes)) {
      if (/^\d+ values$/.test(outcome)) {
        continue;
      }
      // Text and object arrays have no map, and the message says so.
      expect(outcome, `${name}: ${outcome}`).toMatch(
        /holds .* values, which have no map/
      );
    }
    expect(outcomes['3d.chunked.i2']).toBe('27 values');
    expect(outcomes['1d.contiguous.fixedscaleoffset.f4']).toBe('4 values');
  });

  it('zarrita_fixture_v3_sharded_gzip.zarr.json: a lone sharded array opens as itself', async () => {
    const dataset = await openZarr(`${server.base}/sharded.zarr`, r =>
      fetch(r)
    );
    expect(dataset.variables.map(v => [v.name, v.shape, v.dtype])).toEqual([
      ['sharded.zarr', [4, 4], 'int16']
    ]);
    const slice = await readSlice(dataset, dataset.variables[0], [null, null]);
    // The shards were not copied: the fill value everywhere, which xarray reads as data
    // in a Zarr v3 array (only a _FillValue attribute masks there): zeros, not missing.
    expect(slice.values.length).toBe(16);
    expect(slice.values.every(v => v === 0)).toBe(true);
  });
});

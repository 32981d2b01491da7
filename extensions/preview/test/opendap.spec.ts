// @vitest-environment jsdom
import { ApiError, type DatasetReference } from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinateLabels } from '../src/cf';
import { readDecoded } from '../src/reader';
import { openPreparedSource, previewChoice } from '../src/sources';
import {
  expectLikeXarray,
  type ILoopback,
  runPython,
  SAMPLE,
  startLoopback
} from './loopback';

/**
 * OPeNDAP previews in the browser's way: a real OPeNDAP server on the loopback
 * (pydap's server, kernels-bridge/tests/opendap_server.py) serving
 * ../shared/data/cmip6-sample, the suite's real Jupyter server allow-listing it, the
 * dataset opened as the preview opens a catalogue's OPeNDAP access (its metadata
 * through the API, then zarrita on data/opendap/?url=) and read with our CF decoding.
 * One file of each model of the sample (its grids and calendars), every numeric
 * variable at its last time step, equals xarray's reading of the local file in the
 * same run (float32 precision relative to xarray's value), time labels equal cftime's;
 * the Python tests compare every file. An unreachable server and an HTML page get
 * the server's sentence.
 */
const present = existsSync(SAMPLE);
const trans = nullTranslator.load('espri_vre');

type Values = (number | null)[];

interface IExpectedFile {
  file: string;
  values: Record<string, [(number | null)[] | null, Values]>;
  labels: string[];
}

const SCRIPT = `
import json, sys, warnings
from pathlib import Path
import numpy as np, xarray as xr
warnings.simplefilter("ignore")
root = Path(sys.argv[1])
plain = lambda a: [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype="f8").ravel()]
cftime = xr.coders.CFDatetimeCoder(use_cftime=True)
models, files = set(), []
for path in sorted(root.rglob("*.nc")):
    model = path.relative_to(root).parts[3]
    if model in models:
        continue
    models.add(model)
    ds = xr.open_dataset(path, decode_times=cftime)
    values = {}
    for name, var in ds.variables.items():
        if var.dtype.kind not in "fiu":
            continue
        sel = [var.shape[0] - 1] + [None] * (var.ndim - 1) if var.ndim >= 2 else None
        data = var.isel({var.dims[0]: var.shape[0] - 1}) if var.ndim >= 2 else var
        values[name] = [sel, plain(data.values)]
    labels = [t.isoformat(" ") for t in ds.time.values] if "time" in ds else []
    files.append({"file": path.relative_to(root).as_posix(), "values": values, "labels": labels})
print(json.dumps(files))
`;

if (!present) {
  describe('the CMIP6 sample', () => {
    it.skip(`is absent (${SAMPLE}): these tests need ../shared beside the repository`, () => {
      // Skipped: nothing to read.
    });
  });
}

let loopback: ILoopback<{ dap: number; html: number; closed: number }>;
let ports: { dap: number; html: number; closed: number };
let settings: ServerConnection.ISettings;
let expected: IExpectedFile[];
let rootDir: string;

/** The OPeNDAP server and the suite's Jupyter server (one Python process). */
async function startServers(): Promise<void> {
  rootDir = mkdtempSync(join(tmpdir(), 'espri-vre-opendap-'));
  symlinkSync(SAMPLE, join(rootDir, 'cmip6'));
  loopback = await startLoopback(
    'opendap_server.py',
    [rootDir, '--jupyter', rootDir],
    rootDir
  );
  ports = loopback.line;
  settings = loopback.settings!;
}

const open = (url: string) =>
  openPreparedSource({ kind: 'opendap', url }, settings, trans, () => {});

describe('previewChoice', () => {
  const dataset = (access: DatasetReference['access']): DatasetReference => ({
    id: 'd',
    title: 'd',
    source: { catalog_id: 'c', kind: 'thredds' },
    identifiers: {},
    access
  });
  const dodsC = 'https://thredds.example.org/thredds/dodsC/cmip6/tas.nc';

  it('previews an OPeNDAP endpoint when it is the only readable access', () => {
    const choice = previewChoice(
      dataset([
        { url: `${dodsC}.html`, protocol: 'http', media_type: 'text/html' },
        { url: dodsC, protocol: 'opendap', description: 'OPENDAP' }
      ])
    );
    expect(choice?.source).toEqual({ kind: 'opendap', url: dodsC });
    expect(choice?.access.map(a => a.description)).toEqual(['OPENDAP']);
  });

  it('prefers the file by Range requests to the same data over OPeNDAP', () => {
    const file = dodsC.replace('dodsC', 'fileServer');
    expect(
      previewChoice(
        dataset([
          { url: dodsC, protocol: 'opendap' },
          { url: file, protocol: 'http' }
        ])
      )?.source.kind
    ).toBe('remote');
  });
});

describe.runIf(present)('OPeNDAP datasets through the server', () => {
  beforeAll(async () => {
    [expected] = await Promise.all([
      runPython<IExpectedFile[]>(SCRIPT, [SAMPLE]),
      startServers()
    ]);
  }, 300_000);

  afterAll(() => {
    loopback?.stop();
    if (rootDir) {
      rmSync(rootDir, { recursive: true, force: true });
    }
  });

  it('reads one file of each model as xarray decodes it', async () => {
    expect(expected.length).toBeGreaterThan(4);
    let compared = 0;
    for (const file of expected) {
      const url = `http://127.0.0.1:${ports.dap}/cmip6/${encodeURI(file.file)}`;
      const { dataset, origin } = await open(url);
      expect(origin).toEqual({ format: 'opendap', location: url });
      for (const [name, [selection, wanted]] of Object.entries(file.values)) {
        const variable = dataset.variables.find(v => v.name === name);
        expect(variable, `${file.file}: ${name}`).toBeDefined();
        const { values } = await readDecoded(dataset, variable!, selection);
        expectLikeXarray(values, wanted, `${file.file}: ${name}`);
        compared++;
      }
      const time = dataset.variables.find(v => v.name === 'time')!;
      const { values } = await readDecoded(dataset, time, null);
      expect(coordinateLabels(values, time.attrs), file.file).toEqual(
        file.labels
      );
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('says when the server cannot be reached or is no OPeNDAP server', async () => {
    const closed = await open(`http://127.0.0.1:${ports.closed}/tas.nc`).catch(
      e => e
    );
    expect(closed).toBeInstanceOf(ApiError);
    expect(closed.status).toBe(502);
    expect(closed.message).toMatch(/cannot be reached.*connection refused/);
    const html = await open(`http://127.0.0.1:${ports.html}/tas.nc`).catch(
      e => e
    );
    expect(html).toBeInstanceOf(ApiError);
    expect(html.message).toMatch(/answered an HTML page, not an OPeNDAP/);
  });
});

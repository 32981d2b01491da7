// @vitest-environment jsdom
import { ApiError } from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { waitFor } from '@testing-library/react';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinateLabels } from '../src/cf';
import {
  authenticatedFetch,
  fetchCombinedReferences,
  fetchRemoteReferences
} from '../src/connection';
import { openReferences, readDecoded } from '../src/reader';
import { PreviewWidget } from '../src/widget';
import {
  expectLikeXarray,
  type ILoopback,
  runPython,
  SAMPLE,
  startLoopback
} from './loopback';

/**
 * Every variable of every file of ../shared/data/cmip6-sample read as a remote file: a
 * real data server on the loopback (tornado's StaticFileHandler, with Range), the
 * suite's real Jupyter server allow-listing it (references by Range requests, chunks
 * through data/remote/bytes), zarrita and our CF decoding in the browser's way; and
 * every multi-file group of the sample intake-esm catalogue combined by the server.
 * Both equal xarray's values computed in the same run (xr.open_dataset on the local
 * file, xr.open_mfdataset on a member's files), within float32 precision relative to
 * xarray's value; time labels equal cftime's.
 */
// Paths from this file's own (under jsdom, URL is jsdom's, which fileURLToPath refuses).
const HERE = dirname(fileURLToPath(import.meta.url));
const CATALOG = resolve(
  HERE,
  '../../../../shared/data/intake-esm-catalogs/cmip6-netcdf-test.csv'
);
const present = existsSync(SAMPLE) && existsSync(CATALOG);

type Values = (number | null)[];

interface IExpected {
  files: {
    file: string;
    values: Record<string, [(number | null)[] | null, Values]>;
    labels: string[];
  }[];
  groups: {
    key: string;
    paths: string[];
    /** member -> variable -> values at every time of that member (time-major). */
    members: Record<
      string,
      Record<string, { labels: string[]; values: Values }>
    >;
  }[];
}

const SCRIPT = `
import json, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd, xarray as xr
warnings.simplefilter("ignore")
root, catalog = Path(sys.argv[1]), sys.argv[2]
plain = lambda a: [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype="f8").ravel()]
cftime = xr.coders.CFDatetimeCoder(use_cftime=True)
files = []
for path in sorted(root.rglob("*.nc")):
    raw = xr.open_dataset(path, decode_times=False)
    values = {}
    for name, var in raw.variables.items():
        if var.dtype.kind not in "fiu":
            continue
        sel = [var.shape[0] - 1] + [None] * (var.ndim - 1) if var.ndim >= 2 else None
        data = var.isel({var.dims[0]: var.shape[0] - 1}) if var.ndim >= 2 else var
        values[name] = [sel, plain(data.values)]
    ds = xr.open_dataset(path, decode_times=cftime)
    labels = [t.isoformat(" ") for t in ds.time.values] if "time" in ds else []
    files.append({"file": path.relative_to(root).as_posix(), "values": values, "labels": labels})
df = pd.read_csv(catalog)
df["path"] = [p.split("sample_data/cmip/", 1)[1] for p in df.path]
by = ["activity_id", "institution_id", "source_id", "experiment_id", "table_id", "grid_label"]
groups = []
for key, g in df.groupby(by):
    if len(g) < 2:
        continue
    members = {}
    for (member, variable), rows in g.groupby(["member_id", "variable_id"]):
        with xr.open_mfdataset([root / p for p in sorted(rows.path)], decode_times=cftime) as ds:
            members.setdefault(member, {})[variable] = {
                "labels": [t.isoformat(" ") for t in ds.time.values],
                "values": plain(ds[variable].transpose("time", ...).values),
            }
    groups.append({"key": ".".join(key), "paths": list(g.path), "members": members})
print(json.dumps({"files": files, "groups": groups}))
`;

if (!present) {
  describe('the CMIP6 sample', () => {
    it.skip(`is absent (${SAMPLE}): these tests need ../shared beside the repository`, () => {
      // Skipped: nothing to read.
    });
  });
}

/** Run a Python script and parse the JSON it prints last (not blocking the workers). */
let loopback: ILoopback<{ range: number; norange: number; closed: number }>;
let servers: { range: number; norange: number; closed: number };
let settings: ServerConnection.ISettings;
let expected: IExpected;
let rootDir: string;

/** Start the data servers and the suite's Jupyter server (one Python process). */
async function startServers(): Promise<void> {
  rootDir = mkdtempSync(join(tmpdir(), 'espri-vre-remote-'));
  loopback = await startLoopback(
    'remote_servers.py',
    [SAMPLE, '--jupyter', SAMPLE],
    rootDir
  );
  servers = loopback.line;
  settings = loopback.settings!;
}

const fileUrl = (kind: string, path: string): string =>
  `http://127.0.0.1:${servers.range}/${kind}/${path}`;

describe.runIf(present)('remote files and combined datasets', () => {
  beforeAll(async () => {
    [expected] = await Promise.all([
      runPython<IExpected>(SCRIPT, [SAMPLE, CATALOG]),
      startServers()
    ]);
  }, 300_000);

  afterAll(() => {
    loopback?.stop();
    if (rootDir) {
      rmSync(rootDir, { recursive: true, force: true });
    }
  });

  it('reads every variable of every sample file over HTTP as xarray decodes it', async () => {
    expect(expected.files.length).toBeGreaterThan(50);
    const fetchFn = authenticatedFetch(settings);
    let compared = 0;
    for (const file of expected.files) {
      const { spec, target } = await fetchRemoteReferences(
        fileUrl('files', encodeURI(file.file)),
        settings
      );
      expect(target).toContain('espri-vre/api/data/remote/bytes?url=http');
      const dataset = openReferences(spec, target, fetchFn);
      for (const [name, [selection, wanted]] of Object.entries(file.values)) {
        const variable = dataset.variables.find(v => v.name === name);
        expect(variable, `${file.file}: ${name}`).toBeDefined();
        const { values } = await readDecoded(dataset, variable!, selection);
        expectLikeXarray(values, wanted, `${file.file}: ${name}`);
        compared++;
      }
      if (file.labels.length) {
        const time = dataset.variables.find(v => v.name === 'time')!;
        const { values } = await readDecoded(dataset, time, null);
        expect(coordinateLabels(values, time.attrs), file.file).toEqual(
          file.labels
        );
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('combines every multi-file group of the sample catalogue as xr.open_mfdataset does', async () => {
    expect(expected.groups.length).toBe(13);
    const fetchFn = authenticatedFetch(settings);
    for (const group of expected.groups) {
      const spec = await fetchCombinedReferences(group.paths, settings);
      const dataset = openReferences(spec, null, fetchFn);
      const time = dataset.variables.find(v => v.name === 'time')!;
      const labels = coordinateLabels(
        (await readDecoded(dataset, time, null)).values,
        time.attrs
      );
      // The members as the map's slider labels them (a coordinate of names).
      const memberVar = dataset.variables.find(v => v.name === 'member_id');
      const members = memberVar
        ? coordinateLabels(
            (await readDecoded(dataset, memberVar, null)).values,
            memberVar.attrs
          )
        : [];
      expect([...members].sort(), group.key).toEqual(
        memberVar ? Object.keys(group.members).sort() : []
      );
      for (const [member, variables] of Object.entries(group.members)) {
        for (const [name, want] of Object.entries(variables)) {
          const variable = dataset.variables.find(v => v.name === name)!;
          const memberAt = memberVar ? variable.dims.indexOf('member_id') : -1;
          const timeAt = variable.dims.indexOf('time');
          const rows: number[] = [];
          for (const label of want.labels) {
            const selection: (number | null)[] = variable.shape.map(() => null);
            selection[timeAt] = labels.indexOf(label);
            if (memberAt >= 0) {
              selection[memberAt] = members.indexOf(member);
            }
            const { values } = await readDecoded(dataset, variable, selection);
            rows.push(...values);
          }
          expectLikeXarray(
            rows,
            want.values,
            `${group.key}: ${member} ${name}`
          );
        }
      }
    }
  });

  it.each([
    ['norange', 'ignores HTTP Range requests'],
    ['portal', 'answered an HTML page instead of the file'],
    ['closed', 'The data server cannot be reached: connection refused']
  ])(
    'says what a %s server did instead of serving chunks',
    async (kind, words) => {
      const path = encodeURI(expected.files[0].file);
      const url =
        kind === 'portal'
          ? fileUrl('portal', path)
          : `http://127.0.0.1:${kind === 'norange' ? servers.norange : servers.closed}/${path}`;
      const failed = await fetchRemoteReferences(url, settings).catch(e => e);
      expect(failed).toBeInstanceOf(ApiError);
      expect((failed as ApiError).status).toBe(502);
      expect((failed as ApiError).detail).toContain(words);
    }
  );

  it('shows the server sentence alone in the preview when a data server ignores Range', async () => {
    const url = `http://127.0.0.1:${servers.norange}/${encodeURI(expected.files[0].file)}`;
    const widget = new PreviewWidget({
      source: { kind: 'remote', url, service: 'HTTPServer' },
      settings,
      trans: nullTranslator.load('espri_vre')
    });
    Widget.attach(widget, document.body);
    try {
      const error = await waitFor(() => {
        const found = widget.node.querySelector('.jp-EspriVre-previewError');
        expect(found).not.toBeNull();
        return found!;
      });
      expect(error.getAttribute('role')).toBe('alert');
      expect(error.textContent).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/CMIP6\/.* ignores HTTP Range requests .* or open it in a notebook\.$/
      );
    } finally {
      Widget.detach(widget);
      widget.dispose();
    }
  });
});

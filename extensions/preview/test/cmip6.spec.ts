import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinateLabels } from '../src/cf';
import { openReferences, readDecoded } from '../src/reader';
import { DemoServer } from './demo-server';
import { runPython } from './python';

/**
 * Every variable of every file of ../shared/data/cmip6-sample, read in the browser's way
 * (server references, Range requests, zarrita, CF decoding here) equals xarray's decoded
 * values computed in the same run; the time labels equal cftime's.
 */
const SAMPLE = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../../../shared/data/cmip6-sample'
);
const present = existsSync(SAMPLE);

interface IExpected {
  file: string;
  refs: { refs: Record<string, unknown> };
  /** variable -> [selection, values (null: missing)] */
  values: Record<string, [(number | null)[] | null, (number | null)[]]>;
  labels: string[];
}

const SCRIPT = `
import glob, json, sys, warnings
from pathlib import Path
import numpy as np, xarray as xr
from espri_vre.data.references import references_for
warnings.simplefilter("ignore")
root = Path(sys.argv[1])
out = []
for path in sorted(root.rglob("*.nc")):
    rel = path.relative_to(root).as_posix()
    refs = json.loads(references_for(path, rel, cache=None).body)
    raw = xr.open_dataset(path, decode_times=False)
    values = {}
    for name, var in raw.variables.items():
        if var.dtype.kind not in "fiu":
            continue
        # The last step of the first dimension when there are two or more, as a map does.
        sel = [var.shape[0] - 1] + [None] * (var.ndim - 1) if var.ndim >= 2 else None
        data = var.isel({var.dims[0]: var.shape[0] - 1}) if var.ndim >= 2 else var
        values[name] = [sel, [None if np.isnan(v) else float(v) for v in np.asarray(data.values, dtype="f8").ravel()]]
    ds = xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))
    labels = [t.isoformat(" ") for t in ds.time.values] if "time" in ds else []
    out.append({"file": rel, "refs": refs, "values": values, "labels": labels})
print(json.dumps(out))
`;

if (!present) {
  describe('the CMIP6 sample', () => {
    it.skip(`is absent (${SAMPLE}): these tests need ../shared beside the repository`, () => {
      // Skipped: nothing to read.
    });
  });
}

describe.runIf(present)('every variable of the CMIP6 sample', () => {
  let server: DemoServer;
  let expected: IExpected[];

  beforeAll(async () => {
    server = new DemoServer(SAMPLE);
    await server.start();
    expected = runPython<IExpected[]>(SCRIPT, [SAMPLE]);
  }, 300_000);

  afterAll(() => server?.close(false));

  it('decodes as xarray does, file by file, and labels time as cftime', async () => {
    expect(expected.length).toBeGreaterThan(50);
    let compared = 0;
    for (const file of expected) {
      const dataset = openReferences(
        file.refs,
        `${server.base}/${file.file}`,
        r => fetch(r)
      );
      for (const [name, [selection, wanted]] of Object.entries(file.values)) {
        const variable = dataset.variables.find(v => v.name === name);
        expect(variable, `${file.file}: ${name}`).toBeDefined();
        const { values } = await readDecoded(dataset, variable!, selection);
        expect(values.length, `${file.file}: ${name}`).toBe(wanted.length);
        for (let i = 0; i < wanted.length; i++) {
          const w = wanted[i];
          if (w === null) {
            expect(values[i], `${file.file}: ${name}[${i}]`).toBeNaN();
          } else {
            expect(
              Math.abs(values[i] - w) / Math.max(1, Math.abs(w)),
              `${file.file}: ${name}[${i}] ${values[i]} vs ${w}`
            ).toBeLessThan(1e-6);
          }
        }
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
});

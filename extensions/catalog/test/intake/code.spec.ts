import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  intakeEsmCode,
  pythonLiteral,
  xarrayOpenKwargsFor
} from '../../src/intake/code';
import { parseEsmCollection } from '../../src/intake/collection';
import { datasetCode } from '../../src/browser/model';
import {
  datasetKeys,
  datasetRecord,
  datasetRecords,
  groupDatasets
} from '../../src/intake/group';
import { IntakeQueryError, search } from '../../src/intake/search';
import { readIntakeTable } from '../../src/intake/table';
import {
  arrowStreamOfCsv,
  CATALOGS,
  CMIP6_FILES,
  HAVE_SHARED,
  runPython,
  withShared
} from './python';

describe('intakeEsmCode', () => {
  it('writes the open, the search with keyword arguments and to_dataset_dict', () => {
    expect(
      intakeEsmCode({
        catalog: '/bdd/CMIP6/catalogs/cmip6.json',
        query: {
          source_id: ['IPSL-CM6A-LR', 'CNRM-CM6-1'],
          variable_id: 'tas',
          dcpp_init_year: null
        },
        requireAllOn: 'source_id'
      })
    ).toBe(
      [
        'import intake',
        '',
        'cat = intake.open_esm_datastore("/bdd/CMIP6/catalogs/cmip6.json")',
        'subset = cat.search(',
        '    source_id=["IPSL-CM6A-LR", "CNRM-CM6-1"],',
        '    variable_id="tas",',
        '    dcpp_init_year=None,',
        '    require_all_on=["source_id"],',
        ')',
        'dsets = subset.to_dataset_dict()',
        ''
      ].join('\n')
    );
  });

  it('passes columns that are not Python names as a dict, and iterable columns to the open', () => {
    expect(
      intakeEsmCode({
        catalog: 'https://example.org/cat "x".json',
        query: { 'grid-label': 'gn', class: ['a\\b'], member_id: 5 },
        columnsWithIterables: ['variable'],
        open: false
      })
    ).toBe(
      [
        'import intake',
        '',
        'cat = intake.open_esm_datastore("https://example.org/cat \\"x\\".json", columns_with_iterables=["variable"])',
        'subset = cat.search(',
        '    **{',
        '        "grid-label": "gn",',
        '        "class": ["a\\\\b"],',
        '        "member_id": 5,',
        '    },',
        ')',
        ''
      ].join('\n')
    );
  });

  it('opens the whole catalogue when the query is empty', () => {
    expect(intakeEsmCode({ catalog: 'c.json', query: {} })).toBe(
      'import intake\n\ncat = intake.open_esm_datastore("c.json")\ndsets = cat.to_dataset_dict()\n'
    );
  });

  it('opens NetCDF catalogues with h5netcdf, other formats with intake-esm’s engines', () => {
    const collection = (assets: Record<string, string>) =>
      parseEsmCollection({ esmcat_version: '0.1.0', attributes: [], assets });
    const netcdf = xarrayOpenKwargsFor(
      collection({ column_name: 'path', format: 'netcdf' })
    );
    expect(netcdf).toEqual({ engine: 'h5netcdf' });
    expect(
      xarrayOpenKwargsFor(collection({ column_name: 'path', format: 'zarr' }))
    ).toBeUndefined();
    expect(
      xarrayOpenKwargsFor(
        collection({ column_name: 'path', format_column_name: 'format' })
      )
    ).toBeUndefined();
    expect(
      intakeEsmCode({
        catalog: 'c.json',
        query: {},
        xarrayOpenKwargs: netcdf
      }).split('\n')[3]
    ).toBe(
      'dsets = cat.to_dataset_dict(xarray_open_kwargs={"engine": "h5netcdf"})'
    );
  });

  it('writes Python literals for every kind of value', () => {
    expect(pythonLiteral([true, false, null, 1.5, Number.NaN, 'é\n'])).toBe(
      '[True, False, None, 1.5, float("nan"), "é\\n"]'
    );
  });

  it('refuses a column named require_all_on, which search() would take for its argument', () => {
    expect(() =>
      intakeEsmCode({ catalog: 'c.json', query: { require_all_on: 'x' } })
    ).toThrow(IntakeQueryError);
  });
});

describe.skipIf(!HAVE_SHARED)(
  withShared('the generated code run by intake-esm on real CMIP6 files'),
  () => {
    // The catalogue's assets are ./tests/sample_data/cmip/... relative to the working
    // directory, as in intake-esm's own test suite: lay that out around the real files.
    const workDir = HAVE_SHARED
      ? mkdtempSync(path.join(tmpdir(), 'espri-intake-code-'))
      : '';
    afterAll(() => {
      if (workDir !== '') {
        rmSync(workDir, { recursive: true, force: true });
      }
    });
    const run = (code: string, epilogue: string): unknown => {
      mkdirSync(path.join(workDir, 'tests/sample_data'), { recursive: true });
      const link = path.join(workDir, 'tests/sample_data/cmip');
      rmSync(link, { force: true });
      symlinkSync(CMIP6_FILES, link);
      const script = `import os, json\nos.chdir(${JSON.stringify(workDir)})\n${code}${epilogue}`;
      // to_dataset_dict prints notes and a progress bar too: the answer is marked.
      const output = runPython(script).toString('utf-8');
      const answer = /^ANSWER (.*)$/m.exec(output);
      if (answer === null) {
        throw new Error(`no answer in the output of the code:\n${output}`);
      }
      return JSON.parse(answer[1]);
    };
    const json = path.join(CATALOGS, 'cmip6-netcdf.json');
    const collection = parseEsmCollection(readFileSync(json, 'utf-8'));
    const table = readIntakeTable(
      arrowStreamOfCsv(path.join(CATALOGS, 'cmip6-netcdf-test.csv'))
    );

    it('opens the selected datasets with the expected variables', () => {
      const query = {
        source_id: ['BCC-ESM1', 'MRI-ESM2-0', 'IPSL-CM6A-LR'],
        variable_id: 'tasmax'
      };
      const opened = run(
        intakeEsmCode({
          catalog: json,
          query,
          xarrayOpenKwargs: xarrayOpenKwargsFor(collection)
        }),
        'print("\\nANSWER", json.dumps({key: sorted(ds.data_vars) for key, ds in dsets.items()}))\n'
      ) as Record<string, string[]>;
      const records = datasetRecords(
        table,
        search(table, query),
        collection,
        'cmip6'
      );
      expect(Object.keys(opened).sort()).toEqual(
        records.map(record => record.id)
      );
      for (const record of records) {
        const variables = record.variables.map(variable => variable.name);
        expect(variables).toEqual(['tasmax']);
        expect(opened[record.id]).toContain('tasmax');
      }
    }, 120_000);

    it('searches with patterns and require_all_on as the browser did', () => {
      // A pattern only works with require_all_on in a require_all_on column: intake-esm
      // compares the other columns' requested values literally.
      const query = {
        variable_id: ['prra', 'prsn'],
        experiment_id: '^(hist|abrupt)'
      };
      const requireAllOn = ['source_id', 'experiment_id'];
      const keys = run(
        intakeEsmCode({ catalog: json, query, requireAllOn, open: false }),
        'print("\\nANSWER", json.dumps(subset.keys()))\n'
      );
      const rows = search(table, query, { requireAllOn });
      expect(rows.length).toBeGreaterThan(0);
      expect(keys).toEqual(datasetKeys(table, rows, collection));
    }, 120_000);

    it("keeps a group's ensemble members apart (member_id), each as its file", () => {
      // IPSL-CM6A-LR historical Omon: eight members, each one file of prra or prsn.
      const dataset = groupDatasets(
        table,
        search(table, { source_id: 'IPSL-CM6A-LR', table_id: 'Omon' }),
        collection
      ).find(
        group => group.key === 'CMIP.IPSL.IPSL-CM6A-LR.historical.Omon.gr'
      )!;
      const record = datasetRecord(table, collection, dataset, 'cmip6');
      const members = [...record.facets.member_id].sort();
      expect(members.length).toBe(8);
      // The code the browser inserts for this dataset, with the search a user makes.
      const code = datasetCode({
        catalog: json,
        collection,
        selection: { source_id: ['IPSL-CM6A-LR'], member_id: members },
        dataset,
        record
      });
      // Each member's values against its own file, read by xarray in the same run.
      const answer = run(
        code,
        [
          'import numpy as np, xarray as xr',
          'same = {}',
          'for row in subset.df.itertuples():',
          '    with xr.open_dataset(row.path, engine="h5netcdf") as own:',
          '        mine = ds[row.variable_id].sel(member_id=row.member_id)',
          '        same[row.member_id] = bool(np.array_equal(mine.values, own[row.variable_id].values, equal_nan=True))',
          'print("\\nANSWER", json.dumps({"dims": dict(ds.sizes), "members": sorted(str(m) for m in ds.member_id.values), "same": same}))',
          ''
        ].join('\n')
      ) as {
        dims: Record<string, number>;
        members: string[];
        same: Record<string, boolean>;
      };
      expect(answer.dims.member_id).toBe(8);
      expect(answer.dims.time).toBe(2);
      expect(answer.members).toEqual(members);
      expect(answer.same).toEqual(
        Object.fromEntries(members.map(member => [member, true]))
      );
    }, 120_000);
  }
);

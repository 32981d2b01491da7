import {
  Dictionary,
  Float64,
  Int32,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray
} from 'apache-arrow';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  parseEsmCollection,
  type EsmCollection
} from '../../src/intake/collection';
import {
  datasetKeys,
  datasetRecords,
  groupDatasets,
  IntakeGroupError
} from '../../src/intake/group';
import { search } from '../../src/intake/search';
import { readIntakeTable } from '../../src/intake/table';
import { CatalogParseError } from '../../src/record';
import { arrowStreamOfCsv, CATALOGS, HAVE_SHARED, withShared } from './python';

const text = (values: Array<string | null>) =>
  vectorFromArray(values, new Dictionary(new Utf8(), new Int32()));

const COLLECTION = {
  esmcat_version: '0.1.0',
  id: 'x',
  attributes: [{ column_name: 'source_id', vocabulary: '' }],
  assets: { column_name: 'path', format: 'netcdf' },
  aggregation_control: {
    variable_column_name: 'variable_id',
    groupby_attrs: ['source_id'],
    aggregations: [{ type: 'union', attribute_name: 'variable_id' }]
  }
};

describe('parseEsmCollection', () => {
  it('reads a collection and fills the defaults intake-esm fills', () => {
    const collection = parseEsmCollection(JSON.stringify(COLLECTION));
    expect(collection.assets).toEqual({
      column_name: 'path',
      format: 'netcdf'
    });
    expect(collection.aggregation_control!.aggregations).toEqual([
      { type: 'union', attribute_name: 'variable_id', options: {} }
    ]);
  });

  it.each([
    [
      { assets: { column_name: 'path' } },
      'assets must set one of format or format_column_name'
    ],
    [
      {
        assets: { column_name: 'path', format: 'zarr', format_column_name: 'f' }
      },
      'assets cannot set both format and format_column_name'
    ],
    [
      { assets: { column_name: 'path', format: 'grib' } },
      'assets.format "grib" is not one of'
    ],
    [{ attributes: undefined }, 'attributes is missing'],
    [{ esmcat_version: 1 }, 'esmcat_version must be a string'],
    [
      {
        aggregation_control: {
          ...COLLECTION.aggregation_control,
          groupby_attrs: 'source_id'
        }
      },
      'aggregation_control.groupby_attrs must be a list of column names'
    ],
    [
      {
        aggregation_control: {
          ...COLLECTION.aggregation_control,
          aggregations: [{ type: 'merge', attribute_name: 'x' }]
        }
      },
      'aggregation_control.aggregations[0].type "merge" is not one of join_new, join_existing, union'
    ],
    [
      { catalog_file: 'a.csv', catalog_dict: [{ path: 'a.nc' }] },
      'catalog_dict and catalog_file cannot be set at the same time'
    ]
  ])('refuses a broken collection: %j', (change, message) => {
    expect(() =>
      parseEsmCollection(JSON.stringify({ ...COLLECTION, ...change }))
    ).toThrow(message);
  });

  it('refuses malformed JSON and HTML error pages as CatalogParseError', () => {
    expect(() => parseEsmCollection('{"esmcat_version": ')).toThrow(
      CatalogParseError
    );
    expect(() =>
      parseEsmCollection('<html><title>404 Not Found</title></html>')
    ).toThrow('expected JSON but got an HTML page titled "404 Not Found"');
  });
});

describe('groupDatasets', () => {
  const table = readIntakeTable(
    tableToIPC(
      new Table({
        source_id: text(['B', 'A', 'B', 'A']),
        member_id: text(['r1', 'r1', 'r2', null]),
        variable_id: text(['tas', 'pr', 'tas', 'pr']),
        year: vectorFromArray([1960, 1961, 1960, 1961], new Float64()),
        path: text([
          '/bdd/b1.nc',
          'javascript:alert(1)',
          'https://data.example.org/b2.nc',
          's3://bucket/a2.nc'
        ])
      }),
      'stream'
    )
  );
  const collection = parseEsmCollection(COLLECTION);
  const all = search(table, {});

  it('groups by groupby_attrs, keys in sorted order', () => {
    const datasets = groupDatasets(table, all, collection);
    expect(
      datasets.map(dataset => [dataset.key, Array.from(dataset.rows)])
    ).toEqual([
      ['A', [1, 3]],
      ['B', [0, 2]]
    ]);
  });

  it('writes keys as Python does: floats with .0', () => {
    const byYear = parseEsmCollection({
      ...COLLECTION,
      aggregation_control: {
        ...COLLECTION.aggregation_control,
        groupby_attrs: ['source_id', 'year']
      }
    });
    expect(datasetKeys(table, all, byYear)).toEqual(['A.1961.0', 'B.1960.0']);
  });

  it('leaves out an attribute missing in every row and refuses one missing in some', () => {
    const byMember = (attrs: string[]): EsmCollection =>
      parseEsmCollection({
        ...COLLECTION,
        aggregation_control: {
          ...COLLECTION.aggregation_control,
          groupby_attrs: attrs
        }
      });
    const rowsWithoutMember = Uint32Array.from([3]);
    expect(
      datasetKeys(
        table,
        rowsWithoutMember,
        byMember(['source_id', 'member_id'])
      )
    ).toEqual(['A']);
    expect(() =>
      datasetKeys(table, all, byMember(['source_id', 'member_id']))
    ).toThrow(IntakeGroupError);
    expect(() => datasetKeys(table, all, byMember(['nope']))).toThrow(
      'aggregation_control.groupby_attrs names column "nope", which the table does not have'
    );
  });

  it('keeps only assets that are paths or data URLs', () => {
    const [a] = datasetRecords(table, all, collection, 'demo');
    expect(a.access).toEqual([
      {
        url: 's3://bucket/a2.nc',
        protocol: 's3',
        service: 'netcdf',
        media_type: 'application/x-netcdf'
      }
    ]);
  });
});

describe.skipIf(!HAVE_SHARED)(
  withShared('datasetRecords of real catalogues'),
  () => {
    const load = (json: string, csv: string) => ({
      collection: parseEsmCollection(
        readFileSync(path.join(CATALOGS, json), 'utf-8')
      ),
      table: readIntakeTable(arrowStreamOfCsv(path.join(CATALOGS, csv)))
    });

    it('turns the mixed-format catalogue into records with each asset’s own format', () => {
      const { collection, table } = load(
        'cmip6-bcc-mixed-formats.json',
        'cmip6-bcc-mixed-formats.csv'
      );
      const records = datasetRecords(
        table,
        search(table, { source_id: 'BCC-ESM1' }),
        collection,
        'cmip6-mixed'
      );
      expect(records).toHaveLength(1);
      const [record] = records;
      expect(record.id).toBe('CMIP.BCC.BCC-ESM1.piControl.Amon.gn');
      expect(record.source).toEqual({
        catalog_id: 'cmip6-mixed',
        kind: 'intake-esm'
      });
      expect(record.variables).toEqual([
        { name: 'tasmax' },
        { name: 'tasmin' }
      ]);
      expect(record.facets).toEqual({
        activity_id: ['CMIP'],
        source_id: ['BCC-ESM1'],
        institution_id: ['BCC'],
        experiment_id: ['piControl'],
        member_id: ['r1i1p1f1'],
        table_id: ['Amon'],
        variable_id: ['tasmax', 'tasmin'],
        grid_label: ['gn']
      });
      expect(record.access).toEqual([
        {
          url: './tests/sample_data/cmip/CMIP6/CMIP/BCC/BCC-ESM1/piControl/r1i1p1f1/Amon/tasmax/gn/v20181214/tasmax/tasmax_Amon_BCC-ESM1_piControl_r1i1p1f1_gn_185001-230012.nc',
          protocol: 'file',
          service: 'netcdf',
          media_type: 'application/x-netcdf',
          description: 'member_id r1i1p1f1, time_range 185001-230012'
        },
        {
          url: 'gs://cmip6/CMIP6/CMIP/BCC/BCC-ESM1/piControl/r1i1p1f1/Amon/tasmin/gn/v20181214/',
          protocol: 'zarr',
          service: 'zarr',
          media_type: 'application/vnd+zarr',
          description: 'member_id r1i1p1f1, time_range 185001-230012'
        }
      ]);
      expect(record.temporal).toEqual({ start: '1850-01', end: '2300-12' });
    });

    it('spans the time ranges of every file of a dataset', () => {
      const { collection, table } = load(
        'cmip6-netcdf.json',
        'cmip6-netcdf-test.csv'
      );
      const records = datasetRecords(
        table,
        search(table, {
          source_id: 'IPSL-CM6A-LR',
          table_id: 'Omon',
          variable_id: 'prra'
        }),
        collection,
        'cmip6'
      );
      const piControl = records.find(record =>
        record.id.includes('piControl')
      )!;
      expect(piControl.temporal).toEqual({ start: '2850-01', end: '3049-12' });
      const historical = records.find(record =>
        record.id.includes('historical')
      )!;
      expect(historical.access).toHaveLength(5);
      // In the catalogue's row order.
      expect(historical.facets.member_id).toEqual([
        'r15i1p1f1',
        'r3i1p1f1',
        'r22i1p1f1',
        'r31i1p1f1',
        'r7i1p1f1'
      ]);
    });
  }
);

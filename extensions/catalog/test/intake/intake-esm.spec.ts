/**
 * The browser's intake-esm search against intake-esm itself, on the real catalogues
 * of `../shared/data/intake-esm-catalogs`: for every query, the same rows in the same
 * order, the same `.unique()` and `.nunique()` per column, the same dataset keys, and
 * an error where intake-esm raises one. intake-esm runs in the same test run, in the
 * repository's virtual environment.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  parseEsmCollection,
  type EsmCollection
} from '../../src/intake/collection';
import { datasetKeys, IntakeGroupError } from '../../src/intake/group';
import {
  facetedSearch,
  IntakeQueryError,
  nunique,
  search,
  unique,
  type IntakeQuery
} from '../../src/intake/search';
import { readIntakeTable, type IntakeTable } from '../../src/intake/table';
import {
  arrowStreamOfCsv,
  askIntakeEsm,
  CATALOGS,
  HAVE_SHARED,
  withShared,
  type OracleAnswer,
  type OracleQuery
} from './python';

/** Queries on CMIP6-like catalogues; where a column is absent both sides must fail. */
const CMIP6_QUERIES: OracleQuery[] = [
  { query: {} },
  { query: { source_id: 'BCC-ESM1' } },
  { query: { source_id: 'bcc-esm1' } },
  { query: { source_id: ['BCC-ESM1', 'IPSL-CM6A-LR', 'CanESM5'] } },
  { query: { experiment_id: 'historical', table_id: 'Amon' } },
  {
    query: {
      member_id: 'r1i1p1f1',
      table_id: ['Amon', 'Omon'],
      experiment_id: ['historical', 'piControl', 'ssp370', '1pctCO2']
    }
  },
  { query: { source_id: 'BCC*' } },
  { query: { source_id: 'CESM2*' } },
  { query: { source_id: '^CNRM' } },
  { query: { experiment_id: '^dcpp' } },
  { query: { member_id: '^s2001-' } },
  { query: { variable_id: '.*Frac$' } },
  { query: { variable_id: 'pr?' } },
  { query: { member_id: 'r[0-9]i1p1f1$' } },
  { query: { variable_id: ['tas*', 'pr'] } },
  { query: { variable_id: 'ta[[:alpha:]]+$' } },
  { query: { variable_id: String.raw`tas\*` } },
  { query: { source_id: 'C.IP' } },
  { query: { variable_id: 'no-such-variable' } },
  { query: { source_id: [] } },
  { query: { dcpp_init_year: null } },
  { query: { direct_access: 'True' } },
  { query: { direct_access: true } },
  { query: { institution_id: 'IPSL', experiment_id: '^(?=hist)' } },
  { query: { source_id: '*' } },
  { query: { no_such_column: 'x' } },
  {
    query: { variable_id: ['tasmax', 'prsn'] },
    require_all_on: 'source_id'
  },
  {
    query: { variable_id: ['evspsblveg', 'gpp'] },
    require_all_on: ['source_id', 'experiment_id']
  },
  {
    query: { variable_id: ['tas', 'pr', 'ua'] },
    require_all_on: ['source_id', 'member_id']
  },
  {
    query: { variable_id: ['noy', 'ch4'], table_id: 'AERmonZ' },
    require_all_on: ['source_id']
  },
  {
    query: {
      experiment_id: ['historical', 'piControl'],
      variable_id: 'tasmax'
    },
    require_all_on: ['source_id']
  },
  {
    query: { variable_id: ['prra', 'prsn'], member_id: 'r.*' },
    require_all_on: 'source_id'
  },
  { query: { source_id: 'IPSL-CM6A-LR' }, require_all_on: 'source_id' },
  { query: { variable_id: 'tasmax' }, require_all_on: 'dcpp_init_year' },
  { query: { variable_id: 'tasmax' }, require_all_on: 'no_such_column' }
];

const MULTI_VARIABLE_QUERIES: OracleQuery[] = [
  { query: {} },
  { query: { variable: 'SHF' } },
  { query: { variable: ['PO4', 'SiO3'] } },
  { query: { variable: 'S*' } },
  { query: { variable: 'NO2', time_range: '050001-050012' } },
  { query: { member_id: '5' } },
  { query: { member_id: 5 } },
  { query: { path: '.*SiO3.*' } },
  { query: { variable: ['SHF', 'TEMP'] }, require_all_on: 'time_range' },
  {
    query: { variable: ['NO2', 'PO4'] },
    require_all_on: ['component', 'time_range']
  },
  { query: { variable: 'SHF', no_such_column: 1 } }
];

interface Case {
  name: string;
  /** The collection JSON intake-esm opens (a temporary copy when it needed fixing). */
  json: string;
  csv: string;
  iterables?: string[];
  queries: OracleQuery[];
}

// Collections rewritten to point at a local CSV are written here.
const workDir = HAVE_SHARED
  ? mkdtempSync(path.join(tmpdir(), 'espri-intake-'))
  : '';

/** A copy of a collection pointing at a local CSV, with optional changes. */
function localCopy(
  name: string,
  csv: string,
  change: (collection: Record<string, unknown>) => void = () => undefined
): string {
  const collection = JSON.parse(
    readFileSync(path.join(CATALOGS, name), 'utf-8')
  ) as Record<string, unknown>;
  collection.catalog_file = csv;
  change(collection);
  const file = path.join(workDir, `local-${name}`);
  writeFileSync(file, JSON.stringify(collection));
  return file;
}

function cases(): Case[] {
  const csv = (name: string) => path.join(CATALOGS, name);
  return [
    {
      name: 'cmip6-netcdf (CMIP6 NetCDF, aggregation control)',
      json: csv('cmip6-netcdf.json'),
      csv: csv('cmip6-netcdf-test.csv'),
      queries: CMIP6_QUERIES
    },
    {
      name: 'cmip6-netcdf-noagg (no aggregation control: keys over every column)',
      json: csv('cmip6-netcdf-noagg.json'),
      csv: csv('cmip6-netcdf-test.csv'),
      queries: CMIP6_QUERIES
    },
    {
      name: 'cmip6-bcc-mixed-formats (format_column_name)',
      json: csv('cmip6-bcc-mixed-formats.json'),
      csv: csv('cmip6-bcc-mixed-formats.csv'),
      queries: CMIP6_QUERIES
    },
    {
      // The published collection names its store column `zstore` and reads the CSV
      // from gs://; this sample CSV, kept locally, names it `path`.
      name: 'pangeo-cmip6-zarr with cmip6-zarr-consolidated-stores.csv',
      json: localCopy(
        'pangeo-cmip6-zarr.json',
        csv('cmip6-zarr-consolidated-stores.csv'),
        collection => {
          (collection.assets as Record<string, unknown>).column_name = 'path';
        }
      ),
      csv: csv('cmip6-zarr-consolidated-stores.csv'),
      queries: CMIP6_QUERIES
    },
    {
      name: 'glade-cmip6-netcdf.csv (with the CMIP6 NetCDF collection)',
      json: localCopy('cmip6-netcdf.json', csv('glade-cmip6-netcdf.csv')),
      csv: csv('glade-cmip6-netcdf.csv'),
      queries: CMIP6_QUERIES
    },
    {
      name: 'multi-variable-catalog (an iterable variable column)',
      json: csv('multi-variable-catalog.json'),
      csv: csv('multi-variable-catalog.csv'),
      iterables: ['variable'],
      queries: MULTI_VARIABLE_QUERIES
    }
  ];
}

interface Prepared {
  table: IntakeTable;
  assetColumn: string;
  collection: EsmCollection;
  answers: OracleAnswer[];
}

const CASES = HAVE_SHARED ? cases() : [];
const prepared = new Map<string, Prepared>();

beforeAll(() => {
  const answers = askIntakeEsm(CASES);
  CASES.forEach((item, at) => {
    const collection = parseEsmCollection(readFileSync(item.json, 'utf-8'));
    prepared.set(item.name, {
      table: readIntakeTable(arrowStreamOfCsv(item.csv, item.iterables)),
      assetColumn: collection.assets.column_name,
      collection,
      answers: answers[at]
    });
  });
}, 120_000);

afterAll(() => {
  if (workDir !== '') {
    rmSync(workDir, { recursive: true, force: true });
  }
});

function describeQuery(item: OracleQuery): string {
  const require =
    item.require_all_on === undefined
      ? ''
      : ` require_all_on=${JSON.stringify(item.require_all_on)}`;
  return `${JSON.stringify(item.query)}${require}`;
}

describe.skipIf(!HAVE_SHARED)(
  withShared('intake-esm search in the browser equals intake-esm'),
  () => {
    for (const item of CASES) {
      describe(item.name, () => {
        item.queries.forEach((oracleQuery, at) => {
          it(describeQuery(oracleQuery), () => {
            const { table, assetColumn, collection, answers } = prepared.get(
              item.name
            )!;
            const answer = answers[at];
            const query = oracleQuery.query as IntakeQuery;
            const options = { requireAllOn: oracleQuery.require_all_on };
            if (answer.error !== undefined) {
              expect(() => search(table, query, options)).toThrow(
                IntakeQueryError
              );
              return;
            }
            const rows = search(table, query, options);
            const assets = table.column(assetColumn)!;
            expect(
              Array.from(rows, row =>
                String(assets.dictionary[assets.indices[row]])
              )
            ).toEqual(answer.assets);
            expect(unique(table, rows)).toEqual(answer.unique);
            expect(nunique(table, rows)).toEqual(answer.nunique);
            if (answer.keys !== undefined) {
              expect(datasetKeys(table, rows, collection)).toEqual(answer.keys);
            } else if (rows.length === 0) {
              // intake-esm cannot group an empty selection ("No group keys passed");
              // the browser has no datasets to show.
              expect(datasetKeys(table, rows, collection)).toEqual([]);
            } else {
              expect(() => datasetKeys(table, rows, collection)).toThrow(
                IntakeGroupError
              );
            }
            const faceted = facetedSearch(table, query, options);
            expect(Array.from(faceted.rows)).toEqual(Array.from(rows));
            for (const [column, values] of Object.entries(answer.unique!)) {
              expect(
                new Set(faceted.counts[column].map(entry => entry.value))
              ).toEqual(new Set(values));
            }
          });
        });
      });
    }
  }
);

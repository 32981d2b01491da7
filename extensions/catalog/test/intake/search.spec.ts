import {
  Bool,
  Dictionary,
  Field,
  Int32,
  Int64,
  List,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type Vector
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';

import type { EsmCollection } from '../../src/intake/collection';
import { datasetKeys } from '../../src/intake/group';
import { compilePattern } from '../../src/intake/pattern';
import {
  facetedSearch,
  IntakeQueryError,
  isPattern,
  nunique,
  search,
  unique,
  type IntakeQuery,
  type ValueCounts
} from '../../src/intake/search';
import { readIntakeTable, type IntakeTable } from '../../src/intake/table';

function tableOf(columns: Record<string, Vector>): IntakeTable {
  return readIntakeTable(tableToIPC(new Table(columns), 'stream'));
}

const text = (values: Array<string | null>) =>
  vectorFromArray(values, new Dictionary(new Utf8(), new Int32()));

describe('isPattern', () => {
  it('follows intake-esm: a value with * ? $ ^ not escaped is a regular expression', () => {
    expect(isPattern('tas')).toBe(false);
    expect(isPattern('C.IP')).toBe(false);
    expect(isPattern('tas|pr')).toBe(false);
    expect(isPattern('tas*')).toBe(true);
    expect(isPattern('pr?')).toBe(true);
    expect(isPattern('^CNRM')).toBe(true);
    expect(isPattern('Frac$')).toBe(true);
    expect(isPattern(String.raw`tas\*`)).toBe(false);
    expect(isPattern(String.raw`tas\*x?`)).toBe(true);
    expect(isPattern(5)).toBe(false);
    expect(isPattern(null)).toBe(false);
  });
});

describe('compilePattern', () => {
  it('searches anywhere in the value, case-sensitively', () => {
    expect(compilePattern('CM6*').test('IPSL-CM6A-LR')).toBe(true);
    expect(compilePattern('^cnrm').test('CNRM-CM6-1')).toBe(false);
  });

  it('translates RE2 syntax: leading flags, (?P<name>), \\A \\z, POSIX classes', () => {
    expect(compilePattern('(?i)^cnrm').test('CNRM-CM6-1')).toBe(true);
    expect(compilePattern('(?P<model>BCC)-.*$').test('BCC-ESM1')).toBe(true);
    expect(compilePattern(String.raw`\Atas\z`).test('tasmax')).toBe(false);
    expect(compilePattern(String.raw`\Atas\z`).test('tas')).toBe(true);
    expect(compilePattern('^r[[:digit:]]+i').test('r10i1p1f1')).toBe(true);
    expect(compilePattern('^[]a]+$').test(']a]')).toBe(true);
  });

  it('refuses what RE2 refuses, with a reason', () => {
    expect(() => compilePattern('^(?=hist)')).toThrow(/lookaround/);
    expect(() => compilePattern('(a)\\1*')).toThrow(/backreference/);
    expect(() => compilePattern('*')).toThrow(IntakeQueryError);
    expect(() => compilePattern('tas\\')).toThrow(/lone backslash/);
    expect(() => compilePattern('[[:nope:]]*')).toThrow(/\[:nope:\]/);
  });
});

describe('search semantics', () => {
  const table = tableOf({
    source_id: text(['BCC-ESM1', 'IPSL-CM6A-LR', 'CNRM-CM6-1', 'IPSL-CM6A-LR']),
    member_id: text(['5', 'r1i1p1f1', 'r2i1p1f2', 'r1i1p1f1']),
    dcpp: text([null, '1960', null, '1961']),
    year: vectorFromArray([5n, 6n, 5n, 7n], new Int64()),
    flag: vectorFromArray([true, false, true, true], new Bool()),
    variable: vectorFromArray(
      [['tas', 'pr'], ['tas'], [], ['pr', 'ua']],
      new List(new Field('item', new Dictionary(new Utf8(), new Int32()), true))
    )
  });
  const rows = (query: IntakeQuery, requireAllOn?: string | string[]) =>
    Array.from(search(table, query, { requireAllOn }));

  it('ORs values within a column and ANDs columns', () => {
    expect(rows({ source_id: ['BCC-ESM1', 'IPSL-CM6A-LR'] })).toEqual([
      0, 1, 3
    ]);
    expect(
      rows({ source_id: ['BCC-ESM1', 'IPSL-CM6A-LR'], member_id: 'r1i1p1f1' })
    ).toEqual([1, 3]);
  });

  it('compares values strictly: text is not a number, a number is not text', () => {
    expect(rows({ member_id: 5 })).toEqual([]);
    expect(rows({ member_id: '5' })).toEqual([0]);
    expect(rows({ year: 5 })).toEqual([0, 2]);
    expect(rows({ year: '5' })).toEqual([]);
    expect(rows({ flag: true })).toEqual([0, 2, 3]);
    expect(rows({ flag: 'True' })).toEqual([]);
  });

  it('finds missing cells with null, never with a pattern', () => {
    expect(rows({ dcpp: null })).toEqual([0, 2]);
    expect(rows({ dcpp: '.*?' })).toEqual([1, 3]);
  });

  it('matches list items exactly, patterns included', () => {
    expect(rows({ variable: 'tas' })).toEqual([0, 1]);
    expect(rows({ variable: ['ua', 'tas'] })).toEqual([0, 1, 3]);
    expect(rows({ variable: 'ta*' })).toEqual([]);
  });

  it('returns every row for an empty query and none for an empty list', () => {
    expect(rows({})).toEqual([0, 1, 2, 3]);
    expect(rows({ source_id: [] })).toEqual([]);
  });

  it('refuses unknown columns and patterns on numbers, naming them', () => {
    expect(() => rows({ nope: 'x' })).toThrow(
      'Column "nope" is not in this catalogue; its columns are: source_id, member_id, dcpp, year, flag, variable.'
    );
    expect(() => rows({ source_id: 'x' }, 'nope')).toThrow(/Column "nope"/);
    expect(() => rows({ year: '^5' })).toThrow(/holds numbers/);
  });

  it('keeps, with require_all_on, the groups that hold every requested value', () => {
    expect(rows({ variable: ['tas', 'pr'] }, 'source_id')).toEqual([0, 1, 3]);
    expect(rows({ variable: ['tas', 'ua'] }, 'source_id')).toEqual([1, 3]);
    expect(
      rows({ member_id: 'r1i1p1f1', dcpp: ['1960', '1961'] }, 'source_id')
    ).toEqual([1, 3]);
    expect(() => rows({ source_id: 'BCC-ESM1' }, 'source_id')).toThrow(
      /require_all_on names every column/
    );
    expect(() => rows({ source_id: 'BCC-ESM1' }, 'variable')).toThrow(
      /holds lists/
    );
  });

  it('counts facets in the result and under the other columns’ constraints', () => {
    const result = facetedSearch(
      table,
      { source_id: 'IPSL-CM6A-LR', flag: true },
      { facets: ['source_id', 'member_id', 'variable'] }
    );
    expect(Array.from(result.rows)).toEqual([3]);
    expect(result.counts).toEqual({
      source_id: [{ value: 'IPSL-CM6A-LR', count: 1 }],
      member_id: [{ value: 'r1i1p1f1', count: 1 }],
      variable: [
        { value: 'pr', count: 1 },
        { value: 'ua', count: 1 }
      ]
    });
    expect(result.facetCounts.source_id).toEqual([
      { value: 'BCC-ESM1', count: 1 },
      { value: 'CNRM-CM6-1', count: 1 },
      { value: 'IPSL-CM6A-LR', count: 1 }
    ]);
    expect(result.facetCounts.member_id).toEqual(result.counts.member_id);
  });

  it('lists distinct values in order of appearance, and counts a missing value in nunique', () => {
    const all = search(table, {});
    expect(unique(table, all, ['dcpp', 'variable'])).toEqual({
      dcpp: ['1960', '1961'],
      variable: ['tas', 'pr', 'ua']
    });
    expect(nunique(table, all, ['dcpp', 'variable', 'year'])).toEqual({
      dcpp: 3,
      variable: 4,
      year: 3
    });
  });
});

/** A small, seeded generator (mulberry32), so the synthetic catalogue is the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CMIP6's real cardinalities (issue 3's benchmark), with value names like CMIP6's. */
const SYNTHETIC_COLUMNS: Array<[string, number, (i: number) => string]> = [
  [
    'activity_id',
    20,
    i => `${['CMIP', 'Scenario', 'DCPP', 'C4', 'Aer'][i % 5]}MIP${i}`
  ],
  ['institution_id', 45, i => `INST${i}`],
  [
    'source_id',
    122,
    i => `${['BCC', 'CNRM', 'IPSL', 'MIROC', 'MRI', 'CESM'][i % 6]}-M${i}`
  ],
  [
    'experiment_id',
    257,
    i => `${['historical', 'piControl', 'ssp', 'dcpp', 'abrupt'][i % 5]}-${i}`
  ],
  ['member_id', 1484, i => `r${(i % 40) + 1}i${Math.floor(i / 40) + 1}p1f1`],
  ['table_id', 41, i => `T${i}mon`],
  ['variable_id', 1203, i => `${['tas', 'pr', 'ua', 'zg', 'so'][i % 5]}${i}`],
  ['grid_label', 12, i => `g${i}`],
  ['dcpp_init_year', 60, i => `${1960 + i}`]
];

interface Synthetic {
  table: IntakeTable;
  /** Row-major plain values, for the naive implementation. */
  records: Array<Record<string, string | null>>;
}

function synthetic(numRows: number): Synthetic {
  const next = random(20240611);
  const columns: Record<string, Vector> = {};
  const records: Array<Record<string, string | null>> = Array.from(
    { length: numRows },
    () => ({})
  );
  for (const [name, cardinality, label] of SYNTHETIC_COLUMNS) {
    const dictionary = Array.from({ length: cardinality }, (_, i) => label(i));
    const indices = new Int32Array(numRows);
    const validity = new Uint8Array(Math.ceil(numRows / 8));
    let nullCount = 0;
    for (let row = 0; row < numRows; row++) {
      // Skewed like real catalogues: a few values hold most rows.
      indices[row] = Math.floor(cardinality * next() ** 3);
      const missing = name === 'dcpp_init_year' && next() < 0.9;
      if (missing) {
        nullCount++;
        records[row][name] = null;
      } else {
        validity[row >> 3] |= 1 << (row & 7);
        records[row][name] = dictionary[indices[row]];
      }
    }
    const type = new Dictionary(new Utf8(), new Int32());
    columns[name] = makeVector(
      makeData({
        type,
        length: numRows,
        nullCount,
        nullBitmap: nullCount > 0 ? validity : null,
        data: indices,
        dictionary: vectorFromArray(dictionary, new Utf8())
      })
    );
  }
  const paths = records.map((record, row) => {
    const path = `/bdd/CMIP6/${record.source_id}/${record.variable_id}/${row}.nc`;
    record.path = path;
    return path;
  });
  columns.path = vectorFromArray(paths, new Utf8());
  return { table: tableOf(columns), records };
}

function naivePattern(value: unknown): boolean {
  return (
    typeof value === 'string' && /[*?$^]/.test(value.replace(/\\[*?$^]/g, ''))
  );
}

function naiveMatches(
  cell: string | null,
  values: readonly unknown[]
): boolean {
  return values.some(value =>
    naivePattern(value)
      ? cell !== null && new RegExp(value as string).test(cell)
      : value === null
        ? cell === null
        : cell === value
  );
}

function asList(value: IntakeQuery[string]): readonly unknown[] {
  return Array.isArray(value) ? value : [value];
}

function naiveRows(
  records: Synthetic['records'],
  query: IntakeQuery,
  skip?: string
): number[] {
  const out: number[] = [];
  records.forEach((record, row) => {
    const ok = Object.entries(query).every(
      ([column, value]) =>
        column === skip || naiveMatches(record[column], asList(value))
    );
    if (ok) {
      out.push(row);
    }
  });
  return out;
}

function naiveRequireAllOn(
  records: Synthetic['records'],
  rows: number[],
  query: IntakeQuery,
  requireAllOn: string[]
): number[] {
  const keys = Object.keys(query).filter(key => !requireAllOn.includes(key));
  const groups = new Map<string, number[]>();
  for (const row of rows) {
    const values = requireAllOn.map(column => records[row][column]);
    if (values.includes(null)) {
      continue;
    }
    const key = JSON.stringify(values);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  let condition: unknown[][] = [[]];
  for (const key of keys) {
    condition = condition.flatMap(combo =>
      [...new Set(asList(query[key]))].map(value => [...combo, value])
    );
  }
  const sortedKeys = [...groups.keys()].sort((a, b) => {
    const x = JSON.parse(a) as string[];
    const y = JSON.parse(b) as string[];
    for (let at = 0; at < x.length; at++) {
      if (x[at] !== y[at]) {
        return x[at] < y[at] ? -1 : 1;
      }
    }
    return 0;
  });
  return sortedKeys.flatMap(groupKey => {
    const group = groups.get(groupKey)!;
    const seen = new Set(
      group.map(row => JSON.stringify(keys.map(key => records[row][key])))
    );
    return condition.every(combo => seen.has(JSON.stringify(combo)))
      ? group
      : [];
  });
}

function naiveCounts(
  records: Synthetic['records'],
  rows: number[],
  facets: string[]
): ValueCounts {
  const out: ValueCounts = {};
  for (const facet of facets) {
    const counts = new Map<string, number>();
    for (const row of rows) {
      const value = records[row][facet];
      if (value !== null) {
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
    }
    out[facet] = [...counts.entries()]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
  }
  return out;
}

describe('search on a synthetic catalogue of 200,000 rows with CMIP6 cardinalities', () => {
  const { table, records } = synthetic(200_000);
  const facets = SYNTHETIC_COLUMNS.map(([name]) => name);
  const collection: EsmCollection = {
    esmcat_version: '0.1.0',
    id: 'synthetic',
    attributes: facets.map(name => ({ column_name: name, vocabulary: '' })),
    assets: { column_name: 'path', format: 'netcdf' },
    aggregation_control: {
      variable_column_name: 'variable_id',
      groupby_attrs: [
        'activity_id',
        'institution_id',
        'source_id',
        'experiment_id',
        'table_id',
        'grid_label'
      ],
      aggregations: []
    }
  };

  const queries: Array<{ query: IntakeQuery; requireAllOn?: string[] }> = [
    {
      query: {
        source_id: ['BCC-M0', 'IPSL-M2', 'CNRM-M1', 'CESM-M5'],
        experiment_id: 'historical-.*',
        variable_id: ['tas*', 'pr1']
      }
    },
    { query: { institution_id: 'INST3', table_id: ['T1mon', 'T2mon'] } },
    {
      query: { dcpp_init_year: null, grid_label: 'g0', activity_id: 'CMIPMIP0' }
    },
    {
      query: { member_id: '^r1i1', activity_id: ['CMIPMIP0', 'ScenarioMIP1'] }
    },
    { query: { source_id: 'no-such-model' } },
    {
      query: {
        source_id: ['BCC-M0', 'IPSL-M2', 'CNRM-M1'],
        experiment_id: 'historical-.*',
        table_id: ['T1mon', 'T2mon'],
        grid_label: ['g0', 'g1']
      }
    },
    {
      query: {
        variable_id: ['tas0', 'pr1'],
        experiment_id: ['historical-0', 'piControl-1']
      },
      requireAllOn: ['source_id', 'member_id']
    }
  ];

  for (const { query, requireAllOn } of queries) {
    const title = `${JSON.stringify(query)}${requireAllOn ? ` require_all_on=${requireAllOn}` : ''}`;
    it(`finds and counts as a row-by-row implementation: ${title}`, () => {
      let expected = naiveRows(records, query);
      if (requireAllOn) {
        expected = naiveRequireAllOn(records, expected, query, requireAllOn);
      }
      const result = facetedSearch(table, query, { facets, requireAllOn });
      // A column's first search scans it, the next ones use its postings: same answer.
      expect(facetedSearch(table, query, { facets, requireAllOn })).toEqual(
        result
      );
      expect(Array.from(result.rows)).toEqual(expected);
      expect(Array.from(search(table, query, { requireAllOn }))).toEqual(
        expected
      );
      expect(result.counts).toEqual(naiveCounts(records, expected, facets));
      for (const facet of facets) {
        const underOthers =
          facet in query
            ? naiveRows(records, query, facet)
            : naiveRows(records, query);
        expect(result.facetCounts[facet]).toEqual(
          naiveCounts(records, underOthers, [facet])[facet]
        );
      }
      const rows = result.rows;
      const distinct = unique(table, rows, facets);
      for (const facet of facets) {
        const seen = [...new Set(expected.map(row => records[row][facet]))];
        expect(distinct[facet]).toEqual(seen.filter(value => value !== null));
        expect(nunique(table, rows, [facet])[facet]).toBe(seen.length);
      }
      const keys = new Set(
        expected.map(row =>
          collection
            .aggregation_control!.groupby_attrs.map(
              column => records[row][column]
            )
            .join('.')
        )
      );
      expect(datasetKeys(table, rows, collection).sort()).toEqual(
        [...keys].sort()
      );
    });
  }
});

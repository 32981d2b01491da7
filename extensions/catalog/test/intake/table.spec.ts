import {
  Bool,
  Dictionary,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  tableToIPC,
  Table,
  Utf8,
  vectorFromArray
} from 'apache-arrow';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  cellValue,
  IntakeTableError,
  joinTables,
  readIntakeTable
} from '../../src/intake/table';
import {
  arrowStreamOfCsv,
  CATALOGS,
  HAVE_SHARED,
  runPython,
  withShared
} from './python';

describe('readIntakeTable', () => {
  it('reads dictionary-encoded text columns, with missing values as a null entry', () => {
    const table = new Table({
      source_id: vectorFromArray(
        ['BCC-ESM1', 'IPSL-CM6A-LR', 'BCC-ESM1', null],
        new Dictionary(new Utf8(), new Int32())
      )
    });
    const intake = readIntakeTable(tableToIPC(table, 'stream'));
    const column = intake.column('source_id')!;
    expect(intake.numRows).toBe(4);
    expect(intake.columnNames).toEqual(['source_id']);
    expect(column.kind).toBe('text');
    expect([0, 1, 2, 3].map(row => cellValue(column, row))).toEqual([
      'BCC-ESM1',
      'IPSL-CM6A-LR',
      'BCC-ESM1',
      null
    ]);
    expect(column.dictionary[column.nullIndex]).toBeNull();
    expect(column.indices).toBeInstanceOf(Int8Array);
  });

  it('encodes plain text, 64-bit integer, float and boolean columns into dictionaries', () => {
    const table = new Table({
      path: vectorFromArray(['a.nc', 'b.nc', 'a.nc'], new Utf8()),
      member: vectorFromArray([5n, 5n, 7n], new Int64()),
      year: vectorFromArray([1960, Number.NaN, 1960.5], new Float64()),
      direct: vectorFromArray([true, false, true], new Bool())
    });
    const intake = readIntakeTable(tableToIPC(table, 'stream'));
    const values = (name: string) =>
      [0, 1, 2].map(row => cellValue(intake.column(name)!, row));
    expect(values('path')).toEqual(['a.nc', 'b.nc', 'a.nc']);
    expect(intake.column('path')!.dictionary).toEqual(['a.nc', 'b.nc']);
    expect(values('member')).toEqual([5, 5, 7]);
    expect(intake.column('member')!.kind).toBe('number');
    expect(intake.column('member')!.floating).toBe(false);
    expect(values('year')).toEqual([1960, null, 1960.5]);
    expect(intake.column('year')!.floating).toBe(true);
    expect(values('direct')).toEqual([true, false, true]);
    expect(intake.column('direct')!.kind).toBe('boolean');
  });

  it('reads list columns as items with offsets, a null list as an empty one', () => {
    const type = new List(
      new Field('item', new Dictionary(new Utf8(), new Int32()), true)
    );
    const table = new Table({
      variable: vectorFromArray(
        [['SHF', 'NO2'], null, ['NO2', 'O2', 'SHF'], []],
        type
      )
    });
    const column = readIntakeTable(tableToIPC(table, 'stream')).column(
      'variable'
    )!;
    expect(Array.from(column.offsets!)).toEqual([0, 2, 2, 5, 5]);
    expect([0, 1, 2, 3].map(row => cellValue(column, row))).toEqual([
      ['SHF', 'NO2'],
      [],
      ['NO2', 'O2', 'SHF'],
      []
    ]);
    expect(column.dictionary).toEqual(['SHF', 'NO2', 'O2']);
  });

  it('merges record batches whose dictionaries differ (pyarrow dictionary replacement)', () => {
    const bytes = runPython(String.raw`
import sys, pyarrow as pa
b1 = pa.record_batch({'a': pa.array(['x', 'y', 'x']).dictionary_encode()})
b2 = pa.record_batch({'a': pa.array(['z', None, 'x']).dictionary_encode()})
with pa.ipc.new_stream(sys.stdout.buffer, b1.schema) as w:
    w.write_batch(b1)
    w.write_batch(b2)
`);
    const column = readIntakeTable(new Uint8Array(bytes)).column('a')!;
    expect([0, 1, 2, 3, 4, 5].map(row => cellValue(column, row))).toEqual([
      'x',
      'y',
      'x',
      'z',
      null,
      'x'
    ]);
    expect(column.dictionary).toEqual(['x', 'y', 'z', null]);
  });

  it('refuses bytes that are not an Arrow IPC stream, saying so', () => {
    expect(() => readIntakeTable(new Uint8Array(0))).toThrow(
      'The catalogue table is empty (0 bytes).'
    );
    expect(() =>
      readIntakeTable(new TextEncoder().encode('<html>502 Bad Gateway</html>'))
    ).toThrow(IntakeTableError);
  });
});

describe.skipIf(!HAVE_SHARED)(
  withShared('readIntakeTable on the server’s stream of a real catalogue'),
  () => {
    it('keeps the dictionary indices pyarrow wrote, without copying them', () => {
      const bytes = arrowStreamOfCsv(
        path.join(CATALOGS, 'cmip6-netcdf-test.csv')
      );
      const table = readIntakeTable(bytes);
      expect(table.numRows).toBe(59);
      expect(table.columnNames).toEqual([
        'activity_id',
        'institution_id',
        'source_id',
        'experiment_id',
        'member_id',
        'table_id',
        'variable_id',
        'grid_label',
        'path',
        'time_range',
        'dcpp_init_year'
      ]);
      const source = table.column('source_id')!;
      expect(source.indices).toBeInstanceOf(Int32Array);
      expect(source.indices.buffer).toBe(bytes.buffer);
      expect(source.dictionary).toEqual([
        'BCC-ESM1',
        'BCC-CSM2-MR',
        'CNRM-CM6-1',
        'CNRM-ESM2-1',
        'IPSL-CM6A-LR',
        'MIROC6',
        'MRI-ESM2-0'
      ]);
      // An empty CSV column: every row missing, read as text.
      const dcpp = table.column('dcpp_init_year')!;
      expect(dcpp.dictionary).toEqual([null]);
      expect(dcpp.kind).toBe('text');
    });

    it('joins the server’s two parts: narrow codes kept as sent, the paths read row by row', () => {
      const parts = JSON.parse(
        runPython(
          [
            'import base64, json, sys',
            'from pathlib import Path',
            'from espri_vre.catalogs.intake_table import load_catalog',
            'c = load_catalog(Path(json.loads(sys.stdin.read())))',
            'print(json.dumps({"order": [x["name"] for x in c.collection["table"]["columns"]], **{p: base64.b64encode(c.stream_of(p).to_pybytes()).decode() for p in ("search", "assets")}}))'
          ].join('\n'),
          path.join(CATALOGS, 'cmip6-netcdf.json')
        ).toString()
      ) as { order: string[]; search: string; assets: string };
      const searchBytes = new Uint8Array(Buffer.from(parts.search, 'base64'));
      const search = readIntakeTable(searchBytes);
      const assets = readIntakeTable(Buffer.from(parts.assets, 'base64'));
      expect(search.column('path')).toBeUndefined();
      expect(assets.columnNames).toEqual(['path']);
      const source = search.column('source_id')!;
      expect(source.indices).toBeInstanceOf(Int8Array);
      expect(source.indices.buffer).toBe(searchBytes.buffer);
      // An empty CSV column: a null entry of the dictionary, the codes still kept.
      const dcpp = search.column('dcpp_init_year')!;
      expect(dcpp.dictionary).toEqual([null]);
      expect(dcpp.nullIndex).toBe(0);
      expect(dcpp.indices.buffer).toBe(searchBytes.buffer);

      const table = joinTables([search, assets], parts.order);
      expect(table.columnNames).toEqual(parts.order);
      expect(table.columnNames.indexOf('path')).toBe(8);
      const paths = table.column('path')!;
      expect(cellValue(paths, 0)).toMatch(/^\.\/tests\/sample_data\/.*\.nc$/);
      // The whole table, as one stream, holds the same values.
      const whole = readIntakeTable(
        arrowStreamOfCsv(path.join(CATALOGS, 'cmip6-netcdf-test.csv'))
      );
      for (const name of whole.columnNames) {
        const column = table.column(name)!;
        const expected = whole.column(name)!;
        for (let row = 0; row < whole.numRows; row++) {
          expect(cellValue(column, row)).toEqual(cellValue(expected, row));
        }
      }
      expect(() =>
        joinTables([
          search,
          readIntakeTable(
            arrowStreamOfCsv(path.join(CATALOGS, 'multi-variable-catalog.csv'))
          )
        ])
      ).toThrow(IntakeTableError);
    });

    it('reads the iterable column of the multi-variable catalogue as lists', () => {
      const table = readIntakeTable(
        arrowStreamOfCsv(path.join(CATALOGS, 'multi-variable-catalog.csv'), [
          'variable'
        ])
      );
      expect(cellValue(table.column('variable')!, 4)).toEqual([
        'SHF',
        'REGION_MASK',
        'ANGLE',
        'DXU',
        'KMT',
        'TEMP',
        'SiO3'
      ]);
      expect(cellValue(table.column('member_id')!, 0)).toBe('5');
    });
  }
);

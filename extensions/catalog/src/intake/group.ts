/**
 * Rows of an intake-esm table grouped into the datasets intake-esm would open:
 * one per combination of `aggregation_control.groupby_attrs`, keyed as
 * `esm_datastore.keys()` keys them (the values joined by '.', as `key_template`
 * says), and turned into `DatasetRecord`s for the panel.
 */
import {
  CatalogParseError,
  emptyRecord,
  safeUrl,
  type DatasetRecord,
  type RecordAccessProtocol,
  type RecordAccessUrl
} from '../record';
import type { DataFormat, EsmCollection } from './collection';
import { groupRows } from './require-all-on';
import {
  cellValue,
  type CellValue,
  type IntakeColumn,
  type IntakeTable
} from './table';

/** One dataset: its key, its rows, and its values of the grouping columns. */
export interface IntakeDataset {
  key: string;
  rows: Uint32Array;
  /** Column name to value, for the columns the rows were grouped by. */
  attributes: Record<string, CellValue>;
}

/** intake-esm would refuse to group these rows. */
export class IntakeGroupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntakeGroupError';
  }
}

/**
 * A value as Python's `str()` writes it, which is how intake-esm builds keys.
 */
export function pythonStr(value: CellValue, column: IntakeColumn): string {
  if (value === null) {
    return 'nan';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'number') {
    if (column.floating && Number.isInteger(value) && Math.abs(value) < 1e16) {
      return `${value}.0`;
    }
    return String(value);
  }
  return value;
}

function nullCount(column: IntakeColumn, rows: Uint32Array): number {
  if (column.nullIndex < 0) {
    return 0;
  }
  let count = 0;
  for (const row of rows) {
    if (column.indices[row] === column.nullIndex) {
      count++;
    }
  }
  return count;
}

/**
 * The columns intake-esm groups `rows` by: the `groupby_attrs` that are not missing
 * in every row, or (no aggregation control, or `groupby_attrs` naming every column)
 * all such columns.
 *
 * @throws CatalogParseError when `groupby_attrs` names a column the table lacks.
 * @throws IntakeGroupError when a grouping column is missing in some rows only, or
 *   holds lists: intake-esm raises on both.
 */
export function groupbyColumns(
  table: IntakeTable,
  rows: Uint32Array,
  collection: EsmCollection
): IntakeColumn[] {
  const attrs = collection.aggregation_control?.groupby_attrs ?? [];
  for (const name of attrs) {
    if (table.column(name) === undefined) {
      throw new CatalogParseError(
        'the ESM collection JSON',
        `aggregation_control.groupby_attrs names column "${name}", which the table does not have`
      );
    }
  }
  const kept = (names: readonly string[]) =>
    names
      .map(name => table.column(name) as IntakeColumn)
      .filter(column => {
        const missing = nullCount(column, rows);
        if (missing === rows.length) {
          return false;
        }
        if (missing > 0) {
          throw new IntakeGroupError(
            `The data in the ${column.name} column should either be all NaN or there should be no NaNs`
          );
        }
        if (column.offsets !== undefined) {
          throw new IntakeGroupError(
            `Cannot group datasets by column "${column.name}": it holds lists.`
          );
        }
        return true;
      });
  const byAttrs = kept(attrs);
  const everyColumn =
    new Set(attrs).size === table.columnNames.length &&
    table.columnNames.every(name => attrs.includes(name));
  if (byAttrs.length > 0 && !everyColumn) {
    return byAttrs;
  }
  return kept(table.columnNames);
}

/**
 * The datasets `rows` make, in the order of `esm_datastore.keys()`.
 *
 * @throws as `groupbyColumns`.
 */
export function groupDatasets(
  table: IntakeTable,
  rows: Uint32Array,
  collection: EsmCollection,
  sep = '.'
): IntakeDataset[] {
  if (rows.length === 0) {
    return [];
  }
  const columns = groupbyColumns(table, rows, collection);
  return groupRows(rows, columns).map(group => {
    const attributes: Record<string, CellValue> = {};
    const parts = columns.map(column => {
      const value = column.dictionary[column.indices[group[0]]];
      attributes[column.name] = value;
      return pythonStr(value, column);
    });
    return { key: parts.join(sep), rows: group, attributes };
  });
}

/** The dataset keys of `rows`: `esm_datastore.search(...).keys()`. */
export function datasetKeys(
  table: IntakeTable,
  rows: Uint32Array,
  collection: EsmCollection,
  sep = '.'
): string[] {
  return groupDatasets(table, rows, collection, sep).map(
    dataset => dataset.key
  );
}

const MEDIA_TYPES: Partial<Record<DataFormat, string>> = {
  netcdf: 'application/x-netcdf',
  zarr: 'application/vnd+zarr',
  zarr2: 'application/vnd+zarr',
  zarr3: 'application/vnd+zarr',
  reference: 'application/json'
};

function accessProtocol(url: string, format: string): RecordAccessProtocol {
  if (format.startsWith('zarr')) {
    return 'zarr';
  }
  if (format === 'reference') {
    return 'kerchunk';
  }
  if (format === 'opendap') {
    return 'opendap';
  }
  if (/^https?:/i.test(url)) {
    return 'http';
  }
  if (/^s3:/i.test(url)) {
    return 's3';
  }
  if (/^file:/i.test(url) || !/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    return 'file';
  }
  return 'other';
}

/**
 * An asset as the panel may show it: a URL with a data-transfer scheme (no
 * `javascript:` or `data:`), or a path on the file system.
 */
function assetUrl(value: CellValue): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    return undefined;
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(value)) {
    return safeUrl(value);
  }
  return Array.from(value).some(char => char.charCodeAt(0) < 0x20)
    ? undefined
    : value;
}

function distinctValues(column: IntakeColumn, rows: Uint32Array): CellValue[] {
  const seen = new Set<number>();
  const values: CellValue[] = [];
  const visit = (entry: number) => {
    if (!seen.has(entry)) {
      seen.add(entry);
      if (entry !== column.nullIndex) {
        values.push(column.dictionary[entry]);
      }
    }
  };
  for (const row of rows) {
    if (column.offsets === undefined) {
      visit(column.indices[row]);
    } else {
      for (
        let item = column.offsets[row];
        item < column.offsets[row + 1];
        item++
      ) {
        visit(column.indices[item]);
      }
    }
  }
  return values;
}

/** `185001-201412` as `{ start: '1850-01', end: '2014-12' }`. */
function timeRange(text: string): { start: string; end: string } | undefined {
  const match = /^(\d{4,12})-(\d{4,12})$/.exec(text);
  if (!match) {
    return undefined;
  }
  const iso = (stamp: string) => {
    const [, year, month, day, hour, minute] =
      /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?$/.exec(stamp) ?? [];
    if (year === undefined) {
      return undefined;
    }
    let out = year;
    if (month) {
      out += `-${month}`;
    }
    if (day) {
      out += `-${day}`;
    }
    if (hour) {
      out += `T${hour}`;
      out += minute ? `:${minute}` : ':00';
    }
    return out;
  };
  const start = iso(match[1]);
  const end = iso(match[2]);
  return start && end ? { start, end } : undefined;
}

/**
 * The `DatasetRecord` of one dataset: its facets (the collection's attributes), its
 * variables (`variable_column_name`), one access URL per asset with the format from
 * `assets.format` or `assets.format_column_name`, the time span of a `time_range`
 * column and the version of a `version` column when the dataset has one.
 */
export function datasetRecord(
  table: IntakeTable,
  collection: EsmCollection,
  dataset: IntakeDataset,
  catalogId: string
): DatasetRecord {
  const record = emptyRecord(dataset.key, dataset.key, catalogId, 'intake-esm');
  const { rows } = dataset;
  const { assets, aggregation_control: control } = collection;
  const skip = new Set([assets.column_name, assets.format_column_name]);
  const attributeNames =
    collection.attributes.length > 0
      ? collection.attributes.map(attribute => attribute.column_name)
      : table.columnNames;
  for (const name of attributeNames) {
    const column = table.column(name);
    if (column === undefined || skip.has(name)) {
      continue;
    }
    const values = distinctValues(column, rows).map(value =>
      pythonStr(value, column)
    );
    if (values.length > 0) {
      record.facets[name] = values;
    }
  }
  const variables = control
    ? table.column(control.variable_column_name)
    : undefined;
  if (variables !== undefined) {
    record.variables = distinctValues(variables, rows).map(value => ({
      name: pythonStr(value, variables)
    }));
  }
  record.access = accessUrls(table, collection, rows);
  const times = table.column('time_range');
  if (times !== undefined) {
    const spans = distinctValues(times, rows)
      .map(value => (typeof value === 'string' ? timeRange(value) : undefined))
      .filter(span => span !== undefined);
    if (spans.length > 0) {
      const starts = spans.map(span => span.start).sort();
      const ends = spans.map(span => span.end).sort();
      record.temporal = { start: starts[0], end: ends[ends.length - 1] };
    }
  }
  const version = table.column('version');
  if (version !== undefined) {
    const versions = distinctValues(version, rows);
    if (versions.length === 1) {
      record.version = pythonStr(versions[0], version);
    }
  }
  return record;
}

function accessUrls(
  table: IntakeTable,
  collection: EsmCollection,
  rows: Uint32Array
): RecordAccessUrl[] {
  const { assets, aggregation_control: control } = collection;
  const pathColumn = table.column(assets.column_name);
  if (pathColumn === undefined || pathColumn.offsets !== undefined) {
    return [];
  }
  const formatColumn =
    assets.format_column_name === undefined
      ? undefined
      : table.column(assets.format_column_name);
  // The columns intake-esm joins files along (member, time) tell files apart.
  const describedBy = (control?.aggregations ?? [])
    .filter(aggregation => aggregation.type !== 'union')
    .map(aggregation => table.column(aggregation.attribute_name))
    .filter(
      (column): column is IntakeColumn =>
        column !== undefined && column.offsets === undefined
    );
  const access: RecordAccessUrl[] = [];
  for (const row of rows) {
    // The paths are read one row at a time: a column of a million distinct paths is
    // never encoded for a record.
    const url = assetUrl(cellValue(pathColumn, row) as CellValue);
    if (url === undefined) {
      continue;
    }
    const format =
      assets.format ??
      (formatColumn && formatColumn.offsets === undefined
        ? String(cellValue(formatColumn, row) ?? '')
        : '');
    const entry: RecordAccessUrl = {
      url,
      protocol: accessProtocol(url, format)
    };
    if (format !== '') {
      entry.service = format;
    }
    const mediaType = MEDIA_TYPES[format as DataFormat];
    if (mediaType !== undefined) {
      entry.media_type = mediaType;
    }
    const description = describedBy
      .map(column => {
        const value = column.dictionary[column.indices[row]];
        return value === null
          ? ''
          : `${column.name} ${pythonStr(value, column)}`;
      })
      .filter(Boolean)
      .join(', ');
    if (description !== '') {
      entry.description = description;
    }
    access.push(entry);
  }
  return access;
}

/** The records of the datasets `rows` make, in key order. */
export function datasetRecords(
  table: IntakeTable,
  rows: Uint32Array,
  collection: EsmCollection,
  catalogId: string
): DatasetRecord[] {
  return groupDatasets(table, rows, collection).map(dataset =>
    datasetRecord(table, collection, dataset, catalogId)
  );
}

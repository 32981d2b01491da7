/**
 * The view model of the Catalogue Browser: pure functions from the facet selection,
 * the search result and the catalogue to what the browser shows and the code it
 * inserts. No DOM, no requests: the component (`browser.tsx`) calls them.
 */
import { ApiError, NetworkError } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { DatasetRecord } from '../record';
import {
  intakeEsmCode,
  pythonString,
  xarrayOpenKwargsFor
} from '../intake/code';
import type { EsmCollection } from '../intake/collection';
import type { IntakeDataset } from '../intake/group';
import type { IntakeQuery, QueryValue, ValueCount } from '../intake/search';
import type { CellValue, IntakeTable } from '../intake/table';

/** Per facet column, the values ticked (OR within a column, AND across columns). */
export type FacetSelection = Readonly<Record<string, readonly QueryValue[]>>;

/** A facet with more values than this gets a filter box. */
export const FILTER_THRESHOLD = 10;

/** At most this many values of one facet are listed; the filter finds the others. */
export const FACET_VALUE_LIMIT = 200;

/** The selection with `value` of `column` ticked or unticked. */
export function toggleValue(
  selection: FacetSelection,
  column: string,
  value: QueryValue
): FacetSelection {
  const current = selection[column] ?? [];
  const next = current.includes(value)
    ? current.filter(item => item !== value)
    : [...current, value];
  const out: Record<string, readonly QueryValue[]> = { ...selection };
  if (next.length === 0) {
    delete out[column];
  } else {
    out[column] = next;
  }
  return out;
}

/** The intake-esm query of a selection: the columns with at least one value ticked. */
export function selectionQuery(selection: FacetSelection): IntakeQuery {
  const query: Record<string, readonly QueryValue[]> = {};
  for (const [column, values] of Object.entries(selection)) {
    if (values.length > 0) {
      query[column] = [...values];
    }
  }
  return query;
}

/**
 * The columns shown as facets: the collection's attributes the table has, or every
 * column when it names none, never the asset paths or their formats (one value per
 * file, nothing to narrow a search by).
 */
export function facetColumns(
  collection: EsmCollection,
  table: IntakeTable
): string[] {
  const skip = new Set([
    collection.assets.column_name,
    collection.assets.format_column_name
  ]);
  const named =
    collection.attributes.length > 0
      ? collection.attributes.map(attribute => attribute.column_name)
      : table.columnNames;
  return [...new Set(named)].filter(
    name => !skip.has(name) && table.column(name) !== undefined
  );
}

/** One value of a facet as listed. */
export interface FacetValueView {
  value: QueryValue;
  /** The value as text (also the `data-value` attribute). */
  label: string;
  count: number;
  selected: boolean;
}

export interface FacetView {
  column: string;
  /** The values listed: ticked ones first, then by count. */
  values: FacetValueView[];
  /** How many values the facet has under the other facets' constraints. */
  total: number;
  /** How many values the filter matches but the list leaves out. */
  hidden: number;
  /** Whether the facet is long enough for a filter box. */
  filterable: boolean;
}

/** A cell value as text. */
export function valueLabel(value: CellValue): string {
  return value === null ? '' : String(value);
}

/**
 * The facet list of one column: its values counted under the other facets'
 * constraints, the ticked values always listed (with 0 when nothing has them any
 * more, so they can be unticked), filtered by a case-insensitive substring.
 */
export function facetView(
  column: string,
  counts: readonly ValueCount[],
  selected: readonly QueryValue[],
  filter = '',
  limit = FACET_VALUE_LIMIT
): FacetView {
  const needle = filter.trim().toLowerCase();
  const ticked: FacetValueView[] = selected.map(value => ({
    value,
    label: valueLabel(value),
    count: counts.find(entry => entry.value === value)?.count ?? 0,
    selected: true
  }));
  const others = counts
    .filter(entry => !selected.includes(entry.value))
    .map(entry => ({
      value: entry.value as QueryValue,
      label: valueLabel(entry.value),
      count: entry.count,
      selected: false
    }))
    .filter(
      entry => needle === '' || entry.label.toLowerCase().includes(needle)
    );
  const room = Math.max(0, limit - ticked.length);
  return {
    column,
    values: [...ticked, ...others.slice(0, room)],
    total: counts.length,
    hidden: Math.max(0, others.length - room),
    filterable: counts.length > FILTER_THRESHOLD
  };
}

/**
 * The query that finds one dataset: the facet selection narrowed to the dataset's
 * own values of the grouping columns.
 */
export function datasetQuery(
  selection: FacetSelection,
  dataset: Pick<IntakeDataset, 'attributes'>
): IntakeQuery {
  const query: Record<string, QueryValue | readonly QueryValue[]> =
    selectionQuery(selection);
  for (const [column, value] of Object.entries(dataset.attributes)) {
    query[column] = value;
  }
  return query;
}

export interface DatasetCodeOptions {
  /** The ESM collection JSON as the kernel reads it (the catalogue's configured path). */
  catalog: string;
  collection: EsmCollection;
  columnsWithIterables?: readonly string[];
  selection: FacetSelection;
  dataset: Pick<IntakeDataset, 'attributes' | 'key'>;
  record: Pick<DatasetRecord, 'access'>;
}

/**
 * The Python that opens one dataset with intake-esm and shows it: the search that
 * finds it, `to_dataset_dict()`, then the dataset under its key.
 */
export function datasetCode(options: DatasetCodeOptions): string {
  const { collection, record } = options;
  // One format column (the demo's NetCDF and Zarr copies): a dataset of NetCDF files
  // only is opened with h5netcdf for the reason `xarrayOpenKwargsFor` gives.
  const allNetcdf =
    record.access.length > 0 &&
    record.access.every(access => access.service === 'netcdf');
  const code = intakeEsmCode({
    catalog: options.catalog,
    query: datasetQuery(options.selection, options.dataset),
    columnsWithIterables: options.columnsWithIterables,
    xarrayOpenKwargs:
      xarrayOpenKwargsFor(collection) ??
      (allNetcdf ? { engine: 'h5netcdf' } : undefined)
  });
  return `${code}ds = dsets[${pythonString(options.dataset.key)}]\nds\n`;
}

/**
 * The path the previewer opens for a dataset: its first file or Zarr store on the
 * server's file system (a `file://` URL made a path), or null.
 */
export function previewPath(
  record: Pick<DatasetRecord, 'access'>
): string | null {
  for (const access of record.access) {
    if (access.protocol !== 'file' && access.protocol !== 'zarr') {
      continue;
    }
    if (/^file:\/\//i.test(access.url)) {
      try {
        return decodeURIComponent(new URL(access.url).pathname);
      } catch {
        continue;
      }
    }
    if (!/^[a-z][a-z0-9+.-]*:/i.test(access.url)) {
      return access.url;
    }
  }
  return null;
}

/** A failure as the browser states it. */
export interface FailureView {
  title: string;
  detail: string;
}

/**
 * What failed (`title`, a sentence given by the caller) and why: the server's own
 * sentence for an `ApiError`, the error's message otherwise.
 */
export function failureView(
  title: string,
  error: unknown,
  trans: TranslationBundle
): FailureView {
  if (error instanceof ApiError) {
    return { title, detail: error.detail };
  }
  if (error instanceof NetworkError || error instanceof Error) {
    return { title, detail: error.message };
  }
  return { title, detail: trans.__('Unknown error: %1', String(error)) };
}

/** The `columns_with_iterables` the server lists in its ESM collection answer. */
export function columnsWithIterablesOf(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) {
    return [];
  }
  const value = (body as { columns_with_iterables?: unknown })
    .columns_with_iterables;
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}

/** Whether a catalogue's configured `url` is a path on the server rather than a URL. */
export function isServerPath(location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

function under(path: string, root: string): string | null {
  const base = root.replace(/\/+$/, '');
  if (base === '' || !path.startsWith(`${base}/`)) {
    return null;
  }
  return path.slice(base.length + 1);
}

function quotePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Where the server's `espri-vre/api/data/files/` route serves a file given by its
 * absolute path (relative to the base URL): `@<id>/...` inside a configured data root,
 * the path relative to the server root inside that, null elsewhere.
 */
export function filesRoute(
  path: string,
  dataRoots: readonly { id: string; path: string }[],
  serverRoot: string | null
): string | null {
  for (const root of dataRoots) {
    const inside = under(path, root.path);
    if (inside !== null) {
      return `espri-vre/api/data/files/${quotePath(`@${root.id}/${inside}`)}`;
    }
  }
  const inside = serverRoot === null ? null : under(path, serverRoot);
  return inside === null
    ? null
    : `espri-vre/api/data/files/${quotePath(inside)}`;
}

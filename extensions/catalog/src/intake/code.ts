/**
 * The Python that opens a selection of an intake-esm catalogue with intake-esm
 * itself: `intake.open_esm_datastore(...)`, `.search(...)` with the panel's query,
 * `.to_dataset_dict()`.
 */
import type { EsmCollection } from './collection';
import { IntakeQueryError } from './pattern';
import type { IntakeQuery, QueryValue } from './search';

export interface IntakeEsmCodeOptions {
  /** The ESM collection JSON, as a path the kernel can read or a URL. */
  catalog: string;
  /** The query; when empty, the whole catalogue is opened (no `.search()`). */
  query: IntakeQuery;
  requireAllOn?: string | readonly string[];
  /** Columns the catalogue holds as lists, for `columns_with_iterables`. */
  columnsWithIterables?: readonly string[];
  /** End with `.to_dataset_dict()` (the default) or with the search only. */
  open?: boolean;
  /** `to_dataset_dict(xarray_open_kwargs=...)`, see `xarrayOpenKwargsFor`. */
  xarrayOpenKwargs?: Record<string, QueryValue>;
}

/**
 * The `xarray_open_kwargs` a catalogue needs: `engine="h5netcdf"` when every asset is
 * NetCDF. intake-esm (2025.12) opens the datasets of `to_dataset_dict` in parallel
 * threads whatever `threaded` says, and netCDF-C is not thread-safe: with the netCDF4
 * engine, opening several CMIP6 datasets crashed the kernel (segmentation fault) in
 * most runs here, and never with h5netcdf, which reads the NetCDF4/HDF5 files CMIP6
 * mandates. Zarr and mixed-format catalogues keep intake-esm's per-format engines.
 */
export function xarrayOpenKwargsFor(
  collection: EsmCollection
): Record<string, QueryValue> | undefined {
  return collection.assets.format === 'netcdf'
    ? { engine: 'h5netcdf' }
    : undefined;
}

const PYTHON_KEYWORDS = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield'
]);

/** A Python string literal (JSON's escapes are all valid Python escapes). */
export function pythonString(text: string): string {
  return JSON.stringify(text);
}

function pythonDict(values: Record<string, QueryValue>): string {
  const items = Object.entries(values).map(
    ([key, value]) => `${pythonString(key)}: ${pythonLiteral(value)}`
  );
  return `{${items.join(', ')}}`;
}

/** The Python literal of a query value or list of values. */
export function pythonLiteral(
  value: QueryValue | readonly QueryValue[]
): string {
  if (Array.isArray(value)) {
    return `[${value.map(item => pythonLiteral(item as QueryValue)).join(', ')}]`;
  }
  const item = value as QueryValue;
  if (item === null) {
    return 'None';
  }
  if (typeof item === 'boolean') {
    return item ? 'True' : 'False';
  }
  if (typeof item === 'number') {
    if (Number.isNaN(item)) {
      return 'float("nan")';
    }
    if (!Number.isFinite(item)) {
      return item > 0 ? 'float("inf")' : '-float("inf")';
    }
    return String(item);
  }
  return pythonString(item);
}

function isKeywordName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !PYTHON_KEYWORDS.has(name);
}

/**
 * The code, ready to run in a kernel with intake-esm installed.
 *
 * @throws IntakeQueryError when the query has a column called `require_all_on`,
 *   which `esm_datastore.search` would take for its own argument.
 */
export function intakeEsmCode(options: IntakeEsmCodeOptions): string {
  const {
    catalog,
    query,
    columnsWithIterables = [],
    open = true,
    xarrayOpenKwargs
  } = options;
  const columns = Object.keys(query);
  if (columns.includes('require_all_on')) {
    throw new IntakeQueryError(
      'A column called "require_all_on" cannot be searched with intake-esm: it is the name of search()\'s own argument.'
    );
  }
  const requireAllOn =
    options.requireAllOn === undefined
      ? []
      : typeof options.requireAllOn === 'string'
        ? [options.requireAllOn]
        : [...options.requireAllOn];
  const lines = ['import intake', ''];
  const openArgs = [pythonString(catalog)];
  if (columnsWithIterables.length > 0) {
    openArgs.push(
      `columns_with_iterables=${pythonLiteral([...columnsWithIterables])}`
    );
  }
  lines.push(`cat = intake.open_esm_datastore(${openArgs.join(', ')})`);
  let result = 'cat';
  if (columns.length > 0) {
    const args: string[] = [];
    if (columns.every(isKeywordName)) {
      for (const column of columns) {
        args.push(`    ${column}=${pythonLiteral(query[column])},`);
      }
    } else {
      args.push('    **{');
      for (const column of columns) {
        args.push(
          `        ${pythonString(column)}: ${pythonLiteral(query[column])},`
        );
      }
      args.push('    },');
    }
    if (requireAllOn.length > 0) {
      args.push(`    require_all_on=${pythonLiteral(requireAllOn)},`);
    }
    lines.push('subset = cat.search(', ...args, ')');
    result = 'subset';
  }
  if (open) {
    const datasetArgs =
      xarrayOpenKwargs === undefined
        ? ''
        : `xarray_open_kwargs=${pythonDict(xarrayOpenKwargs)}`;
    lines.push(`dsets = ${result}.to_dataset_dict(${datasetArgs})`);
  }
  return `${lines.join('\n')}\n`;
}

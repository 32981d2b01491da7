/**
 * Faceted search over an intake-esm table with intake-esm's own semantics
 * (`esm_datastore.search`, `intake_esm/_search.py`):
 *
 * - OR between the values given for one column, AND across columns;
 * - a value is a regular expression when intake-esm says so (`isPattern`), searched
 *   anywhere in the cell and case-sensitively; any other value must equal the cell
 *   (so `'5'` does not find the number 5, and `None`/null finds missing cells);
 * - iterable columns (lists) match when one item equals the value (no patterns);
 * - `require_all_on`: keep only the groups (rows sharing the `require_all_on` values)
 *   that hold every combination of the other columns' requested values, groups in
 *   sorted order as pandas' `groupby` gives them;
 * - an unknown column is an error; a column given `[]` matches nothing.
 *
 * One deliberate difference: an empty query returns every row (the catalogue as
 * opened), where intake-esm's `search()` with no arguments returns none; the code
 * generator then opens the catalogue without `.search()`, so both agree.
 *
 * How rows are matched is in `match.ts`, `require_all_on` in `require-all-on.ts`;
 * this module answers the searches and counts the facets.
 */
import { allRows, countEntries, tableCounts } from './column-index';
import {
  bySelectivity,
  chainRows,
  filterRows,
  type IntakeQuery,
  normaliseQuery,
  passesOnce,
  passOnce,
  plainRows,
  type SearchOptions,
  testsOf,
  unknownColumn
} from './match';
import { applyRequireAllOn, compareCells } from './require-all-on';
import type { CellValue, IntakeColumn, IntakeTable } from './table';

export { IntakeQueryError, isPattern } from './pattern';
export type { IntakeQuery, QueryValue, SearchOptions } from './match';

/** A value with the number of rows (or list items) holding it. */
export interface ValueCount {
  value: Exclude<CellValue, null>;
  count: number;
}

/** Per column, its values with their counts, most frequent first. */
export type ValueCounts = Record<string, ValueCount[]>;

export interface FacetedSearchOptions extends SearchOptions {
  /** The columns to count; every column by default. */
  facets?: readonly string[];
}

export interface FacetedSearch {
  /** The rows intake-esm's search returns, in its order. */
  rows: Uint32Array;
  /** Per facet, the values among `rows` (what `.search(...).unique()` lists), counted. */
  counts: ValueCounts;
  /**
   * Per facet, the counts a multi-select facet list shows: each facet counted under
   * the other columns' constraints only, so that its other values stay visible with
   * the number of rows they would add. `require_all_on` is not applied here.
   */
  facetCounts: ValueCounts;
}

/**
 * The rows `esm_datastore.search(require_all_on=..., **query)` keeps, in its order.
 *
 * @throws IntakeQueryError as `normaliseQuery`, `matchDictionary` and
 *   `applyRequireAllOn` do.
 */
export function search(
  table: IntakeTable,
  query: IntakeQuery,
  options: SearchOptions = {}
): Uint32Array {
  const normalised = normaliseQuery(table, query, options);
  if (normalised.terms.length === 0) {
    return allRows(table);
  }
  const rows = plainRows(table, testsOf(normalised));
  return normalised.requireAllOn.length > 0
    ? applyRequireAllOn(rows, normalised)
    : rows;
}

/** Entry counts as values with counts, most frequent first, then by value. */
export function toValueCounts(
  column: IntakeColumn,
  counts: Uint32Array
): ValueCount[] {
  const out: ValueCount[] = [];
  for (let entry = 0; entry < counts.length; entry++) {
    const value = column.dictionary[entry];
    if (counts[entry] > 0 && value !== null) {
      out.push({ value, count: counts[entry] });
    }
  }
  return out.sort(
    (a, b) => b.count - a.count || compareCells(a.value, b.value)
  );
}

function facetColumns(
  table: IntakeTable,
  facets: readonly string[] | undefined
): IntakeColumn[] {
  return (facets ?? table.columnNames).map(name => {
    const column = table.column(name);
    if (column === undefined) {
      throw unknownColumn(table, name);
    }
    return column;
  });
}

/** The values of `facets` (every column by default) among `rows`, counted. */
export function countValues(
  table: IntakeTable,
  rows: Uint32Array,
  facets?: readonly string[]
): ValueCounts {
  const counts: ValueCounts = {};
  for (const column of facetColumns(table, facets)) {
    counts[column.name] = toValueCounts(column, countEntries(column, rows));
  }
  return counts;
}

/**
 * A search with the counts a facet panel shows: the matching rows, each facet's
 * values among them, and each facet's values under the other columns' constraints
 * (see `FacetedSearch`). On scalar columns, one pass over the table gives the rows
 * and every queried facet's counts under the other constraints (`passOnce`); with
 * list columns, two passes at most (the two most selective columns), every other
 * step filtering rows already kept.
 */
export function facetedSearch(
  table: IntakeTable,
  query: IntakeQuery,
  options: FacetedSearchOptions = {}
): FacetedSearch {
  const normalised = normaliseQuery(table, query, options);
  const facets = facetColumns(table, options.facets);
  // The order of the tests matters only where they are chained.
  const given = testsOf(normalised);
  const tests = passesOnce(given) ? given : bySelectivity(table, given);
  // Each column's counts among the rows passing every test, computed once.
  const inRowsOf = new Map<IntakeColumn, Uint32Array>();
  const inRows = (column: IntakeColumn): Uint32Array => {
    let found = inRowsOf.get(column);
    if (found === undefined) {
      found =
        tests.length > 0
          ? countEntries(column, rows)
          : tableCounts(table, column);
      inRowsOf.set(column, found);
    }
    return found;
  };
  // Per queried column, its counts under the other columns' tests.
  const underOthers = new Map<IntakeColumn, () => Uint32Array>();
  let rows: Uint32Array;
  if (passesOnce(tests)) {
    const pass = passOnce(table, tests);
    rows = pass.rows;
    tests.forEach((test, at) =>
      underOthers.set(test.column, () => {
        const counts = inRows(test.column).slice();
        const missed = pass.missed[at];
        for (let entry = 0; entry < counts.length; entry++) {
          counts[entry] += missed[entry];
        }
        return counts;
      })
    );
  } else {
    // The rows passing the most selective test are where every chain but one starts.
    const first = tests.length > 0 ? filterRows(table, null, tests[0]) : null;
    rows = chainRows(table, tests.slice(1), first) ?? allRows(table);
    tests.forEach((test, own) =>
      underOthers.set(test.column, () => {
        const others = tests.filter((_, at) => at !== own);
        const among =
          own === 0
            ? chainRows(table, others)
            : chainRows(table, others.slice(1), first);
        return among === null
          ? tableCounts(table, test.column)
          : countEntries(test.column, among);
      })
    );
  }
  const result =
    normalised.requireAllOn.length > 0 && tests.length > 0
      ? applyRequireAllOn(rows, normalised)
      : rows;
  const counts: ValueCounts = {};
  const facetCounts: ValueCounts = {};
  for (const column of facets) {
    counts[column.name] = toValueCounts(
      column,
      result === rows ? inRows(column) : countEntries(column, result)
    );
    // A queried facet is counted among the rows passing every other column's test.
    const own = underOthers.get(column);
    facetCounts[column.name] = toValueCounts(
      column,
      own === undefined ? inRows(column) : own()
    );
  }
  return { rows: result, counts, facetCounts };
}

/**
 * The distinct values of each column among `rows`, in order of first appearance and
 * without missing values, list items flattened: intake-esm's `.unique()`.
 */
export function unique(
  table: IntakeTable,
  rows: Uint32Array,
  columns?: readonly string[]
): Record<string, CellValue[]> {
  const out: Record<string, CellValue[]> = {};
  for (const column of facetColumns(table, columns)) {
    const seen = new Uint8Array(column.dictionary.length);
    const values: CellValue[] = [];
    const visit = (entry: number) => {
      if (seen[entry] === 0) {
        seen[entry] = 1;
        if (entry !== column.nullIndex) {
          values.push(column.dictionary[entry]);
        }
      }
    };
    const { indices, offsets } = column;
    for (const row of rows) {
      if (offsets === undefined) {
        visit(indices[row]);
      } else {
        for (let item = offsets[row]; item < offsets[row + 1]; item++) {
          visit(indices[item]);
        }
      }
    }
    out[column.name] = values;
  }
  return out;
}

/**
 * The number of distinct values of each column among `rows`, a missing value counting
 * as one and an empty list as a missing value: intake-esm's `.nunique()`.
 */
export function nunique(
  table: IntakeTable,
  rows: Uint32Array,
  columns?: readonly string[]
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const column of facetColumns(table, columns)) {
    const counts = countEntries(column, rows);
    let distinct = 0;
    for (const count of counts) {
      if (count > 0) {
        distinct++;
      }
    }
    const { offsets } = column;
    if (
      offsets !== undefined &&
      (column.nullIndex < 0 || counts[column.nullIndex] === 0)
    ) {
      for (const row of rows) {
        if (offsets[row] === offsets[row + 1]) {
          distinct++;
          break;
        }
      }
    }
    out[column.name] = distinct;
  }
  return out;
}

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
 * Each value is tested once per dictionary entry; rows are then kept by looking their
 * dictionary index up in a byte table, the most selective column first, which is what
 * makes a million-row search fast.
 */
import { compilePattern, IntakeQueryError, isPattern } from './pattern';
import type { CellValue, IntakeColumn, IntakeTable } from './table';

export { IntakeQueryError, isPattern } from './pattern';

/** A value to search for: text, a number or boolean (Parquet columns), or null. */
export type QueryValue = string | number | boolean | null;

/** Column name to one value or a list of values (OR). */
export type IntakeQuery = Record<string, QueryValue | readonly QueryValue[]>;

export interface SearchOptions {
  /** intake-esm's `require_all_on`: a column or columns. */
  requireAllOn?: string | readonly string[];
}

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

/** A query checked against the table, each column's values as a list. */
export interface NormalisedQuery {
  terms: Array<{ column: IntakeColumn; values: readonly QueryValue[] }>;
  requireAllOn: IntakeColumn[];
}

function unknownColumn(table: IntakeTable, name: string): IntakeQueryError {
  return new IntakeQueryError(
    `Column "${name}" is not in this catalogue; its columns are: ${table.columnNames.join(', ')}.`
  );
}

/**
 * The query with every column checked and every value put in a list.
 *
 * @throws IntakeQueryError when a column (of the query or of `requireAllOn`) is not
 *   in the table, as intake-esm raises.
 */
export function normaliseQuery(
  table: IntakeTable,
  query: IntakeQuery,
  options: SearchOptions = {}
): NormalisedQuery {
  const terms = Object.entries(query).map(([name, value]) => {
    const column = table.column(name);
    if (column === undefined) {
      throw unknownColumn(table, name);
    }
    const values: readonly QueryValue[] = Array.isArray(value)
      ? value
      : [value as QueryValue];
    return { column, values };
  });
  const names =
    options.requireAllOn === undefined
      ? []
      : typeof options.requireAllOn === 'string'
        ? [options.requireAllOn]
        : options.requireAllOn;
  const requireAllOn = names.map(name => {
    const column = table.column(name);
    if (column === undefined) {
      throw unknownColumn(table, name);
    }
    return column;
  });
  return { terms, requireAllOn };
}

function isMissing(value: QueryValue): boolean {
  return value === null || (typeof value === 'number' && Number.isNaN(value));
}

/**
 * For each dictionary entry of `column`, 1 when a cell holding it matches one of
 * `values`, else 0. This is where every value is compared, once per distinct value.
 *
 * @throws IntakeQueryError for an invalid pattern, or a pattern on a column of numbers
 *   or booleans (intake-esm fails there too).
 */
export function matchDictionary(
  column: IntakeColumn,
  values: readonly QueryValue[]
): Uint8Array {
  const { dictionary } = column;
  const match = new Uint8Array(dictionary.length);
  const literals = new Set<QueryValue>();
  for (const value of values) {
    if (column.offsets === undefined && isPattern(value)) {
      if (column.kind !== 'text') {
        throw new IntakeQueryError(
          `"${value}" is a pattern, but column "${column.name}" holds ${column.kind === 'number' ? 'numbers' : 'booleans'}: patterns only apply to text.`
        );
      }
      const regex = compilePattern(value);
      for (let entry = 0; entry < dictionary.length; entry++) {
        const cell = dictionary[entry];
        if (typeof cell === 'string' && regex.test(cell)) {
          match[entry] = 1;
        }
      }
    } else if (isMissing(value)) {
      if (column.nullIndex >= 0) {
        match[column.nullIndex] = 1;
      }
    } else {
      literals.add(value);
    }
  }
  if (literals.size > 0) {
    // A Set compares strictly, as pandas' == on a text column: '5' is not 5.
    for (let entry = 0; entry < dictionary.length; entry++) {
      if (literals.has(dictionary[entry])) {
        match[entry] = 1;
      }
    }
  }
  return match;
}

/** Whether `row` of `column` holds a matching entry (for a list: one item does). */
function rowMatches(
  column: IntakeColumn,
  match: Uint8Array,
  row: number
): boolean {
  const { indices, offsets } = column;
  if (offsets === undefined) {
    return match[indices[row]] === 1;
  }
  for (let item = offsets[row]; item < offsets[row + 1]; item++) {
    if (match[indices[item]] === 1) {
      return true;
    }
  }
  return false;
}

interface Test {
  column: IntakeColumn;
  match: Uint8Array;
}

function testsOf(query: NormalisedQuery): Test[] {
  return query.terms.map(({ column, values }) => ({
    column,
    match: matchDictionary(column, values)
  }));
}

// Each column's counts over the whole table, computed once: they order the query's
// columns by selectivity and are the facet counts of an empty query.
const wholeTableCounts = new WeakMap<IntakeColumn, Uint32Array>();

function tableCounts(table: IntakeTable, column: IntakeColumn): Uint32Array {
  let counts = wholeTableCounts.get(column);
  if (counts === undefined) {
    counts = countEntries(column, allRows(table));
    wholeTableCounts.set(column, counts);
  }
  return counts;
}

/** The tests, most selective first (fewest rows matching). */
function bySelectivity(table: IntakeTable, tests: Test[]): Test[] {
  const size = (test: Test) => {
    const counts = tableCounts(table, test.column);
    let total = 0;
    for (let entry = 0; entry < counts.length; entry++) {
      if (test.match[entry] === 1) {
        total += counts[entry];
      }
    }
    return total;
  };
  const sizes = new Map(tests.map(test => [test, size(test)]));
  return [...tests].sort((a, b) => sizes.get(a)! - sizes.get(b)!);
}

/**
 * The rows among `candidates` (every row when null) that pass `test`, in order. The
 * loop only looks a row's dictionary index up in the test's byte table.
 */
function filterRows(
  table: IntakeTable,
  candidates: Uint32Array | null,
  test: Test
): Uint32Array {
  const { column, match } = test;
  const { indices, offsets } = column;
  if (offsets === undefined && candidates === null) {
    // The whole-table counts say how many rows pass: no over-allocation, no copy.
    const counts = tableCounts(table, column);
    let size = 0;
    for (let entry = 0; entry < counts.length; entry++) {
      if (match[entry] === 1) {
        size += counts[entry];
      }
    }
    const kept = new Uint32Array(size);
    let count = 0;
    for (let row = 0; row < table.numRows && count < size; row++) {
      if (match[indices[row]] === 1) {
        kept[count++] = row;
      }
    }
    return kept;
  }
  const total = candidates === null ? table.numRows : candidates.length;
  const kept = new Uint32Array(total);
  let count = 0;
  if (offsets === undefined) {
    for (let at = 0; at < total; at++) {
      const row = candidates![at];
      if (match[indices[row]] === 1) {
        kept[count++] = row;
      }
    }
  } else {
    for (let at = 0; at < total; at++) {
      const row = candidates === null ? at : candidates[at];
      if (rowMatches(column, match, row)) {
        kept[count++] = row;
      }
    }
  }
  return kept.slice(0, count);
}

/** The rows passing every test (tests in selectivity order), or null for all rows. */
function chainRows(
  table: IntakeTable,
  tests: readonly Test[],
  start: Uint32Array | null = null
): Uint32Array | null {
  let rows = start;
  for (const test of tests) {
    rows = filterRows(table, rows, test);
  }
  return rows;
}

function plainRows(table: IntakeTable, tests: Test[]): Uint32Array {
  const ordered = bySelectivity(table, tests);
  if (
    ordered.length > 1 &&
    ordered.every(test => test.column.offsets === undefined)
  ) {
    return passOnce(table, ordered, false).rows;
  }
  return chainRows(table, ordered) ?? allRows(table);
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

/** Every row of the table, in order. */
export function allRows(table: IntakeTable): Uint32Array {
  const rows = new Uint32Array(table.numRows);
  for (let row = 0; row < rows.length; row++) {
    rows[row] = row;
  }
  return rows;
}

/** Python's ordering of the values of one column, as `groupby` sorts its keys. */
export function compareCells(a: CellValue, b: CellValue): number {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return 1;
  }
  if (b === null) {
    return -1;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return a < b ? -1 : 1;
  }
  return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
}

/** Each dictionary entry's rank in Python's sort order. */
export function sortRanks(column: IntakeColumn): Int32Array {
  const order = column.dictionary
    .map((_, entry) => entry)
    .sort((a, b) => compareCells(column.dictionary[a], column.dictionary[b]));
  const ranks = new Int32Array(order.length);
  order.forEach((entry, rank) => {
    ranks[entry] = rank;
  });
  return ranks;
}

/**
 * A key per row for the combination of its values in `columns` (scalar columns), or
 * -1 when one of them is missing, as pandas' `groupby` drops such rows. Keys are
 * numbers when the combinations fit in 2^53, strings otherwise.
 */
export function groupKeyOf(
  columns: readonly IntakeColumn[]
): (row: number) => number | string {
  let space = 1;
  for (const column of columns) {
    space *= Math.max(column.dictionary.length, 1);
  }
  if (space <= Number.MAX_SAFE_INTEGER) {
    return row => {
      let key = 0;
      for (const column of columns) {
        const entry = column.indices[row];
        if (entry === column.nullIndex) {
          return -1;
        }
        key = key * column.dictionary.length + entry;
      }
      return key;
    };
  }
  return row => {
    const parts: number[] = [];
    for (const column of columns) {
      const entry = column.indices[row];
      if (entry === column.nullIndex) {
        return -1;
      }
      parts.push(entry);
    }
    return parts.join(',');
  };
}

/**
 * Rows grouped by their values in `columns`, groups in pandas' sorted order, rows in
 * the order given. Rows with a missing value in `columns` are left out.
 */
export function groupRows(
  rows: Uint32Array,
  columns: readonly IntakeColumn[]
): Uint32Array[] {
  const keyOf = groupKeyOf(columns);
  const groups = new Map<number | string, number[]>();
  for (const row of rows) {
    const key = keyOf(row);
    if (key === -1) {
      continue;
    }
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(row);
  }
  const ranks = columns.map(sortRanks);
  const sorted = Array.from(groups.values()).sort((a, b) => {
    for (let at = 0; at < columns.length; at++) {
      const { indices } = columns[at];
      const diff = ranks[at][indices[a[0]]] - ranks[at][indices[b[0]]];
      if (diff !== 0) {
        return diff;
      }
    }
    return 0;
  });
  return sorted.map(group => Uint32Array.from(group));
}

/**
 * intake-esm's `search_apply_require_all_on` on the rows a plain search kept.
 *
 * @throws IntakeQueryError when every query column is also a `require_all_on`
 *   column, or when a `require_all_on` column holds lists: intake-esm fails on both.
 */
export function applyRequireAllOn(
  rows: Uint32Array,
  query: NormalisedQuery
): Uint32Array {
  if (rows.length === 0) {
    return rows;
  }
  const groupColumns = query.requireAllOn;
  for (const column of groupColumns) {
    if (column.offsets !== undefined) {
      throw new IntakeQueryError(
        `require_all_on cannot use column "${column.name}": it holds lists.`
      );
    }
  }
  const groupNames = new Set(groupColumns.map(column => column.name));
  const keys = query.terms.filter(term => !groupNames.has(term.column.name));
  if (keys.length === 0) {
    throw new IntakeQueryError(
      'require_all_on names every column of the query: it needs at least one other queried column whose values each group must hold.'
    );
  }
  // Each requested value's position in its column's list, per dictionary entry; the
  // combination of positions numbers one element of intake-esm's condition set.
  const positions: Int32Array[] = [];
  const strides: number[] = [];
  let size = 1;
  for (const { column, values } of keys) {
    const distinct = Array.from(new Set(values));
    const position = new Int32Array(column.dictionary.length).fill(-1);
    for (let at = 0; at < distinct.length; at++) {
      const entry = isMissing(distinct[at])
        ? column.nullIndex
        : column.dictionary.indexOf(distinct[at]);
      if (entry < 0) {
        // No row holds this value, so no group holds every combination.
        return new Uint32Array(0);
      }
      position[entry] = at;
    }
    positions.push(position);
    strides.push(size);
    size *= distinct.length;
  }
  if (size > 1 << 24) {
    throw new IntakeQueryError(
      `require_all_on would check ${size} combinations of values: ask for fewer values.`
    );
  }
  const kept: number[] = [];
  for (const group of groupRows(rows, groupColumns)) {
    const seen = new Uint8Array(size);
    let found = 0;
    for (const row of group) {
      let combos = [0];
      for (let at = 0; at < keys.length && combos.length > 0; at++) {
        const { column } = keys[at];
        const items: number[] = [];
        if (column.offsets === undefined) {
          const position = positions[at][column.indices[row]];
          if (position >= 0) {
            items.push(position);
          }
        } else {
          for (
            let item = column.offsets[row];
            item < column.offsets[row + 1];
            item++
          ) {
            const position = positions[at][column.indices[item]];
            if (position >= 0) {
              items.push(position);
            }
          }
        }
        const next: number[] = [];
        for (const combo of combos) {
          for (const position of items) {
            next.push(combo + position * strides[at]);
          }
        }
        combos = next;
      }
      for (const combo of combos) {
        if (seen[combo] === 0) {
          seen[combo] = 1;
          found++;
        }
      }
    }
    if (found === size) {
      for (const row of group) {
        kept.push(row);
      }
    }
  }
  return Uint32Array.from(kept);
}

/**
 * The counts of one column's dictionary entries among `rows` (for a list column, of
 * its items).
 */
export function countEntries(
  column: IntakeColumn,
  rows: ArrayLike<number>
): Uint32Array {
  const counts = new Uint32Array(column.dictionary.length);
  const { indices, offsets } = column;
  if (offsets === undefined) {
    for (let at = 0; at < rows.length; at++) {
      counts[indices[rows[at]]]++;
    }
    return counts;
  }
  for (let at = 0; at < rows.length; at++) {
    const row = rows[at];
    for (let item = offsets[row]; item < offsets[row + 1]; item++) {
      counts[indices[item]]++;
    }
  }
  return counts;
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

/** A scalar column's rows grouped by dictionary entry (a counting sort). */
interface Postings {
  /** The rows, those of entry 0 first, each entry's in table order. */
  rows: Uint32Array;
  /** Entry `e`'s rows are `rows[starts[e]] .. rows[starts[e + 1] - 1]`. */
  starts: Uint32Array;
}

const postingsOf = new WeakMap<IntakeColumn, Postings>();

/**
 * The rows of each entry of a scalar column, computed the first time the column is
 * searched: a search then visits only the rows holding the values asked for.
 */
function postings(table: IntakeTable, column: IntakeColumn): Postings {
  let found = postingsOf.get(column);
  if (found === undefined) {
    const counts = tableCounts(table, column);
    const starts = new Uint32Array(counts.length + 1);
    for (let entry = 0; entry < counts.length; entry++) {
      starts[entry + 1] = starts[entry] + counts[entry];
    }
    const next = starts.slice(0, counts.length);
    const rows = new Uint32Array(table.numRows);
    const { indices } = column;
    for (let row = 0; row < rows.length; row++) {
      rows[next[indices[row]]++] = row;
    }
    found = { rows, starts };
    postingsOf.set(column, found);
  }
  return found;
}

/**
 * The rows passing `test` (a scalar column) as a bitset, one bit per row, set from
 * the postings of the entries it matches: only those rows are visited.
 */
function passingBits(table: IntakeTable, test: Test): Int32Array {
  const bits = new Int32Array((table.numRows + 31) >>> 5);
  const { rows, starts } = postings(table, test.column);
  const { match } = test;
  for (let entry = 0; entry + 1 < starts.length; entry++) {
    if (match[entry] === 0) {
      continue;
    }
    for (let at = starts[entry]; at < starts[entry + 1]; at++) {
      const row = rows[at];
      bits[row >>> 5] |= 1 << (row & 31);
    }
  }
  return bits;
}

/**
 * The rows passing every test (scalar columns, at least two tests), in table order,
 * and per test the counts of its column's entries among the rows failing that test
 * only: added to the counts among the passing rows, they are the column's counts
 * under the other tests.
 *
 * Each test's passing rows become a bitset (`passingBits`); then, 32 rows at a time,
 * the AND of all the bitsets gives the result and the AND of all but one, less that
 * one, the rows failing only that test. Rows matching no test are never visited.
 * Without `countMissed`, only the rows passing every test are found (`missed` then
 * holds zeros).
 */
function passOnce(
  table: IntakeTable,
  tests: readonly Test[],
  countMissed = true
): { rows: Uint32Array; missed: Uint32Array[] } {
  const k = tests.length;
  const bits = tests.map(test => passingBits(table, test));
  const codes = tests.map(test => test.column.indices);
  const missed = tests.map(
    test => new Uint32Array(test.column.dictionary.length)
  );
  // No more rows pass every test than pass the first (the most selective).
  const counts = tableCounts(table, tests[0].column);
  let capacity = 0;
  for (let entry = 0; entry < counts.length; entry++) {
    if (tests[0].match[entry] === 1) {
      capacity += counts[entry];
    }
  }
  const rows = new Uint32Array(capacity);
  let count = 0;
  const words = bits[0].length;
  for (let word = 0; word < words; word++) {
    const base = word << 5;
    let all = -1;
    for (let test = 0; test < k; test++) {
      all &= bits[test][word];
    }
    while (all !== 0) {
      const low = all & -all;
      rows[count++] = base + 31 - Math.clz32(low);
      all ^= low;
    }
    for (let test = 0; countMissed && test < k; test++) {
      let only = ~bits[test][word];
      for (let other = 0; other < k && only !== 0; other++) {
        if (other !== test) {
          only &= bits[other][word];
        }
      }
      if (only === 0) {
        continue;
      }
      const code = codes[test];
      const into = missed[test];
      do {
        const low = only & -only;
        into[code[base + 31 - Math.clz32(low)]]++;
        only ^= low;
      } while (only !== 0);
    }
  }
  return { rows: rows.slice(0, count), missed };
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
  const tests = bySelectivity(table, testsOf(normalised));
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
  if (
    tests.length > 1 &&
    tests.every(test => test.column.offsets === undefined)
  ) {
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

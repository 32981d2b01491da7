/**
 * The rows of an intake-esm table that pass a query, before `require_all_on`: each
 * value is tested once per dictionary entry (`matchDictionary`); rows are then kept by
 * looking their dictionary index up in a byte table, the most selective column first,
 * or, on scalar columns, by ANDing bitsets built from the columns' postings or scans
 * (`passOnce`). This is what makes a million-row search fast.
 */
import { compilePattern, IntakeQueryError, isPattern } from './pattern';
import { allRows, postingsOnceSearched, tableCounts } from './column-index';
import type { IntakeColumn, IntakeTable } from './table';

/** A value to search for: text, a number or boolean (Parquet columns), or null. */
export type QueryValue = string | number | boolean | null;

/** Column name to one value or a list of values (OR). */
export type IntakeQuery = Record<string, QueryValue | readonly QueryValue[]>;

export interface SearchOptions {
  /** intake-esm's `require_all_on`: a column or columns. */
  requireAllOn?: string | readonly string[];
}

/** A query checked against the table, each column's values as a list. */
export interface NormalisedQuery {
  terms: Array<{ column: IntakeColumn; values: readonly QueryValue[] }>;
  requireAllOn: IntakeColumn[];
}

export function unknownColumn(
  table: IntakeTable,
  name: string
): IntakeQueryError {
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

export function isMissing(value: QueryValue): boolean {
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

export interface Test {
  column: IntakeColumn;
  match: Uint8Array;
}

export function testsOf(query: NormalisedQuery): Test[] {
  return query.terms.map(({ column, values }) => ({
    column,
    match: matchDictionary(column, values)
  }));
}

/** The tests, most selective first (fewest rows matching). */
export function bySelectivity(table: IntakeTable, tests: Test[]): Test[] {
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
export function filterRows(
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
export function chainRows(
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

/** Whether `passOnce` answers the tests: two or more, all on scalar columns. */
export function passesOnce(tests: readonly Test[]): boolean {
  return (
    tests.length > 1 && tests.every(test => test.column.offsets === undefined)
  );
}

export function plainRows(table: IntakeTable, tests: Test[]): Uint32Array {
  if (passesOnce(tests)) {
    return passOnce(table, tests, false).rows;
  }
  return chainRows(table, bySelectivity(table, tests)) ?? allRows(table);
}

function bitCount(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * The rows passing `test` (a scalar column) as a bitset, one bit per row, set from
 * the postings of the entries it matches (only those rows are visited), or from a
 * scan of the column the first time it is searched.
 */
function passingBits(
  table: IntakeTable,
  test: Test
): { bits: Int32Array; count: number } {
  const bits = new Int32Array((table.numRows + 31) >>> 5);
  const { match } = test;
  let count = 0;
  const found = postingsOnceSearched(table, test.column);
  if (found === null) {
    const { indices } = test.column;
    const numRows = table.numRows;
    for (let word = 0; word < bits.length; word++) {
      const base = word << 5;
      const end = Math.min(32, numRows - base);
      let set = 0;
      for (let bit = 0; bit < end; bit++) {
        set |= match[indices[base + bit]] << bit;
      }
      bits[word] = set;
      count += bitCount(set);
    }
    return { bits, count };
  }
  const { rows, starts } = found;
  for (let entry = 0; entry + 1 < starts.length; entry++) {
    if (match[entry] === 0) {
      continue;
    }
    count += starts[entry + 1] - starts[entry];
    for (let at = starts[entry]; at < starts[entry + 1]; at++) {
      const row = rows[at];
      bits[row >>> 5] |= 1 << (row & 31);
    }
  }
  return { bits, count };
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
export function passOnce(
  table: IntakeTable,
  tests: readonly Test[],
  countMissed = true
): { rows: Uint32Array; missed: Uint32Array[] } {
  const k = tests.length;
  const passing = tests.map(test => passingBits(table, test));
  const bits = passing.map(pass => pass.bits);
  const codes = tests.map(test => test.column.indices);
  const missed = tests.map(
    test => new Uint32Array(test.column.dictionary.length)
  );
  // No more rows pass every test than pass the most selective one.
  const rows = new Uint32Array(Math.min(...passing.map(pass => pass.count)));
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

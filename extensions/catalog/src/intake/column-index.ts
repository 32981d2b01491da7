/**
 * Per-column indexes of an intake-esm table, kept with the column: its entries' counts
 * over the whole table (computed the first time a column is searched or counted) and
 * its rows grouped by entry (postings, built the second time a column is searched: the
 * first search of a freshly loaded table scans the column instead, which costs less
 * than building them).
 */
import type { IntakeColumn, IntakeTable } from './table';

/** Every row of the table, in order. */
export function allRows(table: IntakeTable): Uint32Array {
  const rows = new Uint32Array(table.numRows);
  for (let row = 0; row < rows.length; row++) {
    rows[row] = row;
  }
  return rows;
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

// Each column's counts over the whole table, computed once: they order the query's
// columns by selectivity and are the facet counts of an empty query.
const wholeTableCounts = new WeakMap<IntakeColumn, Uint32Array>();

export function tableCounts(
  table: IntakeTable,
  column: IntakeColumn
): Uint32Array {
  let counts = wholeTableCounts.get(column);
  if (counts === undefined) {
    counts = new Uint32Array(column.dictionary.length);
    const { indices, offsets } = column;
    const start = offsets === undefined ? 0 : offsets[0];
    const end = offsets === undefined ? table.numRows : offsets[table.numRows];
    for (let item = start; item < end; item++) {
      counts[indices[item]]++;
    }
    wholeTableCounts.set(column, counts);
  }
  return counts;
}

/** A scalar column's rows grouped by dictionary entry (a counting sort). */
export interface Postings {
  /** The rows, those of entry 0 first, each entry's in table order. */
  rows: Uint32Array;
  /** Entry `e`'s rows are `rows[starts[e]] .. rows[starts[e + 1] - 1]`. */
  starts: Uint32Array;
}

const postingsOf = new WeakMap<IntakeColumn, Postings>();
const searchedOnce = new WeakSet<IntakeColumn>();

/**
 * The postings of a scalar column searched before, built now if need be; null the
 * first time the column is searched (a scan of the column is then cheaper).
 */
export function postingsOnceSearched(
  table: IntakeTable,
  column: IntakeColumn
): Postings | null {
  if (postingsOf.has(column) || searchedOnce.has(column)) {
    return postings(table, column);
  }
  searchedOnce.add(column);
  return null;
}

/**
 * The rows of each entry of a scalar column, computed the first time the column is
 * searched: a search then visits only the rows holding the values asked for.
 */
export function postings(table: IntakeTable, column: IntakeColumn): Postings {
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

/**
 * intake-esm's `require_all_on`: rows grouped as pandas' `groupby` groups them (keys in
 * Python's sort order, rows with a missing key dropped), and only the groups holding
 * every combination of the requested values kept.
 */
import { isMissing, type NormalisedQuery } from './match';
import { IntakeQueryError } from './pattern';
import type { CellValue, IntakeColumn } from './table';

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

/**
 * An intake-esm catalogue table in the browser: the Arrow IPC streams the server sends
 * (`GET /espri-vre/api/catalogs/{id}/table?part=search`, then `?part=assets`, joined
 * with `joinTables`), decoded into columns of dictionary indices.
 *
 * Every column becomes one dictionary of distinct values and one typed array of
 * indices into it, so that a search tests each distinct value once and then filters
 * rows by integer lookups (see `search.ts`). Dictionary-encoded Arrow columns keep
 * their own indices array when they can (one record batch, no null index, no repeated
 * dictionary values; a missing value may be a null entry of the dictionary), which is
 * how the server sends the search columns: they cost nothing to decode. Any other
 * column is encoded here, the first time it is used, so a column of a million
 * distinct paths costs nothing until a query needs it; a record reads its paths one
 * row at a time (`cellValue`) without encoding the column.
 */
import {
  DataType,
  makeVector,
  tableFromIPC,
  Vector,
  type Data,
  type Table
} from 'apache-arrow';

/**
 * A value of a catalogue cell. CSV catalogues hold only text (intake-esm reads every
 * CSV column as strings); Parquet catalogues may hold numbers and booleans. Arrow
 * 64-bit integers become numbers, and NaN becomes null, as pandas counts NaN as
 * missing.
 */
export type CellValue = string | number | boolean | null;

/** Dictionary indices, as narrow as the dictionary allows. */
export type DictionaryIndices = Int8Array | Int16Array | Int32Array;

/**
 * What a column's values are: `text` (strings; also an all-null column, which
 * intake-esm reads as text), `number` or `boolean`.
 */
export type ColumnKind = 'text' | 'number' | 'boolean';

/**
 * One column: its distinct values and, per row, the index of the row's value.
 *
 * An iterable column (an Arrow list, such as intake-esm's `columns_with_iterables`)
 * has `offsets`: row `r` holds the items `indices[offsets[r]] .. indices[offsets[r+1]-1]`.
 * A null list is held as an empty one.
 */
export interface IntakeColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  /** The distinct values; `null` is one of them when the column has missing values. */
  readonly dictionary: readonly CellValue[];
  readonly indices: DictionaryIndices;
  readonly offsets?: Int32Array;
  /** Where `null` is in `dictionary`, or -1. */
  readonly nullIndex: number;
  /** Whether the Arrow column had floating-point values (Python prints them as `5.0`). */
  readonly floating: boolean;
  /**
   * The value of one row of a scalar column, when the column can read it without
   * being encoded (see `cellValue`).
   */
  value?(row: number): CellValue;
}

export interface IntakeTable {
  readonly numRows: number;
  /** The columns in the catalogue's order. */
  readonly columns: readonly IntakeColumn[];
  readonly columnNames: readonly string[];
  /** The column called `name`, or undefined. */
  column(name: string): IntakeColumn | undefined;
}

/**
 * The Arrow IPC stream (or file) could not be read as a catalogue table.
 */
export class IntakeTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntakeTableError';
  }
}

/**
 * Decode the Arrow IPC bytes of an intake-esm table.
 *
 * @throws IntakeTableError when the bytes are not an Arrow IPC stream or file.
 */
export function readIntakeTable(bytes: Uint8Array | ArrayBuffer): IntakeTable {
  const buffer = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (buffer.byteLength === 0) {
    throw new IntakeTableError('The catalogue table is empty (0 bytes).');
  }
  let table: Table;
  try {
    table = tableFromIPC(buffer);
  } catch (error) {
    throw new IntakeTableError(
      `The catalogue table is not a readable Arrow IPC stream (${
        error instanceof Error ? error.message : String(error)
      }).`
    );
  }
  if (table.schema.fields.length === 0) {
    throw new IntakeTableError(
      'The catalogue table is not a readable Arrow IPC stream (no schema and no columns).'
    );
  }
  return intakeTableFromArrow(table);
}

/**
 * The catalogue table of an Arrow table already in memory.
 */
export function intakeTableFromArrow(table: Table): IntakeTable {
  const columns = table.schema.fields.map((field, position) => {
    const vector = table.getChildAt(position);
    return new ArrowColumn(
      field.name,
      vector ? vector.data : [],
      table.numRows
    );
  });
  return makeTable(table.numRows, columns);
}

/**
 * A table made of columns already encoded (for tests and generated catalogues).
 */
export function makeTable(
  numRows: number,
  columns: IntakeColumn[]
): IntakeTable {
  const byName = new Map(columns.map(column => [column.name, column]));
  return {
    numRows,
    columns,
    columnNames: columns.map(column => column.name),
    column: (name: string) => byName.get(name)
  };
}

/**
 * The columns of tables holding the same rows (the parts of one catalogue) as one
 * table, its columns in `order` (any column not named there after the others).
 *
 * @throws IntakeTableError when the tables do not have the same number of rows.
 */
export function joinTables(
  parts: readonly IntakeTable[],
  order: readonly string[] = []
): IntakeTable {
  const numRows = parts.length > 0 ? parts[0].numRows : 0;
  for (const part of parts) {
    if (part.numRows !== numRows) {
      throw new IntakeTableError(
        `The parts of the catalogue table do not have the same rows (${part.numRows} and ${numRows}).`
      );
    }
  }
  const rank = new Map(order.map((name, at) => [name, at]));
  const columns = parts
    .flatMap(part => part.columns)
    .map((column, at) => ({
      column,
      at: rank.get(column.name) ?? order.length + at
    }))
    .sort((a, b) => a.at - b.at)
    .map(({ column }) => column);
  return makeTable(numRows, columns);
}

/**
 * The value of a cell: a `CellValue`, or the list of items of an iterable column.
 */
export function cellValue(
  column: IntakeColumn,
  row: number
): CellValue | CellValue[] {
  if (column.offsets === undefined && column.value !== undefined) {
    return column.value(row);
  }
  const { dictionary, indices, offsets } = column;
  if (offsets === undefined) {
    return dictionary[indices[row]];
  }
  const items: CellValue[] = [];
  for (let item = offsets[row]; item < offsets[row + 1]; item++) {
    items.push(dictionary[indices[item]]);
  }
  return items;
}

/**
 * Typed indices wide enough for `size` dictionary entries.
 */
export function indicesFor(size: number, length: number): DictionaryIndices {
  if (size <= 0x80) {
    return new Int8Array(length);
  }
  if (size <= 0x8000) {
    return new Int16Array(length);
  }
  return new Int32Array(length);
}

function normalise(value: unknown): CellValue {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value === 'string' || typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'number') {
    return Number.isNaN(value) ? null : value;
  }
  if (typeof value === 'bigint') {
    return Number(value);
  }
  // Dates, decimals and the like: intake-esm can only compare them to Python objects
  // the panel cannot type, so they are shown and searched as text.
  return String(value);
}

function kindOf(type: DataType): ColumnKind {
  if (DataType.isDictionary(type)) {
    return kindOf(type.dictionary);
  }
  if (DataType.isList(type) || DataType.isLargeList(type)) {
    return kindOf(type.children[0].type);
  }
  if (DataType.isInt(type) || DataType.isFloat(type)) {
    return 'number';
  }
  if (DataType.isBool(type)) {
    return 'boolean';
  }
  return 'text';
}

function isFloating(type: DataType): boolean {
  if (DataType.isDictionary(type)) {
    return isFloating(type.dictionary);
  }
  if (DataType.isList(type) || DataType.isLargeList(type)) {
    return isFloating(type.children[0].type);
  }
  return DataType.isFloat(type);
}

function isValid(data: Data, index: number): boolean {
  if (data.nullCount === 0 || data.nullBitmap.length === 0) {
    return !DataType.isNull(data.type);
  }
  const bit = data.offset + index;
  return (data.nullBitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
}

/**
 * Builds one global dictionary from the values met, chunk after chunk.
 */
class DictionaryBuilder {
  readonly values: CellValue[] = [];
  private readonly positions = new Map<CellValue, number>();

  indexOf(value: CellValue): number {
    let index = this.positions.get(value);
    if (index === undefined) {
      index = this.values.length;
      this.values.push(value);
      this.positions.set(value, index);
    }
    return index;
  }
}

const utf8 = new TextDecoder();

/**
 * The values of an Arrow vector. Text is decoded in one pass over its bytes when it
 * is ASCII (catalogue paths and facet values nearly always are): a million paths
 * then take a fraction of what one decode per value takes.
 */
function vectorValues(vector: Vector): CellValue[] {
  if (
    vector.data.length !== 1 ||
    !(DataType.isUtf8(vector.type) || DataType.isLargeUtf8(vector.type))
  ) {
    return Array.from(vector, normalise);
  }
  const data = vector.data[0];
  const offsets = data.valueOffsets as ArrayLike<number | bigint>;
  const bytes = data.values as Uint8Array;
  const start = Number(offsets[0]);
  const end = Number(offsets[data.length]);
  const text = utf8.decode(bytes.subarray(start, end));
  const ascii = text.length === end - start;
  const out: CellValue[] = new Array(data.length);
  for (let entry = 0; entry < data.length; entry++) {
    if (!isValid(data, entry)) {
      out[entry] = null;
      continue;
    }
    const from = Number(offsets[entry]);
    const to = Number(offsets[entry + 1]);
    out[entry] = ascii
      ? text.substring(from - start, to - start)
      : utf8.decode(bytes.subarray(from, to));
  }
  return out;
}

/**
 * The global index of every value of a chunk, in row order (or item order for the
 * child of a list), -1 never: nulls get the dictionary's null entry.
 */
function chunkIndices(data: Data, builder: DictionaryBuilder): Int32Array {
  const out = new Int32Array(data.length);
  if (DataType.isDictionary(data.type) && data.dictionary !== undefined) {
    const local = vectorValues(data.dictionary).map(value =>
      builder.indexOf(value)
    );
    const raw = data.values as ArrayLike<number | bigint>;
    for (let row = 0; row < data.length; row++) {
      out[row] = isValid(data, row)
        ? local[Number(raw[row])]
        : builder.indexOf(null);
    }
    return out;
  }
  if (DataType.isNull(data.type)) {
    out.fill(builder.indexOf(null));
    return out;
  }
  const vector = makeVector(data);
  for (let row = 0; row < data.length; row++) {
    out[row] = builder.indexOf(normalise(vector.get(row)));
  }
  return out;
}

/**
 * The Arrow indices of a column kept as they are, when that is exact: one chunk, no
 * null index, a signed index type and a dictionary whose values are all distinct (a
 * missing value may be one null entry of the dictionary).
 */
function keptIndices(chunks: readonly Data[]): Encoded | null {
  if (chunks.length !== 1) {
    return null;
  }
  const [data] = chunks;
  if (
    !DataType.isDictionary(data.type) ||
    data.dictionary === undefined ||
    data.nullCount !== 0
  ) {
    return null;
  }
  const raw = data.values;
  if (!(
    raw instanceof Int32Array ||
    raw instanceof Int16Array ||
    raw instanceof Int8Array
  )) {
    return null;
  }
  const dictionary = vectorValues(data.dictionary);
  if (new Set(dictionary).size !== dictionary.length) {
    return null;
  }
  return {
    dictionary,
    indices: raw.subarray(0, data.length),
    nullIndex: dictionary.indexOf(null)
  };
}

function narrow(wide: Int32Array, size: number): DictionaryIndices {
  const out = indicesFor(size, wide.length);
  if (out instanceof Int32Array) {
    return wide;
  }
  out.set(wide);
  return out;
}

type Encoded = Pick<
  IntakeColumn,
  'dictionary' | 'indices' | 'offsets' | 'nullIndex'
>;

/**
 * A column of an Arrow table, encoded the first time its values are asked for: a
 * search touches only the columns it queries and counts, so a catalogue's column of
 * a million distinct paths costs nothing until a record or a query needs it.
 */
class ArrowColumn implements IntakeColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly floating: boolean;
  private readonly chunks: readonly Data[];
  private readonly numRows: number;
  private readonly isList: boolean;
  private encoded: Encoded | undefined;
  private vector: Vector | undefined;

  constructor(name: string, chunks: readonly Data[], numRows: number) {
    const type = chunks.length > 0 ? chunks[0].type : undefined;
    this.name = name;
    this.chunks = chunks;
    this.numRows = numRows;
    this.kind = type ? kindOf(type) : 'text';
    this.floating = type ? isFloating(type) : false;
    this.isList =
      type !== undefined &&
      (DataType.isList(type) || DataType.isLargeList(type));
  }

  get dictionary(): readonly CellValue[] {
    return this.encode().dictionary;
  }

  get indices(): DictionaryIndices {
    return this.encode().indices;
  }

  get offsets(): Int32Array | undefined {
    return this.isList ? this.encode().offsets : undefined;
  }

  get nullIndex(): number {
    return this.encode().nullIndex;
  }

  value(row: number): CellValue {
    if (this.isList) {
      throw new IntakeTableError(
        `Column "${this.name}" holds lists: read its rows with cellValue.`
      );
    }
    if (this.encoded !== undefined) {
      const { dictionary, indices } = this.encoded;
      return dictionary[indices[row]];
    }
    this.vector ??= new Vector(this.chunks as Data[]);
    return normalise(this.vector.get(row));
  }

  private encode(): Encoded {
    if (this.encoded === undefined) {
      this.encoded = this.isList
        ? encodeListColumn(this.name, this.chunks, this.numRows)
        : encodeColumn(this.name, this.chunks, this.numRows);
    }
    return this.encoded;
  }
}

function encodeColumn(
  name: string,
  chunks: readonly Data[],
  numRows: number
): Encoded {
  const kept = keptIndices(chunks);
  if (kept) {
    return kept;
  }
  const builder = new DictionaryBuilder();
  const wide = new Int32Array(numRows);
  let at = 0;
  for (const data of chunks) {
    wide.set(chunkIndices(data, builder), at);
    at += data.length;
  }
  if (at !== numRows) {
    throw new IntakeTableError(
      `Column "${name}" has ${at} values for ${numRows} rows.`
    );
  }
  const dictionary = builder.values;
  return {
    dictionary,
    indices: narrow(wide, dictionary.length),
    nullIndex: dictionary.indexOf(null)
  };
}

function encodeListColumn(
  name: string,
  chunks: readonly Data[],
  numRows: number
): Encoded {
  const builder = new DictionaryBuilder();
  const offsets = new Int32Array(numRows + 1);
  const items: Int32Array[] = [];
  let row = 0;
  let total = 0;
  for (const data of chunks) {
    const child = data.children[0];
    const childIndices = chunkIndices(child, builder);
    const valueOffsets = data.valueOffsets as ArrayLike<number | bigint>;
    for (let local = 0; local < data.length; local++, row++) {
      if (isValid(data, local)) {
        const start = Number(valueOffsets[local]);
        const end = Number(valueOffsets[local + 1]);
        items.push(childIndices.subarray(start, end));
        total += end - start;
      }
      offsets[row + 1] = total;
    }
  }
  if (row !== numRows) {
    throw new IntakeTableError(
      `Column "${name}" has ${row} values for ${numRows} rows.`
    );
  }
  const wide = new Int32Array(total);
  let at = 0;
  for (const part of items) {
    wide.set(part, at);
    at += part.length;
  }
  const dictionary = builder.values;
  return {
    dictionary,
    indices: narrow(wide, dictionary.length),
    offsets,
    nullIndex: dictionary.indexOf(null)
  };
}

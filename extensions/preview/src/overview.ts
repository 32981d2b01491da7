/**
 * The screen-sized overview of a slice (issue 17): the server's data/overview answer
 * (block means quantised to 16 bits between their exact minimum and maximum,
 * zlib-compressed) decoded, then spread over the slice's grid so that every later
 * step (projection, colours, hover) works on the grid's own cells. The full
 * resolution is read from the chunks only when the user asks for it.
 */
import type { ILevelInfo } from './multiscales';
import type { Slice2D } from './reader';

/** The quantised code of a missing value; 0..LEVELS span [minimum, maximum]. */
export const MISSING = 65535;
export const LEVELS = 65534;

/** The largest CSS width the map frame takes (map-canvas.tsx's `min(900px, ...)`). */
export const MAP_MAX_CSS_PIXELS = 900;

/** What the X-Overview-* headers of data/overview say. */
export interface IOverviewHeader {
  rows: number;
  cols: number;
  factor: number;
  sourceRows: number;
  sourceCols: number;
  minimum: number | null;
  maximum: number | null;
  method: string;
}

/** How an overview slice was made, kept on the slice for the badge and the hover. */
export interface IOverviewInfo {
  factor: number;
  method: string;
  /** Set when the values are a coarser level of a multiscale store, not the server's. */
  level?: ILevelInfo;
}

/**
 * The overview of the first map, asked for with the file's path alone as soon as the
 * preview opens (the server chooses the variable and the slice as the map view does), so
 * that it travels while the references and coordinates are read.
 */
export interface IFirstOverview {
  variable: string;
  selection: (number | null)[];
  /** The largest side it was asked for. */
  side: number;
  slice: Slice2D;
}

/** The side, in device pixels, an overview of the map need not exceed. */
export function screenSide(devicePixelRatio: number): number {
  return Math.ceil(MAP_MAX_CSS_PIXELS * Math.max(1, devicePixelRatio || 1));
}

/** Whether a slice of rows x cols has more cells than the screen shows (factor 2 or more). */
export function wantsOverview(
  rows: number,
  cols: number,
  maxSide: number
): boolean {
  return Math.max(rows, cols) > maxSide;
}

export function parseOverviewHeaders(headers: Headers): IOverviewHeader {
  const pair = (name: string): [number, number] => {
    const parts = (headers.get(name) ?? '').split(',').map(Number);
    if (parts.length !== 2 || !parts.every(Number.isInteger)) {
      throw new Error(`The overview's ${name} header is missing or malformed.`);
    }
    return [parts[0], parts[1]];
  };
  const limit = (name: string): number | null => {
    const text = headers.get(name) ?? '';
    return text === '' ? null : Number(text);
  };
  const [rows, cols] = pair('X-Overview-Shape');
  const [sourceRows, sourceCols] = pair('X-Overview-Source');
  return {
    rows,
    cols,
    sourceRows,
    sourceCols,
    factor: Number(headers.get('X-Overview-Factor') ?? 1),
    minimum: limit('X-Overview-Min'),
    maximum: limit('X-Overview-Max'),
    method: headers.get('X-Overview-Method') ?? 'block-mean'
  };
}

/** zlib (RFC 1950) inflated by the browser's own DecompressionStream. */
export async function inflate(compressed: Uint8Array): Promise<Uint8Array> {
  // A copy typed on a plain ArrayBuffer, as Blob takes.
  const stream = new Blob([new Uint8Array(compressed)])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The values of the 16-bit codes: code 0 is exactly the minimum, LEVELS exactly the
 * maximum, MISSING is NaN.
 */
export function dequantise(
  codes: Uint16Array,
  minimum: number | null,
  maximum: number | null
): Float64Array {
  const out = new Float64Array(codes.length);
  if (minimum === null || maximum === null) {
    return out.fill(NaN);
  }
  const step = (maximum - minimum) / LEVELS;
  for (let i = 0; i < codes.length; i++) {
    const q = codes[i];
    out[i] = q === MISSING ? NaN : q === LEVELS ? maximum : minimum + q * step;
  }
  return out;
}

/**
 * The overview spread over the slice's grid: each cell takes the value of the block
 * it lies in (so the map's projection, colours and hover address the grid's cells).
 */
export function expandOverview(
  values: Float64Array,
  header: IOverviewHeader
): Float64Array {
  const { rows, cols, factor, sourceRows, sourceCols } = header;
  if (values.length !== rows * cols) {
    throw new Error(
      `The overview holds ${values.length} values, not ${rows} x ${cols}.`
    );
  }
  const out = new Float64Array(sourceRows * sourceCols);
  for (let r = 0; r < sourceRows; r++) {
    const from = Math.floor(r / factor) * cols;
    const to = r * sourceCols;
    for (let c = 0; c < sourceCols; c++) {
      out[to + c] = values[from + Math.floor(c / factor)];
    }
  }
  return out;
}

/** The slice an answer of data/overview stands for, at the grid's size. */
export async function overviewSlice(
  body: Uint8Array,
  headers: Headers
): Promise<Slice2D> {
  const header = parseOverviewHeaders(headers);
  const raw = await inflate(body);
  if (raw.byteLength !== header.rows * header.cols * 2) {
    throw new Error(
      `The overview is ${raw.byteLength} bytes, not ${header.rows} x ${header.cols} 16-bit codes.`
    );
  }
  // The server writes little-endian codes, the byte order of every platform browsers run on.
  const codes = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  const values = dequantise(codes, header.minimum, header.maximum);
  return {
    values: expandOverview(values, header),
    rows: header.sourceRows,
    cols: header.sourceCols,
    overview: { factor: header.factor, method: header.method }
  };
}

/**
 * Reading datasets chunk by chunk with zarrita: NetCDF/HDF5 through kerchunk
 * references (HTTP Range requests on the file), Zarr v2/v3 stores over HTTP.
 */
import ReferenceStore from '@zarrita/storage/ref';
import * as zarr from 'zarrita';
import { type VariableInfo, variablesFromReferences } from './axes';
import { decodeValues, decodeZarrV3FillValue, textCoordinate } from './cf';
import { ChunkCache, type IChunkCacheOptions } from './chunk-cache';
import { multiscaleOverview, parseMultiscales, pyramidOf } from './multiscales';
import type { IOverviewInfo } from './overview';

/** Sends one HTTP request: adds the Jupyter credentials in the widget. */
export type FetchFn = (request: Request) => Promise<Response>;

/** Bytes and requests that went over the network, for the progress display. */
export interface Transfer {
  requests: number;
  bytes: number;
  /** Requests sent whose answer has not arrived. */
  pending: number;
}

/** An opened dataset: its store and its variables' metadata. */
export interface Dataset {
  store: zarr.AsyncReadable;
  /** The chunk cache under `store` (every read goes through it). */
  cache: ChunkCache;
  variables: VariableInfo[];
  transfer: Transfer;
  /** Called when `transfer` changes; the view sets it to show progress. */
  onChange: () => void;
  /**
   * The chunks read so far, per variable, as "i,j,k" chunk coordinates (for the
   * chunk-grid overlay).
   */
  readChunks: Map<string, Set<string>>;
  /** The opened arrays, per variable. */
  arrays: Map<string, Promise<zarr.Array<zarr.DataType, zarr.AsyncReadable>>>;
  /** The server's overviews of a file it can read itself (absent: chunks only). */
  overview?: IOverviewSource;
}

/**
 * A screen-sized overview of a slice (the server's, or a multiscale store's level) and,
 * for the server's, exact values of single cells.
 */
export interface IOverviewSource {
  /** The slice's block means, at most maxSide x maxSide, spread over the grid. */
  slice(
    variable: VariableInfo,
    selection: (number | null)[],
    maxSide: number,
    signal?: AbortSignal
  ): Promise<Slice2D>;
  /** The exact value at an index per dimension (NaN when missing). */
  cell?(
    variable: VariableInfo,
    index: number[],
    signal?: AbortSignal
  ): Promise<number>;
}

/** Options of {@link openReferences} and {@link openZarr}. */
export interface IOpenOptions {
  cache?: IChunkCacheOptions;
}

function emptyDataset(): Partial<Dataset> {
  const dataset: Partial<Dataset> = {
    transfer: { requests: 0, bytes: 0, pending: 0 },
    onChange: () => undefined,
    readChunks: new Map(),
    arrays: new Map()
  };
  return dataset;
}

/**
 * Count what travels, for progress and for the "only what is in view" promise.
 */
function countingFetch(
  fetchFn: FetchFn,
  transfer: Transfer,
  onChange: () => void
): FetchFn {
  return async request => {
    transfer.requests++;
    transfer.pending++;
    onChange();
    try {
      const response = await fetchFn(request);
      const length = Number(response.headers.get('Content-Length') ?? 0);
      transfer.bytes += Number.isFinite(length) ? length : 0;
      return response;
    } finally {
      transfer.pending--;
      onChange();
    }
  };
}

/**
 * Open a kerchunk reference spec (version 1). Chunk references that name no URL are
 * read from `target`; a URL `{{name}}` is the spec's template of that name (the
 * files of a combined dataset).
 */
export function openReferences(
  spec: {
    refs?: Record<string, unknown>;
    templates?: Record<string, string>;
  },
  target: string | null,
  fetchFn: FetchFn,
  options: IOpenOptions = {}
): Dataset {
  const dataset = emptyDataset();
  const transfer = dataset.transfer!;
  const onChange = (): void => dataset.onChange?.();
  const templates = spec.templates ?? {};
  const urlOf = (url: unknown): unknown =>
    url === null
      ? target
      : typeof url === 'string'
        ? url.replace(/\{\{(\w+)\}\}/g, (all, name: string) =>
            name in templates ? templates[name] : all
          )
        : url;
  // zarrita 0.7.5's `target` option takes the key from the target URL's whole
  // path ("data/x.nc/tas/0.0.0"), so the URL is written into the references.
  const refs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec.refs ?? {})) {
    refs[key] = Array.isArray(value)
      ? [urlOf(value[0]), ...value.slice(1)]
      : value;
  }
  const cache = new ChunkCache(
    ReferenceStore.fromSpec(
      { version: 1, refs },
      { fetch: countingFetch(fetchFn, transfer, onChange) }
    ),
    options.cache
  );
  return Object.assign(dataset, {
    store: cache,
    cache,
    variables: variablesFromReferences(spec.refs ?? {})
  }) as Dataset;
}

/**
 * Open a Zarr v2 or v3 store at `url` (a folder URL); its arrays are listed from
 * the consolidated metadata, which every store the suite writes has.
 */
export function openZarr(
  url: string,
  fetchFn: FetchFn,
  options: IOpenOptions = {}
): Promise<Dataset> {
  return openZarrStore(
    (transfer, onChange) =>
      new zarr.FetchStore(url.endsWith('/') ? url.slice(0, -1) : url, {
        fetch: countingFetch(fetchFn, transfer, onChange)
      }),
    url,
    options
  );
}

/**
 * Open a Zarr v2 or v3 store that `makeStore` gives (counting what it reads into
 * `transfer` and calling `onChange`); `location` names it in messages.
 */
export async function openZarrStore(
  makeStore: (transfer: Transfer, onChange: () => void) => zarr.AsyncReadable,
  location: string,
  options: IOpenOptions = {}
): Promise<Dataset> {
  const url = location;
  const dataset = emptyDataset();
  const transfer = dataset.transfer!;
  const onChange = (): void => dataset.onChange?.();
  const cache = new ChunkCache(makeStore(transfer, onChange), options.cache);
  const base = cache;
  // Read once by the consolidated metadata or the lone array below (the cache keeps it).
  const format = async (): Promise<ZarrFormat> =>
    (await base.get('/zarr.json').catch(() => undefined)) === undefined
      ? 'v2'
      : 'v3';
  let store: Awaited<
    ReturnType<typeof zarr.withConsolidatedMetadata<typeof base>>
  >;
  try {
    store = await zarr.withConsolidatedMetadata(base, { format: ['v3', 'v2'] });
  } catch (reason) {
    // A store that is a single array (its zarr.json or .zarray at the root) needs no list.
    const lone = await zarr
      .open(zarr.root(base), { kind: 'array' })
      .catch(() => null);
    if (lone) {
      const name =
        decodeURIComponent(url.replace(/\/+$/, '').split('/').pop() ?? '') ||
        'array';
      const info = { ...arrayInfo(name, lone, await format()), path: '' };
      return Object.assign(dataset, {
        store: base,
        cache,
        variables: [info]
      }) as Dataset;
    }
    throw new Error(
      `The consolidated metadata of the Zarr store at ${url} could not be read (${String(
        (reason as Error).message ?? reason
      )}). Either the store has none (write it with consolidated=True, as xarray's ` +
        `to_zarr does by default), or its keys cannot be read from that URL (a Zarr v2 ` +
        `store read through Jupyter's /files/, which refuses names starting with ".", ` +
        `must be read through espri-vre/api/data/files/ instead).`
    );
  }
  const variables: VariableInfo[] = [];
  const storeFormat = await format();
  for (const item of store.contents()) {
    if (item.kind !== 'array') {
      continue;
    }
    const arr = await zarr.open(zarr.root(store).resolve(item.path), {
      kind: 'array'
    });
    variables.push(arrayInfo(item.path.replace(/^\//, ''), arr, storeFormat));
  }
  variables.sort((a, b) => a.name.localeCompare(b.name));
  const opened = Object.assign(dataset, { store, cache, variables }) as Dataset;
  // A multiscale store (issue 17) lists its full-resolution variables; its coarser
  // levels make the first picture. A root group that cannot be read has no levels.
  const root = await zarr
    .open(zarr.root(store), { kind: 'group' })
    .catch(() => null);
  const multiscales = root ? parseMultiscales(root.attrs) : null;
  const pyramid = multiscales ? pyramidOf(multiscales, variables) : null;
  if (pyramid) {
    opened.variables = pyramid.variables;
    opened.overview = multiscaleOverview(pyramid, (v, selection, signal) =>
      readSlice(opened, v, selection, signal)
    );
  }
  return opened;
}

type ZarrFormat = 'v2' | 'v3';

/**
 * A variable's metadata, with the fill value that masks as xarray's: for Zarr v2 the
 * array's `fill_value` (xarray takes it as `_FillValue`); for Zarr v3 only the
 * `_FillValue` attribute, decoded as xarray wrote it, never the `fill_value` (the
 * value of chunks never written: an integer array's 0 is data).
 */
function arrayInfo(
  name: string,
  arr: zarr.Array<zarr.DataType, zarr.Readable>,
  format: ZarrFormat
): VariableInfo {
  const attrs = { ...arr.attrs } as Record<string, unknown>;
  const v2dims = attrs._ARRAY_DIMENSIONS;
  delete attrs._ARRAY_DIMENSIONS;
  if (format === 'v3' && attrs._FillValue !== undefined) {
    attrs._FillValue = decodeZarrV3FillValue(
      attrs._FillValue,
      String(arr.dtype)
    );
  }
  const storeFill =
    typeof arr.fillValue === 'bigint' ? Number(arr.fillValue) : arr.fillValue;
  const dims =
    arr.dimensionNames ??
    (Array.isArray(v2dims)
      ? v2dims.map(String)
      : arr.shape.map((_, i) => `dim_${i}`));
  return {
    name,
    dims,
    shape: arr.shape,
    chunks: arr.chunks,
    dtype: String(arr.dtype),
    attrs,
    fillValue: format === 'v3' ? null : storeFill
  };
}

/**
 * The zarrita array of a variable, opened once; its chunk reads are recorded in
 * `dataset.readChunks`.
 */
export function openArray(
  dataset: Dataset,
  variable: VariableInfo
): Promise<zarr.Array<zarr.DataType, zarr.AsyncReadable>> {
  let opened = dataset.arrays.get(variable.name);
  if (!opened) {
    opened = zarr
      .open(zarr.root(dataset.store).resolve(variable.path ?? variable.name), {
        kind: 'array'
      })
      .then(arr => {
        const read = new Set<string>();
        dataset.readChunks.set(variable.name, read);
        const getChunk = arr.getChunk.bind(arr);
        arr.getChunk = async (coords, options, opts) => {
          const chunk = await getChunk(coords, options, opts);
          read.add(coords.join(','));
          return chunk;
        };
        return arr;
      });
    opened.catch(() => dataset.arrays.delete(variable.name));
    dataset.arrays.set(variable.name, opened);
  }
  return opened;
}

/** A decoded 2-D slice, row-major. */
export interface Slice2D {
  values: Float64Array;
  rows: number;
  cols: number;
  /** Set when the values are the server's block means, not the grid's own values. */
  overview?: IOverviewInfo;
}

/**
 * Read and CF-decode the values of `variable` at `selection` (an index per
 * dimension, `null` for the whole extent).
 */
export async function readDecoded(
  dataset: Dataset,
  variable: VariableInfo,
  selection: (number | null)[] | null,
  signal?: AbortSignal
): Promise<{ values: Float64Array; shape: number[] }> {
  const arr = await openArray(dataset, variable);
  const chunk = await zarr.get(arr, selection, { opts: { signal } });
  if (typeof chunk !== 'object' || chunk === null || !('data' in chunk)) {
    const raw = [Number(chunk)];
    return {
      values: decodeValues(raw, variable.attrs, variable.fillValue),
      shape: []
    };
  }
  const data = chunk.data as ArrayLike<number | bigint>;
  const names = chunk.shape.length === 1 ? textValues(chunk.data) : null;
  if (names) {
    // A coordinate of names (ensemble members): positions, labelled by the names.
    return { values: textCoordinate(names), shape: chunk.shape };
  }
  if (!isNumeric(data)) {
    throw new Error(
      `${variable.name} holds ${variable.dtype} values, which have no map: pick a numeric variable.`
    );
  }
  return {
    values: decodeValues(data, variable.attrs, variable.fillValue),
    shape: chunk.shape
  };
}

/** Read a 2-D slice; the two `null` entries of `selection` are rows, then columns. */
export async function readSlice(
  dataset: Dataset,
  variable: VariableInfo,
  selection: (number | null)[],
  signal?: AbortSignal
): Promise<Slice2D> {
  const { values, shape } = await readDecoded(
    dataset,
    variable,
    selection,
    signal
  );
  if (shape.length !== 2) {
    throw new Error(
      `The selection of ${variable.name} is not 2-D (${shape.join(' x ')}).`
    );
  }
  return { values, rows: shape[0], cols: shape[1] };
}

/** Read a 1-D series; the one `null` entry of `selection` is the series' dimension. */
export async function readSeries(
  dataset: Dataset,
  variable: VariableInfo,
  selection: (number | null)[],
  signal?: AbortSignal
): Promise<Float64Array> {
  const { values, shape } = await readDecoded(
    dataset,
    variable,
    selection,
    signal
  );
  if (shape.length !== 1) {
    throw new Error(
      `The selection of ${variable.name} is not 1-D (${shape.join(' x ')}).`
    );
  }
  return values;
}

/** The texts of a string array as zarrita reads it (fixed-width or variable-length). */
function textValues(data: unknown): string[] | null {
  if (Array.isArray(data) && data.every(d => typeof d === 'string')) {
    return data;
  }
  if (
    data instanceof zarr.UnicodeStringArray ||
    data instanceof zarr.ByteStringArray
  ) {
    return Array.from(data);
  }
  return null;
}

function isNumeric(data: unknown): boolean {
  return ArrayBuffer.isView(data) && !(data instanceof DataView);
}

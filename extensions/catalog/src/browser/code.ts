/**
 * The Python that opens a record of a remote catalogue, with well-kept libraries only:
 * `pystac_client.Client.open(...).search(...)` for a STAC API, `pystac` for an item of
 * a static catalogue, and `xarray.open_dataset` / `open_mfdataset` / `open_zarr` on the
 * OPeNDAP, file or Zarr URLs of ESGF, THREDDS and CSW records.
 */
import { pythonString } from '../intake/code';
import type { DatasetRecord, RecordAccessUrl } from '../record';
import type { SourceKind } from './sources';

/** The code, or why there is none. */
export type CodeResult = { code: string } | { reason: string };

export interface RecordCodeContext {
  kind: SourceKind;
  /** The STAC API root (what `Client.open` takes). */
  apiUrl?: string;
  /** Where a static STAC item's document is, as the kernel reads it (a path or a URL). */
  itemLocation?: string;
  /** The files of an ESGF dataset, once listed. */
  files?: readonly DatasetRecord[];
}

function pyList(values: readonly string[]): string {
  return `[${values.map(pythonString).join(', ')}]`;
}

const NETCDF_MEDIA = /netcdf|x-hdf|hdf5/i;

function isZarr(access: RecordAccessUrl): boolean {
  return access.protocol === 'zarr';
}

function isFileLike(access: RecordAccessUrl): boolean {
  return (
    (access.protocol === 'http' || access.protocol === 'file') &&
    (NETCDF_MEDIA.test(access.media_type ?? '') ||
      /\.(nc|nc4|h5|hdf5?)(\?|$)/i.test(access.url))
  );
}

/** The URL xarray opens, best first: OPeNDAP, then a NetCDF file, then Zarr. */
function openable(
  record: Pick<DatasetRecord, 'access'>
): { url: string; how: 'opendap' | 'file' | 'zarr' } | null {
  const opendap = record.access.find(access => access.protocol === 'opendap');
  if (opendap) {
    return { url: opendap.url.replace(/\.html$/, ''), how: 'opendap' };
  }
  const file = record.access.find(isFileLike);
  if (file) {
    return { url: file.url, how: 'file' };
  }
  const zarr = record.access.find(isZarr);
  return zarr ? { url: zarr.url, how: 'zarr' } : null;
}

/** `url` as netCDF-C opens it: HTTP files by byte ranges (`#mode=bytes`). */
function netcdfUrl(url: string, how: 'opendap' | 'file' | 'zarr'): string {
  return how === 'file' && /^https?:/i.test(url) ? `${url}#mode=bytes` : url;
}

function xarrayCode(
  targets: Array<{ url: string; how: 'opendap' | 'file' | 'zarr' }>
): string {
  const head = 'import xarray as xr\n\n';
  if (targets.length === 1 && targets[0].how === 'zarr') {
    return `${head}ds = xr.open_zarr(${pythonString(targets[0].url)})\nds\n`;
  }
  const urls = targets.map(target => netcdfUrl(target.url, target.how));
  if (urls.length === 1) {
    return `${head}ds = xr.open_dataset(${pythonString(urls[0])})\nds\n`;
  }
  return (
    `${head}ds = xr.open_mfdataset(\n    ${pyList(urls)},\n` +
    '    combine="by_coords",\n)\nds\n'
  );
}

function stacApiCode(record: DatasetRecord, apiUrl: string): string {
  const collections = record.facets.collection ?? [];
  const args = [
    ...(collections.length > 0 ? [`collections=${pyList(collections)}`] : []),
    `ids=${pyList([record.id])}`
  ].join(', ');
  return (
    'import pystac_client\n\n' +
    `client = pystac_client.Client.open(${pythonString(apiUrl)})\n` +
    `item = next(client.search(${args}).items())\n` +
    'item\n'
  );
}

/** The data asset xarray (or pandas) opens, by key, and how. */
function dataAsset(
  record: DatasetRecord
): { name: string; reader: 'dataset' | 'zarr' | 'parquet' } | null {
  for (const access of record.access) {
    if (access.name === undefined || access.roles?.includes('thumbnail')) {
      continue;
    }
    if (isZarr(access)) {
      return { name: access.name, reader: 'zarr' };
    }
    if (
      NETCDF_MEDIA.test(access.media_type ?? '') ||
      /\.nc$/.test(access.url)
    ) {
      return { name: access.name, reader: 'dataset' };
    }
    if (/parquet/i.test(access.media_type ?? '')) {
      return { name: access.name, reader: 'parquet' };
    }
  }
  return null;
}

function staticStacCode(record: DatasetRecord, location: string): string {
  const open = `item = pystac.Item.from_file(${pythonString(location)})\n`;
  const asset = dataAsset(record);
  if (asset === null) {
    return `import pystac\n\n${open}item\n`;
  }
  const href = `item.assets[${pythonString(asset.name)}].get_absolute_href()`;
  if (asset.reader === 'parquet') {
    return `import pandas as pd\nimport pystac\n\n${open}df = pd.read_parquet(${href})\ndf\n`;
  }
  const reader = asset.reader === 'zarr' ? 'xr.open_zarr' : 'xr.open_dataset';
  return `import pystac\nimport xarray as xr\n\n${open}ds = ${reader}(${href})\nds\n`;
}

/**
 * The code that opens `record`, or the reason there is none (an ESGF dataset whose
 * files are not listed yet, a record with no data URL).
 */
export function recordCode(
  record: DatasetRecord,
  context: RecordCodeContext
): CodeResult {
  switch (context.kind) {
    case 'stac-api':
      return context.apiUrl === undefined
        ? { reason: 'The STAC API address is unknown.' }
        : { code: stacApiCode(record, context.apiUrl) };
    case 'stac-static':
      return context.itemLocation === undefined
        ? { reason: 'Where this item is stored is unknown.' }
        : { code: staticStacCode(record, context.itemLocation) };
    case 'esgf': {
      const own = openable(record);
      if (own !== null && record.parent_id !== undefined) {
        return { code: xarrayCode([own]) };
      }
      if (context.files === undefined) {
        return {
          reason:
            'The files of this dataset are not listed yet: open its detail to list them.'
        };
      }
      const targets = context.files
        .map(openable)
        .filter(
          (target): target is NonNullable<typeof target> => target !== null
        );
      return targets.length === 0
        ? {
            reason:
              'None of the files of this dataset has an OPeNDAP or HTTP URL.'
          }
        : { code: xarrayCode(targets) };
    }
    default: {
      const target = openable(record);
      return target === null
        ? {
            reason:
              'This record has no OPeNDAP, NetCDF or Zarr URL that xarray could open.'
          }
        : { code: xarrayCode([target]) };
    }
  }
}

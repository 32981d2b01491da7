/**
 * What the context menu of a data root's file offers, from its name (and whether the
 * listing flagged the folder as a Zarr store), and the Python that opens it with
 * well-kept libraries (xarray, pandas). Pure functions.
 */
import type { DatasetReference } from '@espri-vre/core';
import { pythonString } from './intake/code';

/** How a file of a data root is opened. */
export type FileKind = 'netcdf' | 'zarr' | 'parquet' | 'csv' | 'feather' | null;

/** The kind of a file or folder of a data root, from its name. */
export function fileKind(
  name: string,
  isDirectory: boolean,
  isZarrStore: boolean
): FileKind {
  const lower = name.toLowerCase().replace(/\/+$/, '');
  if (isDirectory) {
    return isZarrStore || lower.endsWith('.zarr') ? 'zarr' : null;
  }
  if (/\.(nc|nc4|h5|hdf5|he5)$/.test(lower)) {
    return 'netcdf';
  }
  if (lower.endsWith('.parquet')) {
    return 'parquet';
  }
  if (lower.endsWith('.csv')) {
    return 'csv';
  }
  if (/\.(arrow|feather)$/.test(lower)) {
    return 'feather';
  }
  return null;
}

/** Whether the kind is a gridded dataset (what the globe draws). */
export function isGridded(kind: FileKind): boolean {
  return kind === 'netcdf' || kind === 'zarr';
}

/** The code that opens the file at `path` (a path on the server), or null for none. */
export function openingCode(path: string, kind: FileKind): string | null {
  const p = pythonString(path);
  switch (kind) {
    case 'netcdf':
      return `import xarray as xr\n\nds = xr.open_dataset(${p})\nds`;
    case 'zarr':
      return `import xarray as xr\n\nds = xr.open_zarr(${p})\nds`;
    case 'parquet':
      return `import pandas as pd\n\ndf = pd.read_parquet(${p})\ndf`;
    case 'csv':
      return `import pandas as pd\n\ndf = pd.read_csv(${p})\ndf`;
    case 'feather':
      return `import pandas as pd\n\ndf = pd.read_feather(${p})\ndf`;
    default:
      return null;
  }
}

/** A file of a data root as the suite's dataset reference (for the previewer and globe). */
export function fileReference(
  rootId: string,
  path: string,
  kind: FileKind
): DatasetReference {
  const name = path.split('/').filter(Boolean).pop() ?? path;
  return {
    // A data root is no catalogue, but the reference names one: the data root, under
    // the kind of the centre's file-based catalogues (whose datasets are such files).
    id: path,
    title: name,
    source: { catalog_id: `data-root:${rootId}`, kind: 'intake-esm' },
    identifiers: {},
    access: [{ url: path, protocol: 'file' }],
    ...(kind === 'netcdf' ? { media_type: 'application/x-netcdf' } : {})
  };
}

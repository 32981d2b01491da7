/**
 * "Open in notebook": the xarray code that opens the dataset and selects what the
 * preview shows, so that a user goes on from there in Python.
 */

/** Where the dataset is, as the preview opened it. */
export interface IDatasetOrigin {
  /**
   * How xarray opens it: `open_dataset` (NetCDF/HDF5 on the server), `open_zarr`, a
   * NetCDF/HDF5 file on a data server (`remote`, read through fsspec's HTTP file
   * system), an OPeNDAP dataset (`opendap`, pydap's client as the server's) or the
   * files of a dataset combined along time (`files`, `open_mfdataset`).
   */
  format: 'netcdf' | 'zarr' | 'remote' | 'opendap' | 'files';
  /**
   * A path relative to the server root, an absolute path (in a data root), or an
   * http(s) URL (a Zarr store, a remote file, an OPeNDAP dataset); for `files`, the
   * first file.
   */
  location: string;
  /** For `files`: every file, paths or URLs as `location`. */
  locations?: readonly string[];
  /** For `zarr`: the group the variable is in (a multiscale store's full-resolution level). */
  group?: string;
}

export interface ICodeRequest {
  origin: IDatasetOrigin;
  variable: string;
  /** The index of every dimension that is not on the map (the sliders). */
  isel: Readonly<Record<string, number>>;
  /** With a series shown: its dimension and the point (indices of the map dims). */
  series?: { dim: string; at: Readonly<Record<string, number>> };
  /**
   * The notebook the code goes into, relative to the server root: a relative data path
   * is rewritten relative to the notebook's folder, where its kernel runs.
   */
  notebookPath?: string;
}

/**
 * The origin and name xarray opens a variable by: a variable in a group of a Zarr store
 * (a multiscale store's full-resolution level, "2/tas") is opened in its group.
 */
export function openedAs(
  origin: IDatasetOrigin,
  variable: { name: string; path?: string }
): { origin: IDatasetOrigin; variable: string } {
  const where = variable.path ?? variable.name;
  const slash = where.lastIndexOf('/');
  return origin.format === 'zarr' && slash > 0
    ? {
        origin: { ...origin, group: where.slice(0, slash) },
        variable: where.slice(slash + 1)
      }
    : { origin, variable: variable.name };
}

/** A Python string literal (JSON's escapes are Python's for these characters). */
export function pyString(text: string): string {
  return JSON.stringify(text);
}

/** `path` (relative to the server root) seen from the folder of `notebookPath`. */
export function relativeTo(path: string, notebookPath: string): string {
  const from = notebookPath.split('/').filter(Boolean).slice(0, -1);
  const to = path.split('/').filter(Boolean);
  let common = 0;
  while (
    common < from.length &&
    common < to.length - 1 &&
    from[common] === to[common]
  ) {
    common++;
  }
  return [...from.slice(common).map(() => '..'), ...to.slice(common)].join('/');
}

function isAbsolute(location: string): boolean {
  return location.startsWith('/') || /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

function iselArgs(isel: Readonly<Record<string, number>>): string {
  return Object.entries(isel)
    .map(([dim, i]) =>
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(dim) ? `${dim}=${i}` : null
    )
    .filter(Boolean)
    .join(', ');
}

/** Dimension names that are not Python identifiers go through a dict. */
function isel(selection: Readonly<Record<string, number>>): string {
  const names = Object.keys(selection);
  if (!names.length) {
    return '';
  }
  if (names.every(d => /^[A-Za-z_][A-Za-z0-9_]*$/.test(d))) {
    return `.isel(${iselArgs(selection)})`;
  }
  const entries = Object.entries(selection)
    .map(([d, i]) => `${pyString(d)}: ${i}`)
    .join(', ');
  return `.isel({${entries}})`;
}

/** `location` as the kernel reaches it: relative paths from the notebook's folder. */
function kernelLocation(location: string, notebookPath?: string): string {
  return !isAbsolute(location) && notebookPath !== undefined
    ? relativeTo(location, notebookPath)
    : location;
}

/** The lines that open the dataset as `ds`, with the imports they need. */
function openLines(origin: IDatasetOrigin, notebookPath?: string): string[] {
  const at = (location: string): string =>
    pyString(kernelLocation(location, notebookPath));
  switch (origin.format) {
    case 'zarr':
      return [
        'import xarray as xr',
        '',
        origin.group
          ? `ds = xr.open_zarr(${at(origin.location)}, group=${pyString(origin.group)})`
          : `ds = xr.open_zarr(${at(origin.location)})`
      ];
    case 'remote':
      // A file object: xarray picks h5netcdf or scipy from its first bytes (NetCDF-4/HDF5
      // or NetCDF-3), where a URL alone would go to netCDF4's OPeNDAP client.
      return [
        'import fsspec',
        'import xarray as xr',
        '',
        '# Read by HTTP Range requests, as the preview reads it.',
        `ds = xr.open_dataset(fsspec.open(${at(origin.location)}).open())`
      ];
    case 'opendap':
      return [
        'import xarray as xr',
        '',
        `ds = xr.open_dataset(${at(origin.location)}, engine="pydap")`
      ];
    case 'files': {
      const files = origin.locations ?? [origin.location];
      const remote = files.some(f => /^https?:\/\//i.test(f));
      const list = files.map(f => `    ${at(f)},`);
      const lines = remote ? ['import fsspec'] : [];
      lines.push('import xarray as xr', '', 'files = [', ...list, ']');
      if (remote) {
        lines.push('files = [fsspec.open(f).open() for f in files]');
      }
      lines.push(
        '# Combined along time, as the preview combines them.',
        'ds = xr.open_mfdataset(files, combine="by_coords")'
      );
      return lines;
    }
    default:
      return [
        'import xarray as xr',
        '',
        `ds = xr.open_dataset(${at(origin.location)})`
      ];
  }
}

/** The Python code: open, select the slice (and the series), plot. */
export function xarrayCode(request: ICodeRequest): string {
  const { origin, variable } = request;
  const locations = origin.locations ?? [origin.location];
  const lines = openLines(origin, request.notebookPath);
  if (
    request.notebookPath === undefined &&
    origin.format !== 'opendap' &&
    locations.some(l => !isAbsolute(l))
  ) {
    lines.splice(
      lines.indexOf('') + 1,
      0,
      '# The path is relative to the Jupyter server root.'
    );
  }
  lines.push(
    `da = ds[${pyString(variable)}]${isel(request.isel)}`,
    'da.plot()'
  );
  if (request.series) {
    const { dim, at } = request.series;
    const point: Record<string, number> = {};
    for (const [d, i] of Object.entries({ ...request.isel, ...at })) {
      if (d !== dim) {
        point[d] = i;
      }
    }
    lines.push(
      '',
      `# The series along ${dim} at the clicked point`,
      `series = ds[${pyString(variable)}]${isel(point)}`,
      '# Dates of the noleap or 360_day calendars need nc-time-axis to be plotted.',
      'series.plot()'
    );
  }
  return lines.join('\n') + '\n';
}

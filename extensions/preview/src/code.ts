/**
 * "Open in notebook": the xarray code that opens the dataset and selects what the
 * preview shows, so that a user goes on from there in Python.
 */

/** Where the dataset is, as the preview opened it. */
export interface IDatasetOrigin {
  /** How xarray opens it: `open_dataset` (NetCDF/HDF5) or `open_zarr`. */
  format: 'netcdf' | 'zarr';
  /**
   * A path relative to the server root, an absolute path (in a data root), or an
   * http(s) URL (a Zarr store).
   */
  location: string;
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

/** The Python code: open, select the slice (and the series), plot. */
export function xarrayCode(request: ICodeRequest): string {
  const { origin, variable } = request;
  let location = origin.location;
  const relative = !isAbsolute(location);
  if (relative && request.notebookPath !== undefined) {
    location = relativeTo(location, request.notebookPath);
  }
  const open =
    origin.format === 'zarr'
      ? `xr.open_zarr(${pyString(location)})`
      : `xr.open_dataset(${pyString(location)})`;
  const lines = ['import xarray as xr', ''];
  if (relative && request.notebookPath === undefined) {
    lines.push('# The path is relative to the Jupyter server root.');
  }
  lines.push(
    `ds = ${open}`,
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

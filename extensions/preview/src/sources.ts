/**
 * What the previewer opens: file names it offers "Preview" for, the source of a
 * catalogue's dataset (which of its accesses is read), and how the sources that need
 * the server's help (remote files, datasets of several files, OPeNDAP datasets) are
 * opened.
 */
import {
  type AccessUrl,
  apiUrl,
  type DatasetReference,
  requestJSON
} from '@espri-vre/core';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDatasetOrigin } from './code';
import {
  absoluteUrl,
  authenticatedFetch,
  fetchCombinedReferences,
  fetchRemoteReferences,
  type OverviewLocation,
  requestFirstOverview,
  serverOverview
} from './connection';
import { offerFirstOverview } from './map-data';
import { type IFirstOverview, screenSide } from './overview';
import { type Dataset, openReferences, openZarr } from './reader';

/**
 * What to preview: a path the server knows, a Zarr store's URL, a NetCDF/HDF5 file
 * on a remote data server (read through the server), or a dataset of several files
 * (paths or remote URLs) combined along time by the server, or an OPeNDAP dataset
 * (served by the server as a Zarr store computed on request).
 */
export type PreviewSource =
  | { kind: 'path'; path: string }
  | { kind: 'zarr-url'; url: string }
  | { kind: 'remote'; url: string; service?: string }
  | { kind: 'files'; locations: string[] }
  | { kind: 'opendap'; url: string };

/** The names the file browser offers "Preview" for. */
export const PREVIEW_EXTENSIONS = [
  '.nc',
  '.nc4',
  '.h5',
  '.hdf5',
  '.zarr',
  '.parquet',
  '.csv',
  '.arrow',
  '.feather'
];

const NETCDF_NAME = /\.(nc|nc4|nc3|cdf|h5|hdf5|he5)$/i;
const NETCDF_MEDIA = /netcdf|hdf5|x-hdf/i;

/** Whether a file or folder name is one the previewer reads. */
export function hasPreviewExtension(name: string): boolean {
  const lower = name.toLowerCase().replace(/\/+$/, '');
  return PREVIEW_EXTENSIONS.some(ext => lower.endsWith(ext));
}

/** Whether an access is a NetCDF/HDF5 file: by its media type, else its name. */
function isNetcdf(access: AccessUrl): boolean {
  if (access.media_type) {
    return NETCDF_MEDIA.test(access.media_type);
  }
  let name = access.url;
  try {
    name = new URL(access.url).pathname;
  } catch {
    // A server path, not a URL.
  }
  return NETCDF_NAME.test(name);
}

const isHttp = (url: string): boolean => /^https?:\/\//i.test(url);

/**
 * The source a catalogue's dataset is previewed from, if any, and the accesses it
 * reads: a Zarr store over HTTP; the files of a dataset of several (all on the
 * server, or all on data servers) combined along time; one file on the server; one
 * file on a data server (HTTPServer / fileServer); last, an OPeNDAP endpoint (each
 * chunk a DAP request made by the server: slower than Range requests on a file).
 */
export function previewSource(dataset: DatasetReference): PreviewSource | null {
  return previewChoice(dataset)?.source ?? null;
}

/** The source and the accesses it reads, if the dataset can be previewed. */
export function previewChoice(
  dataset: DatasetReference
): { source: PreviewSource; access: AccessUrl[] } | null {
  const zarrUrl = dataset.access.find(
    a => a.protocol === 'zarr' && isHttp(a.url)
  );
  if (zarrUrl) {
    return {
      source: { kind: 'zarr-url', url: zarrUrl.url },
      access: [zarrUrl]
    };
  }
  const files = dataset.access.filter(
    a => a.protocol === 'file' && isNetcdf(a)
  );
  if (files.length > 1) {
    return {
      source: { kind: 'files', locations: files.map(a => a.url) },
      access: files
    };
  }
  const remote = dataset.access.filter(
    a => a.protocol === 'http' && isHttp(a.url) && isNetcdf(a)
  );
  const file = dataset.access.find(
    a => a.protocol === 'file' && hasPreviewExtension(a.url)
  );
  if (file) {
    return { source: { kind: 'path', path: file.url }, access: [file] };
  }
  if (remote.length > 1) {
    return {
      source: { kind: 'files', locations: remote.map(a => a.url) },
      access: remote
    };
  }
  if (remote.length === 1) {
    const [one] = remote;
    const source: PreviewSource = { kind: 'remote', url: one.url };
    if (one.description) {
      source.service = one.description;
    }
    return { source, access: [one] };
  }
  const opendap = dataset.access.find(
    a => a.protocol === 'opendap' && isHttp(a.url)
  );
  if (opendap) {
    return { source: { kind: 'opendap', url: opendap.url }, access: [opendap] };
  }
  return null;
}

/** How a preview is named (its tab's caption): the path, URL or first file. */
export function sourceName(source: PreviewSource): string {
  switch (source.kind) {
    case 'path':
      return source.path;
    case 'files':
      return source.locations[0] ?? '';
    default:
      return source.url;
  }
}

/**
 * The first picture of a remote file or OPeNDAP dataset, asked for at once with the URL
 * alone, in parallel with the references or the store's metadata (issue 16); null if
 * the server makes none.
 */
function firstOverview(
  location: OverviewLocation,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<IFirstOverview | null> {
  return requestFirstOverview(
    location,
    settings,
    screenSide(window.devicePixelRatio),
    signal
  ).catch(() => null);
}

/**
 * The server's overviews for the view's slices larger than the screen, and the first
 * one offered; a dataset the server makes no overview of (a remote NetCDF-3 file) is
 * read from its chunks only, rather than each slice asking the server first.
 */
function offerOverviews(
  dataset: Dataset,
  location: OverviewLocation,
  settings: ServerConnection.ISettings,
  first: Promise<IFirstOverview | null>
): void {
  dataset.overview = serverOverview(location, settings);
  offerFirstOverview(dataset, first);
  void first.then(found => {
    if (!found) {
      dataset.overview = undefined;
    }
  });
}

/**
 * Open a source that the server prepares: references of a remote file (computed by
 * Range requests; its chunks read through the server), or of several files combined
 * along time, or an OPeNDAP dataset (its store's metadata asked first through the
 * API, so that a server that cannot be reached or is no DAP server is said so).
 * `onProgress` is told what is under way.
 */
export async function openPreparedSource(
  source: Extract<PreviewSource, { kind: 'remote' | 'files' | 'opendap' }>,
  settings: ServerConnection.ISettings,
  trans: TranslationBundle,
  onProgress: (message: string) => void,
  signal?: AbortSignal
): Promise<{ dataset: Dataset; origin?: IDatasetOrigin }> {
  const fetchFn = authenticatedFetch(settings);
  if (source.kind === 'opendap') {
    onProgress(trans.__('Opening %1 over OPeNDAP on the server…', source.url));
    const query = `?url=${encodeURIComponent(source.url)}`;
    const first = firstOverview({ opendap: source.url }, settings, signal);
    await requestJSON(
      apiUrl(`data/opendap/.zmetadata${query}`, settings),
      { signal },
      settings
    );
    const dataset = await openZarr(
      absoluteUrl(`espri-vre/api/data/opendap/${query}`, settings),
      fetchFn
    );
    offerOverviews(dataset, { opendap: source.url }, settings, first);
    return { dataset, origin: { format: 'opendap', location: source.url } };
  }
  if (source.kind === 'remote') {
    onProgress(
      source.service
        ? trans.__(
            'Locating the chunks of %1 (%2) by Range requests through the server…',
            source.url,
            source.service
          )
        : trans.__(
            'Locating the chunks of %1 by Range requests through the server…',
            source.url
          )
    );
    const first = firstOverview({ url: source.url }, settings, signal);
    const { spec, target } = await fetchRemoteReferences(
      source.url,
      settings,
      signal
    );
    const dataset = openReferences(spec, target, fetchFn);
    offerOverviews(dataset, { url: source.url }, settings, first);
    return { dataset, origin: { format: 'remote', location: source.url } };
  }
  onProgress(
    trans.__(
      'Combining the %1 files of the dataset along time on the server…',
      source.locations.length
    )
  );
  const spec = await fetchCombinedReferences(
    source.locations,
    settings,
    signal
  );
  return {
    dataset: openReferences(spec, null, fetchFn),
    origin: {
      format: 'files',
      location: source.locations[0] ?? '',
      locations: source.locations
    }
  };
}

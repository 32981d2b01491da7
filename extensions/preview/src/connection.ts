/**
 * The requests the preview makes to the Jupyter server: data/info, data/references
 * and data/table through the suite's API, chunks through the suite's data/files
 * route (or Jupyter's /files/ when data/references names it) with the same
 * credentials.
 */
import {
  apiUrl,
  requestAPI,
  requestBytes,
  requestJSON,
  serverFetch
} from '@espri-vre/core';
import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';
import type { VariableInfo } from './axes';
import { type IFirstOverview, overviewSlice } from './overview';
import type { FetchFn, IOverviewSource } from './reader';

/** The answer of `data/info`. */
export interface DataInfo {
  path: string;
  kind: string;
  description: string;
  reader: 'zarr' | 'references' | 'table' | null;
  matches_extension: boolean | null;
  size: number | null;
  files_url: string | null;
}

export function fetchInfo(
  path: string,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<DataInfo> {
  return requestAPI<DataInfo>(
    `data/info?path=${encodeURIComponent(path)}`,
    { signal },
    settings
  );
}

/**
 * The kerchunk references of a NetCDF/HDF5 file and the absolute URL its chunks
 * are read from (`X-Files-Url`, relative to the base URL, read through the
 * suite's data/files route).
 */
export async function fetchReferences(
  path: string,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<{
  spec: { refs?: Record<string, unknown> };
  target: string | null;
}> {
  const { data, headers } = await requestJSON<{
    refs?: Record<string, unknown>;
  }>(
    apiUrl(`data/references?path=${encodeURIComponent(path)}`, settings),
    { signal },
    settings
  );
  const filesUrl = headers.get('X-Files-Url');
  return {
    spec: data,
    target: filesUrl ? absoluteUrl(dataFilesUrl(filesUrl), settings) : null
  };
}

/**
 * The kerchunk references of a NetCDF/HDF5 file on a remote data server (an
 * HTTPServer / fileServer URL), computed by the server with Range requests through
 * its allow-list; the chunks are read through the server's data/remote/bytes route
 * (data servers send no CORS headers), which the answer's `X-Files-Url` names.
 */
export async function fetchRemoteReferences(
  url: string,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<{ spec: { refs?: Record<string, unknown> }; target: string }> {
  const { data, headers } = await requestJSON<{
    refs?: Record<string, unknown>;
  }>(
    apiUrl(`data/remote/references?url=${encodeURIComponent(url)}`, settings),
    { signal },
    settings
  );
  const route = headers.get('X-Files-Url');
  if (!route) {
    throw new Error(`The server named no route for the chunks of ${url}.`);
  }
  return { spec: data, target: absoluteUrl(route, settings) };
}

/**
 * The references of several files (server paths, or remote URLs) combined along
 * time as one dataset; each file's `templates` entry, relative to the server's base
 * URL, is made absolute here.
 */
export async function fetchCombinedReferences(
  locations: readonly string[],
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<{
  refs?: Record<string, unknown>;
  templates?: Record<string, string>;
}> {
  const { data } = await requestJSON<{
    refs?: Record<string, unknown>;
    templates?: Record<string, string>;
  }>(
    apiUrl('data/combined/references', settings),
    {
      method: 'POST',
      body: JSON.stringify({ locations }),
      headers: { 'Content-Type': 'application/json' },
      signal
    },
    settings
  );
  const templates: Record<string, string> = {};
  for (const [name, route] of Object.entries(data.templates ?? {})) {
    templates[name] = absoluteUrl(route, settings);
  }
  return { ...data, templates };
}

/** Rows of a table as an Arrow IPC stream, with the total row count. */
export async function fetchTable(
  path: string,
  offset: number,
  limit: number,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<{ bytes: Uint8Array; total: number }> {
  const { data, headers } = await requestBytes(
    apiUrl(
      `data/table?path=${encodeURIComponent(path)}&offset=${offset}&limit=${limit}`,
      settings
    ),
    { signal },
    settings
  );
  return { bytes: data, total: Number(headers.get('X-Total-Rows') ?? 0) };
}

/**
 * Where the server reads a dataset for its overviews: a path it serves (data/overview),
 * the URL of a file on an allowed data server (data/remote/overview) or of an OPeNDAP
 * dataset (data/opendap-overview; issue 16).
 */
export type OverviewLocation = string | { url: string } | { opendap: string };

/** The overview route of `location` and the query argument that names it. */
function overviewRoute(location: OverviewLocation): [string, string] {
  if (typeof location === 'string') {
    return ['data/overview', `path=${encodeURIComponent(location)}`];
  }
  return 'url' in location
    ? ['data/remote/overview', `url=${encodeURIComponent(location.url)}`]
    : ['data/opendap-overview', `url=${encodeURIComponent(location.opendap)}`];
}

/**
 * The server's overviews of the dataset at `location` (data/overview,
 * data/overview/cell, or their data/remote/ twins), for a dataset the server reads
 * itself (a NetCDF/HDF5 file or a Zarr store it serves, a remote NetCDF-4 file).
 */
export function serverOverview(
  location: OverviewLocation,
  settings: ServerConnection.ISettings
): IOverviewSource {
  const [route, named] = overviewRoute(location);
  const query = (variable: VariableInfo, rest: string): string =>
    `${named}&variable=${encodeURIComponent(variable.name)}&${rest}`;
  return {
    async slice(variable, selection, maxSide, signal) {
      const { data, headers } = await requestBytes(
        apiUrl(
          `${route}?${query(
            variable,
            `selection=${encodeURIComponent(JSON.stringify(selection))}&rows=${maxSide}&cols=${maxSide}`
          )}`,
          settings
        ),
        { signal },
        settings
      );
      return overviewSlice(data, headers);
    },
    async cell(variable, index, signal) {
      const { value } = await requestAPI<{ value: number | null }>(
        `${route}/cell?${query(variable, `index=${encodeURIComponent(JSON.stringify(index))}`)}`,
        { signal },
        settings
      );
      return value ?? NaN;
    }
  };
}

/**
 * The overview of the map a preview of `location` shows first, the server choosing the
 * variable and the slice (X-Overview-Variable, X-Overview-Selection): asked for before
 * the file's metadata are read, so that the first picture does not wait for them.
 */
export async function requestFirstOverview(
  location: OverviewLocation,
  settings: ServerConnection.ISettings,
  side: number,
  signal?: AbortSignal
): Promise<IFirstOverview> {
  const [route, named] = overviewRoute(location);
  const { data, headers } = await requestBytes(
    apiUrl(`${route}?${named}&rows=${side}&cols=${side}`, settings),
    { signal },
    settings
  );
  return {
    variable: JSON.parse(headers.get('X-Overview-Variable') ?? '""'),
    selection: JSON.parse(headers.get('X-Overview-Selection') ?? '[]'),
    side,
    slice: await overviewSlice(data, headers)
  };
}

/**
 * The suite's range-capable `data/files/` route for a file or Zarr store that
 * `/files/` names (`files_url` of data/info, relative to the base URL). Unlike
 * Jupyter's `/files/`, it serves the hidden keys of Zarr v2 stores (.zmetadata,
 * .zarray) and files in data roots outside the server root
 * (`data/files/@<root-id>/...`, as data/references' `X-Files-Url` gives them).
 */
export function dataFilesUrl(filesUrl: string): string {
  return filesUrl.startsWith('files/')
    ? `espri-vre/api/data/${filesUrl}`
    : filesUrl;
}

/** A URL relative to the server's base URL, made absolute as zarrita needs. */
export function absoluteUrl(
  relative: string,
  settings: ServerConnection.ISettings
): string {
  return new URL(URLExt.join(settings.baseUrl, relative), window.location.href)
    .href;
}

/**
 * A fetch that carries the Jupyter credentials to the server's files (the data/files
 * route accepts the token and the session cookie), and nothing to other hosts.
 */
export function authenticatedFetch(
  settings: ServerConnection.ISettings
): FetchFn {
  return serverFetch(settings);
}

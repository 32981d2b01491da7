/**
 * The requests the preview makes to the Jupyter server: data/info, data/references
 * and data/table through the suite's API, chunks through the suite's data/files
 * route (or Jupyter's /files/ when data/references names it) with the same
 * credentials.
 */
import { ApiError, requestAPI } from '@espri-vre/core';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { FetchFn } from './reader';

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
  const url =
    URLExt.join(settings.baseUrl, 'espri-vre/api/data/references') +
    `?path=${encodeURIComponent(path)}`;
  const response = await ServerConnection.makeRequest(
    url,
    { signal },
    settings
  );
  const text = await response.text();
  if (!response.ok) {
    throw apiError(url, response.status, text);
  }
  const filesUrl = response.headers.get('X-Files-Url');
  return {
    spec: JSON.parse(text),
    target: filesUrl ? absoluteUrl(dataFilesUrl(filesUrl), settings) : null
  };
}

/** Rows of a table as an Arrow IPC stream, with the total row count. */
export async function fetchTable(
  path: string,
  offset: number,
  limit: number,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<{ bytes: Uint8Array; total: number }> {
  const url =
    URLExt.join(settings.baseUrl, 'espri-vre/api/data/table') +
    `?path=${encodeURIComponent(path)}&offset=${offset}&limit=${limit}`;
  const response = await ServerConnection.makeRequest(
    url,
    { signal },
    settings
  );
  if (!response.ok) {
    throw apiError(url, response.status, await response.text());
  }
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    total: Number(response.headers.get('X-Total-Rows') ?? 0)
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
 * A fetch that carries the Jupyter credentials: the session cookie (same origin)
 * and, when the page has one, the token, as the /files/ handler accepts both.
 */
export function authenticatedFetch(
  settings: ServerConnection.ISettings
): FetchFn {
  return request => {
    const headers = new Headers(request.headers);
    if (settings.token) {
      headers.set('Authorization', `token ${settings.token}`);
    }
    // Called unbound: the browser's fetch refuses any `this` but the window.
    return settings.fetch.call(
      globalThis,
      new Request(request, { headers, credentials: 'same-origin' })
    );
  };
}

function apiError(url: string, status: number, text: string): ApiError {
  let error = `http-${status}`;
  let detail = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as {
      error?: string;
      detail?: string;
      message?: string;
    };
    error = body.error ?? error;
    detail = body.detail ?? body.message ?? detail;
  } catch {
    // Not the API's JSON (a proxy's page): the excerpt is the best there is.
  }
  return new ApiError({ status, error, detail, url });
}

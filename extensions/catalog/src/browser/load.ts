/**
 * Loading an intake-esm catalogue into the browser: the ESM collection JSON and the
 * Arrow IPC table from the server (`catalogs/{id}/esm`, `catalogs/{id}/table`),
 * cancellable and with the table's progress in bytes.
 */
import {
  ApiError,
  API_NAMESPACE,
  NetworkError,
  requestAPI
} from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import { parseEsmCollection, type EsmCollection } from '../intake/collection';
import { readIntakeTable, type IntakeTable } from '../intake/table';
import { columnsWithIterablesOf } from './model';

export interface LoadedIntakeCatalog {
  collection: EsmCollection;
  columnsWithIterables: string[];
  table: IntakeTable;
}

/** Bytes received so far, and the total when the server says it. */
export interface LoadProgress {
  step: 'collection' | 'table' | 'decode';
  received: number;
  total: number | null;
}

/**
 * The catalogue `catalogId`'s collection and table.
 *
 * @throws ApiError (the server's `{error, detail}`), NetworkError, the signal's
 *   AbortError, CatalogParseError or IntakeTableError when the answers cannot be read.
 */
export async function loadIntakeCatalog(
  catalogId: string,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal,
  onProgress?: (progress: LoadProgress) => void
): Promise<LoadedIntakeCatalog> {
  const id = encodeURIComponent(catalogId);
  onProgress?.({ step: 'collection', received: 0, total: null });
  const body = await requestAPI<unknown>(
    `catalogs/${id}/esm`,
    { signal },
    settings
  );
  const collection = parseEsmCollection(
    body,
    `the ESM collection of catalogue "${catalogId}"`
  );
  const bytes = await fetchBytes(
    `catalogs/${id}/table`,
    settings,
    signal,
    (received, total) => onProgress?.({ step: 'table', received, total })
  );
  onProgress?.({ step: 'decode', received: bytes.byteLength, total: null });
  return {
    collection,
    columnsWithIterables: columnsWithIterablesOf(body),
    table: readIntakeTable(bytes)
  };
}

async function fetchBytes(
  endpoint: string,
  settings: ServerConnection.ISettings,
  signal: AbortSignal | undefined,
  onBytes: (received: number, total: number | null) => void
): Promise<Uint8Array> {
  const url = `${settings.baseUrl.replace(/\/*$/, '/')}${API_NAMESPACE}/${endpoint}`;
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, { signal }, settings);
  } catch (reason) {
    if (signal?.aborted) {
      throw reason;
    }
    throw new NetworkError(url, reason);
  }
  if (!response.ok) {
    throw apiError(url, response.status, await response.text());
  }
  const header = Number(response.headers.get('Content-Length'));
  const total = Number.isFinite(header) && header > 0 ? header : null;
  if (!response.body) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    parts.push(value);
    received += value.byteLength;
    onBytes(received, total);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function apiError(url: string, status: number, text: string): ApiError {
  let error = `http-${status}`;
  let detail = `The server answered ${status} for ${url}.`;
  try {
    const body = JSON.parse(text) as { error?: unknown; detail?: unknown };
    if (typeof body.error === 'string' && typeof body.detail === 'string') {
      error = body.error;
      detail = body.detail;
    }
  } catch {
    // Not the API's error JSON: the status sentence stands.
  }
  return new ApiError({ status, error, detail, url });
}

/**
 * Loading an intake-esm catalogue into the browser: the ESM collection JSON and the
 * Arrow IPC table from the server (`catalogs/{id}/esm`, `catalogs/{id}/table`),
 * cancellable and with the table's progress in bytes.
 *
 * The table comes in two parts: `?part=search` (every column but the assets', what
 * the facets and the search need; fetched with the collection) and `?part=assets`
 * (the paths: most of the bytes; asked for once the collection has answered), so
 * that the browser is ready to search before the paths have arrived.
 */
import {
  apiUrl,
  type ProgressCallback,
  requestAPI,
  requestBytes
} from '@espri-vre/core';
import type { ServerConnection } from '@jupyterlab/services';
import { parseEsmCollection, type EsmCollection } from '../intake/collection';
import { joinTables, readIntakeTable, type IntakeTable } from '../intake/table';
import { columnsWithIterablesOf } from './model';

export interface LoadedIntakeCatalog {
  collection: EsmCollection;
  columnsWithIterables: string[];
  /** The table as far as it has arrived: every column but those in `pending`. */
  table: IntakeTable;
  /** The columns still on their way (the assets column), in the table's order. */
  pending: readonly string[];
  /**
   * The whole table, once the pending columns have arrived (at once when none is
   * pending). Rejects as `loadIntakeCatalog` throws.
   */
  complete: Promise<IntakeTable>;
}

/** The table's columns in order and their parts, as the ESM answer lists them. */
function tableParts(body: unknown): { order: string[]; assets: string[] } {
  const columns = (body as { table?: { columns?: unknown } } | null)?.table
    ?.columns;
  const order: string[] = [];
  const assets: string[] = [];
  if (Array.isArray(columns)) {
    for (const column of columns as Array<{ name?: unknown; part?: unknown }>) {
      if (typeof column?.name === 'string') {
        order.push(column.name);
        if (column.part === 'assets') {
          assets.push(column.name);
        }
      }
    }
  }
  return { order, assets };
}

/** Bytes received so far, and the total when the server says it. */
export interface LoadProgress {
  step: 'collection' | 'table' | 'decode';
  received: number;
  total: number | null;
}

/**
 * The catalogue `catalogId`'s collection and table: resolves once the search part
 * has arrived, the assets part following in `complete`.
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
  // The requests stop with `signal`, and when one of them fails: the failure is the
  // answer, and no progress is reported after it.
  const requests = new AbortController();
  const abort = () => requests.abort(signal?.reason);
  if (signal?.aborted) {
    abort();
  }
  signal?.addEventListener('abort', abort, { once: true });
  let settled = false;
  const progress =
    (step: LoadProgress['step']) =>
    (received: number, total: number | null) => {
      if (!settled) {
        onProgress?.({ step, received, total });
      }
    };
  try {
    progress('collection')(0, null);
    // Both wait for the server's one read of the table: asked for together.
    const esm = requestAPI<unknown>(
      `catalogs/${id}/esm`,
      { signal: requests.signal },
      settings
    );
    const search = fetchBytes(
      `catalogs/${id}/table?part=search`,
      settings,
      requests.signal,
      progress('table')
    );
    search.catch(() => undefined); // a failure of the collection comes first
    const body = await esm;
    const collection = parseEsmCollection(
      body,
      `the ESM collection of catalogue "${catalogId}"`
    );
    const { order, assets } = tableParts(body);
    // The collection answers once the server has read the table: the paths are asked
    // for then, while the search part arrives.
    const rest =
      assets.length > 0
        ? fetchBytes(
            `catalogs/${id}/table?part=assets`,
            settings,
            requests.signal,
            () => undefined
          )
        : null;
    rest?.catch(() => undefined); // reported by `complete`
    const bytes = await search;
    progress('decode')(bytes.byteLength, null);
    const table = readIntakeTable(bytes);
    const complete =
      rest === null
        ? Promise.resolve(table)
        : rest.then(more => joinTables([table, readIntakeTable(more)], order));
    // The caller may never wait for the paths (a panel closed meanwhile).
    complete
      .catch(() => undefined)
      .finally(() => signal?.removeEventListener('abort', abort));
    return {
      collection,
      columnsWithIterables: columnsWithIterablesOf(body),
      table,
      pending: rest === null ? [] : assets,
      complete
    };
  } catch (error) {
    requests.abort();
    signal?.removeEventListener('abort', abort);
    throw error;
  } finally {
    settled = true;
  }
}

async function fetchBytes(
  endpoint: string,
  settings: ServerConnection.ISettings,
  signal: AbortSignal | undefined,
  onBytes: ProgressCallback
): Promise<Uint8Array> {
  const answer = await requestBytes(
    apiUrl(endpoint, settings),
    { signal },
    settings,
    onBytes
  );
  return answer.data;
}

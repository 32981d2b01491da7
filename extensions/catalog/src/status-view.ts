/**
 * What the Data panel shows, computed from the registry's state: pure functions, so
 * that they are tested without a browser.
 */
import {
  ApiError,
  type CatalogStatus,
  type ClusterStatus,
  type DataRootStatus,
  type ICatalogRegistry,
  NetworkError,
  type StatusResponse
} from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * One row of the panel: a catalogue, a cluster or a data root.
 */
export interface IStatusRow {
  id: string;
  title: string;
  /** The kind as the server names it (`stac`, `slurm`...), or `null` for data roots. */
  kind: string | null;
  /** Where it is: the catalogue's URL, the cluster's transport, the root's path. */
  location: string;
  reachable: boolean;
  /** `reachable` or `unreachable`, translated. */
  stateLabel: string;
  /** How long the check took, such as `12 ms`; empty when it did not run. */
  latency: string;
  /** Why it is unreachable; empty when reachable. */
  detail: string;
}

/**
 * One section of the panel.
 */
export interface IStatusSection {
  /** Distinguishes the sections in the DOM (`catalogs`, `clusters`, `data-roots`). */
  key: 'catalogs' | 'clusters' | 'data-roots';
  heading: string;
  /** Such as `2 of 3 reachable`. */
  summary: string;
  /** Said instead of the list when it is empty. */
  emptyMessage: string;
  rows: IStatusRow[];
}

/**
 * The failure the panel reports, with the sentences to show.
 */
export interface IErrorView {
  /** What failed, in the user's words. */
  title: string;
  /** Why, from the server's error body or the network failure. */
  detail: string;
}

/**
 * Everything the panel renders.
 */
export interface IPanelView {
  /** The first load is under way: nothing to show yet. */
  loading: boolean;
  /** A refresh is under way while the previous answer is still shown. */
  refreshing: boolean;
  error: IErrorView | null;
  /** The server's version, when known. */
  version: string | null;
  /** Empty until the first answer. */
  sections: IStatusSection[];
}

/**
 * The registry's state, as the panel needs it.
 */
export type RegistrySnapshot = Pick<
  ICatalogRegistry,
  'state' | 'status' | 'error'
>;

/**
 * Compute what the panel shows.
 */
export function panelView(
  registry: RegistrySnapshot,
  trans: TranslationBundle
): IPanelView {
  const loading =
    registry.status === null &&
    (registry.state === 'loading' || registry.state === 'idle');
  return {
    loading,
    refreshing: registry.state === 'loading' && registry.status !== null,
    error:
      registry.state === 'error' && registry.error
        ? errorView(registry.error, trans)
        : null,
    version: registry.status?.version ?? null,
    sections: registry.status ? sections(registry.status, trans) : []
  };
}

/**
 * The panel's three sections, in this order: catalogues, clusters, data roots.
 */
export function sections(
  status: StatusResponse,
  trans: TranslationBundle
): IStatusSection[] {
  return [
    section(
      'catalogs',
      trans.__('Catalogues'),
      trans.__('No catalogue is configured on this server.'),
      status.catalogs.map(c => catalogRow(c, trans)),
      trans
    ),
    section(
      'clusters',
      trans.__('Clusters'),
      trans.__('No cluster is configured on this server.'),
      status.clusters.map(c => clusterRow(c, trans)),
      trans
    ),
    section(
      'data-roots',
      trans.__('Data roots'),
      trans.__('No data root is configured on this server.'),
      status.data_roots.map(r => dataRootRow(r, trans)),
      trans
    )
  ];
}

export function catalogRow(
  catalog: CatalogStatus,
  trans: TranslationBundle
): IStatusRow {
  return row(catalog, catalog.kind, catalog.url, trans);
}

export function clusterRow(
  cluster: ClusterStatus,
  trans: TranslationBundle
): IStatusRow {
  const location =
    cluster.transport === 'ssh'
      ? trans.__('over SSH')
      : trans.__('on this server');
  return row(cluster, cluster.kind, location, trans);
}

export function dataRootRow(
  root: DataRootStatus,
  trans: TranslationBundle
): IStatusRow {
  return row(root, null, root.path, trans);
}

/**
 * Rows by title, as people look for a name; the id breaks ties so that the order
 * is the same on every refresh.
 */
export function sortRows(rows: readonly IStatusRow[]): IStatusRow[] {
  return [...rows].sort(
    (a, b) =>
      a.title.localeCompare(b.title, undefined, { sensitivity: 'base' }) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * A check's duration for people: `12 ms`, `1.5 s`; empty when it did not run.
 */
export function formatLatency(
  latencyMs: number | null,
  trans: TranslationBundle
): string {
  if (latencyMs === null || !Number.isFinite(latencyMs)) {
    return '';
  }
  if (latencyMs < 1000) {
    return trans.__('%1 ms', Math.round(latencyMs));
  }
  return trans.__('%1 s', (latencyMs / 1000).toFixed(1));
}

/**
 * What to tell the user about a failed refresh.
 */
export function errorView(error: Error, trans: TranslationBundle): IErrorView {
  if (error instanceof NetworkError) {
    return {
      title: trans.__('The Jupyter server could not be reached.'),
      detail: trans.__(
        'Check that the server is still running and that this computer is online, then retry.'
      )
    };
  }
  if (error instanceof ApiError) {
    return {
      title: trans.__(
        'The server could not give its status (%1, %2).',
        error.status,
        error.error
      ),
      detail: error.detail
    };
  }
  return {
    title: trans.__('The status of the server could not be read.'),
    detail: error.message
  };
}

function section(
  key: IStatusSection['key'],
  heading: string,
  emptyMessage: string,
  rows: IStatusRow[],
  trans: TranslationBundle
): IStatusSection {
  const reachable = rows.filter(r => r.reachable).length;
  return {
    key,
    heading,
    summary: rows.length
      ? trans.__('%1 of %2 reachable', reachable, rows.length)
      : '',
    emptyMessage,
    rows: sortRows(rows)
  };
}

function row(
  item: {
    id: string;
    title: string;
    reachable: boolean;
    detail: string;
    latency_ms: number | null;
  },
  kind: string | null,
  location: string,
  trans: TranslationBundle
): IStatusRow {
  return {
    id: item.id,
    title: item.title || item.id,
    kind,
    location,
    reachable: item.reachable,
    stateLabel: item.reachable
      ? trans.__('reachable')
      : trans.__('unreachable'),
    latency: formatLatency(item.latency_ms, trans),
    detail: item.reachable ? '' : item.detail
  };
}

/**
 * The Catalogue Browser: one main-area view per catalogue. For an intake-esm
 * catalogue, facets with counts, the datasets the selection finds, a dataset's detail
 * and the actions on it (insert or copy the code that opens it, preview it).
 */
import type { CatalogStatus } from '@espri-vre/core';
import { isAbortError } from '@espri-vre/core';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import {
  datasetRecord,
  groupDatasets,
  type IntakeDataset
} from '../intake/group';
import { facetedSearch } from '../intake/search';
import type { DatasetRecord } from '../record';
import {
  loadIntakeCatalog,
  type LoadedIntakeCatalog,
  type LoadProgress
} from './load';
import {
  datasetCode,
  type FacetSelection,
  type FacetValueView,
  facetColumns,
  failureView,
  isServerPath,
  type FailureView,
  previewPath,
  selectionQuery,
  toggleValue
} from './model';
import { proxyFetcher, serverFetcher } from './fetcher';
import { isPinned, type Pin, togglePin } from './pins';
import type { RemoteQuery } from './query';
import { RemoteBrowser, type RemoteBrowserActions } from './remote';
import { VirtualList } from './virtual';
import { Facet, Failure, row } from './widgets';

/** Height of a dataset row of an intake-esm catalogue, in pixels. */
const INTAKE_ROW_HEIGHT = 32;

/** What the browser asks of the application. */
export interface BrowserActions {
  /** Insert code in a new cell below the active notebook's active cell. */
  insertCode(code: string): Promise<void>;
  copyCode(code: string): void;
  /** Why previews cannot open (no previewer installed), or null when they can. */
  previewUnavailable(): string | null;
  preview(path: string): Promise<void>;
  /** Why footprints cannot be shown (no globe installed), or null when they can. */
  globeUnavailable?(): string | null;
  showOnGlobe?(record: DatasetRecord): Promise<void>;
  /** The pins in the user's settings, and their change. */
  pins?(): readonly Pin[];
  setPins?(pins: Pin[]): Promise<void>;
  /** The link that opens a search (its state in the URL). */
  shareLink?(catalogId: string, query: RemoteQuery): string;
  /** Offer text as a file to save. */
  saveFile?(name: string, text: string): void;
}

export interface CatalogBrowserProps {
  catalog: Pick<CatalogStatus, 'id' | 'title' | 'kind' | 'url'>;
  settings: ServerConnection.ISettings;
  trans: TranslationBundle;
  actions: BrowserActions;
  /** Aborted when the view closes: cancels the loading. */
  signal: AbortSignal;
  /**
   * The absolute URL the server serves a file of its file system at, or null when it
   * serves it nowhere (see `filesRoute`).
   */
  serverFileUrl?: (path: string) => string | null;
  /** A search to start with (from a shared link). */
  initialQuery?: RemoteQuery;
  /** The configured catalogues, for the picker. */
  catalogs?: () => readonly Pick<CatalogStatus, 'id' | 'title' | 'kind'>[];
  /** Open another catalogue's browser. */
  onPickCatalog?: (id: string) => void;
}

type LoadState =
  | { status: 'loading'; progress: LoadProgress | null }
  | { status: 'error'; failure: FailureView }
  | { status: 'ready'; loaded: LoadedIntakeCatalog };

/**
 * The Catalogue Browser's content.
 */
export function CatalogBrowserView(
  props: CatalogBrowserProps
): React.ReactElement {
  const { catalog } = props;
  return (
    <div
      className="jp-EspriVre-catalogBrowser"
      data-catalog-id={catalog.id}
      style={{
        height: '100%',
        overflow: 'auto',
        padding: '8px 12px',
        boxSizing: 'border-box',
        color: 'var(--jp-ui-font-color1)',
        background: 'var(--jp-layout-color1)',
        fontSize: 'var(--jp-ui-font-size1)'
      }}
    >
      <div style={{ ...row, justifyContent: 'space-between' }}>
        <h2 style={{ margin: '4px 0 8px' }}>{catalog.title}</h2>
        {props.catalogs !== undefined && props.onPickCatalog !== undefined && (
          <label style={row}>
            {props.trans.__('Catalogue')}
            <select
              className="jp-EspriVre-catalogPicker jp-mod-styled"
              value={catalog.id}
              onChange={event => props.onPickCatalog?.(event.target.value)}
            >
              {props.catalogs().map(item => (
                <option key={item.id} value={item.id}>
                  {`${item.title} (${item.kind})`}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {catalog.kind === 'intake-esm' ? (
        <IntakeBrowser {...props} />
      ) : (
        <OtherBrowser {...props} />
      )}
    </div>
  );
}

function OtherBrowser(props: CatalogBrowserProps): React.ReactElement {
  const { catalog, trans, settings } = props;
  const onServer = isServerPath(catalog.url);
  const rootUrl = onServer
    ? (props.serverFileUrl?.(catalog.url) ?? null)
    : null;
  const fetcher = React.useMemo(
    () =>
      onServer ? serverFetcher(settings) : proxyFetcher(catalog.id, settings),
    [onServer, settings, catalog.id]
  );
  const [pinTick, setPinTick] = React.useState(0);
  const actions = React.useMemo(
    () => remoteActions(props, rootUrl, () => setPinTick(tick => tick + 1)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [props.actions, props.catalog, rootUrl, trans, pinTick]
  );
  if (onServer && catalog.kind !== 'stac') {
    return (
      <p className="jp-EspriVre-unsupported">
        {trans.__(
          'A %1 catalogue is read over HTTP: its url must be an http(s) address, not the path %2.',
          catalog.kind,
          catalog.url
        )}
      </p>
    );
  }
  if (onServer && rootUrl === null) {
    return (
      <p className="jp-EspriVre-unsupported">
        {trans.__(
          'The static STAC catalogue %1 lies outside the server root and the data roots: the server does not serve its files.',
          catalog.url
        )}
      </p>
    );
  }
  return (
    <RemoteBrowser
      catalog={catalog}
      fetcher={fetcher}
      entryUrl={rootUrl ?? catalog.url}
      kernelLocation={
        rootUrl === null
          ? undefined
          : url => kernelPath(url, rootUrl, catalog.url) ?? url
      }
      trans={trans}
      actions={actions}
      signal={props.signal}
      initialQuery={props.initialQuery}
    />
  );
}

/**
 * The server path of a URL the server serves a static catalogue's files at, given the
 * root document's URL (`rootUrl`, on the server's files route) and path (`rootPath`):
 * the route keeps the path's tail, so the part of `rootUrl` before that shared tail
 * stands for the part of `rootPath` before it. Null for a URL elsewhere.
 */
export function kernelPath(
  url: string,
  rootUrl: string,
  rootPath: string
): string | null {
  const urlParts = rootUrl.split(/[?#]/)[0].split('/');
  const pathParts = rootPath.split('/');
  let shared = 0;
  while (
    shared < urlParts.length - 1 &&
    shared < pathParts.length - 1 &&
    safeDecode(urlParts[urlParts.length - 1 - shared]) ===
      pathParts[pathParts.length - 1 - shared]
  ) {
    shared += 1;
  }
  if (shared === 0) {
    return null;
  }
  const urlBase = `${urlParts.slice(0, urlParts.length - shared).join('/')}/`;
  const pathBase = `${pathParts.slice(0, pathParts.length - shared).join('/')}/`;
  if (!url.startsWith(urlBase)) {
    return null;
  }
  const relative = url.slice(urlBase.length).split(/[?#]/)[0];
  const segments = relative.split('/').map(safeDecode);
  if (segments.some(segment => segment === '..' || segment === null)) {
    return null;
  }
  return `${pathBase}${segments.join('/')}`;
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function remoteActions(
  props: CatalogBrowserProps,
  rootUrl: string | null,
  onPins: () => void
): RemoteBrowserActions {
  const { actions, trans, catalog } = props;
  const localPath = (record: DatasetRecord): string | null => {
    if (rootUrl === null) {
      return null;
    }
    for (const access of record.access) {
      if (access.roles?.includes('thumbnail')) {
        continue;
      }
      const path = kernelPath(access.url, rootUrl, catalog.url);
      if (path !== null) {
        return path;
      }
    }
    return null;
  };
  return {
    insertCode: code => actions.insertCode(code),
    copyCode: code => actions.copyCode(code),
    previewUnavailable: record =>
      actions.previewUnavailable() ??
      (localPath(record) === null
        ? trans.__(
            'Previews read files on this server: this dataset is remote. Insert its code to open it in the notebook.'
          )
        : null),
    preview: async record => {
      const path = localPath(record);
      if (path !== null) {
        await actions.preview(path);
      }
    },
    globeUnavailable: record =>
      actions.globeUnavailable?.() ??
      (actions.showOnGlobe === undefined
        ? trans.__('The globe extension is not installed.')
        : record.spatial?.bbox === undefined &&
            record.spatial?.geometry === undefined
          ? trans.__('The catalogue gives no footprint for this record.')
          : null),
    showOnGlobe: async record => {
      await actions.showOnGlobe?.(record);
    },
    isPinned: record =>
      isPinned(actions.pins?.() ?? [], record.source.catalog_id, record.id),
    togglePin: async (record, code) => {
      if (actions.setPins === undefined) {
        throw new Error(
          trans.__('Pins need the settings, which are not available.')
        );
      }
      const pin: Pin = {
        catalog_id: record.source.catalog_id,
        id: record.id,
        title: record.title,
        pinned: new Date().toISOString()
      };
      if (code !== null) {
        pin.code = code;
      }
      await actions.setPins(togglePin(actions.pins?.() ?? [], pin));
      onPins();
    },
    shareLink: (catalogId, query) => {
      if (actions.shareLink === undefined) {
        throw new Error(trans.__('Links cannot be made here.'));
      }
      return actions.shareLink(catalogId, query);
    },
    saveFile: (name, text) => {
      if (actions.saveFile === undefined) {
        throw new Error(trans.__('Files cannot be saved here.'));
      }
      actions.saveFile(name, text);
    }
  };
}

function progressText(
  progress: LoadProgress | null,
  trans: TranslationBundle
): string {
  if (progress === null || progress.step === 'collection') {
    return trans.__('Loading the catalogue description…');
  }
  if (progress.step === 'decode') {
    return trans.__('Reading the table (%1 bytes)…', progress.received);
  }
  return progress.total
    ? trans.__(
        'Loading the table: %1 of %2 bytes…',
        progress.received,
        progress.total
      )
    : trans.__('Loading the table: %1 bytes…', progress.received);
}

function IntakeBrowser(props: CatalogBrowserProps): React.ReactElement {
  const { catalog, settings, trans, signal } = props;
  const [attempt, setAttempt] = React.useState(0);
  const [state, setState] = React.useState<LoadState>({
    status: 'loading',
    progress: null
  });
  React.useEffect(() => {
    let current = true;
    setState({ status: 'loading', progress: null });
    const failed = (reason: unknown) => {
      if (current && !isAbortError(reason) && !signal.aborted) {
        setState({
          status: 'error',
          failure: failureView(
            trans.__('The catalogue "%1" could not be loaded.', catalog.title),
            reason,
            trans
          )
        });
      }
    };
    loadIntakeCatalog(catalog.id, settings, signal, progress => {
      if (current) {
        setState({ status: 'loading', progress });
      }
    }).then(loaded => {
      if (!current) {
        return;
      }
      // Searchable now; the paths follow (the dataset details wait for them).
      setState({ status: 'ready', loaded });
      if (loaded.pending.length > 0) {
        loaded.complete.then(table => {
          if (current) {
            setState({
              status: 'ready',
              loaded: { ...loaded, table, pending: [] }
            });
          }
        }, failed);
      }
    }, failed);
    return () => {
      current = false;
    };
  }, [catalog.id, catalog.title, settings, signal, trans, attempt]);

  if (state.status === 'loading') {
    return (
      <div role="status" className="jp-EspriVre-progress" aria-busy="true">
        {progressText(state.progress, trans)}
      </div>
    );
  }
  if (state.status === 'error') {
    return (
      <Failure
        failure={state.failure}
        trans={trans}
        onRetry={() => setAttempt(attempt + 1)}
      />
    );
  }
  return <IntakeSearch {...props} loaded={state.loaded} />;
}

interface SearchOutcome {
  datasets: IntakeDataset[];
  facetCounts: ReturnType<typeof facetedSearch>['facetCounts'];
  failure: FailureView | null;
}

function IntakeSearch(
  props: CatalogBrowserProps & { loaded: LoadedIntakeCatalog }
): React.ReactElement {
  const { loaded, trans, catalog } = props;
  const { table, collection } = loaded;
  // A shared link names values by their text, which is what intake-esm's text columns
  // hold.
  const [selection, setSelection] = React.useState<FacetSelection>(
    () => props.initialQuery?.facets ?? {}
  );
  const [shareNote, setShareNote] = React.useState<string | null>(null);
  const [openKey, setOpenKey] = React.useState<string | null>(null);
  const columns = React.useMemo(
    () => facetColumns(collection, table),
    [collection, table]
  );
  const outcome = React.useMemo<SearchOutcome>(() => {
    try {
      const found = facetedSearch(table, selectionQuery(selection), {
        facets: columns
      });
      return {
        datasets: groupDatasets(table, found.rows, collection),
        facetCounts: found.facetCounts,
        failure: null
      };
    } catch (error) {
      return {
        datasets: [],
        facetCounts: {},
        failure: failureView(
          trans.__('The search could not be done.'),
          error,
          trans
        )
      };
    }
  }, [collection, table, columns, selection, trans]);

  const onToggle = (column: string, value: FacetValueView['value']) => {
    setSelection(toggleValue(selection, column, value));
  };
  const open = outcome.datasets.find(dataset => dataset.key === openKey);

  return (
    <div style={{ display: 'flex', gap: '16px', alignItems: 'flex-start' }}>
      <form
        className="jp-EspriVre-facets"
        aria-label={trans.__('Facets')}
        onSubmit={event => event.preventDefault()}
        style={{ flex: '0 0 260px', maxWidth: '40%' }}
      >
        {columns.map(column => (
          <Facet
            key={column}
            column={column}
            counts={outcome.facetCounts[column] ?? []}
            selected={selection[column] ?? []}
            trans={trans}
            onToggle={onToggle}
          />
        ))}
        {Object.keys(selection).length > 0 && (
          <button
            type="button"
            className="jp-EspriVre-clearFacets jp-mod-styled"
            onClick={() => setSelection({})}
          >
            {trans.__('Clear the selection')}
          </button>
        )}
      </form>
      <div style={{ flex: '1 1 auto', minWidth: 0 }}>
        {props.actions.shareLink !== undefined && (
          <div style={{ ...row, marginBottom: '4px' }}>
            <button
              type="button"
              className="jp-EspriVre-shareSearch jp-mod-styled"
              title={trans.__('Copy a link that opens this search')}
              onClick={() => {
                const facets: Record<string, string[]> = {};
                for (const [column, values] of Object.entries(selection)) {
                  facets[column] = values.map(value => String(value));
                }
                try {
                  props.actions.copyCode(
                    props.actions.shareLink?.(catalog.id, {
                      text: '',
                      facets
                    }) ?? ''
                  );
                  setShareNote(trans.__('The link to this search was copied.'));
                } catch (error) {
                  setShareNote(failureView('', error, trans).detail);
                }
              }}
            >
              {trans.__('Copy link to this search')}
            </button>
            <span role="status" className="jp-EspriVre-browserMessage">
              {shareNote ?? ''}
            </span>
          </div>
        )}
        {outcome.failure ? (
          <Failure
            failure={outcome.failure}
            trans={trans}
            onRetry={() => setSelection({})}
          />
        ) : (
          <p
            className="jp-EspriVre-resultCount"
            data-count={outcome.datasets.length}
            role="status"
          >
            {trans._n(
              '%1 dataset',
              '%1 datasets',
              outcome.datasets.length,
              outcome.datasets.length
            )}
          </p>
        )}
        <VirtualList
          items={outcome.datasets}
          rowHeight={INTAKE_ROW_HEIGHT}
          height={480}
          className="jp-EspriVre-datasets"
          ariaLabel={trans.__('Datasets')}
          itemKey={dataset => dataset.key}
          rowProps={dataset => ({
            className: 'jp-EspriVre-dataset',
            'data-key': dataset.key
          })}
          renderRow={dataset => (
            <button
              type="button"
              className="jp-EspriVre-datasetOpen"
              aria-expanded={dataset.key === openKey}
              title={dataset.key}
              onClick={() =>
                setOpenKey(dataset.key === openKey ? null : dataset.key)
              }
              style={{
                width: '100%',
                height: '100%',
                textAlign: 'left',
                background:
                  dataset.key === openKey ? 'var(--jp-layout-color2)' : 'none',
                border: 'none',
                padding: '2px 4px',
                color: 'inherit',
                cursor: 'pointer',
                font: 'inherit',
                whiteSpace: 'nowrap',
                overflow: 'hidden',
                textOverflow: 'ellipsis'
              }}
            >
              {dataset.key}{' '}
              <span style={{ color: 'var(--jp-ui-font-color2)' }}>
                {trans._n(
                  '(%1 file)',
                  '(%1 files)',
                  dataset.rows.length,
                  dataset.rows.length
                )}
              </span>
            </button>
          )}
        />
        {open && loaded.pending.length > 0 && (
          <div
            role="status"
            aria-busy="true"
            className="jp-EspriVre-detailPending jp-EspriVre-progress"
            style={{ marginTop: '12px' }}
          >
            {trans.__('Loading the file paths of the catalogue…')}
          </div>
        )}
        {open && loaded.pending.length === 0 && (
          <DatasetDetail
            {...props}
            dataset={open}
            record={datasetRecord(table, collection, open, catalog.id)}
            selection={selection}
            onClose={() => setOpenKey(null)}
          />
        )}
      </div>
    </div>
  );
}

function DatasetDetail(
  props: CatalogBrowserProps & {
    loaded: LoadedIntakeCatalog;
    dataset: IntakeDataset;
    record: DatasetRecord;
    selection: FacetSelection;
    onClose: () => void;
  }
): React.ReactElement {
  const { catalog, loaded, dataset, record, selection, trans, actions } = props;
  const [pinned, setPinned] = React.useState(() =>
    isPinned(actions.pins?.() ?? [], catalog.id, dataset.key)
  );
  React.useEffect(
    () => setPinned(isPinned(actions.pins?.() ?? [], catalog.id, dataset.key)),
    [actions, catalog.id, dataset.key]
  );
  // intake-esm tables carry no footprint: the button says so unless the record has one.
  const globeWhy =
    actions.globeUnavailable?.() ??
    (actions.showOnGlobe === undefined
      ? trans.__('The globe extension is not installed.')
      : record.spatial?.bbox === undefined &&
          record.spatial?.geometry === undefined
        ? trans.__('The catalogue gives no footprint for this dataset.')
        : null);
  const [message, setMessage] = React.useState<{
    text: string;
    error: boolean;
  } | null>(null);
  React.useEffect(() => setMessage(null), [dataset.key]);
  const code = datasetCode({
    catalog: catalog.url,
    collection: loaded.collection,
    columnsWithIterables: loaded.columnsWithIterables,
    selection,
    dataset,
    record
  });
  const path = previewPath(record);
  const unavailable =
    actions.previewUnavailable() ??
    (path === null
      ? trans.__(
          'This dataset has no file or Zarr store on the server to preview.'
        )
      : null);
  const run = (
    what: string,
    action: () => Promise<void> | void,
    done: string
  ) => {
    Promise.resolve()
      .then(action)
      .then(
        () => setMessage({ text: done, error: false }),
        reason =>
          setMessage({
            text: `${what} ${failureView('', reason, trans).detail}`,
            error: true
          })
      );
  };
  const headingId = `espri-vre-dataset-${catalog.id}-detail`;
  return (
    <section
      className="jp-EspriVre-datasetDetail"
      aria-labelledby={headingId}
      style={{
        marginTop: '12px',
        padding: '8px',
        border: '1px solid var(--jp-border-color1)',
        background: 'var(--jp-layout-color2)'
      }}
    >
      <div style={{ ...row, justifyContent: 'space-between' }}>
        <h3 id={headingId} style={{ margin: 0, overflowWrap: 'anywhere' }}>
          {dataset.key}
        </h3>
        <button
          type="button"
          className="jp-EspriVre-closeDetail jp-mod-styled"
          onClick={props.onClose}
        >
          {trans.__('Close')}
        </button>
      </div>
      <div style={{ ...row, margin: '8px 0' }}>
        <button
          type="button"
          className="jp-EspriVre-insertCode jp-mod-styled jp-mod-accept"
          title={trans.__(
            'Insert the code that opens this dataset in a new cell below the active cell of the notebook'
          )}
          onClick={() =>
            run(
              trans.__('The code could not be inserted:'),
              () => actions.insertCode(code),
              trans.__('The code was inserted in the notebook.')
            )
          }
        >
          {trans.__('Insert code')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-copyCode jp-mod-styled"
          onClick={() =>
            run(
              trans.__('The code could not be copied:'),
              () => actions.copyCode(code),
              trans.__('The code was copied to the clipboard.')
            )
          }
        >
          {trans.__('Copy code')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-previewDataset jp-mod-styled"
          disabled={unavailable !== null}
          title={unavailable ?? trans.__('Preview %1', path ?? '')}
          onClick={() =>
            path !== null &&
            run(
              trans.__('The preview could not be opened:'),
              () => actions.preview(path),
              trans.__('The preview was opened.')
            )
          }
        >
          {trans.__('Preview')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-pin jp-mod-styled"
          aria-pressed={pinned}
          disabled={actions.setPins === undefined}
          onClick={() =>
            run(
              trans.__('The pin could not be saved:'),
              async () => {
                const pin: Pin = {
                  catalog_id: catalog.id,
                  id: dataset.key,
                  title: dataset.key,
                  code,
                  pinned: new Date().toISOString()
                };
                await actions.setPins?.(togglePin(actions.pins?.() ?? [], pin));
                setPinned(!pinned);
              },
              pinned
                ? trans.__('Unpinned.')
                : trans.__('Pinned: it is kept in your settings.')
            )
          }
        >
          {pinned ? trans.__('Unpin') : trans.__('Pin')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-showOnGlobe jp-mod-styled"
          disabled={globeWhy !== null}
          title={globeWhy ?? trans.__('Show its footprint on the globe')}
          onClick={() =>
            run(
              trans.__('The footprint could not be shown:'),
              () => actions.showOnGlobe?.(record),
              trans.__('The footprint is on the globe.')
            )
          }
        >
          {trans.__('Show on globe')}
        </button>
      </div>
      {globeWhy !== null && (
        <p
          className="jp-EspriVre-actionUnavailable"
          style={{ color: 'var(--jp-ui-font-color2)', margin: '0 0 8px' }}
        >
          {globeWhy}
        </p>
      )}
      {unavailable !== null && (
        <p
          className="jp-EspriVre-previewUnavailable"
          style={{ color: 'var(--jp-ui-font-color2)', margin: '0 0 8px' }}
        >
          {unavailable}
        </p>
      )}
      <div
        role="status"
        className="jp-EspriVre-actionMessage"
        style={{
          color: message?.error
            ? 'var(--jp-error-color1)'
            : 'var(--jp-ui-font-color2)'
        }}
      >
        {message?.text ?? ''}
      </div>
      <h4>{trans.__('Facets')}</h4>
      <dl className="jp-EspriVre-datasetFacets" style={{ margin: 0 }}>
        {Object.entries(record.facets).map(([name, values]) => (
          <div key={name} style={row}>
            <dt style={{ fontWeight: 600 }}>{name}</dt>
            <dd style={{ margin: 0, overflowWrap: 'anywhere' }}>
              {values.join(', ')}
            </dd>
          </div>
        ))}
      </dl>
      <h4>{trans.__('Variables')}</h4>
      <p className="jp-EspriVre-datasetVariables">
        {record.variables.map(variable => variable.name).join(', ') ||
          trans.__('none listed')}
      </p>
      <h4>{trans.__('Assets')}</h4>
      <ul className="jp-EspriVre-datasetAssets" style={{ paddingLeft: '16px' }}>
        {record.access.map((access, at) => (
          <li key={at} style={{ overflowWrap: 'anywhere' }}>
            <code>{access.url}</code>
            {access.service ? ` (${access.service})` : ''}
            {access.description ? `: ${access.description}` : ''}
          </li>
        ))}
      </ul>
      <h4>{trans.__('Code')}</h4>
      <pre
        className="jp-EspriVre-datasetCode"
        style={{
          whiteSpace: 'pre-wrap',
          background: 'var(--jp-layout-color0)',
          padding: '6px',
          fontFamily: 'var(--jp-code-font-family)'
        }}
      >
        {code}
      </pre>
    </section>
  );
}

/**
 * The Catalogue Browser as a widget: the loading is cancelled when it is disposed.
 */
export class CatalogBrowser extends ReactWidget {
  constructor(options: Omit<CatalogBrowserProps, 'signal'>) {
    super();
    this._options = options;
    this.id = `espri-vre-catalog-browser-${options.catalog.id}`;
    this.addClass('jp-EspriVre-catalogBrowserWidget');
    this.title.label = options.trans.__('Catalogue: %1', options.catalog.title);
    this.title.caption = options.catalog.url;
    this.title.closable = true;
  }

  dispose(): void {
    this._controller.abort();
    super.dispose();
  }

  protected render(): React.ReactElement {
    return (
      <CatalogBrowserView {...this._options} signal={this._controller.signal} />
    );
  }

  private _options: Omit<CatalogBrowserProps, 'signal'>;
  private _controller = new AbortController();
}

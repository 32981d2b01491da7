/**
 * The Catalogue Browser: one main-area view per catalogue, an intake-esm browser
 * (`intake.tsx`) or a remote one (`remote.tsx`) under the catalogue's title and
 * picker, and the widget that holds it.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import { type ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';
import type { DatasetRecord } from '../record';
import { type CatalogBrowserProps, recordActions } from './actions';
import { proxyFetcher, serverFetcher } from './fetcher';
import { IntakeBrowser } from './intake';
import { isServerPath } from './model';
import type { RemoteQuery } from './query';
import { RemoteBrowser } from './remote';

export type { BrowserActions, CatalogBrowserProps } from './actions';

/**
 * The Catalogue Browser's content.
 */
export function CatalogBrowserView(
  props: CatalogBrowserProps
): React.ReactElement {
  const { catalog } = props;
  return (
    <div className="jp-EspriVre-catalogBrowser" data-catalog-id={catalog.id}>
      <div className="jp-EspriVre-row jp-mod-spread">
        <h2 className="jp-EspriVre-browserTitle">{catalog.title}</h2>
        {props.catalogs !== undefined && props.onPickCatalog !== undefined && (
          <label className="jp-EspriVre-row">
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
    () =>
      recordActions(
        props,
        {
          localPath: record => localPath(record, rootUrl, catalog.url),
          noLocalPath: trans.__(
            'Previews read files on this server: this dataset is remote. Insert its code to open it in the notebook.'
          ),
          noFootprint: trans.__(
            'The catalogue gives no footprint for this record.'
          )
        },
        () => setPinTick(tick => tick + 1)
      ),
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
      onQueryChange={props.onQueryChange}
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

/**
 * The server path of a record of a static catalogue the server serves (at `rootUrl`),
 * from its first access URL under that root; null for a remote catalogue.
 */
function localPath(
  record: DatasetRecord,
  rootUrl: string | null,
  rootPath: string
): string | null {
  if (rootUrl === null) {
    return null;
  }
  for (const access of record.access) {
    if (access.roles?.includes('thumbnail')) {
      continue;
    }
    const path = kernelPath(access.url, rootUrl, rootPath);
    if (path !== null) {
      return path;
    }
  }
  return null;
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * The Catalogue Browser as a widget: the loading is cancelled when it is disposed.
 */
export class CatalogBrowser extends ReactWidget {
  constructor(options: Omit<CatalogBrowserProps, 'signal'>) {
    super();
    this._options = options;
    this._query = options.initialQuery;
    this.id = `espri-vre-catalog-browser-${options.catalog.id}`;
    this.addClass('jp-EspriVre-catalogBrowserWidget');
    this.title.label = options.trans.__('Catalogue: %1', options.catalog.title);
    this.title.caption = options.catalog.url;
    this.title.closable = true;
  }

  /** The id of the catalogue browsed. */
  get catalogId(): string {
    return this._options.catalog.id;
  }

  /** The search shown, once the view has one (what a reload restores). */
  get query(): RemoteQuery | undefined {
    return this._query;
  }

  /** Emitted when the search changes. */
  get queryChanged(): ISignal<this, RemoteQuery> {
    return this._queryChanged;
  }

  dispose(): void {
    this._controller.abort();
    super.dispose();
  }

  protected render(): React.ReactElement {
    return (
      <CatalogBrowserView
        {...this._options}
        signal={this._controller.signal}
        onQueryChange={this._onQueryChange}
      />
    );
  }

  private _onQueryChange = (query: RemoteQuery): void => {
    this._query = query;
    this._queryChanged.emit(query);
    this._options.onQueryChange?.(query);
  };

  private _options: Omit<CatalogBrowserProps, 'signal'>;
  private _controller = new AbortController();
  private _query: RemoteQuery | undefined;
  private _queryChanged = new Signal<this, RemoteQuery>(this);
}

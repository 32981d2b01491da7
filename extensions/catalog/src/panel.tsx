import { type ICatalogRegistry, VisiblePoll } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, refreshIcon, UseSignal } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';
import { dataIcon } from './icons';
import {
  type IPanelView,
  type IStatusRow,
  type IStatusSection,
  panelView
} from './status-view';

/**
 * The id of the Data panel's node (and of the widget in the shell).
 */
export const DATA_PANEL_ID = 'espri-vre-data-panel';

/**
 * The Data panel: the catalogues, clusters and data roots the server is configured
 * with, and whether each answers.
 */
export class DataPanel extends ReactWidget {
  constructor(options: DataPanel.IOptions) {
    super();
    this._registry = options.registry;
    this._trans = options.trans;
    this._onOpenCatalog = options.onOpenCatalog;
    this._onOpenRoot = options.onOpenRoot;
    this.id = DATA_PANEL_ID;
    this.addClass('jp-EspriVre-dataPanel');
    this.title.icon = dataIcon;
    this.title.caption = this._trans.__('Data');
  }

  /**
   * Refresh every this many seconds while the panel is visible; 0 turns it off.
   */
  get autoRefreshSeconds(): number {
    return this._poll.seconds;
  }
  set autoRefreshSeconds(seconds: number) {
    this._poll.seconds = seconds;
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  processMessage(msg: Message): void {
    super.processMessage(msg);
    this._poll.processMessage(msg);
  }

  protected render(): React.ReactElement {
    return (
      <DataPanelComponent
        registry={this._registry}
        trans={this._trans}
        onRefresh={this._refresh}
        onOpenCatalog={this._onOpenCatalog}
        onOpenRoot={this._onOpenRoot}
      />
    );
  }

  private _refresh = (): Promise<void> =>
    // A failure is shown by the panel from the registry's state.
    this._registry.refresh().then(
      () => undefined,
      () => undefined
    );

  private _registry: ICatalogRegistry;
  private _trans: TranslationBundle;
  private _onOpenCatalog: ((id: string) => void) | undefined;
  private _onOpenRoot: ((id: string) => void) | undefined;
  // The status request makes the server check every host: only when someone looks,
  // and the first look loads it.
  private _poll = new VisiblePoll({
    widget: this,
    tick: reason =>
      (reason === 'show' && this._registry.state === 'idle') ||
      (reason === 'interval' && this._registry.state !== 'loading')
        ? this._refresh()
        : undefined
  });
}

export namespace DataPanel {
  export interface IOptions {
    registry: ICatalogRegistry;
    trans: TranslationBundle;
    /** Opens the Catalogue Browser of a catalogue; its rows are inert without it. */
    onOpenCatalog?: (id: string) => void;
    /** Opens a data root in the file browser; its rows are inert without it. */
    onOpenRoot?: (id: string) => void;
  }
}

/**
 * The panel's content, re-rendered whenever the registry changes.
 */
export function DataPanelComponent(props: {
  registry: ICatalogRegistry;
  trans: TranslationBundle;
  onRefresh: () => void;
  onOpenCatalog?: (id: string) => void;
  onOpenRoot?: (id: string) => void;
}): React.ReactElement {
  const { registry, trans, onRefresh, onOpenCatalog, onOpenRoot } = props;
  return (
    <UseSignal signal={registry.changed}>
      {() => (
        <DataPanelView
          view={panelView(registry, trans)}
          trans={trans}
          onRefresh={onRefresh}
          onOpenCatalog={onOpenCatalog}
          onOpenRoot={onOpenRoot}
        />
      )}
    </UseSignal>
  );
}

/**
 * The panel's content for one view.
 */
export function DataPanelView(props: {
  view: IPanelView;
  trans: TranslationBundle;
  onRefresh: () => void;
  onOpenCatalog?: (id: string) => void;
  onOpenRoot?: (id: string) => void;
}): React.ReactElement {
  const { view, trans, onRefresh, onOpenCatalog, onOpenRoot } = props;
  const busy = view.loading || view.refreshing;
  return (
    <div className="jp-EspriVre-dataPanelContent" aria-busy={busy}>
      <div className="jp-EspriVre-header">
        <h2 className="jp-EspriVre-heading">{trans.__('Data')}</h2>
        <button
          type="button"
          className="jp-EspriVre-refresh jp-Button jp-mod-minimal"
          title={trans.__(
            'Check the catalogues, clusters and data roots again'
          )}
          aria-label={trans.__('Refresh')}
          onClick={onRefresh}
        >
          <refreshIcon.react
            tag="span"
            className={busy ? 'jp-EspriVre-spinning' : undefined}
          />
        </button>
      </div>
      <div role="status" className="jp-EspriVre-progress">
        {view.loading
          ? trans.__('Checking the catalogues, clusters and data roots…')
          : view.refreshing
            ? trans.__('Refreshing…')
            : ''}
      </div>
      {view.error && (
        <div role="alert" className="jp-EspriVre-error">
          <p className="jp-EspriVre-errorTitle">{view.error.title}</p>
          <p className="jp-EspriVre-errorDetail">{view.error.detail}</p>
          <button
            type="button"
            className="jp-EspriVre-retry jp-mod-styled jp-mod-accept"
            onClick={onRefresh}
          >
            {trans.__('Retry')}
          </button>
        </div>
      )}
      {view.sections.map(section => (
        <StatusSection
          key={section.key}
          section={section}
          onOpen={
            section.key === 'catalogs'
              ? onOpenCatalog
              : section.key === 'data-roots'
                ? onOpenRoot
                : undefined
          }
          openLabel={title =>
            section.key === 'data-roots'
              ? trans.__('Browse the data root %1 in the file browser', title)
              : trans.__('Browse the catalogue %1', title)
          }
        />
      ))}
      {view.version && (
        <p className="jp-EspriVre-version">
          {trans.__('espri-vre server %1', view.version)}
        </p>
      )}
    </div>
  );
}

const ITEM_CLASS: Record<IStatusSection['key'], string> = {
  catalogs: 'jp-EspriVre-catalogItem',
  clusters: 'jp-EspriVre-clusterItem',
  'data-roots': 'jp-EspriVre-dataRootItem'
};

const ID_ATTRIBUTE: Record<IStatusSection['key'], string> = {
  catalogs: 'data-catalog-id',
  clusters: 'data-cluster-id',
  'data-roots': 'data-root-id'
};

function StatusSection(props: {
  section: IStatusSection;
  onOpen?: (id: string) => void;
  openLabel: (title: string) => string;
}): React.ReactElement {
  const { section, onOpen, openLabel } = props;
  const headingId = `espri-vre-data-panel-${section.key}`;
  return (
    <section
      className="jp-EspriVre-section"
      data-section={section.key}
      aria-labelledby={headingId}
    >
      <h3 id={headingId} className="jp-EspriVre-sectionHeading">
        <span>{section.heading}</span>
        <span className="jp-EspriVre-sectionSummary">{section.summary}</span>
      </h3>
      {section.rows.length ? (
        <ul className="jp-EspriVre-list" aria-labelledby={headingId}>
          {section.rows.map(row => (
            <StatusItem
              key={row.id}
              row={row}
              section={section.key}
              onOpen={onOpen}
              openLabel={openLabel}
            />
          ))}
        </ul>
      ) : (
        <p className="jp-EspriVre-empty">{section.emptyMessage}</p>
      )}
    </section>
  );
}

function StatusItem(props: {
  row: IStatusRow;
  section: IStatusSection['key'];
  onOpen?: (id: string) => void;
  openLabel: (title: string) => string;
}): React.ReactElement {
  const { row, section, onOpen, openLabel } = props;
  const attributes = {
    [ID_ATTRIBUTE[section]]: row.id,
    'data-reachable': String(row.reachable)
  };
  // A row that opens the browser is a button for the keyboard and screen readers.
  const opener = onOpen
    ? {
        role: 'button',
        tabIndex: 0,
        title: openLabel(row.title),
        onClick: () => onOpen(row.id),
        onKeyDown: (event: React.KeyboardEvent) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            onOpen(row.id);
          }
        }
      }
    : {};
  return (
    <li
      className={`jp-EspriVre-item ${ITEM_CLASS[section]}`}
      {...attributes}
      {...opener}
    >
      <span className="jp-EspriVre-itemIndicator" aria-hidden="true" />
      <div className="jp-EspriVre-itemBody">
        {/* The spaces keep the words apart in the row's text content. */}
        <div className="jp-EspriVre-itemLine">
          <span className="jp-EspriVre-itemTitle">{row.title}</span>{' '}
          {row.kind && <span className="jp-EspriVre-itemKind">{row.kind}</span>}
        </div>{' '}
        <div className="jp-EspriVre-itemLine">
          <span className="jp-EspriVre-itemState">{row.stateLabel}</span>{' '}
          {row.latency && (
            <span className="jp-EspriVre-itemLatency">{row.latency}</span>
          )}
        </div>{' '}
        {row.detail && <p className="jp-EspriVre-itemDetail">{row.detail}</p>}{' '}
        <div className="jp-EspriVre-itemLocation" title={row.location}>
          {row.location}
        </div>
      </div>
    </li>
  );
}

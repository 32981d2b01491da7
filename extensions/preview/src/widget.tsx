/**
 * The preview widget in the main area: works out what the file is, opens it, and
 * shows a map view or a table view.
 */
import { ApiError } from '@espri-vre/core';
import { ReactWidget } from '@jupyterlab/apputils';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useState } from 'react';
import {
  absoluteUrl,
  authenticatedFetch,
  dataFilesUrl,
  type DataInfo,
  fetchInfo,
  fetchReferences,
  requestFirstOverview,
  serverOverview
} from './connection';
import type { IDatasetOrigin } from './code';
import { offerFirstOverview } from './map-data';
import { type IMapActions, MapView } from './map-view';
import { screenSide } from './overview';
import { type Dataset, openReferences, openZarr } from './reader';
import { TableView } from './table-view';

import { openPreparedSource, type PreviewSource, sourceName } from './sources';

export type { PreviewSource } from './sources';

export interface IPreviewOptions {
  source: PreviewSource;
  settings: ServerConnection.ISettings;
  trans: TranslationBundle;
  variable?: string;
  /** The slice to show first: an index per dimension (what a reload restores). */
  indices?: Readonly<Record<string, number>>;
  /** The colour map the view starts with. */
  colormap?: string;
  /** "Open in notebook", "Show on globe": what the application provides. */
  actions?: IMapActions;
  /** Draw the first slice on the globe as soon as it is read. */
  showOnGlobe?: boolean;
  /** Told when the variable or the slice shown changes (to keep it for a reload). */
  onStateChange?: (state: IPreviewState) => void;
}

/** What a reload reopens a preview with. */
export interface IPreviewState {
  source: PreviewSource;
  variable?: string;
  indices?: Readonly<Record<string, number>>;
}

export class PreviewWidget extends ReactWidget {
  constructor(private readonly options: IPreviewOptions) {
    super();
    const { source, trans } = options;
    this._state = {
      source,
      variable: options.variable,
      indices: options.indices
    };
    const name = sourceName(source);
    this.addClass('jp-EspriVre-preview');
    this.title.label = trans.__(
      'Preview: %1',
      name.split('/').filter(Boolean).pop() ?? name
    );
    this.title.caption = name;
    this.title.closable = true;
  }

  /** The file and the variable and slice shown, as a reload restores them. */
  get state(): IPreviewState {
    return this._state;
  }

  protected render(): JSX.Element {
    return (
      <Preview {...this.options} onSelectionChange={this._onSelectionChange} />
    );
  }

  private _onSelectionChange = (
    variable: string,
    indices: Record<string, number>
  ): void => {
    this._state = { ...this._state, variable, indices: { ...indices } };
    this.options.onStateChange?.(this._state);
  };

  private _state: IPreviewState;
}

type State =
  | { step: 'loading'; message: string }
  | { step: 'error'; message: string }
  | { step: 'map'; dataset: Dataset; origin?: IDatasetOrigin }
  | { step: 'table'; path: string };

function Preview(
  props: IPreviewOptions & {
    onSelectionChange: (
      variable: string,
      indices: Record<string, number>
    ) => void;
  }
): JSX.Element {
  const { source, settings, trans } = props;
  const [state, setState] = useState<State>({
    step: 'loading',
    message: trans.__('Finding out what the file is…')
  });

  // A reload restores its own variable and slice: only a fresh preview asks the server
  // for the first map before the metadata.
  const early = props.variable === undefined && props.indices === undefined;
  useEffect(() => {
    const controller = new AbortController();
    open(source, settings, trans, setState, early, controller.signal).catch(
      reason => {
        if (!controller.signal.aborted) {
          setState({ step: 'error', message: explain(reason, trans) });
        }
      }
    );
    return () => controller.abort();
  }, [source, settings, trans, early]);

  switch (state.step) {
    case 'loading':
      return <div className="jp-EspriVre-previewProgress">{state.message}</div>;
    case 'error':
      return (
        <div className="jp-EspriVre-previewError" role="alert">
          {state.message}
        </div>
      );
    case 'table':
      return <TableView path={state.path} settings={settings} trans={trans} />;
    case 'map':
      return (
        <MapView
          dataset={state.dataset}
          trans={trans}
          initialVariable={props.variable}
          initialIndices={props.indices}
          onSelectionChange={props.onSelectionChange}
          initialColormap={props.colormap}
          origin={state.origin}
          actions={props.actions}
          showOnGlobeOnceDrawn={props.showOnGlobe}
        />
      );
  }
}

async function open(
  source: PreviewSource,
  settings: ServerConnection.ISettings,
  trans: TranslationBundle,
  setState: (state: State) => void,
  early: boolean,
  signal: AbortSignal
): Promise<void> {
  const fetchFn = authenticatedFetch(settings);
  if (
    source.kind === 'remote' ||
    source.kind === 'files' ||
    source.kind === 'opendap'
  ) {
    const opened = await openPreparedSource(
      source,
      settings,
      trans,
      message => setState({ step: 'loading', message }),
      signal
    );
    setState({ step: 'map', ...opened });
    return;
  }
  if (source.kind === 'zarr-url') {
    setState({
      step: 'loading',
      message: trans.__('Reading the Zarr metadata…')
    });
    setState({
      step: 'map',
      dataset: await openZarr(source.url, fetchFn),
      origin: { format: 'zarr', location: source.url }
    });
    return;
  }
  const info: DataInfo = await fetchInfo(source.path, settings, signal);
  if (info.reader === 'table') {
    setState({ step: 'table', path: source.path });
    return;
  }
  // The first picture is asked for at once, in parallel with the metadata (issue 17).
  const first =
    early && (info.reader === 'zarr' || info.reader === 'references')
      ? requestFirstOverview(
          source.path,
          settings,
          screenSide(window.devicePixelRatio),
          signal
        ).catch(() => null)
      : null;
  if (info.reader === 'zarr') {
    if (!info.files_url) {
      throw new Error(outsideRoot(source.path, trans));
    }
    setState({
      step: 'loading',
      message: trans.__('Reading the Zarr metadata…')
    });
    const dataset = await openZarr(
      absoluteUrl(dataFilesUrl(info.files_url), settings),
      fetchFn
    );
    // A multiscale store's own levels make its first picture, not the server's overview.
    if (!dataset.overview) {
      dataset.overview = serverOverview(source.path, settings);
      if (first) {
        offerFirstOverview(dataset, first);
      }
    }
    setState({
      step: 'map',
      dataset,
      origin: { format: 'zarr', location: source.path }
    });
    return;
  }
  if (info.reader === 'references') {
    setState({
      step: 'loading',
      message: trans.__(
        'Asking the server where the chunks of %1 are…',
        source.path
      )
    });
    const { spec, target } = await fetchReferences(
      source.path,
      settings,
      signal
    );
    if (!target) {
      throw new Error(outsideRoot(source.path, trans));
    }
    // The first picture of a large slice comes from the server's overview (issue 17).
    const dataset = openReferences(spec, target, fetchFn);
    dataset.overview = serverOverview(source.path, settings);
    if (first) {
      offerFirstOverview(dataset, first);
    }
    setState({
      step: 'map',
      dataset,
      origin: { format: 'netcdf', location: source.path }
    });
    return;
  }
  throw new Error(
    trans.__(
      '%1 is %2, which has no preview. Zarr stores, NetCDF/HDF5 files and Parquet, CSV or Arrow tables can be previewed.',
      source.path,
      info.description
    )
  );
}

function outsideRoot(path: string, trans: TranslationBundle): string {
  return trans.__(
    '%1 is outside the Jupyter server root and its configured data roots do not name it, so the browser cannot read its chunks yet. Copy or link it under your home directory, or open it in a notebook with xarray.',
    path
  );
}

/** Errors of remote data servers whose sentence already says what to do next. */
const SELF_EXPLAINED = new Set([
  'host-not-allowed',
  'range-not-supported',
  'html-answer'
]);

function explain(reason: unknown, trans: TranslationBundle): string {
  if (reason instanceof ApiError && SELF_EXPLAINED.has(reason.error)) {
    return reason.detail;
  }
  if (reason instanceof ApiError) {
    const next =
      reason.status === 404
        ? trans.__('Check the path in the file browser.')
        : reason.status === 415 || reason.status === 422
          ? trans.__(
              'Open the file in a notebook with xarray to see what it holds.'
            )
          : reason.status === 403
            ? trans.__(
                'Only files under the server root and the configured data roots can be previewed.'
              )
            : trans.__(
                'Try again; if it keeps failing, the server log says more.'
              );
    return `${reason.detail} ${next}`;
  }
  return reason instanceof Error ? reason.message : String(reason);
}

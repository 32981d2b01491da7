import {
  ApiError,
  isAbortError,
  type DaskOverview,
  type DaskRunning,
  VisiblePoll
} from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';
import { daskIcon } from './icons';
import {
  jobCounts,
  presetSummary,
  startRequest,
  type DaskService
} from './model';

/**
 * The id of the Dask panel's node (and of the widget in the shell).
 */
export const DASK_PANEL_ID = 'espri-vre-dask-panel';

/**
 * The dashboards offered for a running cluster: dask's individual plots, proxied by
 * dask-labextension through the Jupyter server.
 */
export const DASHBOARDS: { page: string; label: string }[] = [
  { page: 'individual-task-stream', label: 'Task stream' },
  { page: 'individual-progress', label: 'Progress' },
  { page: 'individual-workers', label: 'Workers' }
];

/**
 * The Dask panel: start a Dask cluster from a preset of a configured cluster, follow its
 * workers and their batch jobs, scale it, open its dashboards, get the code that connects a
 * notebook to it, stop it.
 */
export class DaskPanel extends ReactWidget {
  constructor(options: DaskPanel.IOptions) {
    super();
    this._options = options;
    this.id = DASK_PANEL_ID;
    this.addClass('jp-EspriVre-daskPanel');
    this.title.icon = daskIcon;
    this.title.caption = options.trans.__('Dask clusters');
  }

  /** Seconds between two refreshes while visible; 0 refreshes only on demand. */
  get refreshSeconds(): number {
    return this._poll.seconds;
  }
  set refreshSeconds(seconds: number) {
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
    return <DaskPanelView {...this._options} poll={this._poll} />;
  }

  private _options: DaskPanel.IOptions;
  // The view holds the overview in its state: it follows the poll's ticks.
  private _poll = new VisiblePoll({ widget: this, seconds: 3 });
}

export namespace DaskPanel {
  export interface IOptions {
    service: DaskService;
    trans: TranslationBundle;
    /** Puts code into the active notebook; absent when no notebook is open. */
    insertCode?: (code: string) => boolean;
    copyCode: (code: string) => void;
    openDashboard: (cluster: DaskRunning, page: string, label: string) => void;
  }
}

interface IViewProps extends DaskPanel.IOptions {
  /** Ticks when the overview is to be asked for again (the panel is visible). */
  poll: VisiblePoll;
}

function errorText(reason: unknown): string {
  if (reason instanceof ApiError) {
    return reason.detail;
  }
  return reason instanceof Error ? reason.message : String(reason);
}

function DaskPanelView(props: IViewProps): React.ReactElement {
  const { service, trans, poll } = props;
  const [overview, setOverview] = React.useState<DaskOverview | null>(null);
  const [loadError, setLoadError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [clusterId, setClusterId] = React.useState('');
  const [presetId, setPresetId] = React.useState('');
  const [workers, setWorkers] = React.useState('');
  const [startError, setStartError] = React.useState<string | null>(null);
  const [starting, setStarting] = React.useState(false);
  const [actionError, setActionError] = React.useState<string | null>(null);

  const refresh = React.useCallback(
    async (signal?: AbortSignal) => {
      setLoading(true);
      try {
        const got = await service.overview(signal);
        setOverview(got);
        setLoadError(got.problem ?? null);
      } catch (reason) {
        if (!isAbortError(reason)) {
          setLoadError(errorText(reason));
        }
      } finally {
        setLoading(false);
      }
    },
    [service]
  );

  React.useEffect(() => {
    const controller = new AbortController();
    const again = (): void => void refresh(controller.signal);
    again();
    poll.ticked.connect(again);
    return () => {
      poll.ticked.disconnect(again);
      controller.abort();
    };
  }, [refresh, poll]);

  const usable = (overview?.clusters ?? []).filter(c => c.presets.length > 0);
  const cluster = usable.find(c => c.id === clusterId) ?? usable[0];
  const preset =
    cluster?.presets.find(p => p.id === presetId) ?? cluster?.presets[0];

  const start = async (): Promise<void> => {
    if (!cluster || !preset) {
      return;
    }
    const checked = startRequest(cluster, preset, workers, trans);
    if ('error' in checked) {
      setStartError(checked.error);
      return;
    }
    setStarting(true);
    setStartError(null);
    try {
      await service.start(checked.request);
      await refresh();
    } catch (reason) {
      setStartError(errorText(reason));
    } finally {
      setStarting(false);
    }
  };

  const act = async (action: () => Promise<void>): Promise<void> => {
    setActionError(null);
    try {
      await action();
      await refresh();
    } catch (reason) {
      setActionError(errorText(reason));
    }
  };

  return (
    <div className="jp-EspriVre-daskContent" aria-busy={loading}>
      <div className="jp-EspriVre-header">
        <h2 className="jp-EspriVre-heading">{trans.__('Dask clusters')}</h2>
        <button
          className="jp-EspriVre-refresh jp-Button jp-mod-minimal"
          title={trans.__('Refresh')}
          aria-label={trans.__('Refresh')}
          onClick={() => void refresh()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      {loadError && (
        <div className="jp-EspriVre-error" role="alert">
          {loadError}{' '}
          <button className="jp-mod-styled" onClick={() => void refresh()}>
            {trans.__('Retry')}
          </button>
        </div>
      )}
      {overview && usable.length === 0 && (
        <p className="jp-EspriVre-empty">
          {trans.__('No configured cluster can start Dask workers.')}{' '}
          {overview.clusters
            .filter(c => c.problem)
            .map(c => `${c.id}: ${c.problem}`)
            .join(' ')}
        </p>
      )}
      {cluster && preset && (
        <form
          className="jp-EspriVre-daskStart"
          onSubmit={event => {
            event.preventDefault();
            void start();
          }}
        >
          <label>
            {trans.__('Cluster')}
            <select
              className="jp-mod-styled"
              name="cluster"
              value={cluster.id}
              onChange={e => {
                setClusterId(e.target.value);
                setPresetId('');
              }}
            >
              {usable.map(c => (
                <option key={c.id} value={c.id}>
                  {c.title}
                </option>
              ))}
            </select>
          </label>
          <label>
            {trans.__('Preset')}
            <select
              className="jp-mod-styled"
              name="preset"
              value={preset.id}
              onChange={e => setPresetId(e.target.value)}
            >
              {cluster.presets.map(p => (
                <option key={p.id} value={p.id}>
                  {p.title}
                </option>
              ))}
            </select>
          </label>
          <p className="jp-EspriVre-daskPresetSummary">
            {presetSummary(preset, trans)}
          </p>
          <label>
            {trans.__('Workers')}
            <input
              className="jp-mod-styled"
              name="workers"
              inputMode="numeric"
              placeholder={String(preset.workers)}
              value={workers}
              onChange={e => setWorkers(e.target.value)}
            />
          </label>
          <p className="jp-EspriVre-daskCap">
            {trans.__(
              'At most %1 workers on this cluster.',
              cluster.max_workers
            )}
          </p>
          <button
            type="submit"
            className="jp-mod-styled jp-mod-accept jp-EspriVre-daskStartButton"
            disabled={starting}
          >
            {starting ? trans.__('Starting…') : trans.__('Start Dask cluster')}
          </button>
          {startError && (
            <div className="jp-EspriVre-error" role="alert">
              {startError}
            </div>
          )}
        </form>
      )}
      {actionError && (
        <div className="jp-EspriVre-error" role="alert">
          {actionError}
        </div>
      )}
      <ul className="jp-EspriVre-daskClusters">
        {(overview?.running ?? []).map(r => (
          <RunningCluster
            key={r.id}
            {...props}
            cluster={r}
            maxWorkers={
              overview?.clusters.find(c => c.id === r.cluster)?.max_workers ??
              null
            }
            act={act}
          />
        ))}
      </ul>
    </div>
  );
}

function RunningCluster(
  props: IViewProps & {
    cluster: DaskRunning;
    /** The cap of the cluster it runs on; null for a cluster started elsewhere. */
    maxWorkers: number | null;
    act: (action: () => Promise<void>) => Promise<void>;
  }
): React.ReactElement {
  const { cluster, trans, service, act, maxWorkers } = props;
  const [scaleTo, setScaleTo] = React.useState('');
  const live = cluster.jobs.filter(j => j.state !== 'ENDED').length;
  return (
    <li className="jp-EspriVre-daskCluster" data-name={cluster.name}>
      <div className="jp-EspriVre-daskClusterHead">
        <strong>{cluster.name}</strong> <span>{cluster.kind}</span>{' '}
        {cluster.cluster && (
          <span className="jp-EspriVre-daskWhere">
            {trans.__(
              'on %1, preset %2',
              cluster.cluster,
              cluster.preset ?? ''
            )}
          </span>
        )}
      </div>
      <div className="jp-EspriVre-daskWorkers" data-workers={cluster.workers}>
        {trans._n(
          '%1 worker connected',
          '%1 workers connected',
          cluster.workers
        )}
        {cluster.adapt && (
          <span className="jp-EspriVre-daskAdapt">
            {' · '}
            {trans.__(
              'adaptive, %1 to %2',
              cluster.adapt.minimum,
              cluster.adapt.maximum
            )}
          </span>
        )}
        {cluster.cluster && (
          <>
            {' · '}
            {trans._n('%1 live batch job', '%1 live batch jobs', live)}
            {jobCounts(cluster).map(([state, n]) => (
              <span
                key={state}
                className={`jp-EspriVre-badge jp-EspriVre-state-${state.toLowerCase()}`}
              >
                {state} {n}
              </span>
            ))}
          </>
        )}
      </div>
      {cluster.problem && (
        <div className="jp-EspriVre-warning" role="alert">
          {cluster.problem}
        </div>
      )}
      <pre className="jp-EspriVre-daskCode">{cluster.code}</pre>
      <div className="jp-EspriVre-daskActions">
        <button
          className="jp-mod-styled"
          onClick={() => props.copyCode(cluster.code)}
        >
          {trans.__('Copy code')}
        </button>
        {props.insertCode && (
          <button
            className="jp-mod-styled"
            onClick={() => props.insertCode?.(cluster.code)}
          >
            {trans.__('Insert into notebook')}
          </button>
        )}
        {DASHBOARDS.map(d => (
          <button
            key={d.page}
            className="jp-mod-styled"
            onClick={() =>
              props.openDashboard(cluster, d.page, trans.__(d.label))
            }
          >
            {trans.__(d.label)}
          </button>
        ))}
      </div>
      <form
        className="jp-EspriVre-daskScale"
        onSubmit={event => {
          event.preventDefault();
          const n = Number(scaleTo);
          if (!/^\d+$/.test(scaleTo.trim())) {
            return;
          }
          void act(() => service.scale(cluster.id, n));
          setScaleTo('');
        }}
      >
        <input
          className="jp-mod-styled"
          name="scale"
          inputMode="numeric"
          aria-label={trans.__('Workers')}
          placeholder={String(cluster.workers)}
          value={scaleTo}
          onChange={e => setScaleTo(e.target.value)}
        />
        <button type="submit" className="jp-mod-styled">
          {trans.__('Scale')}
        </button>
        {maxWorkers !== null && maxWorkers > 0 && (
          <button
            type="button"
            className="jp-mod-styled"
            title={trans.__(
              'Let Dask start and stop workers with the load, from 0 to %1',
              maxWorkers
            )}
            onClick={() =>
              void act(() => service.adapt(cluster.id, 0, maxWorkers))
            }
          >
            {trans.__('Adaptive')}
          </button>
        )}
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-EspriVre-daskStop"
          onClick={() => void act(() => service.stop(cluster.id))}
        >
          {trans.__('Stop')}
        </button>
      </form>
    </li>
  );
}

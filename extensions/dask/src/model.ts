import {
  ApiError,
  requestAPI,
  requestServer,
  serverUrl,
  type DaskClusterOption,
  type DaskOverview,
  type DaskPreset,
  type DaskRunning,
  type DaskStartRequest
} from '@espri-vre/core';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * The Dask routes: ours (`espri-vre/api/dask`: the clusters with their presets, and a start
 * from a preset) and dask-labextension's (`dask/clusters/<id>`: scale, adapt, stop), so that
 * every cluster goes through dask-labextension's manager and shows in its panel too.
 */
export class DaskService {
  constructor(
    settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this._settings = settings;
  }

  get serverSettings(): ServerConnection.ISettings {
    return this._settings;
  }

  overview(signal?: AbortSignal): Promise<DaskOverview> {
    return requestAPI<DaskOverview>('dask', { signal }, this._settings);
  }

  start(request: DaskStartRequest): Promise<DaskRunning> {
    return requestAPI<DaskRunning>(
      'dask/clusters',
      { method: 'POST', body: JSON.stringify(request) },
      this._settings
    );
  }

  scale(clusterId: string, workers: number): Promise<void> {
    return this._manager(clusterId, 'PATCH', { workers });
  }

  adapt(clusterId: string, minimum: number, maximum: number): Promise<void> {
    return this._manager(clusterId, 'PATCH', { adapt: { minimum, maximum } });
  }

  stop(clusterId: string): Promise<void> {
    return this._manager(clusterId, 'DELETE');
  }

  /**
   * The URL of one of a cluster's dashboards (`status`, `workers`, `tasks`, ...), proxied by
   * dask-labextension through the Jupyter server.
   */
  dashboardUrl(cluster: DaskRunning, page: string): string {
    return URLExt.join(
      this._settings.baseUrl,
      'dask/dashboard',
      cluster.id,
      page
    );
  }

  private async _manager(
    clusterId: string,
    method: string,
    body?: unknown
  ): Promise<void> {
    if (!/^[\w-]+$/.test(clusterId)) {
      throw new Error(`not a Dask cluster id: ${clusterId}`);
    }
    const url = serverUrl(`dask/clusters/${clusterId}`, this._settings);
    try {
      await requestServer(
        url,
        { method, body: body === undefined ? undefined : JSON.stringify(body) },
        this._settings
      );
    } catch (error) {
      if (error instanceof ApiError) {
        throw new ApiError({
          status: error.status,
          error: 'dask-manager',
          detail: managerError(error.status, error.text),
          url,
          body: error.body,
          text: error.text
        });
      }
      throw error;
    }
  }

  private _settings: ServerConnection.ISettings;
}

/**
 * dask-labextension answers errors with tornado's HTML or JSON `{message}`: keep the sentence.
 */
export function managerError(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; reason?: unknown };
    if (typeof body.message === 'string' && body.message) {
      return body.message;
    }
  } catch {
    // not JSON: tornado's HTML page
  }
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  return title || `dask-labextension answered ${status}`;
}

/**
 * The start request for a preset, or the reason it cannot be sent: the workers must be a
 * whole number within the cluster's cap (the server checks it too).
 */
export function startRequest(
  cluster: DaskClusterOption,
  preset: DaskPreset,
  workers: string,
  trans: TranslationBundle
): { request: DaskStartRequest } | { error: string } {
  if (cluster.problem && cluster.presets.length === 0) {
    return { error: cluster.problem };
  }
  const request: DaskStartRequest = { cluster: cluster.id, preset: preset.id };
  const text = workers.trim();
  if (text !== '') {
    if (!/^\d+$/.test(text)) {
      return { error: trans.__('Workers must be a whole number.') };
    }
    const n = Number(text);
    if (n > cluster.max_workers) {
      return {
        error: trans.__(
          'At most %1 workers can be started on %2.',
          cluster.max_workers,
          cluster.title
        )
      };
    }
    request.workers = n;
  }
  return { request };
}

/**
 * One line about a preset's worker job: "2 × (4 cores, 16G, 1 GPU, 02:00:00) on gpu".
 */
export function presetSummary(
  preset: DaskPreset,
  trans: TranslationBundle
): string {
  const parts = [
    trans._n('%1 core', '%1 cores', preset.cores),
    preset.memory,
    ...(preset.gpus ? [trans._n('%1 GPU', '%1 GPUs', preset.gpus)] : []),
    preset.walltime
  ];
  const size = preset.adapt
    ? trans.__('%1 to %2 workers', preset.adapt.minimum, preset.adapt.maximum)
    : trans._n('%1 worker', '%1 workers', preset.workers);
  const where = preset.partition
    ? ' ' + trans.__('on %1', preset.partition)
    : '';
  return `${size} (${parts.join(', ')})${where}`;
}

/**
 * How many worker jobs are in each state, live ones first: "2 RUNNING, 1 PENDING".
 */
export function jobCounts(cluster: DaskRunning): [string, number][] {
  const counts = new Map<string, number>();
  for (const job of cluster.jobs) {
    counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
  }
  const order = ['RUNNING', 'PENDING', 'HELD', 'UNKNOWN'];
  return [...counts.entries()].sort(
    ([a], [b]) =>
      (order.indexOf(a) + 1 || order.length + 1) -
        (order.indexOf(b) + 1 || order.length + 1) || a.localeCompare(b)
  );
}

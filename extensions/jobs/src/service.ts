import {
  ApiError,
  type ClusterProblem,
  type IJobService,
  isAbortError,
  type JobCluster,
  type JobClustersResponse,
  type JobInfo,
  type JobListResponse,
  type JobNotificationsResponse,
  type JobNotificationsSeenResponse,
  type JobPreviewResponse,
  type JobSpec,
  type LogChunk,
  type PipelineRun,
  type PipelineRunsResponse,
  requestAPI,
  type ScheduleInfo,
  type ScheduleListResponse,
  type ScheduleRequest,
  type StartEstimateResponse
} from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import { type ISignal, Signal } from '@lumino/signaling';
import { jobKey, newlyEnded, serviceJob, sortJobs } from './job-view';

/**
 * The server refused a job (400): `problems` names each wrong field.
 */
export class JobRefusedError extends ApiError {
  constructor(options: ApiError.IOptions) {
    super(options);
    this.name = 'JobRefusedError';
  }
}

/**
 * The jobs of the configured clusters, as the Jobs REST API gives them.
 *
 * One list request at a time: a refresh cancels the one under way, and `abort()`
 * cancels it without sending another (the panel does so when it is hidden).
 */
export class JobService implements IJobService {
  constructor(options: JobService.IOptions = {}) {
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
  }

  /** The jobs as of the last refresh, in the server's order. */
  get infos(): readonly JobInfo[] {
    return this._infos;
  }

  get jobs(): readonly IJobService.IJob[] {
    return sortJobs(this._infos, 'newest').map(serviceJob);
  }

  /** Clusters whose jobs could not be listed at the last refresh. */
  get problems(): readonly ClusterProblem[] {
    return this._problems;
  }

  /** Why the last refresh failed, or `null`; the last good list is kept. */
  get error(): Error | null {
    return this._error;
  }

  /** Whether a list request is under way. */
  get loading(): boolean {
    return this._controller !== null;
  }

  /** Whether the list holds only the user's jobs. */
  get mine(): boolean {
    return this._mine;
  }
  set mine(value: boolean) {
    if (value !== this._mine) {
      this._mine = value;
      this._changed.emit();
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted once for each job submitted here whose end a refresh reveals. */
  get jobEnded(): ISignal<this, JobInfo> {
    return this._jobEnded;
  }

  /** Whether jobs submitted here are still to be seen finishing. */
  get watching(): boolean {
    return this._watched.size > 0;
  }

  /**
   * Ask for the jobs again. `fresh`: past the server's shared snapshot of the queue (a few
   * seconds old at most), as the Refresh button does; polling takes the snapshot.
   */
  async refresh(fresh = false): Promise<void> {
    this.abort();
    const controller = new AbortController();
    this._controller = controller;
    this._changed.emit();
    const query = new URLSearchParams({
      cluster: 'all',
      mine: String(this._mine),
      ...(fresh ? { fresh: 'true' } : {})
    });
    try {
      const answer = await requestAPI<JobListResponse>(
        `jobs?${query}`,
        { signal: controller.signal },
        this._serverSettings
      );
      this._update(answer.jobs, answer.problems ?? []);
      this._error = null;
    } catch (reason) {
      if (isAbortError(reason)) {
        return;
      }
      this._error = reason as Error;
      throw reason;
    } finally {
      if (this._controller === controller) {
        this._controller = null;
        this._changed.emit();
      }
    }
  }

  /** Cancel any list request under way. */
  abort(): void {
    if (this._controller) {
      this._controller.abort();
      this._controller = null;
      this._changed.emit();
    }
  }

  /** The configured clusters and their partitions. */
  async clusters(signal?: AbortSignal): Promise<JobCluster[]> {
    const answer = await requestAPI<JobClustersResponse>(
      'jobs/clusters',
      { signal },
      this._serverSettings
    );
    return answer.clusters;
  }

  /**
   * The batch script a spec would submit; nothing is submitted.
   *
   * @throws {@link JobRefusedError} when the spec is refused.
   */
  preview(
    cluster: string,
    spec: JobSpec,
    signal?: AbortSignal
  ): Promise<JobPreviewResponse> {
    return this._post<JobPreviewResponse>(
      'jobs/preview',
      { cluster, spec },
      signal
    );
  }

  /**
   * When the job would start if submitted now, and the partitions' load; nothing is
   * submitted.
   *
   * @throws {@link JobRefusedError} when the spec is refused.
   */
  estimate(
    cluster: string,
    spec: JobSpec,
    signal?: AbortSignal
  ): Promise<StartEstimateResponse> {
    return this._post<StartEstimateResponse>(
      'jobs/estimate',
      { cluster, spec },
      signal
    );
  }

  /**
   * Submit a job; it is then watched, and `jobEnded` is emitted when it ends.
   *
   * @throws {@link JobRefusedError} when the server refuses the spec.
   */
  async submitSpec(cluster: string, spec: JobSpec): Promise<JobInfo> {
    const job = await this._post<JobInfo>('jobs', { cluster, spec });
    const info = { ...job, cluster: job.cluster ?? cluster };
    this._watched.add(jobKey(info));
    this._update(
      [info, ...this._infos.filter(j => jobKey(j) !== jobKey(info))],
      this._problems
    );
    return info;
  }

  async submit(request: IJobService.ISubmitRequest): Promise<IJobService.IJob> {
    const r = request.resources;
    const spec: JobSpec = {
      kind: request.kind,
      path: request.path,
      cluster: request.clusterId,
      partition: r.queue,
      nodes: r.nodes,
      cpus: r.cores,
      memory: r.memory_mb === undefined ? undefined : `${r.memory_mb}M`,
      walltime:
        r.walltime_s === undefined
          ? undefined
          : String(Math.ceil(r.walltime_s / 60)),
      gpus: r.gpus
    };
    if (request.parameters) {
      if (request.kind === 'notebook') {
        spec.parameters = request.parameters;
      } else {
        spec.arguments = Object.values(request.parameters).map(String);
      }
    }
    return serviceJob(await this.submitSpec(request.clusterId, spec));
  }

  async cancel(clusterId: string, jobId: string): Promise<void> {
    await this.act('cancel', clusterId, jobId);
  }

  /** Cancel, hold or release a job. */
  async act(
    action: 'cancel' | 'hold' | 'release',
    clusterId: string,
    jobId: string
  ): Promise<void> {
    await requestAPI<unknown>(
      `jobs/${encodeURIComponent(clusterId)}/${encodeURIComponent(jobId)}/${action}`,
      { method: 'POST' },
      this._serverSettings
    );
  }

  /**
   * Submit a job recorded here again, with its recorded parameters; the new job.
   */
  async resubmit(clusterId: string, jobId: string): Promise<JobInfo> {
    const info = await requestAPI<JobInfo>(
      `jobs/${encodeURIComponent(clusterId)}/${encodeURIComponent(jobId)}/resubmit`,
      { method: 'POST' },
      this._serverSettings
    );
    this._watched.add(jobKey(info));
    return info;
  }

  /** One job's state as its scheduler gives it now. */
  status(
    clusterId: string,
    jobId: string,
    signal?: AbortSignal
  ): Promise<JobInfo> {
    return requestAPI<JobInfo>(
      `jobs/${encodeURIComponent(clusterId)}/${encodeURIComponent(jobId)}`,
      { signal },
      this._serverSettings
    );
  }

  /**
   * The ends of jobs submitted here (and of schedules' runs) not told yet, also those
   * that ended while no page was open; the server asks the clusters first.
   */
  async untoldEnds(): Promise<JobInfo[]> {
    const answer = await requestAPI<JobNotificationsResponse>(
      'jobs/notifications',
      {},
      this._serverSettings
    );
    return answer.jobs;
  }

  /** These ends were told: the server does not give them again. */
  async told(jobs: readonly JobInfo[]): Promise<number> {
    const answer = await requestAPI<JobNotificationsSeenResponse>(
      'jobs/notifications',
      {
        method: 'POST',
        body: JSON.stringify({
          jobs: jobs.map(job => ({ cluster: job.cluster ?? '', id: job.id }))
        })
      },
      this._serverSettings
    );
    return answer.told;
  }

  /** The schedules, each with its state as its scheduler holds it now. */
  async schedules(signal?: AbortSignal): Promise<ScheduleInfo[]> {
    const answer = await requestAPI<ScheduleListResponse>(
      'schedules',
      { signal },
      this._serverSettings
    );
    return answer.schedules;
  }

  /** One schedule with its runs. */
  schedule(id: string, signal?: AbortSignal): Promise<ScheduleInfo> {
    return requestAPI<ScheduleInfo>(
      `schedules/${encodeURIComponent(id)}`,
      { signal },
      this._serverSettings
    );
  }

  /**
   * A new schedule, or (with `id`) a schedule's new definition.
   *
   * @throws {@link JobRefusedError} when the server refuses it, with its problems.
   */
  async saveSchedule(
    request: ScheduleRequest,
    id?: string
  ): Promise<ScheduleInfo> {
    if (id === undefined) {
      return this._post<ScheduleInfo>('schedules', request);
    }
    try {
      return await requestAPI<ScheduleInfo>(
        `schedules/${encodeURIComponent(id)}`,
        { method: 'PUT', body: JSON.stringify(request) },
        this._serverSettings
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        throw new JobRefusedError(error);
      }
      throw error;
    }
  }

  /** Pause or resume a schedule; the schedule afterwards. */
  scheduleAction(
    id: string,
    action: 'pause' | 'resume'
  ): Promise<ScheduleInfo> {
    return requestAPI<ScheduleInfo>(
      `schedules/${encodeURIComponent(id)}/${action}`,
      { method: 'POST' },
      this._serverSettings
    );
  }

  /** Run a schedule's job at once; the new job, watched like a job submitted here. */
  async runScheduleNow(id: string): Promise<JobInfo> {
    const info = await requestAPI<JobInfo>(
      `schedules/${encodeURIComponent(id)}/run`,
      { method: 'POST' },
      this._serverSettings
    );
    this._watched.add(jobKey(info));
    return info;
  }

  /** Delete a schedule: its waiting job is cancelled; its runs stay in the job list. */
  async deleteSchedule(id: string): Promise<void> {
    await requestAPI<unknown>(
      `schedules/${encodeURIComponent(id)}`,
      { method: 'DELETE' },
      this._serverSettings
    );
  }

  /**
   * Run the pipeline file at `path`: every step is submitted, chained with the
   * scheduler's dependencies.
   *
   * @throws {@link JobRefusedError} when the file is refused, with its problems.
   */
  runPipeline(path: string, cluster?: string): Promise<PipelineRun> {
    return this._post<PipelineRun>('pipelines/runs', {
      path,
      ...(cluster ? { cluster } : {})
    });
  }

  /** The last pipeline runs, each step with its state. */
  async pipelineRuns(signal?: AbortSignal): Promise<PipelineRun[]> {
    const answer = await requestAPI<PipelineRunsResponse>(
      'pipelines/runs',
      { signal },
      this._serverSettings
    );
    return answer.runs;
  }

  /** A job's log from a byte offset. */
  logs(
    clusterId: string,
    jobId: string,
    stream: 'stdout' | 'stderr',
    offset: number,
    signal?: AbortSignal
  ): Promise<LogChunk> {
    const query = new URLSearchParams({ stream, offset: String(offset) });
    return requestAPI<LogChunk>(
      `jobs/${encodeURIComponent(clusterId)}/${encodeURIComponent(jobId)}/logs?${query}`,
      { signal },
      this._serverSettings
    );
  }

  private _update(jobs: JobInfo[], problems: ClusterProblem[]): void {
    for (const job of newlyEnded(this._infos, jobs, this._watched)) {
      this._watched.delete(jobKey(job));
      this._jobEnded.emit(job);
    }
    this._infos = jobs;
    this._problems = problems;
    this._changed.emit();
  }

  /** POST to the API; a refused job (400) is a `JobRefusedError` with its problems. */
  private async _post<T>(
    endpoint: string,
    body: unknown,
    signal?: AbortSignal
  ): Promise<T> {
    try {
      return await requestAPI<T>(
        endpoint,
        { method: 'POST', body: JSON.stringify(body), signal },
        this._serverSettings
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        throw new JobRefusedError(error);
      }
      throw error;
    }
  }

  private _serverSettings: ServerConnection.ISettings;
  private _infos: JobInfo[] = [];
  private _problems: ClusterProblem[] = [];
  private _error: Error | null = null;
  private _mine = true;
  private _controller: AbortController | null = null;
  private _watched = new Set<string>();
  private _changed = new Signal<this, void>(this);
  private _jobEnded = new Signal<this, JobInfo>(this);
}

export namespace JobService {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
  }
}

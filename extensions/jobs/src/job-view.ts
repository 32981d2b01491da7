import type { IJobService, JobInfo, JobState } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * The states a job can be in, in the order the state filter offers them.
 */
export const JOB_STATES: readonly JobState[] = [
  'PENDING',
  'HELD',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'UNKNOWN'
];

const FINISHED: ReadonlySet<JobState> = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT'
]);

/**
 * Whether the scheduler has said its last word on a job. UNKNOWN is not finished: it
 * is what a scheduler that did not answer gives.
 */
export function isFinished(state: JobState): boolean {
  return FINISHED.has(state);
}

/**
 * The key of a job across clusters: job ids are unique per cluster only.
 */
export function jobKey(job: Pick<JobInfo, 'id' | 'cluster'>): string {
  return `${job.cluster ?? ''}/${job.id}`;
}

/**
 * How a state badge looks: `tone` picks its colour (see style/base.css).
 */
export interface IStateBadge {
  label: string;
  tone: 'waiting' | 'active' | 'success' | 'failure' | 'neutral';
}

/**
 * The badge of a job state.
 */
export function stateBadge(
  state: JobState,
  trans: TranslationBundle
): IStateBadge {
  switch (state) {
    case 'PENDING':
      return { label: trans.__('Pending'), tone: 'waiting' };
    case 'HELD':
      return { label: trans.__('Held'), tone: 'waiting' };
    case 'RUNNING':
      return { label: trans.__('Running'), tone: 'active' };
    case 'COMPLETED':
      return { label: trans.__('Completed'), tone: 'success' };
    case 'FAILED':
      return { label: trans.__('Failed'), tone: 'failure' };
    case 'TIMEOUT':
      return { label: trans.__('Timed out'), tone: 'failure' };
    case 'CANCELLED':
      return { label: trans.__('Cancelled'), tone: 'neutral' };
    default:
      return { label: trans.__('Unknown'), tone: 'neutral' };
  }
}

/**
 * Seconds a job has run: from its start to its end, or to `now` while it runs;
 * `null` before it starts.
 */
export function elapsedSeconds(job: JobInfo, now: number): number | null {
  if (job.start_time === null || job.start_time === undefined) {
    return null;
  }
  const end =
    job.end_time ?? (isFinished(job.state) ? job.start_time : now / 1000);
  return Math.max(0, Math.floor(end - job.start_time));
}

/** Whether a job waits to start: pending, or held. */
export function isWaiting(state: JobState): boolean {
  return state === 'PENDING' || state === 'HELD';
}

/**
 * When a waiting job is expected to start (Slurm's estimate, squeue's START_TIME), in
 * seconds since the epoch; `null` for a job that is not waiting or has no estimate.
 */
export function expectedStart(job: JobInfo, now: number): number | null {
  const start = job.start_time;
  return isWaiting(job.state) &&
    start !== null &&
    start !== undefined &&
    start > now / 1000
    ? start
    : null;
}

/**
 * A duration as people read it in a table: `42s`, `3m 05s`, `2h 03m`, `1d 02h`.
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) {
    return '—';
  }
  const s = Math.floor(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  }
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}

/**
 * A time in seconds since the epoch as an ISO 8601 string, or `undefined`.
 */
export function isoTime(
  seconds: number | null | undefined
): string | undefined {
  return seconds === null || seconds === undefined
    ? undefined
    : new Date(seconds * 1000).toISOString();
}

/**
 * Which jobs the table shows.
 */
export interface IJobFilter {
  /** The states shown; empty shows every state. */
  states: readonly JobState[];
  /** Matched, case-insensitively, against the name, id, cluster and partition. */
  text: string;
}

/**
 * The jobs that pass the filter, in their given order.
 */
export function filterJobs(
  jobs: readonly JobInfo[],
  filter: IJobFilter
): JobInfo[] {
  const states = new Set(filter.states);
  const text = filter.text.trim().toLowerCase();
  return jobs.filter(
    job =>
      (states.size === 0 || states.has(job.state)) &&
      (!text ||
        [job.name, job.id, job.cluster, job.partition].some(value =>
          (value ?? '').toLowerCase().includes(text)
        ))
  );
}

export type SortOrder = 'newest' | 'oldest';

/**
 * The jobs by submit time; jobs without one (a scheduler that forgot it) go last,
 * and ties keep the job ids' order so that rows do not jump between refreshes.
 */
export function sortJobs(
  jobs: readonly JobInfo[],
  order: SortOrder
): JobInfo[] {
  const sign = order === 'newest' ? -1 : 1;
  return [...jobs].sort((a, b) => {
    const ta = a.submit_time ?? null;
    const tb = b.submit_time ?? null;
    if (ta !== tb) {
      if (ta === null) {
        return 1;
      }
      if (tb === null) {
        return -1;
      }
      return sign * (ta - tb);
    }
    return jobKey(a).localeCompare(jobKey(b), undefined, { numeric: true });
  });
}

/**
 * One row of the Jobs table.
 */
export interface IJobRow {
  key: string;
  id: string;
  cluster: string;
  name: string;
  state: JobState;
  badge: IStateBadge;
  partition: string;
  elapsed: string;
  /** The expected start of a waiting job as a date and time, for the cell's tooltip. */
  startsAt: string;
  /** What the scheduler says of a waiting or failed job, for the row's tooltip. */
  reason: string;
  /** The Dask cluster the job is a worker of (see `daskClusterOf`), or null. */
  dask: string | null;
}

/**
 * The Dask cluster a job is a worker of: the Dask panel's clusters name their worker jobs
 * `dask-<cluster name>` (dask-jobqueue's job name), so that they can be told apart here.
 */
export function daskClusterOf(jobName: string): string | null {
  const m = /^dask-([A-Za-z0-9_-]+)$/.exec(jobName);
  return m ? m[1] : null;
}

/**
 * The table's rows for the jobs as given (filter and sort first).
 */
export function jobRows(
  jobs: readonly JobInfo[],
  now: number,
  trans: TranslationBundle
): IJobRow[] {
  return jobs.map(job => {
    const start = expectedStart(job, now);
    return {
      key: jobKey(job),
      id: job.id,
      cluster: job.cluster ?? '',
      name: job.name,
      state: job.state,
      badge: stateBadge(job.state, trans),
      partition: job.partition ?? '',
      // A waiting job has run for no time, whatever start the scheduler last guessed.
      elapsed:
        start !== null
          ? trans.__('starts in %1', formatDuration(start - now / 1000))
          : isWaiting(job.state)
            ? formatDuration(null)
            : formatDuration(elapsedSeconds(job, now)),
      startsAt:
        start === null
          ? ''
          : trans.__(
              'Expected start: %1',
              new Date(start * 1000).toLocaleString()
            ),
      reason: job.reason ?? '',
      dask: daskClusterOf(job.name)
    };
  });
}

/**
 * The jobs, among `watched`, that `current` shows finished while `previous` did not
 * (or did not show at all): those whose end is news.
 */
export function newlyEnded(
  previous: readonly JobInfo[],
  current: readonly JobInfo[],
  watched: ReadonlySet<string>
): JobInfo[] {
  const before = new Map(previous.map(job => [jobKey(job), job.state]));
  return current.filter(job => {
    const key = jobKey(job);
    const was = before.get(key);
    return (
      watched.has(key) &&
      isFinished(job.state) &&
      (was === undefined || !isFinished(was))
    );
  });
}

const SERVICE_STATE: Record<JobState, IJobService.State> = {
  PENDING: 'pending',
  HELD: 'held',
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  TIMEOUT: 'failed',
  CANCELLED: 'cancelled',
  UNKNOWN: 'unknown'
};

/**
 * A job as the `IJobService` token describes it.
 */
function waiting(state: JobState): boolean {
  return state === 'PENDING' || state === 'HELD';
}

export function serviceJob(job: JobInfo): IJobService.IJob {
  return {
    clusterId: job.cluster ?? '',
    jobId: job.id,
    name: job.name,
    state: SERVICE_STATE[job.state],
    submitted: isoTime(job.submit_time),
    // A waiting job's start_time is the scheduler's expectation, not a start.
    started: waiting(job.state) ? undefined : isoTime(job.start_time),
    ended: isoTime(job.end_time)
  };
}

/**
 * Which of the selected jobs an action applies to: cancel what has not finished,
 * hold what waits, release what is held.
 */
export function actionable(
  action: 'cancel' | 'hold' | 'release',
  jobs: readonly JobInfo[]
): JobInfo[] {
  switch (action) {
    case 'cancel':
      return jobs.filter(job => !isFinished(job.state));
    case 'hold':
      return jobs.filter(job => job.state === 'PENDING');
    case 'release':
      return jobs.filter(job => job.state === 'HELD');
  }
}

/**
 * A server path as JupyterLab's contents API names it: relative to the server's root
 * (`PageConfig`'s `serverRoot`), or null when it lies outside the root.
 */
export function contentsPath(path: string, serverRoot: string): string | null {
  const root = serverRoot.replace(/\/+$/, '');
  if (!path.startsWith('/')) {
    return path.replace(/^\.\//, '');
  }
  if (root && path.startsWith(root + '/')) {
    return path.slice(root.length + 1);
  }
  return null;
}

/**
 * The rows of a long table to render for a scroll position: those in view and `overscan`
 * more on each side; the others are stood in for by two spacer rows of their height.
 */
export function windowRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 10
): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(viewportHeight, rowHeight) / rowHeight);
  const start = Math.max(0, Math.min(first - overscan, total));
  const end = Math.min(total, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

import {
  ApiError,
  type JobInfo,
  type JobState,
  VisiblePoll
} from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, refreshIcon, UseSignal } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';
import {
  JobColumnGroup,
  JobColumnHeaders,
  laidOutWidths,
  tableStyle,
  useColumnWidths
} from './column-headers';
import { type ColumnWidths, ColumnWidthsModel, isSized } from './columns';
import { jobsIcon } from './icons';
import {
  actionable,
  filterJobs,
  formatDuration,
  JOB_STATES,
  jobKey,
  jobRows,
  type SortOrder,
  sortJobs,
  stateBadge,
  windowRange
} from './job-view';
import { LogTail } from './log-viewer';
import { PipelinesSection } from './pipeline-graph';
import { SchedulesSection } from './schedules-view';
import type { JobService } from './service';

/**
 * The id of the Jobs panel's node (and of the widget in the shell).
 */
export const JOBS_PANEL_ID = 'espri-vre-jobs-panel';

/**
 * The Jobs panel: a live table of the jobs on the configured clusters, with their
 * details and log.
 *
 * The list is asked for again every `refreshSeconds` while the panel is visible; when
 * it is hidden the request under way is cancelled and polling stops.
 */
export class JobsPanel extends ReactWidget {
  constructor(options: JobsPanel.IOptions) {
    super();
    this._service = options.service;
    this._trans = options.trans;
    this._onSubmit = options.onSubmit;
    this._onOpen = options.onOpen;
    this._columns = options.columns ?? new ColumnWidthsModel();
    this.id = JOBS_PANEL_ID;
    this.addClass('jp-EspriVre-jobsPanel');
    this.title.icon = jobsIcon;
    this.title.caption = this._trans.__('Jobs');
  }

  /** Seconds between two refreshes while visible; 0 refreshes only on demand. */
  get refreshSeconds(): number {
    return this._poll.seconds;
  }
  set refreshSeconds(seconds: number) {
    this._poll.seconds = seconds;
  }

  /** Shows a job's details and log, asking for the list again first. */
  showJob(job: JobInfo): void {
    this._focus = { key: jobKey(job) };
    this.update();
    this._service.refresh(true).catch(() => undefined);
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
      <JobsPanelComponent
        service={this._service}
        trans={this._trans}
        onSubmit={this._onSubmit}
        onOpen={this._onOpen}
        focus={this._focus}
        columns={this._columns}
      />
    );
  }

  private _service: JobService;
  private _trans: TranslationBundle;
  private _onSubmit: (() => void) | undefined;
  private _onOpen: ((path: string) => void) | undefined;
  private _columns: ColumnWidthsModel;
  private _focus: IFocus | null = null;
  private _poll = new VisiblePoll({
    widget: this,
    seconds: 5,
    // A failure is shown by the panel from the service's `error`.
    tick: reason =>
      reason === 'show' || !this._service.loading
        ? this._service.refresh().catch(() => undefined)
        : undefined,
    onHide: () => this._service.abort()
  });
}

export namespace JobsPanel {
  export interface IOptions {
    service: JobService;
    trans: TranslationBundle;
    /** Opens the submission form; the panel shows a Submit button when given. */
    onSubmit?: () => void;
    /** Opens a file (a notebook job's output notebook) in JupyterLab. */
    onOpen?: (path: string) => void;
    /**
     * The table's column widths, shared by the views of one kind and kept in the
     * settings; without it a drag resizes this view only, until it is closed.
     */
    columns?: ColumnWidthsModel;
  }
}

type Action = 'cancel' | 'hold' | 'release';

/**
 * A job whose details were asked for from outside (a notification's button); each
 * request is a new object, so that the same job asked for again opens again.
 */
interface IFocus {
  key: string;
}

/**
 * The height of one job row in pixels (the stylesheet holds rows to it): the table renders
 * only the rows in view, so that a queue of ten thousand jobs scrolls as one of ten.
 */
export const ROW_HEIGHT = 40;

/**
 * The panel's content, re-rendered whenever the service changes.
 */
export function JobsPanelComponent(props: {
  service: JobService;
  trans: TranslationBundle;
  onSubmit?: () => void;
  onOpen?: (path: string) => void;
  focus?: IFocus | null;
  columns?: ColumnWidthsModel;
}): React.ReactElement {
  const { service } = props;
  return (
    <UseSignal signal={service.changed}>
      {() => <JobsView {...props} />}
    </UseSignal>
  );
}

function JobsView(props: {
  service: JobService;
  trans: TranslationBundle;
  onSubmit?: () => void;
  onOpen?: (path: string) => void;
  focus?: IFocus | null;
  columns?: ColumnWidthsModel;
}): React.ReactElement {
  const { service, trans, onSubmit } = props;
  const [ownColumns] = React.useState(() => new ColumnWidthsModel());
  const columns = props.columns ?? ownColumns;
  const widths = useColumnWidths(columns);
  const [held, setHeld] = React.useState<ColumnWidths | null>(null);
  const laidOut = laidOutWidths(widths, held);
  const [order, setOrder] = React.useState<SortOrder>('newest');
  const [state, setState] = React.useState<JobState | ''>('');
  const [selected, setSelected] = React.useState<ReadonlySet<string>>(
    () => new Set()
  );
  const [detailsKey, setDetailsKey] = React.useState<string | null>(null);
  const [message, setMessage] = React.useState('');
  const focus = props.focus;
  React.useEffect(() => {
    if (focus) {
      setDetailsKey(focus.key);
    }
  }, [focus]);

  /** The Refresh button, actions and filters: past the server's shared snapshot. */
  const refresh = (): void => {
    service.refresh(true).catch(() => undefined);
  };
  const shown = sortJobs(
    filterJobs(service.infos, { states: state ? [state] : [], text: '' }),
    order
  );
  const scroller = React.useRef<HTMLDivElement>(null);
  const [view, setView] = React.useState({ top: 0, height: 600 });
  const { start, end } = windowRange(
    view.top,
    view.height,
    ROW_HEIGHT,
    shown.length
  );
  const rows = jobRows(shown.slice(start, end), Date.now(), trans);
  const onScroll = (): void => {
    const node = scroller.current;
    if (node) {
      setView({ top: node.scrollTop, height: node.clientHeight || 600 });
    }
  };
  const byKey = new Map(service.infos.map(job => [jobKey(job), job]));
  const selectedJobs = [...selected]
    .map(key => byKey.get(key))
    .filter((job): job is JobInfo => job !== undefined);
  const details = detailsKey ? byKey.get(detailsKey) : undefined;
  const allSelected =
    shown.length > 0 && shown.every(job => selected.has(jobKey(job)));

  const toggle = (key: string): void => {
    const next = new Set(selected);
    if (next.has(key)) {
      next.delete(key);
    } else {
      next.add(key);
    }
    setSelected(next);
  };

  const act = async (action: Action): Promise<void> => {
    const targets = actionable(action, selectedJobs);
    const failures: string[] = [];
    for (const job of targets) {
      try {
        await service.act(action, job.cluster ?? '', job.id);
      } catch (reason) {
        failures.push(
          `${job.id}: ${reason instanceof Error ? reason.message : String(reason)}`
        );
      }
    }
    setMessage(
      failures.length
        ? trans.__('Some jobs could not be changed: %1', failures.join('; '))
        : ''
    );
    refresh();
  };

  const actionLabels: Record<Action, string> = {
    cancel: trans.__('Cancel'),
    hold: trans.__('Hold'),
    release: trans.__('Release')
  };

  return (
    <div className="jp-EspriVre-jobsContent" aria-busy={service.loading}>
      <div className="jp-EspriVre-header">
        <h2 className="jp-EspriVre-heading">{trans.__('Jobs')}</h2>
        <div className="jp-EspriVre-headerButtons">
          {onSubmit && (
            <button
              type="button"
              className="jp-EspriVre-submitJob jp-mod-styled jp-mod-accept"
              onClick={onSubmit}
            >
              {trans.__('Submit…')}
            </button>
          )}
          <button
            type="button"
            className="jp-EspriVre-refresh jp-Button jp-mod-minimal"
            title={trans.__('Ask the clusters for the jobs again')}
            aria-label={trans.__('Refresh')}
            onClick={refresh}
          >
            <refreshIcon.react
              tag="span"
              className={service.loading ? 'jp-EspriVre-spinning' : undefined}
            />
          </button>
        </div>
      </div>
      <div className="jp-EspriVre-jobsFilters">
        <label>
          {trans.__('Show')}{' '}
          <select
            className="jp-EspriVre-jobsMine"
            value={service.mine ? 'mine' : 'all'}
            onChange={event => {
              service.mine = event.target.value === 'mine';
              refresh();
            }}
          >
            <option value="mine">{trans.__('My jobs')}</option>
            <option value="all">{trans.__('All users’ jobs')}</option>
          </select>
        </label>
        <label>
          {trans.__('State')}{' '}
          <select
            className="jp-EspriVre-jobsState"
            value={state}
            onChange={event => setState(event.target.value as JobState | '')}
          >
            <option value="">{trans.__('Any')}</option>
            {JOB_STATES.map(s => (
              <option key={s} value={s}>
                {stateBadge(s, trans).label}
              </option>
            ))}
          </select>
        </label>
        <label>
          {trans.__('Sort')}{' '}
          <select
            className="jp-EspriVre-jobsSort"
            value={order}
            onChange={event => setOrder(event.target.value as SortOrder)}
          >
            <option value="newest">{trans.__('Newest first')}</option>
            <option value="oldest">{trans.__('Oldest first')}</option>
          </select>
        </label>
      </div>
      <div className="jp-EspriVre-jobsActions">
        {(['cancel', 'hold', 'release'] as const).map(action => {
          const count = actionable(action, selectedJobs).length;
          return (
            <button
              key={action}
              type="button"
              className={`jp-EspriVre-jobAction jp-mod-styled${
                action === 'cancel' ? ' jp-mod-warn' : ''
              }`}
              data-action={action}
              disabled={count === 0}
              onClick={() => void act(action)}
            >
              {count
                ? `${actionLabels[action]} (${count})`
                : actionLabels[action]}
            </button>
          );
        })}
      </div>
      {service.error && (
        <div role="alert" className="jp-EspriVre-error">
          <p className="jp-EspriVre-errorTitle">
            {trans.__('The jobs could not be listed.')}
          </p>
          <p className="jp-EspriVre-errorDetail">{service.error.message}</p>
        </div>
      )}
      {service.problems.map(problem => (
        <p
          key={problem.cluster}
          className="jp-EspriVre-jobsProblem"
          data-cluster={problem.cluster}
        >
          {trans.__('%1: %2', problem.cluster, problem.detail)}
        </p>
      ))}
      <div role="status" className="jp-EspriVre-progress">
        {message}
      </div>
      {rows.length ? (
        <div
          className="jp-EspriVre-jobsTableWrap"
          ref={scroller}
          onScroll={onScroll}
          data-rows={shown.length}
        >
          <table
            className="jp-EspriVre-jobsTable"
            data-sized={isSized(widths)}
            data-held={laidOut !== widths}
            style={tableStyle(laidOut)}
          >
            <JobColumnGroup widths={laidOut} />
            <JobColumnHeaders
              model={columns}
              trans={trans}
              onHold={setHeld}
              labels={{
                name: trans.__('Name'),
                state: trans.__('State'),
                partition: trans.__('Partition'),
                elapsed: trans.__('Elapsed or start')
              }}
              onSaveError={reason =>
                setMessage(
                  trans.__(
                    'The column widths could not be saved: %1',
                    reason instanceof Error ? reason.message : String(reason)
                  )
                )
              }
              selectAll={
                <input
                  type="checkbox"
                  aria-label={trans.__('Select every job shown')}
                  checked={allSelected}
                  onChange={() =>
                    setSelected(
                      allSelected ? new Set() : new Set(shown.map(jobKey))
                    )
                  }
                />
              }
            />
            <tbody>
              {start > 0 && (
                <tr
                  aria-hidden="true"
                  className="jp-EspriVre-jobSpacer"
                  style={{ height: start * ROW_HEIGHT }}
                />
              )}
              {rows.map(row => (
                <tr
                  key={row.key}
                  className="jp-EspriVre-jobRow"
                  data-job-id={row.id}
                  data-cluster={row.cluster}
                  data-state={row.state}
                  aria-selected={row.key === detailsKey}
                  tabIndex={0}
                  title={row.reason || undefined}
                  onClick={() => setDetailsKey(row.key)}
                  onKeyDown={event => {
                    if (event.target !== event.currentTarget) {
                      return;
                    }
                    if (event.key === 'Enter') {
                      setDetailsKey(row.key);
                    } else if (event.key === ' ') {
                      event.preventDefault();
                      toggle(row.key);
                    }
                  }}
                >
                  <td onClick={event => event.stopPropagation()}>
                    <input
                      type="checkbox"
                      aria-label={trans.__('Select job %1', row.id)}
                      checked={selected.has(row.key)}
                      onChange={() => toggle(row.key)}
                    />
                  </td>
                  <td className="jp-EspriVre-jobNameCell">
                    <span className="jp-EspriVre-jobName" title={row.name}>
                      {row.name}
                    </span>{' '}
                    <span className="jp-EspriVre-jobCluster">
                      {row.cluster}
                      {row.dask && (
                        <>
                          {' '}
                          <span
                            className="jp-EspriVre-daskTag"
                            title={trans.__(
                              'A worker of the Dask cluster %1',
                              row.dask
                            )}
                          >
                            {trans.__('Dask')}
                          </span>
                        </>
                      )}
                    </span>
                  </td>
                  <td>
                    <span
                      className="jp-EspriVre-stateBadge"
                      data-tone={row.badge.tone}
                    >
                      {row.badge.label}
                    </span>
                  </td>
                  <td className="jp-EspriVre-jobPartition">{row.partition}</td>
                  <td
                    className="jp-EspriVre-jobElapsed"
                    title={row.startsAt || undefined}
                  >
                    {row.elapsed}
                  </td>
                </tr>
              ))}
              {end < shown.length && (
                <tr
                  aria-hidden="true"
                  className="jp-EspriVre-jobSpacer"
                  style={{ height: (shown.length - end) * ROW_HEIGHT }}
                />
              )}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="jp-EspriVre-empty">
          {service.loading && !service.infos.length
            ? trans.__('Asking the clusters for the jobs…')
            : trans.__('No jobs to show.')}
        </p>
      )}
      <SchedulesSection
        service={service}
        trans={trans}
        onShowJob={setDetailsKey}
      />
      <PipelinesSection
        service={service}
        trans={trans}
        onShowJob={setDetailsKey}
      />
      {details && (
        <JobDetails
          key={jobKey(details)}
          job={details}
          service={service}
          trans={trans}
          onClose={() => setDetailsKey(null)}
          onOpen={props.onOpen}
          onResubmitted={job => setDetailsKey(jobKey(job))}
        />
      )}
    </div>
  );
}

function time(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined
    ? ''
    : new Date(seconds * 1000).toLocaleString();
}

/**
 * One job's details and log tail.
 */
export function JobDetails(props: {
  job: JobInfo;
  service: JobService;
  trans: TranslationBundle;
  onClose: () => void;
  onOpen?: (path: string) => void;
  onResubmitted?: (job: JobInfo) => void;
}): React.ReactElement {
  const { job, service, trans, onClose, onOpen } = props;
  const [actionNote, setActionNote] = React.useState('');
  const resubmit = async (): Promise<void> => {
    setActionNote(trans.__('Submitting again…'));
    try {
      const again = await service.resubmit(job.cluster ?? '', job.id);
      setActionNote(trans.__('Submitted again as job %1.', again.id));
      await service.refresh(true);
      props.onResubmitted?.(again);
    } catch (reason) {
      setActionNote(
        reason instanceof ApiError
          ? reason.detail
          : trans.__('The job could not be submitted again: %1', String(reason))
      );
    }
  };
  const [stream, setStream] = React.useState<'stdout' | 'stderr'>('stdout');
  const items: [string, string][] = [
    [trans.__('Job id'), job.id],
    [trans.__('Cluster'), job.cluster ?? ''],
    [
      trans.__('State'),
      `${stateBadge(job.state, trans).label} (${job.raw_state})`
    ],
    [trans.__('Reason'), job.reason ?? ''],
    [trans.__('User'), job.user ?? ''],
    [trans.__('Partition'), job.partition ?? ''],
    [trans.__('Nodes'), job.nodes ?? ''],
    [trans.__('Node count'), job.node_count?.toString() ?? ''],
    [trans.__('Cores'), job.cpus?.toString() ?? ''],
    [trans.__('Memory'), job.memory ?? ''],
    [
      trans.__('GPUs'),
      job.gpus ? `${job.gpus}${job.gres ? ` (${job.gres})` : ''}` : ''
    ],
    [trans.__('Submitted'), time(job.submit_time)],
    job.state === 'PENDING' || job.state === 'HELD'
      ? [trans.__('Expected start'), time(job.start_time)]
      : [trans.__('Started'), time(job.start_time)],
    [trans.__('Ended'), time(job.end_time)],
    [
      trans.__('Time limit'),
      job.time_limit ? formatDuration(job.time_limit) : ''
    ],
    [trans.__('Exit code'), job.exit_code?.toString() ?? ''],
    [trans.__('Signal'), job.signal?.toString() ?? ''],
    [trans.__('Dependency'), job.dependency ?? ''],
    [trans.__('Working directory'), job.working_dir ?? ''],
    [trans.__('Output notebook'), job.output_notebook ?? '']
  ];
  const headingId = `espri-vre-job-details-${job.cluster}-${job.id}`;
  const node = React.useRef<HTMLElement>(null);
  React.useEffect(() => {
    // Below a long table the details would open out of sight.
    node.current?.scrollIntoView?.({ block: 'nearest' });
  }, []);
  return (
    <section
      ref={node}
      className="jp-EspriVre-jobDetails"
      data-job-id={job.id}
      data-cluster={job.cluster ?? ''}
      aria-labelledby={headingId}
    >
      <div className="jp-EspriVre-jobDetailsHeader">
        <h3 id={headingId} className="jp-EspriVre-sectionHeading">
          {job.name}
        </h3>
        <button
          type="button"
          className="jp-EspriVre-jobDetailsClose jp-mod-styled"
          onClick={onClose}
        >
          {trans.__('Close')}
        </button>
      </div>
      <div className="jp-EspriVre-jobActions">
        {job.output_notebook && onOpen && (
          <button
            type="button"
            className="jp-mod-styled jp-EspriVre-openOutput"
            disabled={job.state !== 'COMPLETED' && job.state !== 'FAILED'}
            onClick={() => onOpen(job.output_notebook ?? '')}
          >
            {trans.__('Open output notebook')}
          </button>
        )}
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-resubmit"
          onClick={() => void resubmit()}
        >
          {trans.__('Resubmit')}
        </button>
        {actionNote && (
          <span className="jp-EspriVre-jobActionNote" role="status">
            {actionNote}
          </span>
        )}
      </div>
      <dl className="jp-EspriVre-jobFields">
        {items
          .filter(([, value]) => value !== '')
          .map(([label, value]) => (
            <React.Fragment key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </React.Fragment>
          ))}
      </dl>
      <div
        className="jp-EspriVre-logStreams"
        role="group"
        aria-label={trans.__('Log stream')}
      >
        {(['stdout', 'stderr'] as const).map(s => (
          <button
            key={s}
            type="button"
            className="jp-EspriVre-logStream jp-mod-styled"
            data-stream={s}
            aria-pressed={s === stream}
            onClick={() => setStream(s)}
          >
            {s}
          </button>
        ))}
      </div>
      <LogTail
        key={stream}
        job={job}
        stream={stream}
        service={service}
        trans={trans}
      />
    </section>
  );
}

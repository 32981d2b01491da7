import type { JobInfo } from '@espri-vre/core';
import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { isFinished } from './job-view';
import type { JobService } from './service';

/**
 * Tells, in JupyterLab's notification centre, the end of each job submitted here and
 * of each run of a schedule: also the ends that happened while no page was open,
 * since the server keeps which ends were told (`jobs/notifications`). An end shown
 * in one page is not shown again, in this page or another.
 */
export class JobNotifier {
  constructor(options: JobNotifier.IOptions) {
    this._service = options.service;
    this._trans = options.trans;
    this._onShowLog = options.onShowLog;
    this._onOpen = options.onOpen;
  }

  /** Whether ends are told; when off, they stay untold on the server. */
  enabled = true;

  /**
   * Ask the server for the ends not told yet, show each, and tell the server they
   * were shown. One check at a time: a call while one runs waits for it.
   */
  check(): Promise<number> {
    if (!this._running) {
      this._running = this._check().finally(() => {
        this._running = null;
      });
    }
    return this._running;
  }

  /** Checks now, then every `seconds` until `stop()`. */
  start(seconds: number): void {
    this.stop();
    const tick = (): void => {
      this.check().catch(reason =>
        console.warn('espri-vre: the ended jobs could not be read', reason)
      );
    };
    tick();
    this._timer = window.setInterval(tick, seconds * 1000);
  }

  stop(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
  }

  private async _check(): Promise<number> {
    if (!this.enabled) {
      return 0;
    }
    const ended = await this._service.untoldEnds();
    if (!ended.length) {
      return 0;
    }
    // Oldest first, so that the newest toast is on top.
    for (const job of [...ended].reverse()) {
      notifyEnded(job, this._trans, {
        showLog: () => this._onShowLog(job),
        open: this._onOpen
      });
    }
    await this._service.told(ended);
    return ended.length;
  }

  private _service: JobService;
  private _trans: TranslationBundle;
  private _onShowLog: (job: JobInfo) => void;
  private _onOpen: ((path: string) => void) | undefined;
  private _running: Promise<number> | null = null;
  private _timer: number | null = null;
}

export namespace JobNotifier {
  export interface IOptions {
    service: JobService;
    trans: TranslationBundle;
    /** Shows the job's details and log (the Jobs panel). */
    onShowLog: (job: JobInfo) => void;
    /** Opens a notebook job's output notebook. */
    onOpen?: (path: string) => void;
  }
}

/**
 * One notification for a job that ended, with buttons to its log and, for a notebook
 * job that ran, to its output notebook.
 */
export function notifyEnded(
  job: JobInfo,
  trans: TranslationBundle,
  handlers: { showLog: () => void; open?: (path: string) => void }
): string | null {
  if (!isFinished(job.state)) {
    return null;
  }
  const actions = [{ label: trans.__('Open log'), callback: handlers.showLog }];
  const output = job.output_notebook;
  const open = handlers.open;
  if (output && open && (job.state === 'COMPLETED' || job.state === 'FAILED')) {
    actions.push({
      label: trans.__('Open output'),
      callback: () => open(output)
    });
  }
  const where = job.cluster ? ` (${job.cluster})` : '';
  if (job.state === 'COMPLETED') {
    return Notification.success(
      trans.__('Job %1%2 completed.', job.name, where),
      { autoClose: 10000, actions }
    );
  }
  if (job.state === 'CANCELLED') {
    return Notification.info(
      trans.__('Job %1%2 was cancelled.', job.name, where),
      { autoClose: 10000, actions }
    );
  }
  return Notification.error(
    job.state === 'TIMEOUT'
      ? trans.__('Job %1%2 ran out of time.', job.name, where)
      : job.exit_code !== null && job.exit_code !== undefined
        ? trans.__(
            'Job %1%2 failed with exit code %3.',
            job.name,
            where,
            job.exit_code
          )
        : trans.__('Job %1%2 ended: %3.', job.name, where, job.state),
    { autoClose: false, actions }
  );
}

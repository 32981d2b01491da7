import type {
  CrateSummary,
  ProvenanceRun,
  ReplayJob,
  ReplayReport
} from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import { InputDialog, showErrorMessage } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import { ReadWriteGraph } from './graph';
import { provenanceIcon } from './icons';
import { ReportView } from './report';
import { CrateValidation } from './validation';
import {
  buildGraph,
  buildTimeline,
  declaredVariation,
  declareTolerance,
  declareVaries,
  environmentSummary,
  type IMetadataHolder,
  replayProgress,
  type IExecution,
  type IRunEvents,
  type ProvenanceService
} from './model';

/**
 * What a provenance panel shows: a notebook's recorded runs (timeline and graph), a crate
 * (for a reviewer: what it holds, and its replay), or a replay report.
 */
export type ProvenanceView =
  | { kind: 'timeline'; notebook: string; run?: string | null }
  | { kind: 'crate'; path: string }
  | { kind: 'report'; path: string };

/**
 * A main-area panel of the provenance extension.
 */
export class ProvenancePanel extends ReactWidget {
  constructor(options: ProvenancePanel.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-EspriVre-provenancePanel');
    const { view, trans } = options;
    const name = (p: string): string => p.split('/').pop() ?? p;
    this.title.icon = provenanceIcon;
    this.title.closable = true;
    this.title.label =
      view.kind === 'timeline'
        ? trans.__('Provenance: %1', name(view.notebook))
        : view.kind === 'crate'
          ? trans.__('Crate: %1', name(view.path))
          : trans.__('Replay report: %1', name(view.path));
  }

  protected render(): React.ReactElement {
    const { view } = this._options;
    switch (view.kind) {
      case 'timeline':
        return <TimelineView {...this._options} view={view} />;
      case 'crate':
        return <CrateView {...this._options} path={view.path} />;
      case 'report':
        return <ReportLoader {...this._options} path={view.path} />;
    }
  }

  private _options: ProvenancePanel.IOptions;
}

export namespace ProvenancePanel {
  export interface IOptions {
    view: ProvenanceView;
    service: ProvenanceService;
    trans: TranslationBundle;
    /** Opens a file of the server in JupyterLab (the exported crate's folder, a notebook). */
    openPath: (path: string) => void;
    /** Opens another provenance view (a crate after its export, a report). */
    openView: (view: ProvenanceView) => void;
    /** The id of the kernel of an open notebook (its runs under an older name too). */
    kernelId?: (notebook: string) => string | null;
    /** The hash the notebook's metadata keeps for this run, if any. */
    keptHash?: (notebook: string, run: string) => string | null;
    /**
     * The cell of an open notebook that an execution ran (by its id; a batch run records
     * none, then by its source), where its replay declaration is kept.
     */
    cellOf?: (
      notebook: string,
      execution: Pick<IExecution, 'cellId' | 'source'>
    ) => IMetadataHolder | null;
  }
}

type Props = ProvenancePanel.IOptions;

function message(error: unknown): string {
  return error instanceof Error
    ? ((error as { detail?: string }).detail ?? error.message)
    : String(error);
}

/**
 * A failure: what failed, why, and a retry.
 */
function Failure(props: {
  what: string;
  error: unknown;
  retry?: () => void;
  trans: TranslationBundle;
}): React.ReactElement {
  return (
    <div className="jp-EspriVre-provError" role="alert">
      <strong>{props.what}</strong> {message(props.error)}
      {props.retry && (
        <button type="button" className="jp-mod-styled" onClick={props.retry}>
          {props.trans.__('Retry')}
        </button>
      )}
    </div>
  );
}

function TimelineView(
  props: Props & { view: { notebook: string; run?: string | null } }
): React.ReactElement {
  const { service, trans, view, keptHash, kernelId } = props;
  const [runs, setRuns] = React.useState<ProvenanceRun[] | null>(null);
  const [selected, setSelected] = React.useState<string | null>(
    view.run ?? null
  );
  const [events, setEvents] = React.useState<IRunEvents | null>(null);
  const [error, setError] = React.useState<{
    what: string;
    error: unknown;
  } | null>(null);
  const [busy, setBusy] = React.useState<string | null>(null);
  const [tab, setTab] = React.useState<'timeline' | 'graph' | 'environment'>(
    'timeline'
  );
  const [attempt, setAttempt] = React.useState(0);
  const retry = (): void => setAttempt(a => a + 1);

  React.useEffect(() => {
    const controller = new AbortController();
    setError(null);
    service
      .runs(view.notebook, kernelId?.(view.notebook), controller.signal)
      .then(answer => {
        setRuns(answer.runs);
        setSelected(current =>
          current && answer.runs.some(r => r.run === current)
            ? current
            : (answer.runs[0]?.run ?? null)
        );
      })
      .catch(e => {
        if (!controller.signal.aborted) {
          setError({
            what: trans.__('The recorded runs could not be listed.'),
            error: e
          });
        }
      });
    return () => controller.abort();
  }, [service, trans, kernelId, view.notebook, attempt]);

  React.useEffect(() => {
    if (!selected) {
      setEvents(null);
      return;
    }
    const controller = new AbortController();
    const kept = keptHash?.(view.notebook, selected) ?? null;
    service
      .events(view.notebook, selected, kept, controller.signal)
      .then(setEvents)
      .catch(e => {
        if (!controller.signal.aborted) {
          setError({
            what: trans.__('The run %1 could not be read.', selected),
            error: e
          });
        }
      });
    return () => controller.abort();
  }, [service, trans, keptHash, view.notebook, selected, attempt]);

  const timeline = React.useMemo(
    () => (events ? buildTimeline(events.events) : null),
    [events]
  );
  const graph = React.useMemo(
    () => (timeline ? buildGraph(timeline) : null),
    [timeline]
  );

  const exportCrate = async (): Promise<void> => {
    setBusy(trans.__('Exporting the RO-Crate…'));
    try {
      const done = await service.exportCrate(
        view.notebook,
        selected ?? undefined
      );
      props.openView({ kind: 'crate', path: done.crate });
    } catch (e) {
      setError({
        what: trans.__('The crate could not be exported.'),
        error: e
      });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="jp-EspriVre-provBody">
      <div className="jp-EspriVre-provToolbar">
        <label>
          {trans.__('Run')}{' '}
          <select
            className="jp-EspriVre-provRunPicker"
            value={selected ?? ''}
            onChange={e => setSelected(e.target.value)}
          >
            {(runs ?? []).map(r => (
              <option key={r.run} value={r.run}>
                {`${r.run} (${r.state})`}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="jp-mod-styled" onClick={retry}>
          {trans.__('Refresh')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept jp-EspriVre-provExport"
          disabled={!selected || busy !== null}
          onClick={() => void exportCrate()}
        >
          {trans.__('Export RO-Crate')}
        </button>
        {busy && <span className="jp-EspriVre-provBusy">{busy}</span>}
      </div>
      {error && <Failure {...error} retry={retry} trans={trans} />}
      {runs !== null && runs.length === 0 && (
        <p className="jp-EspriVre-provEmpty">
          {trans.__(
            'Nothing was recorded for this notebook yet: run a cell in a kernel that records (%load_ext espri_vre).'
          )}
        </p>
      )}
      {events && <Verification events={events} trans={trans} />}
      {events && (
        // The log lies in a hidden folder beside the notebook (or in the kernels' fallback
        // folder): the file browser does not show it, so the panel says where it is.
        <p className="jp-EspriVre-provLogPath">
          {trans.__('Log:')} <code>{events.log}</code>
        </p>
      )}
      {timeline && (
        <>
          <div className="jp-EspriVre-provTabs" role="tablist">
            {(
              [
                ['timeline', trans.__('Timeline')],
                ['graph', trans.__('Reads and writes')],
                ['environment', trans.__('Environment')]
              ] as const
            ).map(([key, label]) => (
              <button
                key={key}
                type="button"
                role="tab"
                aria-selected={tab === key}
                className={tab === key ? 'jp-mod-active' : ''}
                onClick={() => setTab(key)}
              >
                {label}
              </button>
            ))}
          </div>
          {tab === 'timeline' && (
            <ol className="jp-EspriVre-provTimeline">
              {timeline.executions.map(e => (
                <ExecutionItem
                  key={e.order}
                  execution={e}
                  trans={trans}
                  cell={props.cellOf?.(view.notebook, e) ?? null}
                />
              ))}
            </ol>
          )}
          {tab === 'graph' && graph && (
            <div className="jp-EspriVre-provGraphBox">
              <ReadWriteGraph graph={graph} trans={trans} />
              {graph.flows.length > 0 && (
                <ul className="jp-EspriVre-provFlows">
                  {graph.flows.map(f => (
                    <li key={`${f.from}-${f.to}-${f.file}`}>
                      {trans.__(
                        '[%1] read what [%2] wrote: %3',
                        f.to,
                        f.from,
                        f.file
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          {tab === 'environment' && (
            <Environment session={timeline.session} trans={trans} />
          )}
        </>
      )}
    </div>
  );
}

function Verification(props: {
  events: IRunEvents;
  trans: TranslationBundle;
}): React.ReactElement {
  const { verification } = props.events;
  const { trans } = props;
  return (
    <div
      className={`jp-EspriVre-provVerification jp-mod-${verification.ok ? 'ok' : 'broken'}`}
    >
      {verification.ok
        ? trans.__(
            'Hash chain intact: %1 events, last hash %2.',
            verification.events,
            (verification.last_hash ?? '').slice(0, 16)
          )
        : trans.__('This log was edited or damaged:')}
      {!verification.ended &&
        ' ' +
          trans.__(
            'The run has not ended (still recording, or its kernel died).'
          )}
      {verification.torn_bytes > 0 &&
        ' ' +
          trans.__(
            'A torn last line (%1 bytes) will be set aside.',
            verification.torn_bytes
          )}
      {props.events.truncated &&
        ' ' + trans.__('Only the first 200,000 events are shown.')}
      {verification.problems.length > 0 && (
        <ul>
          {verification.problems.map(p => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * What the cell declares of its replay, and the button that declares (or withdraws) that it
 * varies: kept in the cell's metadata, which the replay reads (saved with the notebook).
 */
function Declaration(props: {
  cell: IMetadataHolder;
  trans: TranslationBundle;
}): React.ReactElement {
  const { cell, trans } = props;
  const [declared, setDeclared] = React.useState(() => declaredVariation(cell));
  const declare = async (): Promise<void> => {
    const answer = await InputDialog.getText({
      title: trans.__('Declare that this cell varies on replay'),
      label: trans.__('Why (for the reviewer):'),
      placeholder: trans.__('an unseeded random draw'),
      okLabel: trans.__('Declare')
    });
    if (answer.button.accept) {
      declareVaries(cell, answer.value ?? '');
      setDeclared(declaredVariation(cell));
    }
  };
  const declareTolerances = async (): Promise<void> => {
    const tolerances = await InputDialog.getText({
      title: trans.__('Declare the tolerances of this cell on replay'),
      label: trans.__('Tolerances (atol, rtol, image_ssim):'),
      placeholder: 'rtol=1e-3, atol=0',
      okLabel: trans.__('Next')
    });
    if (!tolerances.button.accept) {
      return;
    }
    const why = await InputDialog.getText({
      title: trans.__('Declare the tolerances of this cell on replay'),
      label: trans.__('Why (for the reviewer):'),
      placeholder: trans.__('a sum whose order varies'),
      okLabel: trans.__('Declare')
    });
    if (!why.button.accept) {
      return;
    }
    const problem = declareTolerance(
      cell,
      tolerances.value ?? '',
      why.value ?? ''
    );
    if (problem) {
      // Nothing was written: say what cannot be read, as the replay would.
      await showErrorMessage(
        trans.__('The tolerances were not declared'),
        problem.kind === 'twice'
          ? trans.__('%1 is given twice.', problem.name)
          : trans.__(
              '"%1" is not a tolerance such as "rtol=1e-3, atol=0" (atol, rtol or image_ssim, a number of 0 or more).',
              problem.part
            )
      );
    }
    setDeclared(declaredVariation(cell));
  };
  const withdraw = (): void => {
    declareVaries(cell, null);
    setDeclared(declaredVariation(cell));
  };
  return (
    <div className="jp-EspriVre-provDeclaration">
      {declared && (
        <span className="jp-EspriVre-provDeclared">
          {trans.__('declared: %1', declared)}
        </span>
      )}{' '}
      <button
        type="button"
        className="jp-mod-styled jp-EspriVre-provDeclare"
        onClick={() => (declared ? withdraw() : void declare())}
      >
        {declared
          ? trans.__('Withdraw the declaration')
          : trans.__('Declare that it varies…')}
      </button>
      {!declared && (
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-provDeclareTolerance"
          onClick={() => void declareTolerances()}
        >
          {trans.__('Declare tolerances…')}
        </button>
      )}
    </div>
  );
}

function ExecutionItem(props: {
  execution: IExecution;
  trans: TranslationBundle;
  cell: IMetadataHolder | null;
}): React.ReactElement {
  const { execution: e, trans, cell } = props;
  const seconds =
    e.end !== null
      ? ((Date.parse(e.end) - Date.parse(e.start)) / 1000).toFixed(3)
      : null;
  return (
    <li
      className={`jp-EspriVre-provExecution jp-mod-${e.status}`}
      data-order={e.order}
      data-cell-id={e.cellId ?? ''}
    >
      <div className="jp-EspriVre-provExecutionHead">
        <span className="jp-EspriVre-provOrder">[{e.order}]</span>
        <span className="jp-EspriVre-provStatus">{e.status}</span>
        {seconds !== null && <span>{trans.__('%1 s', seconds)}</span>}
        <span className="jp-EspriVre-provTime">{e.start}</span>
      </div>
      <pre className="jp-EspriVre-provSource">
        {e.source ?? trans.__('(source not in the log)')}
      </pre>
      {e.error && <div className="jp-EspriVre-provCellError">{e.error}</div>}
      {cell && <Declaration cell={cell} trans={trans} />}
      {e.files.length > 0 && (
        <ul className="jp-EspriVre-provFiles">
          {e.files.map((f, i) => (
            <li key={`${f.location}-${i}`} data-op={f.op}>
              <span className={`jp-EspriVre-provOp jp-mod-${f.op}`}>
                {f.op}
              </span>{' '}
              <code>{f.location}</code>{' '}
              <span className="jp-EspriVre-provMeta">
                {f.opener}
                {f.size !== null && ` · ${f.size} B`}
                {f.hash && ` · sha256 ${f.hash.slice(0, 12)}`}
                {f.writtenBy.length > 0 &&
                  ' · ' + trans.__('written by [%1]', f.writtenBy.join('], ['))}
              </span>
            </li>
          ))}
        </ul>
      )}
      {e.datasets.length > 0 && (
        <ul className="jp-EspriVre-provDatasets">
          {e.datasets.map((d, i) => (
            <li key={i}>
              {d.instance_id ?? d.dataset_id ?? d.doi ?? d.tracking_id}
              {d.version && ` (${d.version})`}
              {d.tracking_id && ` · ${d.tracking_id}`}
            </li>
          ))}
        </ul>
      )}
      {e.jobs.length > 0 && (
        <ul className="jp-EspriVre-provJobs">
          {e.jobs.map(j => (
            <li key={j.job_id}>
              {trans.__('job %1 on %2 (%3)', j.job_id, j.cluster, j.job_kind)}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function Environment(props: {
  session: ReturnType<typeof buildTimeline>['session'];
  trans: TranslationBundle;
}): React.ReactElement {
  const { trans, session } = props;
  const summary = environmentSummary(session);
  if (!session || !summary) {
    return <p>{trans.__('The log has no session record.')}</p>;
  }
  return (
    <div className="jp-EspriVre-provEnvironment">
      <dl>
        <dt>{trans.__('Python')}</dt>
        <dd>{summary.python}</dd>
        <dt>{trans.__('Platform')}</dt>
        <dd>{summary.platform}</dd>
        <dt>{trans.__('Host')}</dt>
        <dd>{summary.host}</dd>
        <dt>{trans.__('Packages')}</dt>
        <dd>
          {summary.conda
            ? trans.__('%1 (pip), %2 (conda)', summary.packages, summary.conda)
            : summary.packages}
        </dd>
      </dl>
      <table className="jp-EspriVre-provPackages">
        <tbody>
          {session.packages.map(p => (
            <tr key={p.name}>
              <td>{p.name}</td>
              <td>{p.version}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CrateView(props: Props & { path: string }): React.ReactElement {
  const { service, trans, path } = props;
  const [crate, setCrate] = React.useState<CrateSummary | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const [job, setJob] = React.useState<ReplayJob | null>(null);
  const [attempt, setAttempt] = React.useState(0);

  React.useEffect(() => {
    const controller = new AbortController();
    setError(null);
    service
      .crate(path, controller.signal)
      .then(setCrate)
      .catch(e => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [service, path, attempt]);

  React.useEffect(() => {
    if (!job || job.state === 'done' || job.state === 'failed') {
      return;
    }
    const timer = window.setTimeout(() => {
      service
        .replayJob(job.id)
        .then(setJob)
        .catch(e => setError(e));
    }, 500);
    return () => window.clearTimeout(timer);
  }, [service, job]);

  const replay = async (): Promise<void> => {
    setError(null);
    try {
      setJob(await service.replay(path));
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="jp-EspriVre-provBody">
      {error !== null && (
        <Failure
          what={trans.__('The crate %1 could not be used.', path)}
          error={error}
          retry={() => setAttempt(a => a + 1)}
          trans={trans}
        />
      )}
      {crate && (
        <div className="jp-EspriVre-provCrate">
          <h2>{crate.name ?? path}</h2>
          {crate.description && <p>{crate.description}</p>}
          <dl>
            <dt>{trans.__('Notebook')}</dt>
            <dd>
              <button
                type="button"
                className="jp-EspriVre-provLink"
                onClick={() => props.openPath(crate.notebook)}
              >
                {crate.notebook}
              </button>
            </dd>
            <dt>{trans.__('Run')}</dt>
            <dd>{crate.run}</dd>
            <dt>{trans.__('Licence')}</dt>
            <dd>{crate.license ?? trans.__('none given')}</dd>
            <dt>{trans.__('Profiles')}</dt>
            <dd>{crate.conforms_to.filter(Boolean).join(', ')}</dd>
          </dl>
          <h3>{trans.__('Files (%1)', crate.files.length)}</h3>
          <ul className="jp-EspriVre-provCrateFiles">
            {crate.files.map(f => (
              <li key={f.id}>
                <code>{f.name ?? f.id}</code>{' '}
                {f.in_crate ? trans.__('in the crate') : trans.__('referenced')}
                {f.sha256 && ` · sha256 ${f.sha256.slice(0, 12)}`}
              </li>
            ))}
          </ul>
          <div className="jp-EspriVre-provToolbar">
            <button
              type="button"
              className="jp-mod-styled jp-mod-accept jp-EspriVre-provReplay"
              disabled={
                job !== null && job.state !== 'done' && job.state !== 'failed'
              }
              onClick={() => void replay()}
            >
              {trans.__('Replay in a fresh kernel')}
            </button>
          </div>
          <CrateValidation path={path} service={service} trans={trans} />
        </div>
      )}
      {job && <ReplayProgress job={job} trans={trans} />}
      {job?.state === 'done' && job.report && (
        <ReportView
          report={job.report}
          trans={trans}
          reportDir={job.report_dir}
          openPath={props.openPath}
        />
      )}
    </div>
  );
}

function ReplayProgress(props: {
  job: ReplayJob;
  trans: TranslationBundle;
}): React.ReactElement {
  const { job, trans } = props;
  const percent = replayProgress(job);
  return (
    <div className="jp-EspriVre-provProgress" data-state={job.state}>
      <progress max={100} value={percent} />
      <span>
        {job.state === 'failed'
          ? trans.__('The replay failed: %1', job.error ?? '')
          : job.state === 'done'
            ? trans.__('Replay done: %1 cells.', job.total)
            : trans.__(
                'Replaying: %1 of %2 cells done (%3)',
                job.done,
                job.total,
                job.current ?? ''
              )}
      </span>
    </div>
  );
}

function ReportLoader(props: Props & { path: string }): React.ReactElement {
  const { service, trans, path } = props;
  const [report, setReport] = React.useState<ReplayReport | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const [attempt, setAttempt] = React.useState(0);
  React.useEffect(() => {
    const controller = new AbortController();
    setError(null);
    service
      .report(path, controller.signal)
      .then(setReport)
      .catch(e => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [service, path, attempt]);
  return (
    <div className="jp-EspriVre-provBody">
      {error !== null && (
        <Failure
          what={trans.__('The report %1 could not be read.', path)}
          error={error}
          retry={() => setAttempt(a => a + 1)}
          trans={trans}
        />
      )}
      {report && (
        <ReportView
          report={report}
          trans={trans}
          reportDir={path}
          openPath={props.openPath}
        />
      )}
    </div>
  );
}

import {
  isAbortError,
  type ScheduleInfo,
  type ScheduleRun,
  type ScheduleState
} from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { describeError as describe, useFollowedList } from './followed-list';
import { type IStateBadge, jobKey, stateBadge } from './job-view';
import type { JobService } from './service';

/** At most how often the schedules are asked for again while the Jobs panel refreshes (ms). */
const SCHEDULES_INTERVAL = 15000;

const readSchedules = (service: JobService, signal: AbortSignal) =>
  service.schedules(signal);

/**
 * The Schedules section of the Jobs panel: each schedule with its state as its
 * scheduler holds it (active, paused, gone), its next run, and its runs; pause,
 * resume, run now, edit (name, cron, time zone) and delete. A schedule is made from
 * the submission form ("Repeat on a schedule").
 */
export function SchedulesSection(props: {
  service: JobService;
  trans: TranslationBundle;
  /** Shows a run's details and log (the key of a job of the list). */
  onShowJob: (key: string) => void;
}): React.ReactElement {
  const { service, trans } = props;
  const [openId, setOpenId] = React.useState<string | null>(null);
  const [generation, setGeneration] = React.useState(0);
  const reload = (): void => setGeneration(g => g + 1);
  const { value: schedules, error } = useFollowedList(
    service,
    readSchedules,
    SCHEDULES_INTERVAL,
    generation
  );

  if (schedules === null && !error) {
    return <></>;
  }
  return (
    <details className="jp-EspriVre-schedules" open>
      <summary className="jp-EspriVre-sectionHeading">
        {trans.__('Schedules (%1)', schedules?.length ?? 0)}
      </summary>
      {error && (
        <p role="alert" className="jp-EspriVre-error">
          {trans.__('The schedules could not be listed: %1', error)}
        </p>
      )}
      {schedules?.length === 0 && (
        <p className="jp-EspriVre-empty">
          {trans.__(
            'No schedules. Submit a job with “Repeat on a schedule” to make one.'
          )}
        </p>
      )}
      <ul className="jp-EspriVre-scheduleList">
        {schedules?.map(schedule => (
          <ScheduleItem
            key={schedule.id}
            schedule={schedule}
            service={service}
            trans={trans}
            open={openId === schedule.id}
            onToggle={() =>
              setOpenId(openId === schedule.id ? null : schedule.id)
            }
            onChanged={reload}
            onShowJob={props.onShowJob}
          />
        ))}
      </ul>
    </details>
  );
}

function ScheduleItem(props: {
  schedule: ScheduleInfo;
  service: JobService;
  trans: TranslationBundle;
  open: boolean;
  onToggle: () => void;
  onChanged: () => void;
  onShowJob: (key: string) => void;
}): React.ReactElement {
  const { schedule, service, trans } = props;
  const [note, setNote] = React.useState('');
  const [editing, setEditing] = React.useState(false);
  const act = async (
    work: () => Promise<unknown>,
    done: string
  ): Promise<void> => {
    setNote(trans.__('Asking the scheduler…'));
    try {
      await work();
      setNote(done);
      props.onChanged();
    } catch (reason) {
      setNote(describe(reason));
    }
  };
  const active = schedule.state === 'active';
  return (
    <li
      className="jp-EspriVre-schedule"
      data-schedule-id={schedule.id}
      data-state={schedule.state}
    >
      <div className="jp-EspriVre-scheduleHeader">
        <button
          type="button"
          className="jp-EspriVre-scheduleName jp-Button jp-mod-minimal"
          aria-expanded={props.open}
          onClick={props.onToggle}
        >
          {schedule.name}
        </button>
        <span
          className="jp-EspriVre-stateBadge"
          data-tone={scheduleTone(schedule.state)}
        >
          {scheduleLabel(schedule.state, trans)}
        </span>
      </div>
      <p className="jp-EspriVre-scheduleWhen">
        <code>{schedule.cron}</code> {schedule.timezone} · {schedule.cluster}
        {schedule.next_run
          ? ` · ${trans.__('next %1', new Date(schedule.next_run * 1000).toLocaleString())}`
          : ''}
      </p>
      {schedule.problem && (
        <p className="jp-EspriVre-scheduleProblem">{schedule.problem}</p>
      )}
      <div className="jp-EspriVre-scheduleActions">
        {active ? (
          <button
            type="button"
            className="jp-mod-styled"
            data-action="pause"
            onClick={() =>
              void act(
                () => service.scheduleAction(schedule.id, 'pause'),
                trans.__('Paused.')
              )
            }
          >
            {trans.__('Pause')}
          </button>
        ) : (
          <button
            type="button"
            className="jp-mod-styled"
            data-action="resume"
            onClick={() =>
              void act(
                () => service.scheduleAction(schedule.id, 'resume'),
                trans.__('Active again from the next time.')
              )
            }
          >
            {trans.__('Resume')}
          </button>
        )}
        <button
          type="button"
          className="jp-mod-styled"
          data-action="run"
          onClick={() =>
            void act(async () => {
              const job = await service.runScheduleNow(schedule.id);
              setNote(trans.__('Submitted as job %1.', job.id));
            }, trans.__('Submitted.'))
          }
        >
          {trans.__('Run now')}
        </button>
        <button
          type="button"
          className="jp-mod-styled"
          data-action="edit"
          onClick={() => setEditing(!editing)}
        >
          {trans.__('Edit')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn"
          data-action="delete"
          onClick={() =>
            void act(
              () => service.deleteSchedule(schedule.id),
              trans.__('Deleted.')
            )
          }
        >
          {trans.__('Delete')}
        </button>
      </div>
      {note && (
        <p role="status" className="jp-EspriVre-jobActionNote">
          {note}
        </p>
      )}
      {editing && (
        <ScheduleEditor
          schedule={schedule}
          service={service}
          trans={trans}
          onSaved={() => {
            setEditing(false);
            setNote(trans.__('Saved.'));
            props.onChanged();
          }}
        />
      )}
      {props.open && (
        <ScheduleRuns
          schedule={schedule}
          service={service}
          trans={trans}
          onShowJob={props.onShowJob}
        />
      )}
    </li>
  );
}

/**
 * Edits what a schedule is most often changed for: its name, its times, its zone.
 */
function ScheduleEditor(props: {
  schedule: ScheduleInfo;
  service: JobService;
  trans: TranslationBundle;
  onSaved: () => void;
}): React.ReactElement {
  const { schedule, service, trans } = props;
  const [values, setValues] = React.useState({
    name: schedule.name,
    cron: schedule.cron,
    timezone: schedule.timezone
  });
  const [problem, setProblem] = React.useState('');
  const save = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    try {
      await service.saveSchedule(
        { cluster: schedule.cluster, spec: schedule.spec, ...values },
        schedule.id
      );
      props.onSaved();
    } catch (reason) {
      setProblem(describe(reason));
    }
  };
  const input = (field: keyof typeof values, label: string) => (
    <label>
      {label}{' '}
      <input
        type="text"
        name={field}
        value={values[field]}
        onChange={event =>
          setValues({ ...values, [field]: event.target.value })
        }
      />
    </label>
  );
  return (
    <form
      className="jp-EspriVre-scheduleEditor"
      onSubmit={event => void save(event)}
    >
      {input('name', trans.__('Name'))}
      {input('cron', trans.__('Cron'))}
      {input('timezone', trans.__('Time zone'))}
      <button type="submit" className="jp-mod-styled jp-mod-accept">
        {trans.__('Save')}
      </button>
      {problem && (
        <p role="alert" className="jp-EspriVre-fieldProblem">
          {problem}
        </p>
      )}
    </form>
  );
}

function ScheduleRuns(props: {
  schedule: ScheduleInfo;
  service: JobService;
  trans: TranslationBundle;
  onShowJob: (key: string) => void;
}): React.ReactElement {
  const { schedule, service, trans } = props;
  const [runs, setRuns] = React.useState<ScheduleRun[] | null>(null);
  const [error, setError] = React.useState('');
  React.useEffect(() => {
    const controller = new AbortController();
    service
      .schedule(schedule.id, controller.signal)
      .then(found => setRuns(found.runs ?? []))
      .catch(reason => {
        if (!isAbortError(reason)) {
          setError(describe(reason));
        }
      });
    return () => controller.abort();
  }, [service, schedule.id, schedule.updated_at]);
  if (error) {
    return <p className="jp-EspriVre-error">{error}</p>;
  }
  if (runs === null) {
    return <p role="status">{trans.__('Reading the runs…')}</p>;
  }
  if (!runs.length) {
    return <p className="jp-EspriVre-empty">{trans.__('No runs yet.')}</p>;
  }
  return (
    <ol className="jp-EspriVre-scheduleRuns">
      {runs.map(run => (
        <li key={run.job_id} data-job-id={run.job_id} data-state={run.state}>
          <button
            type="button"
            className="jp-Button jp-mod-minimal"
            title={trans.__('Show the job and its log')}
            onClick={() =>
              props.onShowJob(
                jobKey({ cluster: schedule.cluster, id: run.job_id })
              )
            }
          >
            {new Date(run.fired_at * 1000).toLocaleString()}
          </button>{' '}
          {stateBadge(run.state, trans).label}
          {run.how === 'now' ? ` (${trans.__('run now')})` : ''}
          {run.exit_code ? ` · ${trans.__('exit %1', run.exit_code)}` : ''}
        </li>
      ))}
    </ol>
  );
}

export function scheduleLabel(
  state: ScheduleState,
  trans: TranslationBundle
): string {
  switch (state) {
    case 'active':
      return trans.__('Active');
    case 'paused':
      return trans.__('Paused');
    case 'gone':
      return trans.__('Gone');
    default:
      return trans.__('Unknown');
  }
}

function scheduleTone(state: ScheduleState): IStateBadge['tone'] {
  return state === 'active'
    ? 'active'
    : state === 'paused'
      ? 'waiting'
      : state === 'gone'
        ? 'failure'
        : 'neutral';
}

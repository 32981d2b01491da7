import {
  type FieldProblem,
  isAbortError,
  type JobCluster,
  type JobInfo,
  type JobPreviewResponse,
  type ScheduleInfo,
  type StartEstimateResponse
} from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import { fieldDefaults, shownValue } from './form-defaults';
import { jobsIcon } from './icons';
import { JobRefusedError, type JobService } from './service';
import {
  applyPreset,
  emptyForm,
  formToSpec,
  type IJobForm,
  type IJobPreset,
  jobKind,
  MAIL_WHEN,
  presetsFor,
  problemsByField
} from './spec-form';

/** Milliseconds between the last keystroke and the preview request. */
const PREVIEW_DELAY = 400;

let formCount = 0;

/**
 * The submission form in the main area: one per file being submitted.
 */
export class SubmitJobWidget extends ReactWidget {
  constructor(options: SubmitJobWidget.IOptions) {
    super();
    this._options = options;
    formCount += 1;
    this.id = `espri-vre-submit-job-${formCount}`;
    this.addClass('jp-EspriVre-submitJobWidget');
    this.title.icon = jobsIcon;
    this.title.label = options.trans.__('Submit %1', basename(options.path));
    this.title.closable = true;
  }

  protected render(): React.ReactElement {
    return <SubmitJobForm {...this._options} />;
  }

  private _options: SubmitJobWidget.IOptions;
}

export namespace SubmitJobWidget {
  export interface IOptions {
    service: JobService;
    trans: TranslationBundle;
    /** The file to run, relative to the server root. */
    path: string;
    /** Presets from the settings; a teacher's safe choices. */
    presets: readonly IJobPreset[];
    /** Called with the job once the server has accepted it. */
    onSubmitted: (job: JobInfo) => void;
    /** Called with the schedule made instead, when "Repeat on a schedule" is on. */
    onScheduled?: (schedule: ScheduleInfo) => void;
  }
}

function basename(path: string): string {
  return path.split('/').pop() || path;
}

/** The form's fields, in the order shown, with the problems' field names. */
const FIELDS = [
  'cluster',
  'path',
  'name',
  'partition',
  'nodes',
  'cpus',
  'memory',
  'walltime',
  'gpus',
  'parameters',
  'account',
  'array',
  'afterok',
  'conda_env',
  'kernel',
  'mail.address',
  'mail.when',
  'cron',
  'timezone'
] as const;

/**
 * What the form offers for e-mail on a cluster: nothing on the local back end (it has
 * no mail of its own), the fields on Slurm and Torque (their own mail), disabled with
 * the reason when the server says the cluster's jobs may not ask for it (`mail: false`:
 * its configuration, or a Slurm without MailProg); a server that does not say allows it.
 */
export function mailOffer(
  clusters: JobCluster[] | null,
  id: string
): 'none' | 'refused' | 'allowed' {
  const cluster = clusters?.find(c => c.id === id);
  if (cluster?.kind !== 'slurm' && cluster?.kind !== 'torque') {
    return 'none';
  }
  return cluster.mail === false ? 'refused' : 'allowed';
}

/**
 * The form as it is sent: an address typed for a cluster whose jobs may not ask for
 * e-mail (before another cluster was chosen) is left out rather than refused.
 */
function sentForm(form: IJobForm, clusters: JobCluster[] | null): IJobForm {
  return mailOffer(clusters, form.cluster) === 'allowed'
    ? form
    : { ...form, mail_address: '' };
}

/** The browser's time zone, the schedules' default: the user's wall clock. */
function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * The submission form: cluster, preset, resources, parameters, the batch script it
 * would submit, and the server's objections next to their fields.
 */
export function SubmitJobForm(
  props: SubmitJobWidget.IOptions
): React.ReactElement {
  const { service, trans, path, presets, onSubmitted, onScheduled } = props;
  const [clusters, setClusters] = React.useState<JobCluster[] | null>(null);
  const [form, setForm] = React.useState<IJobForm>(() => emptyForm(path, ''));
  const [problems, setProblems] = React.useState<FieldProblem[]>([]);
  const [preview, setPreview] = React.useState<JobPreviewResponse | null>(null);
  const [estimate, setEstimate] = React.useState<StartEstimateResponse | null>(
    null
  );
  const [error, setError] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [preset, setPreset] = React.useState('');
  const [repeat, setRepeat] = React.useState(false);
  // The fields with a default that the user has typed in (see `shownValue`).
  const [edited, setEdited] = React.useState<ReadonlySet<string>>(
    () => new Set()
  );
  const [when, setWhen] = React.useState({
    cron: '0 6 * * *',
    timezone: localZone()
  });
  const idPrefix = React.useId();

  React.useEffect(() => {
    const controller = new AbortController();
    service
      .clusters(controller.signal)
      .then(answer => {
        setClusters(answer);
        setForm(f =>
          f.cluster || !answer.length ? f : { ...f, cluster: answer[0].id }
        );
      })
      .catch(reason => {
        if (!isAbortError(reason)) {
          setClusters([]);
          setError(
            trans.__('The clusters could not be listed: %1', message(reason))
          );
        }
      });
    return () => controller.abort();
  }, [service, trans]);

  React.useEffect(() => {
    if (!form.cluster) {
      return;
    }
    const { spec, problems: local } = formToSpec(
      sentForm(form, clusters),
      trans
    );
    if (!spec) {
      setProblems(local);
      setPreview(null);
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      service
        .preview(form.cluster, spec, controller.signal)
        .then(answer => {
          setPreview(answer);
          setProblems([]);
          // The estimate is a help: when the scheduler gives none, the form says nothing.
          service
            .estimate(form.cluster, spec, controller.signal)
            .then(setEstimate)
            .catch(() => setEstimate(null));
        })
        .catch(reason => {
          if (isAbortError(reason)) {
            return;
          }
          setPreview(null);
          setEstimate(null);
          setProblems(
            reason instanceof JobRefusedError && reason.problems.length
              ? reason.problems
              : [{ field: 'job', message: message(reason) }]
          );
        });
    }, PREVIEW_DELAY);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [service, trans, form, clusters]);

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    const { spec, problems: local } = formToSpec(
      sentForm(form, clusters),
      trans
    );
    if (!spec) {
      setProblems(local);
      return;
    }
    setBusy(true);
    setError('');
    try {
      if (repeat) {
        const schedule = await service.saveSchedule({
          cluster: form.cluster,
          spec,
          cron: when.cron,
          timezone: when.timezone
        });
        onScheduled?.(schedule);
      } else {
        const job = await service.submitSpec(form.cluster, spec);
        onSubmitted(job);
      }
    } catch (reason) {
      if (reason instanceof JobRefusedError && reason.problems.length) {
        setProblems(reason.problems);
      } else {
        setError(trans.__('The job was not submitted: %1', message(reason)));
      }
    } finally {
      setBusy(false);
    }
  };

  const byField = problemsByField(problems);
  const general = problems.filter(
    p => !(FIELDS as readonly string[]).includes(p.field)
  );
  const cluster = clusters?.find(c => c.id === form.cluster);
  const mail = mailOffer(clusters, form.cluster);
  const offered = presetsFor(presets, form.cluster);
  const set =
    (field: keyof IJobForm) =>
    (
      event: React.ChangeEvent<
        HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
      >
    ): void =>
      setForm({ ...form, [field]: event.target.value });

  const field = (
    name: (typeof FIELDS)[number],
    label: string,
    control: React.ReactElement,
    hint?: string,
    defaultNote?: string
  ): React.ReactElement => {
    const messages = byField.get(name) ?? [];
    return (
      <div
        className="jp-EspriVre-formField"
        data-field={name}
        data-invalid={messages.length > 0}
      >
        <label htmlFor={`${idPrefix}-${name}`}>{label}</label>
        {control}
        {hint && (
          <span
            id={`${idPrefix}-${name}-hint`}
            className="jp-EspriVre-fieldHint"
          >
            {hint}
          </span>
        )}
        {defaultNote && (
          <span
            id={`${idPrefix}-${name}-default`}
            className="jp-EspriVre-fieldDefault"
          >
            {defaultNote}
          </span>
        )}
        {messages.map(m => (
          <p
            key={m}
            id={`${idPrefix}-${name}-problem`}
            className="jp-EspriVre-fieldProblem"
            data-field={name}
          >
            {m}
          </p>
        ))}
      </div>
    );
  };
  const inputProps = (name: keyof IJobForm) => ({
    id: `${idPrefix}-${name}`,
    name,
    value: form[name],
    onChange: set(name),
    'aria-invalid': byField.has(name),
    'aria-describedby': byField.has(name)
      ? `${idPrefix}-${name}-problem`
      : undefined
  });
  const partitions = cluster?.partitions ?? [];
  const defaults = fieldDefaults(partitions, form.partition, trans, form.cpus);
  /**
   * A field whose default is shown as its value, with its source as its note, until
   * the user types in it; nothing is sent for it then, so the scheduler applies the
   * default itself.
   */
  const defaulted = (
    name: 'memory' | 'walltime',
    label: string
  ): React.ReactElement => {
    const fallback = defaults[name];
    const shown = shownValue(form[name], edited.has(name), fallback);
    const described = [
      byField.has(name) ? `${idPrefix}-${name}-problem` : '',
      shown.isDefault ? `${idPrefix}-${name}-default` : ''
    ].filter(Boolean);
    return field(
      name,
      label,
      <input
        type="text"
        {...inputProps(name)}
        value={shown.value}
        placeholder={fallback.text}
        data-default={shown.isDefault}
        aria-describedby={described.join(' ') || undefined}
        // The default is replaced by typing, not edited character by character.
        onFocus={event => {
          if (shown.isDefault && shown.value) {
            event.currentTarget.select();
          }
        }}
        onChange={event => {
          setEdited(new Set(edited).add(name));
          setForm({ ...form, [name]: event.target.value });
        }}
      />,
      undefined,
      shown.isDefault ? fallback.text : undefined
    );
  };

  return (
    <form
      className="jp-EspriVre-submitForm"
      onSubmit={event => void submit(event)}
      noValidate
    >
      <h2 className="jp-EspriVre-heading">{trans.__('Submit a job')}</h2>
      {clusters === null && (
        <p role="status">{trans.__('Reading the clusters…')}</p>
      )}
      {field(
        'cluster',
        trans.__('Cluster'),
        <select {...inputProps('cluster')}>
          {clusters?.map(c => (
            <option key={c.id} value={c.id}>
              {c.title || c.id}
            </option>
          ))}
        </select>,
        cluster?.problem ?? undefined
      )}
      {offered.length > 0 && (
        <div className="jp-EspriVre-formField" data-field="preset">
          <label htmlFor={`${idPrefix}-preset`}>{trans.__('Preset')}</label>
          <select
            id={`${idPrefix}-preset`}
            value={preset}
            onChange={event => {
              setPreset(event.target.value);
              const chosen = offered.find(p => p.name === event.target.value);
              if (chosen) {
                setForm(applyPreset(form, chosen));
              }
            }}
          >
            <option value="">{trans.__('None')}</option>
            {offered.map(p => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {field(
        'path',
        trans.__('File'),
        <input type="text" {...inputProps('path')} />
      )}
      {field(
        'name',
        trans.__('Job name'),
        <input
          type="text"
          placeholder={trans.__('The file’s name')}
          {...inputProps('name')}
        />
      )}
      {field(
        'partition',
        trans.__('Partition or queue'),
        <select {...inputProps('partition')}>
          <option value="">{trans.__('The cluster’s default')}</option>
          {partitions.map(p => (
            <option key={p.name} value={p.name} disabled={!p.available}>
              {p.gpus ? trans.__('%1 (%2 GPUs)', p.name, p.gpus) : p.name}
            </option>
          ))}
          {form.partition &&
            !partitions.some(p => p.name === form.partition) && (
              <option value={form.partition}>{form.partition}</option>
            )}
        </select>
      )}
      <div className="jp-EspriVre-formRow">
        {field(
          'nodes',
          trans.__('Nodes'),
          <input type="text" inputMode="numeric" {...inputProps('nodes')} />
        )}
        {field(
          'cpus',
          trans.__('Cores per task'),
          <input type="text" inputMode="numeric" {...inputProps('cpus')} />
        )}
        {field(
          'gpus',
          trans.__('GPUs'),
          <input type="text" inputMode="numeric" {...inputProps('gpus')} />
        )}
      </div>
      <div className="jp-EspriVre-formRow">
        {defaulted('memory', trans.__('Memory per node'))}
        {defaulted('walltime', trans.__('Walltime'))}
      </div>
      <details className="jp-EspriVre-formMore">
        <summary>
          {trans.__('Account, array, dependencies, environment')}
        </summary>
        <div className="jp-EspriVre-formRow">
          {field(
            'account',
            trans.__('Account'),
            <input type="text" {...inputProps('account')} />
          )}
          {field(
            'array',
            trans.__('Array indices'),
            <input type="text" placeholder="0-9" {...inputProps('array')} />
          )}
        </div>
        {field(
          'afterok',
          trans.__('Start after these jobs complete'),
          <input
            type="text"
            placeholder="1234, 1235"
            {...inputProps('afterok')}
          />
        )}
        <div className="jp-EspriVre-formRow">
          {field(
            'conda_env',
            trans.__('Conda environment'),
            <input
              type="text"
              placeholder="pangeo"
              {...inputProps('conda_env')}
            />
          )}
          {jobKind(form.path) === 'notebook' &&
            field(
              'kernel',
              trans.__('Kernel'),
              <input
                type="text"
                placeholder="python3"
                {...inputProps('kernel')}
              />
            )}
        </div>
      </details>
      {mail !== 'none' && (
        <div className="jp-EspriVre-formRow" data-field="mail" data-mail={mail}>
          {field(
            'mail.address',
            trans.__('E-mail address'),
            <input
              type="email"
              id={`${idPrefix}-mail.address`}
              name="mail_address"
              placeholder="name@example.org"
              value={mail === 'allowed' ? form.mail_address : ''}
              disabled={mail === 'refused'}
              onChange={set('mail_address')}
              aria-invalid={byField.has('mail.address')}
              aria-describedby={
                byField.has('mail.address')
                  ? `${idPrefix}-mail.address-problem`
                  : `${idPrefix}-mail.address-hint`
              }
            />,
            mail === 'allowed'
              ? trans.__(
                  'The cluster’s scheduler e-mails you about the job; leave empty for no e-mail.'
                )
              : trans.__(
                  'E-mail is off on %1: its configuration does not allow jobs to ask for it (or its scheduler has no mail program).',
                  cluster?.title || form.cluster
                )
          )}
          {field(
            'mail.when',
            trans.__('Send it'),
            <select
              id={`${idPrefix}-mail.when`}
              name="mail_when"
              value={form.mail_when}
              disabled={mail === 'refused'}
              onChange={set('mail_when')}
            >
              {MAIL_WHEN.map(w => (
                <option key={w} value={w}>
                  {mailWhenLabel(w, trans)}
                </option>
              ))}
            </select>
          )}
        </div>
      )}
      {jobKind(form.path) === 'notebook' &&
        field(
          'parameters',
          trans.__('Notebook parameters'),
          <textarea
            rows={4}
            placeholder="alpha=0.5"
            {...inputProps('parameters')}
          />,
          trans.__(
            'One name=value per line; values are read as JSON when they are.'
          )
        )}
      {onScheduled && (
        <div className="jp-EspriVre-formField" data-field="repeat">
          <label>
            <input
              type="checkbox"
              name="repeat"
              checked={repeat}
              onChange={event => setRepeat(event.target.checked)}
            />{' '}
            {trans.__('Repeat on a schedule')}
          </label>
        </div>
      )}
      {repeat && (
        <div className="jp-EspriVre-formRow">
          {field(
            'cron',
            trans.__('Cron'),
            <input
              type="text"
              id={`${idPrefix}-cron`}
              name="cron"
              value={when.cron}
              onChange={event => setWhen({ ...when, cron: event.target.value })}
              aria-invalid={byField.has('cron')}
            />,
            trans.__(
              'minute hour day month weekday: “0 6 * * *” is every day at 06:00.'
            )
          )}
          {field(
            'timezone',
            trans.__('Time zone'),
            <input
              type="text"
              id={`${idPrefix}-timezone`}
              name="timezone"
              value={when.timezone}
              onChange={event =>
                setWhen({ ...when, timezone: event.target.value })
              }
              aria-invalid={byField.has('timezone')}
            />
          )}
        </div>
      )}
      {general.length > 0 && (
        <div role="alert" className="jp-EspriVre-error">
          {general.map(p => (
            <p
              key={`${p.field}:${p.message}`}
              className="jp-EspriVre-errorDetail"
            >
              {p.message}
            </p>
          ))}
        </div>
      )}
      {error && (
        <div role="alert" className="jp-EspriVre-error">
          <p className="jp-EspriVre-errorDetail">{error}</p>
        </div>
      )}
      {estimate && !repeat && (
        <StartEstimate estimate={estimate} trans={trans} />
      )}
      <div className="jp-EspriVre-formField" data-field="preview">
        <span className="jp-EspriVre-previewLabel">
          {trans.__('Batch script')}
          {preview?.argv.length ? ` — ${preview.argv.join(' ')}` : ''}
        </span>
        <pre className="jp-EspriVre-scriptPreview" tabIndex={0}>
          {preview?.script ?? ''}
        </pre>
      </div>
      <div className="jp-EspriVre-formButtons">
        <button
          type="submit"
          className="jp-EspriVre-submitButton jp-mod-styled jp-mod-accept"
          disabled={busy || !form.cluster}
        >
          {busy
            ? trans.__('Submitting…')
            : repeat
              ? trans.__('Save schedule')
              : trans.__('Submit')}
        </button>
      </div>
    </form>
  );
}

/**
 * When the job would start if submitted now, and how busy the partitions are.
 */
function StartEstimate(props: {
  estimate: StartEstimateResponse;
  trans: TranslationBundle;
}): React.ReactElement {
  const { estimate, trans } = props;
  const start = estimate.start_time;
  return (
    <div className="jp-EspriVre-startEstimate" role="status">
      <p>
        {start === null
          ? estimate.detail
          : start <= Date.now() / 1000 + 60
            ? trans.__('Estimated start: now. %1.', estimate.detail)
            : trans.__(
                'Estimated start: %1. %2.',
                new Date(start * 1000).toLocaleString(),
                estimate.detail
              )}
      </p>
      <ul className="jp-EspriVre-partitionLoad">
        {estimate.partitions.map(p => (
          <li key={p.name} data-partition={p.name}>
            {trans.__(
              '%1: %2 of %3 cores busy, %4 running, %5 waiting',
              p.name,
              p.cpus_allocated,
              p.cpus_total,
              p.jobs_running,
              p.jobs_pending
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What each choice of when to e-mail means, in the user's words. */
function mailWhenLabel(
  when: (typeof MAIL_WHEN)[number],
  trans: TranslationBundle
): string {
  switch (when) {
    case 'fail':
      return trans.__('Only if it fails');
    case 'all':
      return trans.__('When it starts and when it ends');
    default:
      return trans.__('When it ends');
  }
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

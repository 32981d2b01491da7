import type { FieldProblem, JobKind, JobMail, JobSpec } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * A preset of the submission form, from the `@espri-vre/jobs:submit` settings: what a
 * teacher gives a class so that nobody asks for the whole cluster.
 */
export interface IJobPreset {
  name: string;
  cluster?: string;
  partition?: string;
  nodes?: number;
  cpus?: number;
  memory?: string;
  walltime?: string;
  gpus?: number;
}

/**
 * The submission form's values, as typed: every field a string, empty when left to
 * the cluster's defaults.
 */
export interface IJobForm {
  cluster: string;
  path: string;
  name: string;
  partition: string;
  nodes: string;
  cpus: string;
  memory: string;
  walltime: string;
  gpus: string;
  /** Notebook parameters, one `name=value` per line. */
  parameters: string;
  account: string;
  /** A job array's indices: `0-9`, `1,3,5`, `0-99%10`. */
  array: string;
  /** Jobs that must complete first (afterok), separated by commas or spaces. */
  afterok: string;
  /** The conda environment the job runs in (a name or a prefix path). */
  conda_env: string;
  /** The kernel a notebook job runs with (papermill's -k). */
  kernel: string;
  /** Whom the scheduler e-mails about the job; empty for no e-mail. */
  mail_address: string;
  /** When it e-mails: at the end, only on failure, or at the start and the end. */
  mail_when: JobMail['when'];
}

/** The choices of `mail_when`, in the order the form offers them. */
export const MAIL_WHEN: readonly JobMail['when'][] = ['end', 'fail', 'all'];

/**
 * The form's numeric fields.
 */
const COUNT_FIELDS = ['nodes', 'cpus', 'gpus'] as const;

/**
 * An empty form for a file, on a cluster.
 */
export function emptyForm(path: string, cluster: string): IJobForm {
  return {
    cluster,
    path,
    name: '',
    partition: '',
    nodes: '',
    cpus: '',
    memory: '',
    walltime: '',
    gpus: '',
    parameters: '',
    account: '',
    array: '',
    afterok: '',
    conda_env: '',
    kernel: '',
    mail_address: '',
    mail_when: 'end'
  };
}

/**
 * What a file runs as, from its suffix; `null` for a file that cannot be a job.
 */
export function jobKind(path: string): JobKind | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.ipynb')) {
    return 'notebook';
  }
  if (lower.endsWith('.py')) {
    return 'python';
  }
  if (lower.endsWith('.sh')) {
    return 'script';
  }
  return null;
}

/**
 * The form with a preset's values: the preset's cluster when it names one, and its
 * resources in place of the form's (a field the preset leaves out is emptied, so that
 * the cluster's default applies rather than a value typed for another preset).
 */
export function applyPreset(form: IJobForm, preset: IJobPreset): IJobForm {
  const text = (value: string | number | undefined): string =>
    value === undefined ? '' : String(value);
  return {
    ...form,
    cluster: preset.cluster ?? form.cluster,
    partition: text(preset.partition),
    nodes: text(preset.nodes),
    cpus: text(preset.cpus),
    memory: text(preset.memory),
    walltime: text(preset.walltime),
    gpus: text(preset.gpus)
  };
}

/**
 * The presets that apply to a cluster: those naming it and those naming none.
 */
export function presetsFor(
  presets: readonly IJobPreset[],
  cluster: string
): IJobPreset[] {
  return presets.filter(p => !p.cluster || p.cluster === cluster);
}

/**
 * Notebook parameters from `name=value` lines. A value is read as JSON when it is
 * JSON (`3`, `0.5`, `true`, `[1, 2]`, `"text"`) and as text otherwise; blank lines and
 * lines starting with `#` are skipped.
 */
export function parseParameters(
  text: string,
  trans: TranslationBundle
): { parameters: Record<string, unknown>; problems: FieldProblem[] } {
  const parameters: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) {
      return;
    }
    const eq = line.indexOf('=');
    const name = eq < 0 ? '' : line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push({
        field: 'parameters',
        message: trans.__(
          'Line %1 is not name=value with a Python name: %2',
          index + 1,
          line
        )
      });
      return;
    }
    const value = line.slice(eq + 1).trim();
    try {
      parameters[name] = JSON.parse(value);
    } catch {
      parameters[name] = value;
    }
  });
  return { parameters, problems };
}

/**
 * The parameters as the form shows them, one `name=value` per line.
 */
export function formatParameters(parameters: Record<string, unknown>): string {
  return Object.entries(parameters)
    .map(
      ([name, value]) =>
        `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`
    )
    .join('\n');
}

/**
 * The job spec of a form, or the problems that keep it from being one (checked here:
 * the file type, counts and parameter lines; the server checks everything else).
 */
export function formToSpec(
  form: IJobForm,
  trans: TranslationBundle
): { spec: JobSpec | null; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const path = form.path.trim();
  const kind = jobKind(path);
  if (!path) {
    problems.push({
      field: 'path',
      message: trans.__('Give the script, Python file or notebook to run.')
    });
  } else if (kind === null) {
    problems.push({
      field: 'path',
      message: trans.__(
        'A job runs a shell script (.sh), a Python file (.py) or a notebook (.ipynb).'
      )
    });
  }
  if (!form.cluster) {
    problems.push({ field: 'cluster', message: trans.__('Choose a cluster.') });
  }
  const spec: JobSpec = { kind: kind ?? 'script', path, cluster: form.cluster };
  for (const field of COUNT_FIELDS) {
    const value = form[field].trim();
    if (!value) {
      continue;
    }
    if (!/^\d+$/.test(value)) {
      problems.push({
        field,
        message: trans.__('%1 is not a whole number.', value)
      });
      continue;
    }
    spec[field] = Number(value);
  }
  for (const field of ['name', 'partition', 'memory', 'walltime'] as const) {
    const value = form[field].trim();
    if (value) {
      spec[field] = value;
    }
  }
  for (const field of ['account', 'array', 'conda_env'] as const) {
    const value = form[field].trim();
    if (value) {
      spec[field] = value;
    }
  }
  const address = form.mail_address.trim();
  if (address) {
    // One address: the server checks the rest (line breaks, quotes, shell characters).
    if (/[\s,;]/.test(address)) {
      problems.push({
        field: 'mail.address',
        message: trans.__('Give one e-mail address: %1', address)
      });
    }
    spec.mail = { address, when: form.mail_when };
  }
  const after = form.afterok.split(/[\s,]+/).filter(Boolean);
  if (after.length) {
    spec.afterok = after;
  }
  if (kind === 'notebook') {
    if (form.kernel.trim()) {
      spec.kernel = form.kernel.trim();
    }
    const parsed = parseParameters(form.parameters, trans);
    problems.push(...parsed.problems);
    if (Object.keys(parsed.parameters).length) {
      spec.parameters = parsed.parameters;
    }
  }
  return { spec: problems.length ? null : spec, problems };
}

/**
 * The form showing a spec (to resubmit a job, or to fill the form from a request).
 */
export function specToForm(spec: JobSpec, cluster: string): IJobForm {
  const text = (value: string | number | null | undefined): string =>
    value === null || value === undefined ? '' : String(value);
  return {
    cluster: spec.cluster ?? cluster,
    path: spec.path,
    name: text(spec.name),
    partition: text(spec.partition),
    nodes: text(spec.nodes),
    cpus: text(spec.cpus),
    memory: text(spec.memory),
    walltime: text(spec.walltime),
    gpus: text(spec.gpus),
    parameters: formatParameters(
      (spec.parameters ?? {}) as Record<string, unknown>
    ),
    account: text(spec.account),
    array: text(spec.array),
    afterok: (spec.afterok ?? []).join(', '),
    conda_env: text(spec.conda_env),
    kernel: text(spec.kernel),
    mail_address: spec.mail?.address ?? '',
    mail_when: spec.mail?.when ?? 'end'
  };
}

/**
 * Problems by field, in their given order: what the form shows next to each field.
 */
export function problemsByField(
  problems: readonly FieldProblem[]
): Map<string, string[]> {
  const byField = new Map<string, string[]>();
  for (const problem of problems) {
    const messages = byField.get(problem.field) ?? [];
    messages.push(problem.message);
    byField.set(problem.field, messages);
  }
  return byField;
}

/** A pipeline file: `<name>.pipeline.yaml` (or `.yml`), next to its notebooks. */
export function isPipelineFile(path: string): boolean {
  return /\.pipeline\.ya?ml$/i.test(path);
}

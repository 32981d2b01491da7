import type {
  ReplayCell,
  ReplayInput,
  ReplayOutput,
  ReplayReport
} from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

const VERDICTS = [
  'identical',
  'equivalent',
  'differs',
  'unverifiable'
] as const;

/**
 * The reproducibility report: a verdict per cell with its diff, what the cell declared of its
 * replay, the files it wrote and how each compares, the inputs' checks (and which copy the
 * replay read), the environment's differences from the lock, and the warnings.
 */
export function ReportView(props: {
  report: ReplayReport;
  trans: TranslationBundle;
  reportDir?: string;
  openPath?: (path: string) => void;
}): React.ReactElement {
  const { report, trans } = props;
  const labels: Record<(typeof VERDICTS)[number], string> = {
    identical: trans.__('identical'),
    equivalent: trans.__('equivalent'),
    differs: trans.__('differs'),
    unverifiable: trans.__('unverifiable')
  };
  const env = report.environment;
  return (
    <div
      className="jp-EspriVre-provReport"
      data-report-dir={props.reportDir ?? ''}
    >
      <h2>{trans.__('Reproducibility report of run %1', report.run_id)}</h2>
      <div className="jp-EspriVre-provSummary">
        {VERDICTS.map(v => (
          <span
            key={v}
            className={`jp-EspriVre-provVerdict jp-mod-${v}`}
            data-verdict={v}
          >
            {`${labels[v]}: ${report.summary[v]}`}
          </span>
        ))}
      </div>
      {props.reportDir && props.openPath && (
        <p>
          <button
            type="button"
            className="jp-EspriVre-provLink"
            onClick={() => props.openPath?.(`${props.reportDir}/report.html`)}
          >
            {trans.__('Open the HTML report')}
          </button>
        </p>
      )}
      {report.warnings.length > 0 && (
        <ul className="jp-EspriVre-provWarnings">
          {report.warnings.map(w => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <h3>{trans.__('Cells')}</h3>
      <ol className="jp-EspriVre-provCells">
        {report.cells.map(c => (
          <ReportCell
            key={c.order}
            cell={c}
            label={labels[c.verdict]}
            trans={trans}
          />
        ))}
      </ol>
      <h3>{trans.__('Inputs')}</h3>
      {report.inputs.length === 0 && (
        <p>
          {trans.__(
            'None: the run read no file that it had not written itself.'
          )}
        </p>
      )}
      <ul className="jp-EspriVre-provInputs">
        {report.inputs.map(i => (
          <ReportInput key={i.location} input={i} trans={trans} />
        ))}
      </ul>
      <h3>{trans.__('Environment')}</h3>
      {env.python?.recorded !== undefined && (
        <p>
          {env.python_differs
            ? trans.__(
                'Python %1 was recorded, %2 replayed.',
                env.python?.recorded ?? '?',
                env.python?.current ?? '?'
              )
            : trans.__('Same Python (%1).', env.python?.current ?? '?')}
        </p>
      )}
      {(env.changed ?? []).length > 0 && (
        <table className="jp-EspriVre-provPackages">
          <thead>
            <tr>
              <th>{trans.__('Package')}</th>
              <th>{trans.__('Recorded')}</th>
              <th>{trans.__('Now')}</th>
            </tr>
          </thead>
          <tbody>
            {(env.changed ?? []).map(p => (
              <tr key={p.name}>
                <td>{p.name}</td>
                <td>{p.recorded}</td>
                <td>{p.current}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(env.missing ?? []).length > 0 && (
        <p>{trans.__('Missing now: %1', (env.missing ?? []).join(', '))}</p>
      )}
    </div>
  );
}

function ReportCell(props: {
  cell: ReplayCell;
  label: string;
  trans: TranslationBundle;
}): React.ReactElement {
  const { cell, label, trans } = props;
  const outputs = cell.outputs ?? [];
  const dependsOn = cell.depends_on ?? [];
  return (
    <li
      className={`jp-EspriVre-provCell jp-mod-${cell.verdict}`}
      data-verdict={cell.verdict}
      data-cell-id={cell.cell_id ?? ''}
      data-declared={cell.declared ? 'true' : 'false'}
    >
      <span className="jp-EspriVre-provOrder">[{cell.order}]</span>{' '}
      <span className={`jp-EspriVre-provVerdict jp-mod-${cell.verdict}`}>
        {label}
      </span>
      {cell.declared && (
        <span className="jp-EspriVre-provDeclared">
          {' '}
          {trans.__('declared: %1', cell.declared)}
        </span>
      )}
      {cell.reason && (
        // The files' diffs are shown under each file: the cell's reason repeats them.
        <Reason text={cell.reason} diff={outputs.length === 0} />
      )}
      {dependsOn.length > 0 && (
        <div className="jp-EspriVre-provDependsOn">
          {trans.__('read the changed or missing %1', dependsOn.join(', '))}
        </div>
      )}
      {(cell.notes ?? []).length > 0 && (
        <ul className="jp-EspriVre-provNotes">
          {(cell.notes ?? []).map(n => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {outputs.length > 0 && (
        <ul className="jp-EspriVre-provOutputs">
          {outputs.map(o => (
            <ReportOutput key={o.original} output={o} trans={trans} />
          ))}
        </ul>
      )}
      {cell.diff && <pre className="jp-EspriVre-provDiff">{cell.diff}</pre>}
    </li>
  );
}

/**
 * A verdict's reason: its first line, then (with `diff`) the rest, a diff of the texts or
 * values, kept as written.
 */
function Reason(props: { text: string; diff: boolean }): React.ReactElement {
  const [head, ...rest] = props.text.split('\n');
  return (
    <>
      <span className="jp-EspriVre-provReason"> {head}</span>
      {props.diff && rest.length > 0 && (
        <pre className="jp-EspriVre-provDiff">{rest.join('\n')}</pre>
      )}
    </>
  );
}

function ReportOutput(props: {
  output: ReplayOutput;
  trans: TranslationBundle;
}): React.ReactElement {
  const { output, trans } = props;
  const labels: Record<ReplayOutput['verdict'], string> = {
    identical: trans.__('identical'),
    equivalent: trans.__('equivalent'),
    differs: trans.__('differs'),
    'not-written': trans.__('not written'),
    new: trans.__('new')
  };
  return (
    <li data-verdict={output.verdict} data-original={output.original}>
      <span className={`jp-EspriVre-provVerdict jp-mod-${output.verdict}`}>
        {labels[output.verdict]}
      </span>{' '}
      {output.path
        ? trans.__('%1 written to %2', output.original, output.path)
        : trans.__('%1 not written by the replay', output.original)}
      {output.reason && <Reason text={output.reason} diff={true} />}
    </li>
  );
}

function ReportInput(props: {
  input: ReplayInput;
  trans: TranslationBundle;
}): React.ReactElement {
  const { input, trans } = props;
  const sources: Record<NonNullable<ReplayInput['source']>, string> = {
    crate: trans.__('the copy in the crate'),
    folder: trans.__("the copy in the reviewer's folder"),
    original: trans.__('the original file')
  };
  const cells = (input.cells ?? []).map(c => `[${c.order}]`).join(' ');
  return (
    <li data-status={input.status} data-source={input.source ?? ''}>
      <span className={`jp-EspriVre-provInput jp-mod-${input.status}`}>
        {input.status}
      </span>{' '}
      <code>{input.location}</code>
      {input.detail && ` · ${input.detail}`}
      {input.source && (
        <span className="jp-EspriVre-provInputSource">
          {' · '}
          {trans.__('read from %1', sources[input.source])}
        </span>
      )}
      {cells && (
        <span className="jp-EspriVre-provReadBy">
          {' · '}
          {trans.__('read by %1', cells)}
        </span>
      )}
    </li>
  );
}

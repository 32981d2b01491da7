/**
 * The detail of one dataset or record, whatever catalogue it came from (intake-esm,
 * ESGF, STAC, THREDDS, CSW): its properties, variables, files or access URLs, citation
 * (with a Copy button) and licence, the code that opens it and the actions on it.
 * Catalogue text is rendered as text nodes only.
 */
import { isAbortError } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { type DatasetRecord, identifierUrl, safeUrl } from '../record';
import type { CodeResult } from './code';
import { datasetOfFiles } from './dataset-actions';
import { failureView, type FailureView } from './model';
import { Failure } from './widgets';

/** What the actions on a record need of the application. */
export interface RecordActions {
  insertCode(code: string): Promise<void>;
  copyCode(code: string): void;
  /** Why a record cannot be previewed, or null when it can. */
  previewUnavailable(record: DatasetRecord): string | null;
  /** Which access "Preview" reads (its tooltip). */
  previewVia?(record: DatasetRecord): string;
  preview(record: DatasetRecord): Promise<void>;
  /** Why footprints cannot be shown (no globe), or null when they can. */
  globeUnavailable(record: DatasetRecord): string | null;
  showOnGlobe(record: DatasetRecord): Promise<void>;
  isPinned(record: DatasetRecord): boolean;
  /**
   * Call `onChange` whenever the pins change elsewhere (the settings arriving after a
   * reload, another tab); returns the unsubscribe.
   */
  watchPins?(onChange: () => void): () => void;
  togglePin(record: DatasetRecord, code: string | null): Promise<void>;
  /** Why a record cannot be added to provenance, or null when it can. */
  provenanceUnavailable(record: DatasetRecord): string | null;
  /** Record it in the provenance of the notebook the code goes to. */
  addToProvenance(record: DatasetRecord): Promise<void>;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The properties of a record as label/value pairs, in a stable order. */
export function recordProperties(
  record: DatasetRecord
): Array<[string, string]> {
  const out: Array<[string, string]> = [['id', record.id]];
  if (record.version) {
    out.push(['version', record.version]);
  }
  if (record.size !== undefined) {
    out.push(['size', formatBytes(record.size)]);
  }
  const { pid, doi, instance_id, master_id, tracking_ids } = record.identifiers;
  if (doi) {
    out.push(['DOI', doi]);
  }
  if (pid) {
    out.push(['PID', pid]);
  }
  if (instance_id && instance_id !== record.id) {
    out.push(['instance_id', instance_id]);
  }
  if (master_id) {
    out.push(['master_id', master_id]);
  }
  if (tracking_ids && tracking_ids.length > 0) {
    out.push(['tracking_id', tracking_ids.join(', ')]);
  }
  if (record.temporal?.start || record.temporal?.end) {
    out.push([
      'time',
      `${record.temporal.start ?? '…'} – ${record.temporal.end ?? '…'}`
    ]);
  }
  if (record.spatial?.bbox) {
    out.push(['bbox', record.spatial.bbox.join(', ')]);
  }
  for (const [name, value] of Object.entries(record.dates ?? {})) {
    if (value) {
      out.push([name, value]);
    }
  }
  for (const [name, values] of Object.entries(record.facets)) {
    out.push([name, values.join(', ')]);
  }
  return out;
}

/** A link the panel may show: http(s) only, else null (shown as text). */
function httpLink(url: string | undefined): string | null {
  const safe = safeUrl(url);
  return safe !== undefined && /^https?:/i.test(safe) ? safe : null;
}

type FilesState =
  | { status: 'none' }
  | { status: 'loading' }
  | { status: 'ready'; files: DatasetRecord[] }
  | { status: 'error'; failure: FailureView };

export interface DatasetDetailProps {
  record: DatasetRecord;
  /**
   * Lists the files of a dataset (ESGF datasets), when the catalogue has that level.
   * Kept stable across renders: a new function lists the files again.
   */
  listFiles?: (
    record: DatasetRecord,
    signal: AbortSignal
  ) => Promise<DatasetRecord[]>;
  /** The code that opens the record, given its files when they are listed. */
  code: (files: DatasetRecord[] | undefined) => CodeResult;
  trans: TranslationBundle;
  actions: RecordActions;
  onClose: () => void;
  signal: AbortSignal;
}

/** What an action said last: done, or why it failed. */
type ActionMessage = { text: string; error: boolean } | null;

export function DatasetDetail(props: DatasetDetailProps): React.ReactElement {
  const { record, listFiles, trans, actions, signal } = props;
  const [files, setFiles] = React.useState<FilesState>({ status: 'none' });
  const [attempt, setAttempt] = React.useState(0);
  const [message, setMessage] = React.useState<ActionMessage>(null);
  const [, setPinTick] = React.useState(0);
  React.useEffect(() => setMessage(null), [record]);
  const listsFiles = listFiles !== undefined && record.parent_id === undefined;
  React.useEffect(() => {
    if (!listsFiles || listFiles === undefined) {
      setFiles({ status: 'none' });
      return;
    }
    let current = true;
    setFiles({ status: 'loading' });
    listFiles(record, signal).then(
      found => current && setFiles({ status: 'ready', files: found }),
      reason => {
        if (current && !isAbortError(reason) && !signal.aborted) {
          setFiles({
            status: 'error',
            failure: failureView(
              trans.__('The files of %1 could not be listed.', record.title),
              reason,
              trans
            )
          });
        }
      }
    );
    return () => {
      current = false;
    };
  }, [record, listFiles, listsFiles, signal, trans, attempt]);

  const code = props.code(files.status === 'ready' ? files.files : undefined);
  const codeText = 'code' in code ? code.code : null;
  const run = (
    what: string,
    action: () => Promise<void> | void,
    done: string
  ) => {
    Promise.resolve()
      .then(action)
      .then(
        () => setMessage({ text: done, error: false }),
        reason =>
          setMessage({
            text: `${what} ${failureView('', reason, trans).detail}`,
            error: true
          })
      );
  };
  const noCode = 'reason' in code ? code.reason : null;
  // A dataset whose files are listed (ESGF) is previewed as all of them, combined.
  const previewed =
    (files.status === 'ready' ? datasetOfFiles(record, files.files) : null) ??
    record;
  const previewWhy =
    files.status === 'loading'
      ? trans.__('Listing the files of the dataset first…')
      : actions.previewUnavailable(previewed);
  const globeWhy = actions.globeUnavailable(record);
  const provenanceWhy = actions.provenanceUnavailable(record);
  React.useEffect(
    () => actions.watchPins?.(() => setPinTick(tick => tick + 1)),
    [actions]
  );
  const pinned = actions.isPinned(record);
  const headingId = `espri-vre-record-${record.source.catalog_id}-detail`;

  return (
    <section
      className="jp-EspriVre-datasetDetail jp-EspriVre-recordDetail"
      aria-labelledby={headingId}
      data-record-id={record.id}
    >
      <div className="jp-EspriVre-row jp-mod-spread">
        <h3 id={headingId} className="jp-EspriVre-detailTitle">
          {record.title}
        </h3>
        <button
          type="button"
          className="jp-EspriVre-closeDetail jp-mod-styled"
          onClick={props.onClose}
        >
          {trans.__('Close')}
        </button>
      </div>
      <div className="jp-EspriVre-recordActions jp-EspriVre-row">
        <button
          type="button"
          className="jp-EspriVre-insertCode jp-mod-styled jp-mod-accept"
          disabled={codeText === null}
          title={
            noCode ??
            trans.__(
              'Insert the code that opens this dataset in a new cell below the active cell of the notebook'
            )
          }
          onClick={() =>
            codeText !== null &&
            run(
              trans.__('The code could not be inserted:'),
              () => actions.insertCode(codeText),
              trans.__('The code was inserted in the notebook.')
            )
          }
        >
          {trans.__('Insert code')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-copyCode jp-mod-styled"
          disabled={codeText === null}
          title={noCode ?? trans.__('Copy the code that opens it')}
          onClick={() =>
            codeText !== null &&
            run(
              trans.__('The code could not be copied:'),
              () => actions.copyCode(codeText),
              trans.__('The code was copied to the clipboard.')
            )
          }
        >
          {trans.__('Copy code')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-pin jp-mod-styled"
          aria-pressed={pinned}
          onClick={() =>
            run(
              trans.__('The pin could not be saved:'),
              async () => {
                await actions.togglePin(record, codeText);
                setPinTick(tick => tick + 1);
              },
              pinned
                ? trans.__('Unpinned.')
                : trans.__('Pinned: it is kept in your settings.')
            )
          }
        >
          {pinned ? trans.__('Unpin') : trans.__('Pin')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-previewDataset jp-mod-styled"
          disabled={previewWhy !== null}
          title={
            previewWhy ??
            actions.previewVia?.(previewed) ??
            trans.__('Preview it')
          }
          onClick={() =>
            run(
              trans.__('The preview could not be opened:'),
              () => actions.preview(previewed),
              trans.__('The preview was opened.')
            )
          }
        >
          {trans.__('Preview')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-showOnGlobe jp-mod-styled"
          disabled={globeWhy !== null}
          title={globeWhy ?? trans.__('Show its footprint on the globe')}
          onClick={() =>
            run(
              trans.__('The footprint could not be shown:'),
              () => actions.showOnGlobe(record),
              trans.__('The footprint is on the globe.')
            )
          }
        >
          {trans.__('Show on globe')}
        </button>
        <button
          type="button"
          className="jp-EspriVre-addToProvenance jp-mod-styled"
          disabled={provenanceWhy !== null}
          title={
            provenanceWhy ??
            trans.__(
              "Record this dataset, with its identifiers, in the notebook's provenance"
            )
          }
          onClick={() =>
            run(
              trans.__('The dataset could not be added to provenance:'),
              () => actions.addToProvenance(record),
              trans.__("The dataset is in the notebook's provenance.")
            )
          }
        >
          {trans.__('Add to provenance')}
        </button>
      </div>
      {[noCode, previewWhy, globeWhy, provenanceWhy]
        .filter((why): why is string => why !== null)
        .map(why => (
          <p key={why} className="jp-EspriVre-actionUnavailable">
            {why}
          </p>
        ))}
      <div
        role="status"
        className={`jp-EspriVre-actionMessage${message?.error ? ' jp-mod-error' : ''}`}
      >
        {message?.text ?? ''}
      </div>
      {record.description && (
        <p className="jp-EspriVre-recordDescription">{record.description}</p>
      )}
      <h4>{trans.__('Properties')}</h4>
      <dl className="jp-EspriVre-datasetFacets">
        {recordProperties(record).map(([name, value]) => (
          <div key={name} className="jp-EspriVre-row">
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h4>{trans.__('Variables')}</h4>
      <p className="jp-EspriVre-datasetVariables">
        {record.variables
          .map(variable =>
            variable.long_name
              ? `${variable.name} (${variable.long_name}${variable.units ? `, ${variable.units}` : ''})`
              : variable.name
          )
          .join(', ') || trans.__('none listed')}
      </p>
      <h4>{listsFiles ? trans.__('Files') : trans.__('Access')}</h4>
      {files.status === 'loading' && (
        <p role="status" aria-busy="true" className="jp-EspriVre-progress">
          {trans.__('Listing the files…')}
        </p>
      )}
      {files.status === 'error' && (
        <Failure
          failure={files.failure}
          trans={trans}
          onRetry={() => setAttempt(attempt + 1)}
        />
      )}
      <AccessList
        record={record}
        files={files.status === 'ready' ? files.files : [record]}
      />
      <Citation
        record={record}
        trans={trans}
        run={run}
        copy={actions.copyCode}
      />
      <h4>{trans.__('Code')}</h4>
      <pre className="jp-EspriVre-datasetCode">{codeText ?? noCode}</pre>
    </section>
  );
}

/** The access URLs of a record, or of each of its files. */
function AccessList(props: {
  record: DatasetRecord;
  files: DatasetRecord[];
}): React.ReactElement {
  const { record, files } = props;
  return (
    <ul className="jp-EspriVre-datasetAssets">
      {files.flatMap(item =>
        item.access.map((access, at) => (
          <li key={`${item.id}-${at}`}>
            {item !== record ? `${item.title}: ` : ''}
            {access.name ? `${access.name}: ` : ''}
            <code>{access.url}</code>
            {` (${access.service ?? access.protocol}${access.media_type ? `, ${access.media_type}` : ''})`}
            {access.size !== undefined || item.size !== undefined
              ? `, ${formatBytes(access.size ?? item.size ?? 0)}`
              : ''}
            {item.checksum
              ? `, ${item.checksum.type} ${item.checksum.value}`
              : ''}
          </li>
        ))
      )}
    </ul>
  );
}

/** The citation (with its Copy button) and the licence of a record. */
function Citation(props: {
  record: DatasetRecord;
  trans: TranslationBundle;
  run: (what: string, action: () => void, done: string) => void;
  copy: (text: string) => void;
}): React.ReactElement {
  const { record, trans, run, copy } = props;
  const doi = record.identifiers.doi ?? undefined;
  const citationUrl = httpLink(
    record.citation?.url ?? identifierUrl(record.identifiers)
  );
  const licenceUrl = httpLink(record.licence?.url);
  return (
    <>
      <h4>{trans.__('Citation')}</h4>
      {record.citation || doi ? (
        <div className="jp-EspriVre-citation">
          <p>{record.citation?.text ?? `doi:${doi}`}</p>
          {citationUrl && <p>{citationUrl}</p>}
          <button
            type="button"
            className="jp-EspriVre-copyCitation jp-mod-styled"
            onClick={() =>
              run(
                trans.__('The citation could not be copied:'),
                () =>
                  copy(record.citation?.text ?? `https://doi.org/${doi ?? ''}`),
                trans.__('The citation was copied to the clipboard.')
              )
            }
          >
            {trans.__('Copy citation')}
          </button>
        </div>
      ) : (
        <p>{trans.__('The catalogue gives no citation.')}</p>
      )}
      <h4>{trans.__('Licence')}</h4>
      <p className="jp-EspriVre-licence">
        {record.licence?.text ?? trans.__('The catalogue states no licence.')}
        {licenceUrl && ` (${licenceUrl})`}
      </p>
    </>
  );
}

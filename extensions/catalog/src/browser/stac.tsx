/**
 * The Catalogue Browser of a static STAC catalogue on the server's file system: walked
 * with `walkStaticCatalog` through the server's `data/files/` route, its items listed
 * with their assets.
 */
import { ApiError, NetworkError } from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { walkStaticCatalog } from '../adapters/stac';
import type { DatasetRecord } from '../record';
import { failureView, type FailureView } from './model';

export interface StacBrowserProps {
  catalogId: string;
  /** The root catalogue's absolute URL. */
  rootUrl: string;
  settings: ServerConnection.ISettings;
  trans: TranslationBundle;
  signal: AbortSignal;
  /** Shown when something fails: what failed and a Retry button. */
  renderFailure: (
    failure: FailureView,
    onRetry: () => void
  ) => React.ReactElement;
}

/** A JSON document read with the Jupyter credentials. */
async function fetchJson(
  url: string,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): Promise<unknown> {
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, { signal }, settings);
  } catch (reason) {
    if (signal?.aborted) {
      throw reason;
    }
    throw new NetworkError(url, reason);
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = `The server answered ${response.status} for ${url}.`;
    let error = `http-${response.status}`;
    try {
      const body = JSON.parse(text) as { error?: unknown; detail?: unknown };
      if (typeof body.error === 'string' && typeof body.detail === 'string') {
        error = body.error;
        detail = body.detail;
      }
    } catch {
      // Not the API's error JSON: the status sentence stands.
    }
    throw new ApiError({ status: response.status, error, detail, url });
  }
  return text;
}

type WalkState =
  | { status: 'walking'; records: DatasetRecord[]; problems: string[] }
  | { status: 'done'; records: DatasetRecord[]; problems: string[] }
  | { status: 'error'; failure: FailureView };

export function StacBrowser(props: StacBrowserProps): React.ReactElement {
  const { catalogId, rootUrl, settings, trans, signal } = props;
  const [attempt, setAttempt] = React.useState(0);
  const [state, setState] = React.useState<WalkState>({
    status: 'walking',
    records: [],
    problems: []
  });
  const [openId, setOpenId] = React.useState<string | null>(null);
  React.useEffect(() => {
    let current = true;
    const records: DatasetRecord[] = [];
    const problems: string[] = [];
    setState({ status: 'walking', records: [], problems: [] });
    const walk = async () => {
      for await (const entry of walkStaticCatalog(
        (url, abort) => fetchJson(url, settings, abort),
        rootUrl,
        { catalogId, signal }
      )) {
        if (!current) {
          return;
        }
        if (entry.kind === 'item') {
          records.push(entry.record);
        } else if (entry.kind === 'error') {
          problems.push(`${entry.url}: ${entry.error.message}`);
        }
        setState({
          status: 'walking',
          records: [...records],
          problems: [...problems]
        });
      }
      if (current) {
        setState({ status: 'done', records, problems });
      }
    };
    walk().catch(reason => {
      if (current && !signal.aborted) {
        setState({
          status: 'error',
          failure: failureView(
            trans.__('The STAC catalogue could not be read.'),
            reason,
            trans
          )
        });
      }
    });
    return () => {
      current = false;
    };
  }, [catalogId, rootUrl, settings, trans, signal, attempt]);

  if (state.status === 'error') {
    return props.renderFailure(state.failure, () => setAttempt(attempt + 1));
  }
  const open = state.records.find(record => record.id === openId);
  return (
    <div>
      <p
        className="jp-EspriVre-resultCount"
        data-count={state.records.length}
        role="status"
        aria-busy={state.status === 'walking'}
      >
        {state.status === 'walking'
          ? trans.__(
              'Reading the catalogue: %1 items so far…',
              state.records.length
            )
          : trans._n(
              '%1 item',
              '%1 items',
              state.records.length,
              state.records.length
            )}
      </p>
      {state.problems.length > 0 && (
        <div role="alert" className="jp-EspriVre-error">
          <p className="jp-EspriVre-errorTitle">
            {trans.__('Some documents of the catalogue could not be read:')}
          </p>
          {state.problems.map(problem => (
            <p key={problem} className="jp-EspriVre-errorDetail">
              {problem}
            </p>
          ))}
          <button
            type="button"
            className="jp-EspriVre-retry jp-mod-styled jp-mod-accept"
            onClick={() => setAttempt(attempt + 1)}
          >
            {trans.__('Retry')}
          </button>
        </div>
      )}
      <ul
        className="jp-EspriVre-datasets"
        aria-label={trans.__('Items')}
        style={{ listStyle: 'none', margin: 0, padding: 0 }}
      >
        {state.records.map(record => (
          <li
            key={record.id}
            className="jp-EspriVre-dataset"
            data-key={record.id}
            style={{ borderBottom: '1px solid var(--jp-border-color2)' }}
          >
            <button
              type="button"
              className="jp-EspriVre-datasetOpen"
              aria-expanded={record.id === openId}
              onClick={() => setOpenId(record.id === openId ? null : record.id)}
              style={{
                width: '100%',
                textAlign: 'left',
                background: 'none',
                border: 'none',
                padding: '6px 4px',
                color: 'inherit',
                cursor: 'pointer',
                font: 'inherit'
              }}
            >
              {record.title}
            </button>
          </li>
        ))}
      </ul>
      {open && (
        <section
          className="jp-EspriVre-datasetDetail"
          style={{
            marginTop: '12px',
            padding: '8px',
            border: '1px solid var(--jp-border-color1)',
            background: 'var(--jp-layout-color2)'
          }}
        >
          <h3 style={{ margin: 0, overflowWrap: 'anywhere' }}>{open.title}</h3>
          {open.description && <p>{open.description}</p>}
          <h4>{trans.__('Variables')}</h4>
          <p className="jp-EspriVre-datasetVariables">
            {open.variables.map(variable => variable.name).join(', ') ||
              trans.__('none listed')}
          </p>
          <h4>{trans.__('Assets')}</h4>
          <ul
            className="jp-EspriVre-datasetAssets"
            style={{ paddingLeft: '16px' }}
          >
            {open.access.map((access, at) => (
              <li key={at} style={{ overflowWrap: 'anywhere' }}>
                {access.name ? `${access.name}: ` : ''}
                <code>{access.url}</code>
                {access.media_type ? ` (${access.media_type})` : ''}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

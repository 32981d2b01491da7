/**
 * A paged table of the rows `data/table` sends as Arrow IPC.
 */
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { tableFromIPC, type Table } from 'apache-arrow';
import React, { useEffect, useState } from 'react';
import { fetchTable } from './connection';

export const PAGE_ROWS = 100;

export interface ITableViewProps {
  path: string;
  settings: ServerConnection.ISettings;
  trans: TranslationBundle;
}

export function TableView(props: ITableViewProps): JSX.Element {
  const { path, settings, trans } = props;
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ table: Table; total: number } | null>(
    null
  );
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    fetchTable(path, offset, PAGE_ROWS, settings, controller.signal)
      .then(({ bytes, total }) =>
        setPage({ table: tableFromIPC(bytes), total })
      )
      .catch(reason => {
        if (!controller.signal.aborted) {
          setError(
            trans.__(
              'The rows of %1 could not be read: %2. Check that the file is a complete Parquet, CSV or Arrow file.',
              path,
              String(reason?.detail ?? reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
  }, [path, offset, settings, trans]);

  if (error) {
    return (
      <div className="jp-EspriVre-previewError" role="alert">
        {error}
      </div>
    );
  }
  if (!page) {
    return (
      <div className="jp-EspriVre-previewProgress">
        {trans.__('Loading rows…')}
      </div>
    );
  }
  const fields = page.table.schema.fields;
  const rows = page.table.toArray();
  const last = Math.min(offset + rows.length, page.total);
  return (
    <div className="jp-EspriVre-previewBody">
      <div className="jp-EspriVre-previewControls">
        <button
          className="jp-mod-styled"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE_ROWS))}
        >
          {trans.__('Previous')}
        </button>
        <span className="jp-EspriVre-tableRange">
          {trans.__(
            'Rows %1–%2 of %3',
            rows.length ? offset + 1 : 0,
            last,
            page.total
          )}
        </span>
        <button
          className="jp-mod-styled"
          disabled={last >= page.total}
          onClick={() => setOffset(offset + PAGE_ROWS)}
        >
          {trans.__('Next')}
        </button>
      </div>
      <table className="jp-EspriVre-previewTable">
        <thead>
          <tr>
            {fields.map(f => (
              <th key={f.name} title={String(f.type)}>
                {f.name}
                <span className="jp-EspriVre-columnType">{String(f.type)}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={offset + i}>
              {fields.map(f => (
                <td key={f.name}>
                  {cellText((row as Record<string, unknown>)[f.name])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  if (typeof value === 'object') {
    return JSON.stringify(value, (_, v) =>
      typeof v === 'bigint' ? v.toString() : v
    );
  }
  return String(value);
}

/**
 * The Catalogue Browser of ESGF, STAC (API or static), THREDDS and CSW catalogues:
 * free text, facets with counts, a bbox and a time range where the source supports
 * them, pages of results with progress in a virtualised list, a record's detail and
 * the actions on it. Remote catalogues are reached through the server's proxy.
 */
import type { CatalogStatus } from '@espri-vre/core';
import { isAbortError } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { DatasetRecord, FacetCounts } from '../record';
import { BBoxPicker } from './bbox';
import { recordCode } from './code';
import { DatasetDetail, type RecordActions } from './detail';
import type { Fetcher } from './fetcher';
import { failureView, type FailureView } from './model';
import {
  browserPart,
  countFacets,
  EMPTY_QUERY,
  filterRecords,
  type RemoteQuery,
  serverKey,
  toggleFacet
} from './query';
import {
  type CatalogSource,
  type Cursor,
  ESGF_FACETS,
  openSource
} from './sources';
import { DatasetList } from './virtual';
import { Facet, Failure, Opening, ShareSearchButton } from './widgets';

/** What the remote browser asks of the application besides the record actions. */
export interface RemoteBrowserActions extends RecordActions {
  /** The link that opens this search (the search state in the URL). */
  shareLink(catalogId: string, query: RemoteQuery): string;
  /** Offer text as a file to save. */
  saveFile(name: string, text: string): void;
}

export interface RemoteBrowserProps {
  catalog: Pick<CatalogStatus, 'id' | 'title' | 'kind' | 'url'>;
  /** How requests reach the catalogue (the proxy, or the server's files route). */
  fetcher: Fetcher;
  /** The URL the source is opened at (the proxied URL, or the files route of a root). */
  entryUrl: string;
  /** Where the kernel reads a static STAC item given its document URL. */
  kernelLocation?: (documentUrl: string) => string;
  trans: TranslationBundle;
  actions: RemoteBrowserActions;
  signal: AbortSignal;
  initialQuery?: RemoteQuery;
  /** Told of each new query (the state a reload restores). */
  onQueryChange?: (query: RemoteQuery) => void;
}

/** Height of a result row in pixels. */
export const ROW_HEIGHT = 46;

type SourceState =
  | { status: 'opening' }
  | { status: 'error'; failure: FailureView }
  | { status: 'ready'; source: CatalogSource };

interface Results {
  key: string;
  records: DatasetRecord[];
  total: number | null;
  facets: FacetCounts | null;
  next: Cursor | null;
  problems: string[];
  loading: boolean;
  failure: FailureView | null;
}

const NO_RESULTS: Results = {
  key: '',
  records: [],
  total: null,
  facets: null,
  next: null,
  problems: [],
  loading: true,
  failure: null
};

function facetNote(
  source: CatalogSource,
  results: Results,
  trans: TranslationBundle
): string | undefined {
  if (source.server.facets && results.facets !== null) {
    return undefined;
  }
  return trans.__('Counts over the %1 records loaded.', results.records.length);
}

export function RemoteBrowser(props: RemoteBrowserProps): React.ReactElement {
  const { catalog, fetcher, entryUrl, trans, signal } = props;
  const [attempt, setAttempt] = React.useState(0);
  const [latest, setLatest] = React.useState(true);
  const [state, setState] = React.useState<SourceState>({ status: 'opening' });
  React.useEffect(() => {
    let current = true;
    setState({ status: 'opening' });
    openSource({
      catalogId: catalog.id,
      kind: catalog.kind,
      url: entryUrl,
      fetcher,
      latest,
      signal
    }).then(
      source => current && setState({ status: 'ready', source }),
      reason => {
        if (current && !isAbortError(reason) && !signal.aborted) {
          setState({
            status: 'error',
            failure: failureView(
              trans.__(
                'The catalogue "%1" could not be opened.',
                catalog.title
              ),
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
  }, [
    catalog.id,
    catalog.kind,
    catalog.title,
    entryUrl,
    fetcher,
    latest,
    signal,
    trans,
    attempt
  ]);

  if (state.status !== 'ready') {
    return (
      <Opening
        progress={trans.__('Opening the catalogue…')}
        failure={state.status === 'error' ? state.failure : null}
        trans={trans}
        onRetry={() => setAttempt(attempt + 1)}
      />
    );
  }
  return (
    <RemoteSearch
      {...props}
      source={state.source}
      latest={latest}
      onLatest={setLatest}
    />
  );
}

function RemoteSearch(
  props: RemoteBrowserProps & {
    source: CatalogSource;
    latest: boolean;
    onLatest: (latest: boolean) => void;
  }
): React.ReactElement {
  const { source, trans, signal, catalog, actions } = props;
  const [query, setQuery] = React.useState<RemoteQuery>(
    props.initialQuery ?? EMPTY_QUERY
  );
  const [draft, setDraft] = React.useState(query.text);
  const [results, setResults] = React.useState<Results>(NO_RESULTS);
  const [attempt, setAttempt] = React.useState(0);
  const [open, setOpen] = React.useState<DatasetRecord | null>(null);
  const [checked, setChecked] = React.useState<ReadonlySet<string>>(new Set());
  const [note, setNote] = React.useState<{
    text: string;
    error: boolean;
  } | null>(null);
  const key = serverKey(query, source.server);
  const { onQueryChange } = props;
  React.useEffect(() => onQueryChange?.(query), [query, onQueryChange]);
  const searchController = React.useRef<AbortController | null>(null);

  const abortable = (): AbortController => {
    searchController.current?.abort();
    const controller = new AbortController();
    searchController.current = controller;
    signal.addEventListener('abort', () => controller.abort(), { once: true });
    return controller;
  };

  React.useEffect(() => {
    const controller = abortable();
    setResults({ ...NO_RESULTS, key });
    setOpen(null);
    setChecked(new Set());
    source.search(query, controller.signal).then(
      page => {
        if (!controller.signal.aborted) {
          setResults({
            key,
            records: page.records,
            total: page.total,
            facets: page.facets,
            next: page.next,
            problems: page.problems,
            loading: false,
            failure: null
          });
        }
      },
      reason => {
        if (!controller.signal.aborted && !isAbortError(reason)) {
          setResults({
            ...NO_RESULTS,
            key,
            loading: false,
            failure: failureView(
              trans.__('The search in "%1" failed.', catalog.title),
              reason,
              trans
            )
          });
        }
      }
    );
    return () => controller.abort();
    // The query's server-side parts are in `key`; the rest is applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source, key, attempt]);

  const loadMore = () => {
    const cursor = results.next;
    if (cursor === null || results.loading) {
      return;
    }
    const controller = abortable();
    setResults({ ...results, loading: true, failure: null });
    source.more(cursor, controller.signal).then(
      page => {
        if (!controller.signal.aborted) {
          setResults(previous => ({
            ...previous,
            records: [...previous.records, ...page.records],
            total: page.total ?? previous.total,
            facets: page.facets ?? previous.facets,
            next: page.next,
            problems: [...previous.problems, ...page.problems],
            loading: false
          }));
        }
      },
      reason => {
        if (!controller.signal.aborted && !isAbortError(reason)) {
          setResults(previous => ({
            ...previous,
            loading: false,
            failure: failureView(
              trans.__(
                'The next page of "%1" could not be loaded.',
                catalog.title
              ),
              reason,
              trans
            )
          }));
        }
      }
    );
  };

  const local = browserPart(query, source.server);
  const shown = React.useMemo(
    () => filterRecords(results.records, local),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [results.records, JSON.stringify(local)]
  );
  const counts = React.useMemo<FacetCounts>(() => {
    const out: FacetCounts =
      source.server.facets && results.facets !== null
        ? results.facets
        : countFacets(results.records, local);
    for (const [name, values] of Object.entries(source.knownFacets)) {
      const have = new Set((out[name] ?? []).map(entry => entry.value));
      out[name] = [
        ...(out[name] ?? []),
        ...values
          .filter(value => !have.has(value))
          .map(value => ({ value, count: 0 }))
      ];
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [results.records, results.facets, source, JSON.stringify(local)]);
  const facetNames = (
    source.kind === 'esgf'
      ? ESGF_FACETS
      : Object.keys(counts).sort((a, b) =>
          a === 'collection' ? -1 : b === 'collection' ? 1 : a.localeCompare(b)
        )
  ).filter(name => (counts[name]?.length ?? 0) > 0 || query.facets[name]);

  const total = results.total;
  const progress =
    total !== null && total > 0
      ? Math.min(1, results.records.length / total)
      : null;
  const resultText = (() => {
    if (results.loading && results.records.length === 0) {
      return trans.__('Searching…');
    }
    const parts = [
      trans._n('%1 result', '%1 results', shown.length, shown.length)
    ];
    if (shown.length !== results.records.length) {
      parts.push(trans.__('(of %1 loaded)', results.records.length));
    }
    if (total !== null) {
      parts.push(trans.__('— %1 match on the server', total));
    } else if (results.next !== null) {
      parts.push(trans.__('— more to load'));
    }
    return parts.join(' ');
  })();

  const codeContext = (record: DatasetRecord) => {
    const documentUrl = source.documentUrl?.(record);
    return {
      kind: source.kind,
      apiUrl: source.url,
      itemLocation:
        documentUrl === undefined
          ? undefined
          : (props.kernelLocation?.(documentUrl) ?? documentUrl)
    };
  };

  const checkedRecords = results.records.filter(record =>
    checked.has(record.id)
  );
  const say = (text: string, error = false) => setNote({ text, error });

  return (
    <div className="jp-EspriVre-browserBody">
      <form
        className="jp-EspriVre-facets"
        aria-label={trans.__('Search')}
        onSubmit={event => {
          event.preventDefault();
          setQuery({ ...query, text: draft });
        }}
      >
        <div className="jp-EspriVre-searchRow jp-EspriVre-row jp-mod-nowrap">
          <input
            type="search"
            className="jp-EspriVre-searchText jp-mod-styled"
            aria-label={trans.__('Search text')}
            placeholder={trans.__('Search…')}
            value={draft}
            onChange={event => setDraft(event.target.value)}
          />
          <button
            type="submit"
            className="jp-EspriVre-searchButton jp-mod-styled"
          >
            {trans.__('Search')}
          </button>
        </div>
        {source.kind === 'esgf' && (
          <label className="jp-EspriVre-latestLabel jp-EspriVre-row">
            <input
              type="checkbox"
              className="jp-EspriVre-latestOnly"
              checked={props.latest}
              onChange={event => props.onLatest(event.target.checked)}
            />
            {trans.__('Latest versions only')}
          </label>
        )}
        {source.spatial && (
          <BBoxPicker
            value={query.bbox}
            trans={trans}
            onChange={bbox => {
              const next = { ...query };
              if (bbox === undefined) {
                delete next.bbox;
              } else {
                next.bbox = bbox;
              }
              setQuery(next);
            }}
          />
        )}
        {source.temporal && (
          <fieldset className="jp-EspriVre-timeRange">
            <legend>{trans.__('Time')}</legend>
            {(['start', 'end'] as const).map(bound => (
              <label key={bound} className="jp-EspriVre-row">
                <span className="jp-EspriVre-boundLabel">
                  {bound === 'start' ? trans.__('From') : trans.__('To')}
                </span>
                <input
                  type="date"
                  className={`jp-mod-styled jp-EspriVre-time-${bound}`}
                  value={query[bound] ?? ''}
                  onChange={event => {
                    const next = { ...query };
                    if (event.target.value === '') {
                      delete next[bound];
                    } else {
                      next[bound] = event.target.value;
                    }
                    setQuery(next);
                  }}
                />
              </label>
            ))}
          </fieldset>
        )}
        {facetNames.map(name => (
          <Facet
            key={name}
            column={name}
            counts={counts[name] ?? []}
            selected={query.facets[name] ?? []}
            trans={trans}
            note={facetNote(source, results, trans)}
            onToggle={(column, value) =>
              setQuery(toggleFacet(query, column, String(value)))
            }
          />
        ))}
        {(Object.keys(query.facets).length > 0 ||
          query.text !== '' ||
          query.bbox ||
          query.start ||
          query.end) && (
          <button
            type="button"
            className="jp-EspriVre-clearFacets jp-mod-styled"
            onClick={() => {
              setDraft('');
              setQuery(EMPTY_QUERY);
            }}
          >
            {trans.__('Clear the search')}
          </button>
        )}
      </form>
      <div className="jp-EspriVre-results">
        <div className="jp-EspriVre-toolbar jp-EspriVre-row">
          <ShareSearchButton
            link={() => actions.shareLink(catalog.id, query)}
            copy={text => actions.copyCode(text)}
            trans={trans}
            onDone={say}
          />
          {source.wgetScript !== undefined && (
            <button
              type="button"
              className="jp-EspriVre-wget jp-mod-styled"
              disabled={checkedRecords.length === 0}
              title={
                checkedRecords.length === 0
                  ? trans.__('Tick datasets in the list first.')
                  : trans.__('Download a wget script for the ticked datasets')
              }
              onClick={() => {
                source.wgetScript?.(checkedRecords, signal).then(
                  script => {
                    actions.saveFile('wget-esgf.sh', script);
                    say(
                      trans._n(
                        'The wget script of %1 dataset was saved.',
                        'The wget script of %1 datasets was saved.',
                        checkedRecords.length,
                        checkedRecords.length
                      )
                    );
                  },
                  reason =>
                    say(
                      `${trans.__('The wget script could not be made:')} ${failureView('', reason, trans).detail}`,
                      true
                    )
                );
              }}
            >
              {trans._n(
                'wget script (%1 dataset)',
                'wget script (%1 datasets)',
                checkedRecords.length,
                checkedRecords.length
              )}
            </button>
          )}
        </div>
        <div
          role="status"
          className={`jp-EspriVre-browserMessage${note?.error ? ' jp-mod-error' : ''}`}
        >
          {note?.text ?? ''}
        </div>
        {results.failure && (
          <Failure
            failure={results.failure}
            trans={trans}
            onRetry={() =>
              results.records.length === 0
                ? setAttempt(attempt + 1)
                : loadMore()
            }
          />
        )}
        <p
          className="jp-EspriVre-resultCount"
          data-count={shown.length}
          data-loaded={results.records.length}
          aria-busy={results.loading}
          role="status"
        >
          {resultText}
        </p>
        {progress !== null && (
          <progress
            className="jp-EspriVre-pageProgress"
            value={results.records.length}
            max={total ?? undefined}
            aria-label={trans.__('Results loaded')}
          />
        )}
        {results.problems.length > 0 && (
          <div role="alert" className="jp-EspriVre-error">
            <p className="jp-EspriVre-errorTitle">
              {trans.__('Some documents of the catalogue could not be read:')}
            </p>
            {results.problems.slice(0, 20).map(problem => (
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
        <DatasetList
          items={shown}
          rowHeight={ROW_HEIGHT}
          ariaLabel={trans.__('Results')}
          datasetKey={record => record.id}
          renderRow={record => (
            <div className="jp-EspriVre-recordRow jp-EspriVre-row jp-mod-nowrap">
              {source.wgetScript !== undefined && (
                <input
                  type="checkbox"
                  className="jp-EspriVre-selectRecord"
                  aria-label={trans.__('Select %1', record.title)}
                  checked={checked.has(record.id)}
                  onChange={() => {
                    const next = new Set(checked);
                    if (next.has(record.id)) {
                      next.delete(record.id);
                    } else {
                      next.add(record.id);
                    }
                    setChecked(next);
                  }}
                />
              )}
              <button
                type="button"
                className="jp-EspriVre-datasetOpen"
                aria-expanded={open === record}
                onClick={() => setOpen(open === record ? null : record)}
              >
                <span className="jp-EspriVre-recordTitle">{record.title}</span>
                <span className="jp-EspriVre-recordId">{record.id}</span>
              </button>
            </div>
          )}
        />
        {results.next !== null && (
          <button
            type="button"
            className="jp-EspriVre-loadMore jp-mod-styled"
            disabled={results.loading}
            onClick={loadMore}
          >
            {results.loading
              ? trans.__('Loading…')
              : total !== null
                ? trans.__(
                    'Load more (%1 of %2 loaded)',
                    results.records.length,
                    total
                  )
                : trans.__('Load more (%1 loaded)', results.records.length)}
          </button>
        )}
        {open && (
          <DatasetDetail
            record={open}
            listFiles={source.files}
            code={files => recordCode(open, { ...codeContext(open), files })}
            trans={trans}
            actions={actions}
            signal={signal}
            onClose={() => setOpen(null)}
          />
        )}
      </div>
    </div>
  );
}

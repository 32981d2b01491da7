/**
 * The Catalogue Browser of an intake-esm catalogue: the table loaded once with its
 * progress, facets with counts, the datasets the selection finds (grouped as
 * intake-esm groups them) and an opened dataset's detail.
 */
import { isAbortError } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import {
  datasetRecord,
  groupDatasets,
  type IntakeDataset
} from '../intake/group';
import { facetedSearch } from '../intake/search';
import { type CatalogBrowserProps, recordActions } from './actions';
import { DatasetDetail } from './detail';
import {
  loadIntakeCatalog,
  type LoadedIntakeCatalog,
  type LoadProgress
} from './load';
import {
  datasetCode,
  type FacetSelection,
  type FacetValueView,
  facetColumns,
  failureView,
  type FailureView,
  previewPath,
  selectionQuery,
  toggleValue
} from './model';
import { DatasetList } from './virtual';
import { Facet, Failure, Opening, ShareSearchButton } from './widgets';

/** Height of a dataset row of an intake-esm catalogue, in pixels. */
const INTAKE_ROW_HEIGHT = 32;

type LoadState =
  | { status: 'loading'; progress: LoadProgress | null }
  | { status: 'error'; failure: FailureView }
  | { status: 'ready'; loaded: LoadedIntakeCatalog };

function progressText(
  progress: LoadProgress | null,
  trans: TranslationBundle
): string {
  if (progress === null || progress.step === 'collection') {
    return trans.__('Loading the catalogue description…');
  }
  if (progress.step === 'decode') {
    return trans.__('Reading the table (%1 bytes)…', progress.received);
  }
  return progress.total
    ? trans.__(
        'Loading the table: %1 of %2 bytes…',
        progress.received,
        progress.total
      )
    : trans.__('Loading the table: %1 bytes…', progress.received);
}

export function IntakeBrowser(props: CatalogBrowserProps): React.ReactElement {
  const { catalog, settings, trans, signal } = props;
  const [attempt, setAttempt] = React.useState(0);
  const [state, setState] = React.useState<LoadState>({
    status: 'loading',
    progress: null
  });
  React.useEffect(() => {
    let current = true;
    setState({ status: 'loading', progress: null });
    const failed = (reason: unknown) => {
      if (current && !isAbortError(reason) && !signal.aborted) {
        setState({
          status: 'error',
          failure: failureView(
            trans.__('The catalogue "%1" could not be loaded.', catalog.title),
            reason,
            trans
          )
        });
      }
    };
    loadIntakeCatalog(catalog.id, settings, signal, progress => {
      if (current) {
        setState({ status: 'loading', progress });
      }
    }).then(loaded => {
      if (!current) {
        return;
      }
      // Searchable now; the paths follow (the dataset details wait for them).
      setState({ status: 'ready', loaded });
      if (loaded.pending.length > 0) {
        loaded.complete.then(table => {
          if (current) {
            setState({
              status: 'ready',
              loaded: { ...loaded, table, pending: [] }
            });
          }
        }, failed);
      }
    }, failed);
    return () => {
      current = false;
    };
  }, [catalog.id, catalog.title, settings, signal, trans, attempt]);

  if (state.status !== 'ready') {
    return (
      <Opening
        progress={progressText(
          state.status === 'loading' ? state.progress : null,
          trans
        )}
        failure={state.status === 'error' ? state.failure : null}
        trans={trans}
        onRetry={() => setAttempt(attempt + 1)}
      />
    );
  }
  return <IntakeSearch {...props} loaded={state.loaded} />;
}

interface SearchOutcome {
  datasets: IntakeDataset[];
  facetCounts: ReturnType<typeof facetedSearch>['facetCounts'];
  failure: FailureView | null;
}

function IntakeSearch(
  props: CatalogBrowserProps & { loaded: LoadedIntakeCatalog }
): React.ReactElement {
  const { loaded, trans, catalog } = props;
  const { table, collection } = loaded;
  // A shared link names values by their text, which is what intake-esm's text columns
  // hold.
  const [selection, setSelection] = React.useState<FacetSelection>(
    () => props.initialQuery?.facets ?? {}
  );
  const { onQueryChange } = props;
  React.useEffect(
    () =>
      onQueryChange?.({
        text: '',
        facets: Object.fromEntries(
          Object.entries(selection).map(([name, values]) => [
            name,
            values.map(String)
          ])
        )
      }),
    [selection, onQueryChange]
  );
  const [shareNote, setShareNote] = React.useState<string | null>(null);
  const [openKey, setOpenKey] = React.useState<string | null>(null);
  const columns = React.useMemo(
    () => facetColumns(collection, table),
    [collection, table]
  );
  const outcome = React.useMemo<SearchOutcome>(() => {
    try {
      const found = facetedSearch(table, selectionQuery(selection), {
        facets: columns
      });
      return {
        datasets: groupDatasets(table, found.rows, collection),
        facetCounts: found.facetCounts,
        failure: null
      };
    } catch (error) {
      return {
        datasets: [],
        facetCounts: {},
        failure: failureView(
          trans.__('The search could not be done.'),
          error,
          trans
        )
      };
    }
  }, [collection, table, columns, selection, trans]);

  const onToggle = (column: string, value: FacetValueView['value']) => {
    setSelection(toggleValue(selection, column, value));
  };
  const open = outcome.datasets.find(dataset => dataset.key === openKey);
  // One record per opened dataset: the detail keeps its messages while it stays.
  const record = React.useMemo(
    () =>
      open === undefined
        ? null
        : datasetRecord(table, collection, open, catalog.id),
    [table, collection, open, catalog.id]
  );
  const actions = React.useMemo(
    () =>
      recordActions(
        props,
        {
          localPath: previewPath,
          noLocalPath: trans.__(
            'This dataset has no file or Zarr store on the server to preview.'
          ),
          noFootprint: trans.__(
            'The catalogue gives no footprint for this dataset.'
          )
        },
        () => undefined
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [props.actions, trans]
  );

  return (
    <div className="jp-EspriVre-browserBody">
      <form
        className="jp-EspriVre-facets"
        aria-label={trans.__('Facets')}
        onSubmit={event => event.preventDefault()}
      >
        {columns.map(column => (
          <Facet
            key={column}
            column={column}
            counts={outcome.facetCounts[column] ?? []}
            selected={selection[column] ?? []}
            trans={trans}
            onToggle={onToggle}
          />
        ))}
        {Object.keys(selection).length > 0 && (
          <button
            type="button"
            className="jp-EspriVre-clearFacets jp-mod-styled"
            onClick={() => setSelection({})}
          >
            {trans.__('Clear the selection')}
          </button>
        )}
      </form>
      <div className="jp-EspriVre-results">
        {props.actions.shareLink !== undefined && (
          <div className="jp-EspriVre-toolbar jp-EspriVre-row">
            <ShareSearchButton
              link={() => {
                const facets: Record<string, string[]> = {};
                for (const [column, values] of Object.entries(selection)) {
                  facets[column] = values.map(value => String(value));
                }
                return (
                  props.actions.shareLink?.(catalog.id, { text: '', facets }) ??
                  ''
                );
              }}
              copy={text => props.actions.copyCode(text)}
              trans={trans}
              onDone={setShareNote}
            />
            <span role="status" className="jp-EspriVre-browserMessage">
              {shareNote ?? ''}
            </span>
          </div>
        )}
        {outcome.failure ? (
          <Failure
            failure={outcome.failure}
            trans={trans}
            onRetry={() => setSelection({})}
          />
        ) : (
          <p
            className="jp-EspriVre-resultCount"
            data-count={outcome.datasets.length}
            role="status"
          >
            {trans._n(
              '%1 dataset',
              '%1 datasets',
              outcome.datasets.length,
              outcome.datasets.length
            )}
          </p>
        )}
        <DatasetList
          items={outcome.datasets}
          rowHeight={INTAKE_ROW_HEIGHT}
          ariaLabel={trans.__('Datasets')}
          datasetKey={dataset => dataset.key}
          renderRow={dataset => (
            <button
              type="button"
              className="jp-EspriVre-datasetOpen"
              aria-expanded={dataset.key === openKey}
              title={dataset.key}
              onClick={() =>
                setOpenKey(dataset.key === openKey ? null : dataset.key)
              }
            >
              {dataset.key}{' '}
              <span className="jp-EspriVre-datasetFiles">
                {trans._n(
                  '(%1 file)',
                  '(%1 files)',
                  dataset.rows.length,
                  dataset.rows.length
                )}
              </span>
            </button>
          )}
        />
        {open && loaded.pending.length > 0 && (
          <div
            role="status"
            aria-busy="true"
            className="jp-EspriVre-detailPending jp-EspriVre-progress"
          >
            {trans.__('Loading the file paths of the catalogue…')}
          </div>
        )}
        {open && record && loaded.pending.length === 0 && (
          <DatasetDetail
            record={record}
            code={() => ({
              code: datasetCode({
                catalog: catalog.url,
                collection,
                columnsWithIterables: loaded.columnsWithIterables,
                selection,
                dataset: open,
                record
              })
            })}
            trans={trans}
            actions={actions}
            signal={props.signal}
            onClose={() => setOpenKey(null)}
          />
        )}
      </div>
    </div>
  );
}

/**
 * Parts the Catalogue Browser's views share: a failure with its Retry button, a
 * catalogue being opened, the button that shares a search, and a facet's list of
 * values with counts and a filter box.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import {
  facetView,
  failureView,
  type FacetValueView,
  type FailureView
} from './model';

/** What failed, why, and a Retry button. */
export function Failure(props: {
  failure: FailureView;
  trans: TranslationBundle;
  onRetry: () => void;
}): React.ReactElement {
  const { failure, trans, onRetry } = props;
  return (
    <div role="alert" className="jp-EspriVre-error">
      <p className="jp-EspriVre-errorTitle">{failure.title}</p>
      <p className="jp-EspriVre-errorDetail">{failure.detail}</p>
      <button
        type="button"
        className="jp-EspriVre-retry jp-mod-styled jp-mod-accept"
        onClick={onRetry}
      >
        {trans.__('Retry')}
      </button>
    </div>
  );
}

/**
 * A catalogue that is not open yet: what it is doing, or what failed with a Retry
 * button.
 */
export function Opening(props: {
  progress: string;
  failure: FailureView | null;
  trans: TranslationBundle;
  onRetry: () => void;
}): React.ReactElement {
  const { progress, failure, trans, onRetry } = props;
  if (failure !== null) {
    return <Failure failure={failure} trans={trans} onRetry={onRetry} />;
  }
  return (
    <div role="status" className="jp-EspriVre-progress" aria-busy="true">
      {progress}
    </div>
  );
}

/**
 * The button that copies a link opening the current search; `onDone` is given what to
 * say: that the link was copied, or why it was not.
 */
export function ShareSearchButton(props: {
  link: () => string;
  copy: (text: string) => void;
  trans: TranslationBundle;
  onDone: (message: string, error: boolean) => void;
}): React.ReactElement {
  const { link, copy, trans, onDone } = props;
  return (
    <button
      type="button"
      className="jp-EspriVre-shareSearch jp-mod-styled"
      title={trans.__('Copy a link that opens this search')}
      onClick={() => {
        try {
          copy(link());
          onDone(trans.__('The link to this search was copied.'), false);
        } catch (error) {
          onDone(failureView('', error, trans).detail, true);
        }
      }}
    >
      {trans.__('Copy link to this search')}
    </button>
  );
}

/** One facet: its values with counts (ticked ones first), a filter box when long. */
export function Facet(props: {
  column: string;
  counts: Parameters<typeof facetView>[1];
  selected: readonly FacetValueView['value'][];
  trans: TranslationBundle;
  onToggle: (column: string, value: FacetValueView['value']) => void;
  /** A note under the legend (where the counts come from). */
  note?: string;
}): React.ReactElement {
  const { column, counts, selected, trans, onToggle } = props;
  const [filter, setFilter] = React.useState('');
  const view = facetView(column, counts, selected, filter);
  return (
    <fieldset className="jp-EspriVre-facet" data-facet={column}>
      <legend>{column}</legend>
      {props.note !== undefined && (
        <p className="jp-EspriVre-facetNote">{props.note}</p>
      )}
      {view.filterable && (
        <input
          type="search"
          className="jp-EspriVre-facetFilter jp-mod-styled"
          placeholder={trans.__('Filter %1 values', view.total)}
          aria-label={trans.__('Filter the values of %1', column)}
          value={filter}
          onChange={event => setFilter(event.target.value)}
        />
      )}
      {view.values.map(value => (
        <label
          key={value.label}
          className="jp-EspriVre-facetValue jp-EspriVre-row jp-mod-nowrap"
          data-value={value.label}
        >
          <input
            type="checkbox"
            checked={value.selected}
            onChange={() => onToggle(column, value.value)}
          />
          <span className="jp-EspriVre-facetLabel">{value.label}</span>
          <span className="jp-EspriVre-facetCount">{value.count}</span>
        </label>
      ))}
      {view.hidden > 0 && (
        <p className="jp-EspriVre-facetHidden">
          {trans.__('%1 more: filter to find them', view.hidden)}
        </p>
      )}
    </fieldset>
  );
}

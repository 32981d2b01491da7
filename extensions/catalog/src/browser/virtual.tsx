/**
 * A list that renders only the rows in view (fixed-height rows between two spacers),
 * so that 10,000 or 100,000 results scroll as a short list does.
 */
import * as React from 'react';

/** The rows to render for a scroll position: `[first, end)`, with `overscan` more on each side. */
export function visibleRange(
  count: number,
  rowHeight: number,
  scrollTop: number,
  viewport: number,
  overscan = 8
): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(
    count,
    Math.ceil((scrollTop + viewport) / rowHeight) + overscan
  );
  return [first, Math.max(first, end)];
}

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  /** Height of the scrolling box in pixels (also used before it is laid out). */
  height: number;
  itemKey: (item: T) => string;
  renderRow: (item: T, index: number) => React.ReactNode;
  className?: string;
  ariaLabel?: string;
  /** Extra attributes of each `li` (data-key and the like). */
  rowProps?: (
    item: T
  ) => React.LiHTMLAttributes<HTMLLIElement> & Record<`data-${string}`, string>;
}

function classes(...names: (string | undefined)[]): string {
  return names.filter(name => name).join(' ');
}

/**
 * The Catalogue Browser's list of datasets (an intake-esm catalogue's or a remote
 * catalogue's results): each row an `li.jp-EspriVre-dataset` with the dataset's key in
 * `data-key`, by which the styles and the UI tests find it.
 */
export function DatasetList<T>(props: {
  items: readonly T[];
  rowHeight: number;
  ariaLabel: string;
  datasetKey: (item: T) => string;
  renderRow: (item: T) => React.ReactNode;
}): React.ReactElement {
  const { datasetKey } = props;
  return (
    <VirtualList
      items={props.items}
      rowHeight={props.rowHeight}
      height={480}
      className="jp-EspriVre-datasets"
      ariaLabel={props.ariaLabel}
      itemKey={datasetKey}
      rowProps={item => ({
        className: 'jp-EspriVre-dataset',
        'data-key': datasetKey(item)
      })}
      renderRow={props.renderRow}
    />
  );
}

export function VirtualList<T>(props: VirtualListProps<T>): React.ReactElement {
  const { items, rowHeight, height, itemKey, renderRow } = props;
  const [scrollTop, setScrollTop] = React.useState(0);
  const box = React.useRef<HTMLDivElement>(null);
  // A new result set starts at the top.
  React.useEffect(() => {
    if (box.current) {
      box.current.scrollTop = 0;
    }
    setScrollTop(0);
  }, [items]);
  const viewport = box.current?.clientHeight || height;
  const [first, end] = visibleRange(
    items.length,
    rowHeight,
    scrollTop,
    viewport
  );
  const shown = items.slice(first, end);
  // The heights are the virtualisation's arithmetic (from the props and the scroll
  // position), not styling: they stay inline; the rest is in style/browser.css.
  return (
    <div
      ref={box}
      className="jp-EspriVre-virtualBox"
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
      style={{ maxHeight: `${height}px` }}
    >
      <ul
        className={classes('jp-EspriVre-virtualList', props.className)}
        aria-label={props.ariaLabel}
        data-total={items.length}
      >
        {first > 0 && (
          <li aria-hidden="true" style={{ height: `${first * rowHeight}px` }} />
        )}
        {shown.map((item, at) => {
          const extra = props.rowProps?.(item) ?? {};
          return (
            <li
              key={itemKey(item)}
              {...extra}
              className={classes('jp-EspriVre-virtualRow', extra.className)}
              style={{ height: `${rowHeight}px` }}
            >
              {renderRow(item, first + at)}
            </li>
          );
        })}
        {end < items.length && (
          <li
            aria-hidden="true"
            style={{ height: `${(items.length - end) * rowHeight}px` }}
          />
        )}
      </ul>
    </div>
  );
}

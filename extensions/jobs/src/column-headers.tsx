import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import {
  type ColumnWidths,
  type ColumnWidthsModel,
  isSized,
  JOB_COLUMNS,
  type JobColumn,
  KEY_STEP,
  MAX_COLUMN_WIDTH,
  MIN_COLUMN_WIDTH,
  resized
} from './columns';

/** The width of the selection boxes' column, which is not resizable. */
export const SELECT_COLUMN_WIDTH = 32;

/**
 * The table's width and layout for the widths given: laid out from its content until
 * every column has a width, then from the widths (so that a column can be made
 * narrower than its content, which is cut with an ellipsis).
 */
export function tableStyle(widths: ColumnWidths): React.CSSProperties {
  if (!isSized(widths)) {
    return {};
  }
  const total = JOB_COLUMNS.reduce(
    (sum, column) => sum + (widths[column] ?? 0),
    SELECT_COLUMN_WIDTH
  );
  return { tableLayout: 'fixed', width: total };
}

/**
 * The model's widths, the component re-rendered whenever they change.
 */
export function useColumnWidths(model: ColumnWidthsModel): ColumnWidths {
  const [widths, setWidths] = React.useState(model.widths);
  React.useEffect(() => {
    const update = (): void => setWidths(model.widths);
    update();
    model.changed.connect(update);
    return () => {
      model.changed.disconnect(update);
    };
  }, [model]);
  return widths;
}

/**
 * The `<colgroup>` that carries the widths (a fixed table takes them from its columns).
 */
export function JobColumnGroup(props: {
  widths: ColumnWidths;
}): React.ReactElement {
  const { widths } = props;
  return (
    <colgroup>
      <col style={{ width: SELECT_COLUMN_WIDTH }} />
      {JOB_COLUMNS.map(column => (
        <col
          key={column}
          data-column={column}
          style={widths[column] ? { width: widths[column] } : undefined}
        />
      ))}
    </colgroup>
  );
}

/**
 * The widths the table is laid out from: the model's once it has them all, else those
 * held while the pointer is over the header (see `JobColumnHeaders`' `onHold`), else
 * none (fitted to the content).
 */
export function laidOutWidths(
  widths: ColumnWidths,
  held: ColumnWidths | null
): ColumnWidths {
  return isSized(widths) || held === null ? widths : held;
}

/**
 * The header row: the select-all box, then each column's title with a border that can
 * be dragged (or moved with the arrow keys once focused) to resize the column;
 * double-clicking it, or Enter, fits every column to its content again.
 *
 * Fitted to their content, the columns move whenever a refresh changes the rows (a
 * state's word, a longer name): a border aimed at would move away just before it is
 * pressed, and the gesture then selects text instead (CI saw it). So while the pointer
 * is over the header, and until a drag started there ends, the widths shown are held
 * (`onHold`, not saved) for the table to be laid out from.
 */
export function JobColumnHeaders(props: {
  model: ColumnWidthsModel;
  trans: TranslationBundle;
  labels: Record<JobColumn, string>;
  selectAll: React.ReactElement;
  /** Told when the widths could not be saved. */
  onSaveError: (reason: unknown) => void;
  /**
   * Told of the widths to hold the columns at, and of null when they may fit again (a
   * stable function, such as a state setter: a new one releases the hold).
   */
  onHold?: (widths: ColumnWidths | null) => void;
}): React.ReactElement {
  const { model, trans, labels, selectAll, onSaveError, onHold } = props;
  const row = React.useRef<HTMLTableRowElement>(null);
  const widths = useColumnWidths(model);
  // In a ref, not state: a drag outlives the re-renders that refreshes cause.
  const dragging = React.useRef(false);
  const hover = React.useRef(false);
  const holding = React.useRef(false);
  // A header gone (the list emptied) holds nothing any more.
  React.useEffect(() => () => onHold?.(null), [onHold]);

  /** Each column's width as shown now, for the columns without one yet. */
  const measured = (): Record<JobColumn, number> => {
    const shown = {} as Record<JobColumn, number>;
    for (const column of JOB_COLUMNS) {
      const cell = row.current?.querySelector<HTMLElement>(
        `th[data-column="${column}"]`
      );
      shown[column] = cell?.getBoundingClientRect().width ?? 0;
    }
    return shown;
  };
  const commit = (next: ColumnWidths): void => {
    model.commit(next).catch(onSaveError);
  };
  const hold = (): void => {
    if (!holding.current && !isSized(model.widths)) {
      holding.current = true;
      // As measured, unrounded and unclamped: laid out from them, nothing moves.
      onHold?.(measured());
    }
  };
  const release = (): void => {
    if (holding.current && !dragging.current && !hover.current) {
      holding.current = false;
      onHold?.(null);
    }
  };
  /** Fits the columns to their content at once (held again at the pointer's next move). */
  const fit = (): void => {
    holding.current = false;
    onHold?.(null);
    commit({});
  };

  const startDrag = (
    column: JobColumn,
    event: React.PointerEvent<HTMLElement>
  ): void => {
    if (event.button !== 0) {
      return;
    }
    event.preventDefault();
    const handle = event.currentTarget;
    const base = model.widths;
    const shown = measured();
    const startX = event.clientX;
    // A click that does not move (the first of a double-click) changes nothing.
    let last: ColumnWidths | null = null;
    // Captured, the pointer's moves reach the border wherever they go.
    handle.setPointerCapture?.(event.pointerId);
    dragging.current = true;
    const move = (e: PointerEvent): void => {
      last = resized(base, shown, column, e.clientX - startX);
      model.preview(last);
    };
    const end = (): void => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', end);
      handle.removeEventListener('pointercancel', end);
      dragging.current = false;
      if (last) {
        commit(last);
      }
      release();
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', end);
    handle.addEventListener('pointercancel', end);
  };

  const onKey = (
    column: JobColumn,
    event: React.KeyboardEvent<HTMLElement>
  ): void => {
    const step =
      event.key === 'ArrowLeft'
        ? -KEY_STEP
        : event.key === 'ArrowRight'
          ? KEY_STEP
          : 0;
    if (step) {
      event.preventDefault();
      commit(resized(model.widths, measured(), column, step));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      fit();
    }
  };

  return (
    <thead>
      <tr
        ref={row}
        onPointerEnter={() => {
          hover.current = true;
          hold();
        }}
        onPointerMove={hold}
        onPointerLeave={() => {
          hover.current = false;
          release();
        }}
      >
        <th scope="col">{selectAll}</th>
        {JOB_COLUMNS.map(column => (
          <th
            key={column}
            scope="col"
            data-column={column}
            className="jp-EspriVre-jobsColumn"
          >
            <span className="jp-EspriVre-jobsColumnLabel">
              {labels[column]}
            </span>
            <span
              role="separator"
              aria-orientation="vertical"
              aria-label={trans.__('Resize the %1 column', labels[column])}
              aria-valuemin={MIN_COLUMN_WIDTH}
              aria-valuemax={MAX_COLUMN_WIDTH}
              aria-valuenow={widths[column]}
              tabIndex={0}
              title={trans.__(
                'Drag to resize; double-click to fit the columns to their content'
              )}
              className="jp-EspriVre-columnResizer"
              data-column={column}
              onPointerDown={event => startDrag(column, event)}
              onDoubleClick={fit}
              onKeyDown={event => onKey(column, event)}
            />
          </th>
        ))}
      </tr>
    </thead>
  );
}

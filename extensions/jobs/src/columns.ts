import { type ISignal, Signal } from '@lumino/signaling';

/**
 * The Jobs table's resizable columns, in their order (the selection box before them
 * keeps its width).
 */
export const JOB_COLUMNS = ['name', 'state', 'partition', 'elapsed'] as const;

export type JobColumn = (typeof JOB_COLUMNS)[number];

/**
 * Column widths in CSS pixels; a table with none fits each column to its content.
 */
export type ColumnWidths = Partial<Record<JobColumn, number>>;

/** A column is never dragged narrower than this: its border stays within reach. */
export const MIN_COLUMN_WIDTH = 48;

/** Nor wider: a width read from hand-edited settings stays sane. */
export const MAX_COLUMN_WIDTH = 2000;

/** Pixels an arrow key moves a focused column border. */
export const KEY_STEP = 16;

/** A width within the bounds, in whole pixels. */
export function clampWidth(width: number): number {
  return Math.round(
    Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, width))
  );
}

/**
 * The widths in `value` that can be used (the settings are JSON a user may have
 * edited by hand): numbers of known columns, clamped; anything else is left out, so
 * that its column fits its content again rather than the table breaking.
 */
export function readWidths(value: unknown): ColumnWidths {
  const widths: ColumnWidths = {};
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const given = value as Record<string, unknown>;
    for (const column of JOB_COLUMNS) {
      const width = given[column];
      if (typeof width === 'number' && Number.isFinite(width)) {
        widths[column] = clampWidth(width);
      }
    }
  }
  return widths;
}

/**
 * Whether every column has a width: the table is then laid out from them (CSS
 * `table-layout: fixed`), else from its content.
 */
export function isSized(widths: ColumnWidths): boolean {
  return JOB_COLUMNS.every(column => widths[column] !== undefined);
}

/**
 * The widths after moving `column`'s right border by `delta` pixels. The first drag
 * starts from the widths measured on the page (`measured`), so that the columns not
 * dragged keep the width they were shown at instead of jumping.
 */
export function resized(
  widths: ColumnWidths,
  measured: Readonly<Record<JobColumn, number>>,
  column: JobColumn,
  delta: number
): ColumnWidths {
  const next: ColumnWidths = {};
  for (const c of JOB_COLUMNS) {
    next[c] = clampWidth(widths[c] ?? measured[c]);
  }
  next[column] = clampWidth((next[column] ?? MIN_COLUMN_WIDTH) + delta);
  return next;
}

/**
 * The column widths of one kind of Jobs view (the sidebar panel, or the main-area
 * tabs, which share theirs), kept in the panel's settings so that they survive a
 * reload; `save` is how they are written there.
 */
export class ColumnWidthsModel {
  constructor(save?: (widths: ColumnWidths) => Promise<void>) {
    this._save = save;
  }

  /** The widths in use. */
  get widths(): ColumnWidths {
    return this._widths;
  }

  /** Emitted when the widths change, whether from a drag or from the settings. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Takes widths read from the settings (after a reload, or edited there). */
  load(value: unknown): void {
    const widths = readWidths(value);
    if (JSON.stringify(widths) !== JSON.stringify(this._widths)) {
      this._widths = widths;
      this._changed.emit();
    }
  }

  /** Shows widths at once, while a border is dragged, without saving them. */
  preview(widths: ColumnWidths): void {
    this._widths = widths;
    this._changed.emit();
  }

  /**
   * Shows and saves widths (the end of a drag; `{}` fits the columns to their
   * content again). A refused save leaves the widths shown and rejects.
   */
  async commit(widths: ColumnWidths): Promise<void> {
    this.preview(widths);
    await this._save?.(widths);
  }

  private _widths: ColumnWidths = {};
  private _changed = new Signal<this, void>(this);
  private _save: ((widths: ColumnWidths) => Promise<void>) | undefined;
}

/**
 * Inserting code in a notebook without depending on `@jupyterlab/notebook`: the
 * notebook panel is recognised by the parts of it this uses.
 */

/** The parts of a `NotebookPanel` that inserting a cell needs. */
export interface NotebookLike {
  id: string;
  isDisposed: boolean;
  /** The notebook's file, for its provenance. */
  context?: { path: string };
  content: {
    activeCellIndex: number;
    model: {
      sharedModel: {
        insertCell(
          index: number,
          cell: { cell_type: 'code'; source: string }
        ): unknown;
      };
    } | null;
  };
}

/** Whether a shell widget is a notebook panel. */
export function isNotebookLike(widget: unknown): widget is NotebookLike {
  const content = (widget as { content?: unknown } | null)?.content as
    | { activeCellIndex?: unknown; model?: { sharedModel?: unknown } | null }
    | undefined;
  return (
    typeof content?.activeCellIndex === 'number' &&
    typeof (content.model?.sharedModel as { insertCell?: unknown } | undefined)
      ?.insertCell === 'function'
  );
}

/**
 * Insert `code` as a new code cell below the notebook's active cell and make it the
 * active cell.
 *
 * @throws Error when the notebook has no model (it is still loading or closed).
 */
export function insertCodeCell(notebook: NotebookLike, code: string): number {
  const { content } = notebook;
  if (notebook.isDisposed || content.model === null) {
    throw new Error('The notebook is closed or still loading.');
  }
  const index = Math.max(0, content.activeCellIndex + 1);
  content.model.sharedModel.insertCell(index, {
    cell_type: 'code',
    source: code
  });
  content.activeCellIndex = index;
  return index;
}

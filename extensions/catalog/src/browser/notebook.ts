/**
 * Inserting code in a notebook without depending on `@jupyterlab/notebook`: the
 * notebook panel is recognised by the parts of it this uses.
 */

/** The parts of a `NotebookPanel` that inserting a cell needs. */
export interface NotebookLike {
  id: string;
  isDisposed: boolean;
  /** The notebook's file, for its provenance; ready once its model is loaded. */
  context?: { path: string; ready?: Promise<void> };
  content: {
    activeCellIndex: number;
    model: {
      sharedModel: {
        insertCell(
          index: number,
          cell: { cell_type: 'code'; source: string }
        ): unknown;
        readonly cells?: readonly { readonly source: string }[];
        deleteCell?(index: number): void;
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
  const shared = content.model.sharedModel;
  // A new notebook's one empty cell gives way to the code rather than stay above it.
  const blank =
    shared.cells?.length === 1 &&
    shared.cells[0].source.trim() === '' &&
    shared.deleteCell !== undefined;
  const index = blank ? 0 : Math.max(0, content.activeCellIndex + 1);
  shared.insertCell(index, { cell_type: 'code', source: code });
  if (blank) {
    shared.deleteCell?.(1);
  }
  content.activeCellIndex = index;
  return index;
}

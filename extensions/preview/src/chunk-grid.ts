/**
 * The chunk-grid overlay: the chunks that tile the map, and which of them were read.
 */

/** One chunk of the map, in map pixels (row 0 at the top). */
export interface IChunkRect {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Its chunk coordinates in the variable ("i,j,k"). */
  key: string;
  read: boolean;
}

/**
 * The chunks covering the map of `selection` (the map's two dimensions `null`, the
 * others at their index), marked read when `readChunks` holds their coordinates.
 *
 * @param flipRows - The map is drawn with its first row at the bottom.
 */
export function chunkRects(
  shape: readonly number[],
  chunks: readonly number[],
  selection: readonly (number | null)[],
  readChunks: ReadonlySet<string>,
  flipRows: boolean
): IChunkRect[] {
  const mapAxes = selection
    .map((s, d) => (s === null ? d : -1))
    .filter(d => d >= 0);
  if (mapAxes.length !== 2) {
    throw new Error(
      `A map has two whole dimensions; this selection has ${mapAxes.length}.`
    );
  }
  const [rowAxis, colAxis] = mapAxes;
  const rows = shape[rowAxis];
  const cols = shape[colAxis];
  const rowChunk = chunks[rowAxis];
  const colChunk = chunks[colAxis];
  const out: IChunkRect[] = [];
  for (let i = 0; i * rowChunk < rows; i++) {
    for (let j = 0; j * colChunk < cols; j++) {
      const coords = selection.map((s, d) =>
        d === rowAxis ? i : d === colAxis ? j : Math.floor((s ?? 0) / chunks[d])
      );
      const key = coords.join(',');
      const top = i * rowChunk;
      const height = Math.min(rowChunk, rows - top);
      out.push({
        x: j * colChunk,
        y: flipRows ? rows - top - height : top,
        width: Math.min(colChunk, cols - j * colChunk),
        height,
        key,
        read: readChunks.has(key)
      });
    }
  }
  return out;
}

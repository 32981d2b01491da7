/**
 * Which chunks a selection needs: one index on some dimensions, the whole extent
 * on the others (`null`), as zarrita's `get(arr, [t, null, null])` reads.
 */

/** The chunk coordinates (one tuple per chunk) the selection touches. */
export function chunksForSlice(
  shape: readonly number[],
  chunks: readonly number[],
  selection: readonly (number | null)[]
): number[][] {
  if (shape.length !== chunks.length || shape.length !== selection.length) {
    throw new Error(
      `The selection has ${selection.length} dimensions, the array ${shape.length}.`
    );
  }
  const ranges = shape.map((size, d) => {
    const index = selection[d];
    if (index === null) {
      return range(Math.ceil(size / chunks[d]));
    }
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new Error(
        `Index ${index} is outside 0..${size - 1} on dimension ${d}.`
      );
    }
    return [Math.floor(index / chunks[d])];
  });
  let out: number[][] = [[]];
  for (const r of ranges) {
    out = out.flatMap(prefix => r.map(i => [...prefix, i]));
  }
  return out;
}

/**
 * The selection of a 2-D slice: the map's two dimensions whole, every other
 * dimension at its index in `indices` (0 when not given).
 */
export function sliceSelection(
  dims: readonly string[],
  mapDims: readonly [string, string],
  indices: Readonly<Record<string, number>>
): (number | null)[] {
  return dims.map(d => (mapDims.includes(d) ? null : (indices[d] ?? 0)));
}

/** The Zarr v2 key of a chunk ("tas/0.0.0"). */
export function chunkKey(
  variable: string,
  coords: readonly number[],
  separator = '.'
): string {
  const name = coords.length ? coords.join(separator) : '0';
  return variable ? `${variable}/${name}` : name;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

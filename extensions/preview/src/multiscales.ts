/**
 * Multiscale Zarr stores (issue 17): a store whose root group names coarser copies of
 * its data (levels) in a `multiscales` attribute is shown first from the coarsest level
 * that fills the map, then at full resolution on request, as the server's overview is.
 *
 * Two writings of the attribute are read, both listing the levels' groups:
 * - ndpyramid's (and the GeoZarr draft's): `multiscales: [{datasets: [{path}], method}]`;
 * - the zarr-conventions multiscales v1: `multiscales: {layout: [{asset}], resampling_method}`.
 * Each level group holds the same variables on coarser grids; the levels' sizes are read
 * from their arrays' shapes, so neither writing's own scale numbers are trusted.
 */
import type { VariableInfo } from './axes';
import type { IOverviewSource, Slice2D } from './reader';

/** The levels' group paths as the attribute lists them, and how they were made. */
export interface IMultiscales {
  paths: string[];
  method: string;
}

/** A coarser copy of a variable: its array in a level group. */
export interface ILevel {
  /** The level's group path in the store. */
  path: string;
  /** Its array, named by its path in the store ("0/tas"). */
  variable: VariableInfo;
}

/** What the view shows about a level (badge, hover, statistics). */
export interface ILevelInfo {
  path: string;
  /** The level's map size. */
  rows: number;
  cols: number;
  /** How many levels the store has, the full resolution included. */
  count: number;
}

/** The variables of a multiscale store as the view lists them, and their levels. */
export interface IPyramid {
  multiscales: IMultiscales;
  /** The full-resolution level's variables under their own names, the others as they are. */
  variables: VariableInfo[];
  /** The coarser levels of each variable (by its name), coarsest first. */
  levels: Map<string, ILevel[]>;
}

/** Reads a 2-D slice of a variable (reader.ts's readSlice on the store's dataset). */
export type ReadSlice = (
  variable: VariableInfo,
  selection: (number | null)[],
  signal?: AbortSignal
) => Promise<Slice2D>;

/**
 * The levels a group's attributes name, or null when they name none: a store without
 * the attribute, or with one in neither writing (it is then listed as plain groups).
 */
export function parseMultiscales(
  attrs: Record<string, unknown>
): IMultiscales | null {
  const found = attrs.multiscales;
  const text = (v: unknown): string | null =>
    typeof v === 'string' && v !== '' ? v : null;
  if (Array.isArray(found) && found.length) {
    const first = found[0] as Record<string, unknown>;
    const datasets = Array.isArray(first?.datasets) ? first.datasets : [];
    const paths = datasets.map(d => text((d as Record<string, unknown>)?.path));
    return paths.length && paths.every(p => p !== null)
      ? {
          paths: paths as string[],
          method: text(first.method) ?? text(first.type) ?? ''
        }
      : null;
  }
  if (found && typeof found === 'object' && !Array.isArray(found)) {
    const object = found as Record<string, unknown>;
    const layout = Array.isArray(object.layout) ? object.layout : [];
    const paths = layout.map(l => text((l as Record<string, unknown>)?.asset));
    const methods = layout.map(l =>
      text((l as Record<string, unknown>)?.resampling_method)
    );
    return paths.length && paths.every(p => p !== null)
      ? {
          paths: paths as string[],
          method:
            text(object.resampling_method) ??
            methods.find(m => m !== null) ??
            ''
        }
      : null;
  }
  return null;
}

function cells(variable: VariableInfo): number {
  return variable.shape.reduce((a, b) => a * b, 1);
}

/**
 * The store's variables seen through its levels: the full-resolution level (the one
 * whose arrays hold the most cells) listed under the variables' own names, each with its
 * coarser copies; null when fewer than two of the named levels hold arrays.
 */
export function pyramidOf(
  multiscales: IMultiscales,
  variables: VariableInfo[]
): IPyramid | null {
  const byLevel = new Map<string, VariableInfo[]>(
    multiscales.paths.map(p => [p.replace(/^\/+|\/+$/g, ''), []])
  );
  const others: VariableInfo[] = [];
  for (const v of variables) {
    const at = v.name.lastIndexOf('/');
    const group = byLevel.get(at < 0 ? '' : v.name.slice(0, at));
    (group ?? others).push(v);
  }
  const filled = [...byLevel].filter(([, vs]) => vs.length);
  if (filled.length < 2) {
    return null;
  }
  const size = (vs: VariableInfo[]): number =>
    vs.reduce((sum, v) => sum + cells(v), 0);
  const [fullPath, fullVars] = filled.reduce((a, b) =>
    size(b[1]) > size(a[1]) ? b : a
  );
  const bare = (v: VariableInfo): string =>
    v.name.slice(v.name.lastIndexOf('/') + 1);
  const levels = new Map<string, ILevel[]>();
  const full = fullVars.map(v => {
    const name = bare(v);
    const coarser = filled
      .filter(([p]) => p !== fullPath)
      .map(([path, vs]) => ({ path, variable: vs.find(w => bare(w) === name) }))
      .filter(
        (l): l is ILevel =>
          !!l.variable &&
          l.variable.dims.join() === v.dims.join() &&
          cells(l.variable) < cells(v)
      )
      .sort((a, b) => cells(a.variable) - cells(b.variable));
    levels.set(name, coarser);
    return { ...v, name, path: v.path ?? v.name };
  });
  return {
    multiscales,
    variables: [...full, ...others].sort((a, b) =>
      a.name.localeCompare(b.name)
    ),
    levels
  };
}

/** The map's size (the two whole dimensions of `selection`) of an array. */
function mapSize(
  variable: VariableInfo,
  selection: (number | null)[]
): [number, number] {
  const [rows, cols] = variable.shape.filter((_, d) => selection[d] === null);
  return [rows, cols];
}

/**
 * The coarsest level that fills a map of `side` pixels on its longer side, among levels
 * that hold the same steps along the other dimensions (coarsened on the map's only);
 * null when none does (the full resolution is then the coarsest that fills it).
 */
function chooseLevel(
  levels: ILevel[],
  full: VariableInfo,
  selection: (number | null)[],
  side: number
): ILevel | null {
  return (
    levels.find(level => {
      const sameSteps = full.shape.every(
        (n, d) => selection[d] === null || level.variable.shape[d] === n
      );
      return (
        sameSteps && Math.max(...mapSize(level.variable, selection)) >= side
      );
    }) ?? null
  );
}

/**
 * The whole factor that coarsened `full` cells into `level`: the one whose trimmed
 * coarsening (xarray's boundary="trim", the partial block dropped) gives that size, else
 * the padded one (boundary="pad"). Small sizes can fit both (5 cells into 2: by 2 trimmed
 * or by 3 padded); trimming is taken, as coarsening by the exact factor or trimming is
 * what pyramids are written with.
 */
function levelFactor(full: number, level: number): number {
  const trimmed = Math.floor(full / level);
  return trimmed >= 1 && Math.floor(full / trimmed) === level
    ? trimmed
    : Math.max(1, Math.ceil(full / level));
}

/**
 * A level's values spread over the full grid, each cell taking the value of the level
 * cell it lies in (a cell a trimmed level left out takes the last level cell).
 */
export function expandLevel(
  values: Float64Array,
  levelRows: number,
  levelCols: number,
  rows: number,
  cols: number
): Float64Array {
  if (values.length !== levelRows * levelCols) {
    throw new Error(
      `The level holds ${values.length} values, not ${levelRows} x ${levelCols}.`
    );
  }
  const fr = levelFactor(rows, levelRows);
  const fc = levelFactor(cols, levelCols);
  const colOf = Int32Array.from({ length: cols }, (_, c) =>
    Math.min(levelCols - 1, Math.floor(c / fc))
  );
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const from = Math.min(levelRows - 1, Math.floor(r / fr)) * levelCols;
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = values[from + colOf[c]];
    }
  }
  return out;
}

/**
 * The spacing of a level's cells along a regular coordinate of the full grid: the
 * coordinate's whole extent (its `n` cells) shared among the level's cells; null for
 * fewer than two values.
 */
export function levelSpacing(
  values: ArrayLike<number>,
  levelCells: number
): number | null {
  const n = values.length;
  if (n < 2 || levelCells < 1) {
    return null;
  }
  const extent = (Math.abs(values[n - 1] - values[0]) * n) / (n - 1);
  return extent / levelCells;
}

/**
 * The overview source of a multiscale store: the chosen level's slice, spread over the
 * full grid and labelled with its level. It has no exact-cell read: the hover says the
 * value is the level's until the full resolution is read.
 */
export function multiscaleOverview(
  pyramid: IPyramid,
  read: ReadSlice
): IOverviewSource {
  const count = pyramid.multiscales.paths.length;
  return {
    async slice(variable, selection, maxSide, signal) {
      const levels = pyramid.levels.get(variable.name) ?? [];
      const level = chooseLevel(levels, variable, selection, maxSide);
      if (!level) {
        return read(variable, selection, signal);
      }
      const [rows, cols] = mapSize(variable, selection);
      const coarse = await read(level.variable, selection, signal);
      return {
        values: expandLevel(
          coarse.values,
          coarse.rows,
          coarse.cols,
          rows,
          cols
        ),
        rows,
        cols,
        overview: {
          factor: Math.max(
            levelFactor(rows, coarse.rows),
            levelFactor(cols, coarse.cols)
          ),
          method: pyramid.multiscales.method,
          level: {
            path: level.path,
            rows: coarse.rows,
            cols: coarse.cols,
            count
          }
        }
      };
    }
  };
}

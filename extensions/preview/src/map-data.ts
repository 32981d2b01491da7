/**
 * The map view's data, as React hooks: the coordinates of the variable's dimensions
 * (CF-decoded, with their labels), a curvilinear grid's 2-D latitude and longitude, the
 * slice in view, the series at a clicked point, the slice's statistics and colour
 * limits, and the map's projection with the grid cell of each of its pixels. Each read is cancelled when what it was for changes; failures go to
 * `setError` in words a user can act on.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { useEffect, useMemo, useRef, useState } from 'react';
import { coordinateOf, type ICurvilinear, type VariableInfo } from './axes';
import { coordinateLabels } from './cf';
import { type IBasemap, loadBasemap } from './coastlines';
import {
  limitsProblem,
  robustLimits,
  robustLogLimits,
  type Scale,
  statistics,
  type Stats
} from './colormap';
import {
  type Dataset,
  readDecoded,
  readSeries,
  readSlice,
  type Slice2D
} from './reader';
import {
  curvilinearLocator,
  type ICellLocator,
  pixelCells,
  regularLocator
} from './grid-locator';
import {
  type IMapFrame,
  type LonConvention,
  mapFrame,
  type ProjectionKind
} from './projection';
import { type IRegridded, regridNearest, rotatedToGeographic } from './regrid';
import { type IFirstOverview, screenSide, wantsOverview } from './overview';
import { seriesSelection } from './series';

export interface ICoordinate {
  values: Float64Array;
  labels: string[];
}

/** A curvilinear grid's 2-D coordinates and the regular picture drawn from them. */
export interface ICurvilinearGrid {
  variable: string;
  lat: Float64Array;
  lon: Float64Array;
  grid: IRegridded;
}

/** The series a click on the map asked for. */
export interface ISeries {
  values: Float64Array;
  dim: string;
  labels: string[];
  where: string;
}

/** A cell of the slice. */
export interface ICell {
  row: number;
  col: number;
}

type SetError = (message: string | null) => void;

/** Render again whenever the reader's request counts change, to show progress. */
export function useTransferProgress(dataset: Dataset): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const previous = dataset.onChange;
    dataset.onChange = () => setTick(t => t + 1);
    return () => {
      dataset.onChange = previous;
    };
  }, [dataset]);
}

/** The coordinate values of every dimension, for labels and orientation. */
export function useCoordinates(
  dataset: Dataset,
  variable: VariableInfo | undefined,
  trans: TranslationBundle,
  setError: SetError
): Record<string, ICoordinate> {
  const [coords, setCoords] = useState<Record<string, ICoordinate>>({});
  useEffect(() => {
    if (!variable) {
      return;
    }
    const controller = new AbortController();
    void Promise.all(
      variable.dims.map(async dim => {
        const coord = coordinateOf(dim, dataset.variables);
        if (!coord || coords[dim]) {
          return null;
        }
        const { values } = await readDecoded(
          dataset,
          coord,
          null,
          controller.signal
        );
        return [
          dim,
          { values, labels: coordinateLabels(values, coord.attrs) }
        ] as const;
      })
    )
      .then(entries => {
        const found = entries.filter(e => e !== null);
        if (found.length) {
          setCoords(c => ({ ...c, ...Object.fromEntries(found) }));
        }
      })
      .catch(reason => {
        if (!controller.signal.aborted) {
          setError(
            trans.__(
              'The coordinates could not be read: %1',
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, dataset]);
  return coords;
}

/** A curvilinear grid's 2-D latitude and longitude, and the regular picture of them. */
export function useCurvilinearGrid(
  dataset: Dataset,
  variable: VariableInfo | undefined,
  curvilinear: ICurvilinear | null,
  trans: TranslationBundle,
  setError: SetError
): ICurvilinearGrid | null {
  const [curvGrid, setCurvGrid] = useState<ICurvilinearGrid | null>(null);
  useEffect(() => {
    if (!variable || !curvilinear) {
      setCurvGrid(null);
      return;
    }
    if (curvGrid?.variable === variable.name) {
      return;
    }
    const controller = new AbortController();
    void Promise.all([
      readDecoded(dataset, curvilinear.lat, null, controller.signal),
      readDecoded(dataset, curvilinear.lon, null, controller.signal)
    ])
      .then(([lat, lon]) => {
        const rows = curvilinear.pole
          ? lat.values.length
          : curvilinear.lat.shape[0];
        const cols = curvilinear.pole
          ? lon.values.length
          : curvilinear.lat.shape[1];
        const geographic = curvilinear.pole
          ? rotatedToGeographic(lat.values, lon.values, curvilinear.pole)
          : { lat: lat.values, lon: lon.values };
        setCurvGrid({
          variable: variable.name,
          lat: geographic.lat,
          lon: geographic.lon,
          grid: regridNearest(geographic.lat, geographic.lon, rows, cols)
        });
      })
      .catch(reason => {
        if (!controller.signal.aborted) {
          setError(
            trans.__(
              'The 2-D latitude and longitude of %1 could not be read: %2',
              variable.name,
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, curvilinear, dataset]);
  return curvGrid;
}

export interface ISliceState {
  slice: Slice2D | null;
  /** Drop the slice (another variable was chosen). */
  setSlice: (slice: Slice2D | null) => void;
  loading: boolean;
  /** The selection (JSON) whose values `slice` holds. */
  sliceKey: React.MutableRefObject<string | null>;
}

/**
 * Read the slice in view; moving on cancels the chunks still on their way. A slice
 * larger than the screen comes first as the server's overview when the dataset has
 * one and `full` is not asked for (issue 17); the chunks are read when it is; a slice
 * read ahead ({@link prefetch}) is taken as it is.
 *
 * @param selectionKey `selection` as JSON: the slice is read again when it changes.
 */
export function useSlice(
  dataset: Dataset,
  variable: VariableInfo | undefined,
  selection: (number | null)[] | null,
  selectionKey: string,
  full: boolean,
  trans: TranslationBundle,
  setError: SetError
): ISliceState {
  const [slice, setSlice] = useState<Slice2D | null>(null);
  const [loading, setLoading] = useState(false);
  const sliceKey = useRef<string | null>(null);
  useEffect(() => {
    if (!variable || !selection) {
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    const side = readSide(full);
    const prefetched =
      takePrefetched(dataset, variable, selection, side) ??
      takeFirstOverview(dataset, variable, selection, side, controller.signal);
    (
      prefetched ??
      readSliceOrOverview(dataset, variable, selection, side, controller.signal)
    )
      .then(result => {
        // A prefetched read is not cancelled with this effect: drop it if we moved on.
        if (controller.signal.aborted) {
          return;
        }
        sliceKey.current = selectionKey;
        setSlice(result);
        setLoading(false);
      })
      .catch(reason => {
        if (!controller.signal.aborted) {
          setLoading(false);
          setSlice(null);
          setError(
            trans.__(
              'The slice of %1 could not be read: %2. Try another time step or variable; if every slice fails, open the file in a notebook with xarray to check it.',
              variable.name,
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, dataset, selectionKey, full]);
  return { slice, setSlice, loading, sliceKey };
}

/**
 * The server's overview of a slice with more cells than `side` on a side, else (or
 * when the server cannot make one: a store xarray does not open, say) the slice from
 * its chunks.
 */
export async function readSliceOrOverview(
  dataset: Dataset,
  variable: VariableInfo,
  selection: (number | null)[],
  side: number,
  signal: AbortSignal
): Promise<Slice2D> {
  const [rows, cols] = variable.shape.filter((_, d) => selection[d] === null);
  if (dataset.overview && wantsOverview(rows, cols, side)) {
    try {
      return await dataset.overview.slice(variable, selection, side, signal);
    } catch (reason) {
      if (signal.aborted) {
        throw reason;
      }
      console.warn('espri-vre: no overview, reading the chunks:', reason);
    }
  }
  return readSlice(dataset, variable, selection, signal);
}

/** The largest overview side worth reading (Infinity: the full resolution). */
export function readSide(full: boolean): number {
  return full ? Infinity : screenSide(window.devicePixelRatio);
}

/**
 * Reads started ahead of the user (the next time step while they look at this one),
 * per dataset: at most one, a slice of a large grid being megabytes.
 */
const ahead = new WeakMap<Dataset, { key: string; slice: Promise<Slice2D> }>();

function aheadKey(
  variable: VariableInfo,
  selection: (number | null)[],
  side: number
): string {
  return JSON.stringify([variable.name, selection, side]);
}

/** Read `selection` ahead; a failure is forgotten (the real read will say it). */
export function prefetch(
  dataset: Dataset,
  variable: VariableInfo,
  selection: (number | null)[],
  side: number
): void {
  const key = aheadKey(variable, selection, side);
  if (ahead.get(dataset)?.key === key) {
    return;
  }
  const slice = readSliceOrOverview(
    dataset,
    variable,
    selection,
    side,
    new AbortController().signal
  );
  slice.catch(() => {
    if (ahead.get(dataset)?.slice === slice) {
      ahead.delete(dataset);
    }
  });
  ahead.set(dataset, { key, slice });
}

/** The read started ahead for `selection`, taken out of the cache; undefined if none. */
export function takePrefetched(
  dataset: Dataset,
  variable: VariableInfo,
  selection: (number | null)[],
  side: number
): Promise<Slice2D> | undefined {
  const found = ahead.get(dataset);
  if (found?.key !== aheadKey(variable, selection, side)) {
    return undefined;
  }
  ahead.delete(dataset);
  return found.slice;
}

/** The first map's overview asked for when the dataset was opened, until it is used. */
const firstOverviews = new WeakMap<Dataset, Promise<IFirstOverview | null>>();

/**
 * Hand the view the overview asked for before the dataset's metadata were read; a
 * failure is forgotten (the view then reads the slice itself and says why if it fails).
 */
export function offerFirstOverview(
  dataset: Dataset,
  first: Promise<IFirstOverview | null>
): void {
  firstOverviews.set(
    dataset,
    first.catch(() => null)
  );
}

/**
 * The first slice the view reads, from the overview offered when the dataset was opened
 * if the server chose the same variable and slice (and the slice is larger than the
 * screen), else read as usual once it has answered; undefined when none was offered or
 * it was taken already. Waiting for the server's answer rather than reading at once
 * costs only when its choice differs, which the server's rules make rare.
 */
export function takeFirstOverview(
  dataset: Dataset,
  variable: VariableInfo,
  selection: (number | null)[],
  side: number,
  signal: AbortSignal
): Promise<Slice2D> | undefined {
  const first = firstOverviews.get(dataset);
  if (!first) {
    return undefined;
  }
  firstOverviews.delete(dataset);
  return first.then(found =>
    found &&
    found.variable === variable.name &&
    found.side === side &&
    JSON.stringify(found.selection) === JSON.stringify(selection) &&
    wantsOverview(found.slice.rows, found.slice.cols, side)
      ? found.slice
      : readSliceOrOverview(dataset, variable, selection, side, signal)
  );
}

/**
 * The exact values of `cells` of the slice at `selection`, read from the server one
 * cell at a time while the map shows an overview (`active`); keyed "row,col".
 */
export function useExactCells(
  dataset: Dataset,
  variable: VariableInfo | undefined,
  selection: (number | null)[] | null,
  selectionKey: string,
  active: boolean,
  cells: (ICell | null)[],
  trans: TranslationBundle,
  setError: SetError
): ReadonlyMap<string, number> {
  const [known, setKnown] = useState<{
    key: string;
    values: ReadonlyMap<string, number>;
  }>({ key: '', values: NO_VALUES });
  const current = known.key === selectionKey ? known.values : NO_VALUES;
  const missing = cells.filter(
    (c): c is ICell => c !== null && !current.has(`${c.row},${c.col}`)
  );
  const missingKey = missing.map(c => `${c.row},${c.col}`).join(';');
  useEffect(() => {
    const source = dataset.overview;
    if (
      !active ||
      !source?.cell ||
      !variable ||
      !selection ||
      !missing.length
    ) {
      return;
    }
    const controller = new AbortController();
    // A pause first: the pointer crosses many cells on its way to the one it stops on.
    const timer = setTimeout(() => {
      void Promise.all(
        missing.map(async cell => {
          const at = [cell.row, cell.col];
          const index = selection.map(i => (i === null ? at.shift()! : i));
          const value = await source.cell!(variable, index, controller.signal);
          return [`${cell.row},${cell.col}`, value] as const;
        })
      )
        .then(entries =>
          setKnown(prev => {
            const values = new Map(
              prev.key === selectionKey ? prev.values : NO_VALUES
            );
            entries.forEach(([k, v]) => values.set(k, v));
            return { key: selectionKey, values };
          })
        )
        .catch(reason => {
          if (!controller.signal.aborted) {
            setError(
              trans.__(
                'The exact value of this cell could not be read: %1',
                String(reason?.message ?? reason)
              )
            );
          }
        });
    }, EXACT_PAUSE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active, variable, dataset, selectionKey, missingKey]);
  return current;
}

const NO_VALUES: ReadonlyMap<string, number> = new Map();
const EXACT_PAUSE_MS = 120;

/** Read the series at the clicked point: one value per step of `seriesDim`. */
export function useSeries(options: {
  dataset: Dataset;
  variable: VariableInfo | undefined;
  /** The map's two dimensions. */
  dims: [string, string] | null;
  /** The slider positions. */
  indices: Record<string, number>;
  point: ICell | null;
  seriesDim: string | null;
  /** The slice's selection as JSON. */
  selectionKey: string;
  coords: Record<string, ICoordinate>;
  describeCell: (row: number, col: number) => string;
  trans: TranslationBundle;
  setError: SetError;
}): ISeries | null {
  const { dataset, variable, dims, point, seriesDim, trans, setError } =
    options;
  const [series, setSeries] = useState<ISeries | null>(null);
  const pointKey = JSON.stringify([point, options.selectionKey, seriesDim]);
  useEffect(() => {
    if (!variable || !dims || !point || !seriesDim) {
      setSeries(null);
      return;
    }
    const controller = new AbortController();
    const at = {
      ...options.indices,
      [dims[0]]: point.row,
      [dims[1]]: point.col
    };
    readSeries(
      dataset,
      variable,
      seriesSelection(variable.dims, seriesDim, at),
      controller.signal
    )
      .then(values =>
        setSeries({
          values,
          dim: seriesDim,
          labels: options.coords[seriesDim]?.labels ?? [],
          where: options.describeCell(point.row, point.col)
        })
      )
      .catch(reason => {
        if (!controller.signal.aborted) {
          setSeries(null);
          setError(
            trans.__(
              'The series at this point could not be read: %1',
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, dataset, pointKey]);
  return series;
}

export interface IColourLimits {
  stats: Stats | null;
  /** The 2nd and 98th percentiles (of the positive values on a log scale). */
  autoLimits: [number, number] | null;
  /** The limits typed in, blanks filled from `autoLimits`; null when none is typed. */
  typedLimits: [number, number] | null;
  /** Why `typedLimits` cannot be used, or null. */
  limitsError: string | null;
  /** The limits the colours use. */
  limits: [number, number] | null;
}

/** The slice's statistics, and the colour limits from them and from the user's. */
export function useColourLimits(
  slice: Slice2D | null,
  scale: Scale,
  userLimits: [string, string]
): IColourLimits {
  const stats: Stats | null = useMemo(
    () => (slice ? statistics(slice.values) : null),
    [slice]
  );
  const autoLimits = useMemo(
    () =>
      slice
        ? scale === 'log'
          ? robustLogLimits(slice.values)
          : robustLimits(slice.values)
        : null,
    [slice, scale]
  );
  const typedLimits: [number, number] | null =
    userLimits[0].trim() !== '' || userLimits[1].trim() !== ''
      ? [
          userLimits[0].trim() === ''
            ? (autoLimits?.[0] ?? NaN)
            : Number(userLimits[0]),
          userLimits[1].trim() === ''
            ? (autoLimits?.[1] ?? NaN)
            : Number(userLimits[1])
        ]
      : null;
  const limitsError = typedLimits ? limitsProblem(typedLimits, scale) : null;
  const limits: [number, number] | null =
    typedLimits && !limitsError ? typedLimits : autoLimits;
  return { stats, autoLimits, typedLimits, limitsError, limits };
}

/** A map on longitude and latitude: its projection and the cell each pixel shows. */
export interface IGeoView {
  frame: IMapFrame;
  locator: ICellLocator;
  /** Row-major over the frame's pixels: the slice's cell (row * cols + col), -1 for none. */
  cells: Int32Array;
  /** Whether each pixel is one cell in the grid's own order (north up): the chunk grid fits. */
  aligned: boolean;
}

/**
 * The locator of the map's cells on the globe: from the 1-D latitude and longitude
 * (rows must be latitude), or a curvilinear grid's 2-D ones; null when the map is not on
 * the globe or its coordinates are not read yet.
 */
export function useLocator(
  variable: VariableInfo | undefined,
  dims: [string, string] | null,
  geographic: { lat: string | null; lon: string | null },
  coords: Record<string, ICoordinate>,
  curvGrid: ICurvilinearGrid | null
): ICellLocator | null {
  const lat = geographic.lat ? coords[geographic.lat] : undefined;
  const lon = geographic.lon ? coords[geographic.lon] : undefined;
  return useMemo(() => {
    // The slice's rows are the first of the map's dimensions in storage order.
    if (
      !variable ||
      !dims ||
      variable.dims.indexOf(dims[0]) > variable.dims.indexOf(dims[1])
    ) {
      return null;
    }
    const rows = variable.shape[variable.dims.indexOf(dims[0])];
    const cols = variable.shape[variable.dims.indexOf(dims[1])];
    if (curvGrid) {
      return rows * cols === curvGrid.lat.length
        ? curvilinearLocator(
            curvGrid.lat,
            curvGrid.lon,
            rows,
            cols,
            curvGrid.grid
          )
        : null;
    }
    return lat &&
      lon &&
      dims[0] === geographic.lat &&
      dims[1] === geographic.lon
      ? regularLocator(lat.values, lon.values)
      : null;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, dims?.[0], dims?.[1], lat, lon, curvGrid]);
}

/** The projection of the map and the cell of each pixel, for a slice of `rows` x `cols`. */
export function useGeoView(
  locator: ICellLocator | null,
  kind: ProjectionKind,
  convention: LonConvention,
  flip: boolean
): IGeoView | null {
  return useMemo(() => {
    if (!locator) {
      return null;
    }
    const frame = mapFrame(
      kind,
      locator.extent,
      convention,
      kind === 'latlon' ? locator.pixelGrid : null
    );
    const cells = pixelCells(frame, locator);
    const [width, height] = frame.pixels;
    let aligned = width === locator.cols && height === locator.rows;
    for (let p = 0; aligned && p < cells.length; p++) {
      const y = Math.floor(p / width);
      const row = flip ? height - 1 - y : y;
      aligned = cells[p] === row * width + (p % width);
    }
    return { frame, locator, cells, aligned };
  }, [locator, kind, convention, flip]);
}

/** Natural Earth's coastlines and borders once loaded (null until then, or if they fail). */
export function useBasemap(
  wanted: boolean,
  trans: TranslationBundle,
  setError: SetError
): IBasemap | null {
  const [basemap, setBasemap] = useState<IBasemap | null>(null);
  useEffect(() => {
    if (!wanted || basemap) {
      return;
    }
    let live = true;
    loadBasemap()
      .then(b => live && setBasemap(b))
      .catch(reason =>
        setError(
          trans.__(
            'The coastlines could not be loaded (%1): the map is drawn without them.',
            String(reason?.message ?? reason)
          )
        )
      );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [wanted, basemap]);
  return basemap;
}

/**
 * The map view's data, as React hooks: the coordinates of the variable's dimensions
 * (CF-decoded, with their labels), a curvilinear grid's 2-D latitude and longitude, the
 * slice in view, the series at a clicked point, and the slice's statistics and colour
 * limits. Each read is cancelled when what it was for changes; failures go to
 * `setError` in words a user can act on.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { useEffect, useMemo, useRef, useState } from 'react';
import { coordinateOf, type ICurvilinear, type VariableInfo } from './axes';
import { coordinateLabels } from './cf';
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
import { type IRegridded, regridNearest } from './regrid';
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
        const [rows, cols] = curvilinear.lat.shape;
        setCurvGrid({
          variable: variable.name,
          lat: lat.values,
          lon: lon.values,
          grid: regridNearest(lat.values, lon.values, rows, cols)
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
 * Read the slice in view; moving on cancels the chunks still on their way.
 *
 * @param selectionKey `selection` as JSON: the slice is read again when it changes.
 */
export function useSlice(
  dataset: Dataset,
  variable: VariableInfo | undefined,
  selection: (number | null)[] | null,
  selectionKey: string,
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
    readSlice(dataset, variable, selection, controller.signal)
      .then(result => {
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
  }, [variable, dataset, selectionKey]);
  return { slice, setSlice, loading, sliceKey };
}

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
